// console.*: formatted as Node formats it (util.format), written to the broker's
// log as one line per call with the handler's name and a level: log/info →
// info, debug → debug, warn → warn, error/trace/assert → error.
import { native } from "./native.js";
import { format, formatWithOptions, inspect } from "./inspect.js";

const counts = new Map();
const timers = new Map();
let groupIndent = "";

function emit(level, text) {
  if (groupIndent) text = text.split("\n").map((line) => groupIndent + line).join("\n");
  native.log(level, text);
}

export const console = {
  log: (...args) => emit("info", format(...args)),
  info: (...args) => emit("info", format(...args)),
  debug: (...args) => emit("debug", format(...args)),
  warn: (...args) => emit("warn", format(...args)),
  error: (...args) => emit("error", format(...args)),
  trace: (...args) => {
    const stack = new Error().stack.split("\n").slice(1).join("\n");
    emit("error", `Trace: ${format(...args)}\n${stack}`);
  },
  dir: (value, options) => emit("info", inspect(value, { customInspect: false, ...options })),
  dirxml: (...args) => emit("info", format(...args)),
  table: (...args) => emit("info", format(...args)),
  assert: (condition, ...args) => {
    if (!condition) emit("error", args.length ? `Assertion failed: ${format(...args)}` : "Assertion failed");
  },
  count: (label = "default") => {
    const n = (counts.get(`${label}`) ?? 0) + 1;
    counts.set(`${label}`, n);
    emit("info", `${label}: ${n}`);
  },
  countReset: (label = "default") => counts.delete(`${label}`),
  time: (label = "default") => timers.set(`${label}`, native.hrtimeMs()),
  timeLog: (label = "default", ...data) => {
    const start = timers.get(`${label}`);
    if (start === undefined) return;
    const text = `${label}: ${(native.hrtimeMs() - start).toFixed(3)}ms`;
    emit("info", data.length ? `${text} ${formatWithOptions({}, ...data)}` : text);
  },
  timeEnd: (label = "default") => {
    const start = timers.get(`${label}`);
    if (start === undefined) return;
    timers.delete(`${label}`);
    emit("info", `${label}: ${(native.hrtimeMs() - start).toFixed(3)}ms`);
  },
  group: (...args) => {
    if (args.length) emit("info", format(...args));
    groupIndent += "  ";
  },
  groupCollapsed: (...args) => console.group(...args),
  groupEnd: () => {
    groupIndent = groupIndent.slice(0, -2);
  },
};
