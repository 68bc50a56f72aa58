// The engine binding's natives, implemented with Node's own Buffer and timers,
// so the runtime library in worker/js/ can run (and be compared) under Node.
// Installing it sets the global slot worker/js/native.js reads; the modules
// must then be loaded with a dynamic import().
import { Buffer } from "node:buffer";
import { domainToASCII, domainToUnicode } from "node:url";
import { types } from "node:util";
import os from "node:os";

const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag).get;

// The engine class names worker/api_types.cc reports, from V8's own checks.
function classOf(value) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  if (types.isProxy(value) || types.isModuleNamespaceObject(value)) return "Proxy";
  const checks = [["Map", types.isMap], ["Set", types.isSet], ["Map Iterator", types.isMapIterator],
    ["Set Iterator", types.isSetIterator], ["WeakMap", types.isWeakMap], ["WeakSet", types.isWeakSet],
    ["Date", types.isDate], ["RegExp", types.isRegExp], ["Promise", types.isPromise],
    ["Arguments", types.isArgumentsObject], ["Number", types.isNumberObject], ["String", types.isStringObject],
    ["Boolean", types.isBooleanObject], ["BigInt", types.isBigIntObject], ["Symbol", types.isSymbolObject],
    ["Error", types.isNativeError], ["ArrayBuffer", types.isArrayBuffer],
    ["SharedArrayBuffer", types.isSharedArrayBuffer], ["DataView", types.isDataView]];
  for (const [name, check] of checks) if (check(value)) return name;
  if (types.isGeneratorObject(value)) {
    return Object.prototype.toString.call(value) === "[object AsyncGenerator]" ? "AsyncGenerator" : "Generator";
  }
  const typed = typedArrayTag.call(value);
  if (typed !== undefined) return typed;
  if (typeof value === "function") {
    // V8 cannot be asked directly; a bound function has this name and no prototype.
    const bound = value.name.startsWith("bound ") && !Object.hasOwn(value, "prototype");
    return bound ? "BoundFunction" : "Function";
  }
  return Array.isArray(value) ? "Array" : "Object";
}

// Captured now: a test may later replace the globals with the library's own.
const utf8Encoder = new TextEncoder();

const toBuffer = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

let timerCallback = null;
let immediateCallback = null;
let nodeTimer = null;
let immediatePending = false;
let immediateScheduled = false;
let context;

const now = () => Math.floor(performance.now());

function runImmediates() {
  immediateScheduled = false;
  if (immediatePending) immediateCallback();
  if (immediatePending && !immediateScheduled) {
    immediateScheduled = true;
    setImmediate(runImmediates);
  }
}

export const native = {
  // node:os's natives, from Node's own answers on this machine.
  osUname: () => [os.type(), os.hostname(), os.release(), os.version(), os.machine()],
  osCpus: () => [os.cpus()[0]?.model ?? "unknown", ...os.cpus().map((cpu) => cpu.speed)],
  osParallelism: () => os.availableParallelism(),
  osMemory: () => [os.totalmem(), os.totalmem() - os.freemem()],
  osIds: () => [os.userInfo().uid, os.userInfo().gid],
  hrtimeMs: () => performance.now(),
  classOf,
  isProxy: (value) => types.isProxy(value),
  encodeString(string, encoding) {
    const b = Buffer.from(string, encoding);
    return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  },
  encodeInto(string, encoding, target, offset, maxBytes) {
    return toBuffer(target).write(string, offset, maxBytes, encoding);
  },
  utf8EncodeInto(string, target) {
    const { read, written } = utf8Encoder.encodeInto(string, target);
    return [read, written];
  },
  decodeString(u8, start, end, encoding) {
    return toBuffer(u8).toString(encoding, start, end);
  },
  byteLength(string, encoding) {
    return Buffer.byteLength(string, encoding);
  },

  now,
  setTimerCallback(fn) {
    timerCallback = fn;
  },
  timerArm(ms) {
    if (nodeTimer !== null) clearTimeout(nodeTimer);
    nodeTimer = setTimeout(() => {
      nodeTimer = null;
      timerCallback(now());
    }, ms);
  },
  timerDisarm() {
    if (nodeTimer !== null) clearTimeout(nodeTimer);
    nodeTimer = null;
  },
  setImmediateCallback(fn) {
    immediateCallback = fn;
  },
  setImmediatePending(pending) {
    immediatePending = pending;
    if (pending && !immediateScheduled) {
      immediateScheduled = true;
      setImmediate(runImmediates);
    }
  },
  drainMicrotasks() {},
  // UTS #46 from Node's own URL implementation (the worker uses ICU).
  domainToASCII(domain) {
    return domainToASCII(domain) || null;
  },
  domainToUnicode,
  nextTick(callback, args) {
    process.nextTick(() => callback(...(args ?? [])));
  },
  getContext() {
    return context;
  },
  setContext(value) {
    context = value;
  },
};

// loadInternal(name) is synchronous in the worker; under Node an ES module
// can only be imported asynchronously, so the tests import the lazily loaded
// internal modules up front (preloadInternal) and loadInternal hands them out.
const preloaded = new Map();
native.loadInternal = (name) => {
  const namespace = preloaded.get(name);
  if (namespace === undefined) throw new Error(`loadInternal: ${name} was not preloaded`);
  return namespace;
};

export async function preloadInternal(...names) {
  for (const name of names) preloaded.set(name, await import(new URL(`../../worker/js/${name}`, import.meta.url)));
}

export function install() {
  globalThis[Symbol.for("portbroker.native")] = native;
}
