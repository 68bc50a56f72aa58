// A minimal `process`: what handler code commonly touches. There is no
// environment (handlers run confined), no exit and no stdio; nextTick and
// hrtime behave as in Node.
import { native } from "./native.js";
import { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE } from "./errors.js";
import { machineArchitecture } from "./architecture.js";

function nextTick(callback, ...args) {
  if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", ["function"], callback);
  native.nextTick(callback, args.length ? args : undefined);
}

function hrtime(previous) {
  if (previous !== undefined) {
    if (!Array.isArray(previous)) throw ERR_INVALID_ARG_TYPE("time", "Array", previous);
    if (previous.length !== 2) throw ERR_OUT_OF_RANGE("time", 2, previous.length);
  }
  // An arbitrary origin, as in Node: only differences are meaningful.
  const ms = native.hrtimeMs();
  let seconds = Math.floor(ms / 1e3);
  let nanoseconds = Math.round((ms - seconds * 1e3) * 1e6);
  if (nanoseconds >= 1e9) {
    seconds += 1;
    nanoseconds -= 1e9;
  }
  if (previous !== undefined) {
    seconds -= previous[0];
    nanoseconds -= previous[1];
    if (nanoseconds < 0) {
      seconds -= 1;
      nanoseconds += 1e9;
    }
  }
  return [seconds, nanoseconds];
}

hrtime.bigint = () => {
  const [seconds, nanoseconds] = hrtime();
  return BigInt(seconds) * 1000000000n + BigInt(nanoseconds);
};

// Empty (handlers run confined), but as in Node whatever is stored in it is
// stored as a string.
const env = new Proxy({}, {
  set(target, key, value) {
    target[key] = typeof key === "symbol" ? value : `${value}`;
    return true;
  },
});

export const process = {
  nextTick,
  hrtime,
  env,
  argv: [],
  platform: "linux",
  arch: machineArchitecture(),
  // The sandbox's root is every worker's working directory.
  cwd: () => "/",
  release: { name: "portbroker" },
  versions: { portbroker: "0.1.0" },
  uptime: () => native.hrtimeMs() / 1e3,
};
