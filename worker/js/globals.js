// The globals a handler sees, installed from an explicit list. Everything else
// the runtime has stays internal.
import { native } from "./native.js";
import { Buffer, atob, btoa } from "./buffer.js";
import { TextEncoder, TextDecoder } from "./text_coding.js";
import { AbortController, AbortSignal, CustomEvent, DOMException, Event, EventTarget } from "./dom_events.js";
import { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate } from "./timers.js";
import { console } from "./console.js";
import { process } from "./process.js";
import { ERR_INVALID_ARG_TYPE, makeError } from "./errors.js";

function queueMicrotask(callback) {
  if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", ["function"], callback);
  native.queueMicrotask(callback);
}

function structuredClone(value, options) {
  if (arguments.length === 0) {
    throw new TypeError("The \"value\" argument must be specified");
  }
  const transfer = transferList(options);
  let clone;
  try {
    clone = native.structuredClone(value);
  } catch (error) {
    if (error instanceof DOMException) throw error;
    throw new DOMException(String(error?.message ?? error), "DataCloneError");
  }
  // A transferred ArrayBuffer is moved: the clone has its bytes (a copy
  // here), the original is detached.
  for (const buffer of transfer) native.detachArrayBuffer(buffer);
  return clone;
}

// structuredClone's `transfer`, checked as Node checks it. Only ArrayBuffers
// can be transferred: there are no MessagePorts here.
function transferList(options) {
  const transfer = options?.transfer;
  if (transfer === undefined || transfer === null) return [];
  if (typeof transfer[Symbol.iterator] !== "function") {
    throw makeError(TypeError, "ERR_INVALID_ARG_TYPE", "Optional transferList argument must be an iterable");
  }
  const buffers = [...transfer];
  for (const [index, item] of buffers.entries()) {
    if (!(item instanceof ArrayBuffer)) {
      throw makeError(TypeError, "ERR_INVALID_TRANSFER_OBJECT", "Found invalid object in transferList");
    }
    if (buffers.indexOf(item) !== index) {
      throw new DOMException("Transfer list contains duplicate ArrayBuffer", "DataCloneError");
    }
  }
  return buffers;
}

const kQuotaBytes = 65536;
const integerArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  BigInt64Array, BigUint64Array];

const crypto = {
  getRandomValues(array) {
    if (!integerArrays.some((Type) => array instanceof Type)) {
      throw new DOMException("The data argument must be an integer-type TypedArray", "TypeMismatchError");
    }
    if (array.byteLength > kQuotaBytes) {
      throw new DOMException(`The requested length exceeds ${kQuotaBytes.toLocaleString("en-US")} bytes`,
        "QuotaExceededError");
    }
    return native.getRandomValues(array);
  },
  randomUUID() {
    return native.randomUUID();
  },
  // An accessor, as on Node's Crypto.prototype; its module is compiled on
  // first use (below).
  get subtle() {
    return native.loadInternal("webcrypto.js").subtle;
  },
};

const timeOrigin = native.timeOrigin();
const performance = {
  timeOrigin,
  now: () => native.hrtimeMs(),
  toJSON: () => ({ timeOrigin }),
};

export const publicGlobals = {
  Buffer,
  atob,
  btoa,
  TextEncoder,
  TextDecoder,
  AbortController,
  AbortSignal,
  DOMException,
  Event,
  EventTarget,
  CustomEvent,
  setTimeout,
  setInterval,
  setImmediate,
  clearTimeout,
  clearInterval,
  clearImmediate,
  queueMicrotask,
  structuredClone,
  console,
  process,
  crypto,
  performance,
};

// Compiled the first time handler code reads them: most handlers use few
// of them, and every worker would otherwise compile some 4,000 lines at
// start (docs/performance.md).
const lazyGlobals = {
  URL: "url.js",
  URLSearchParams: "url.js",
  CryptoKey: "webcrypto.js",
  SubtleCrypto: "webcrypto.js",
  ReadableStream: "web_streams.js",
  ReadableStreamDefaultReader: "web_streams.js",
  ReadableStreamDefaultController: "web_streams.js",
  Blob: "blob.js",
  Headers: "fetch_types.js",
  Request: "fetch_types.js",
  Response: "fetch_types.js",
  fetch: "fetch.js",
};

function defineGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

for (const [name, file] of Object.entries(lazyGlobals)) {
  Object.defineProperty(globalThis, name, {
    get() {
      const value = native.loadInternal(file)[name];
      defineGlobal(name, value);
      return value;
    },
    set(value) {
      defineGlobal(name, value);
    },
    configurable: true,
    enumerable: false,
  });
}

for (const [name, value] of Object.entries(publicGlobals)) defineGlobal(name, value);
Object.defineProperty(globalThis, "global", { value: globalThis, writable: true, configurable: true, enumerable: false });
