// The engine binding's natives, implemented with Node's own Buffer and timers,
// so the runtime library in worker/js/ can run (and be compared) under Node.
// Installing it sets the global slot worker/js/native.js reads; the modules
// must then be loaded with a dynamic import().
import { Buffer } from "node:buffer";

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
  nextTick(fn, args) {
    if (args === undefined) process.nextTick(fn);
    else process.nextTick(fn, ...args);
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
