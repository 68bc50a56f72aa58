// node:util — formatting (inspect, format), promisify/callbackify, deep
// equality, inherits, deprecate, the type checks, TextEncoder/TextDecoder.
import { inspect, format, formatWithOptions } from "../inspect.js";
import { TextEncoder, TextDecoder } from "../text_coding.js";
import { isDeepStrictEqual } from "../comparisons.js";
import types from "../util_types.js";
import { emitWarning } from "../events.js";
import { errno } from "../os_constants.js";
import { process } from "../process.js";
import { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, makeError } from "../errors.js";

const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");

function validateFunction(value, name) {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, "Function", value);
}

function promisify(original) {
  validateFunction(original, "original");
  if (original[kCustomPromisify]) return original[kCustomPromisify];
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      Reflect.apply(original, this, [...args, (error, value) => (error ? reject(error) : resolve(value))]);
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = kCustomPromisify;

function callbackify(original) {
  validateFunction(original, "original");
  function callbackified(...args) {
    const callback = args.pop();
    validateFunction(callback, "last argument");
    const bound = callback.bind(this);
    Reflect.apply(original, this, args).then(
      (value) => process.nextTick(bound, null, value),
      (reason) => {
        // A falsy reason would read as success to the callback.
        if (!reason) {
          const error = makeError(Error, "ERR_FALSY_VALUE_REJECTION", "Promise was rejected with falsy value");
          error.reason = reason;
          reason = error;
        }
        process.nextTick(bound, reason);
      });
  }
  const descriptors = Object.getOwnPropertyDescriptors(original);
  if (typeof descriptors.length.value === "number") descriptors.length.value++;
  if (typeof descriptors.name.value === "string") descriptors.name.value += "Callbackified";
  Object.setPrototypeOf(callbackified, Object.getPrototypeOf(original));
  Object.defineProperties(callbackified, descriptors);
  return callbackified;
}

function inherits(ctor, superCtor) {
  if (ctor === undefined || ctor === null) throw ERR_INVALID_ARG_TYPE("ctor", "Function", ctor);
  if (superCtor === undefined || superCtor === null) throw ERR_INVALID_ARG_TYPE("superCtor", "Function", superCtor);
  if (superCtor.prototype === undefined) {
    throw ERR_INVALID_ARG_TYPE("superCtor.prototype", "Object", superCtor.prototype);
  }
  Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

// A code is warned about once per worker, a deprecation without code once per
// wrapper, as in Node. The warning goes to the log (NODE_DIFFERENCES.md).
const codesWarned = new Set();

function deprecate(fn, msg, code) {
  if (code !== undefined && typeof code !== "string") throw ERR_INVALID_ARG_TYPE("code", "string", code);
  let warned = false;
  function deprecated(...args) {
    if (!warned && !(code !== undefined && codesWarned.has(code))) {
      warned = true;
      if (code !== undefined) codesWarned.add(code);
      const warning = new Error(msg);
      warning.name = "DeprecationWarning";
      if (code !== undefined) warning.code = code;
      emitWarning(warning);
    }
    if (new.target) return Reflect.construct(fn, args, new.target);
    return Reflect.apply(fn, this, args);
  }
  Object.setPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated;
}

const errnoNames = new Map();
for (const name of Object.keys(errno)) {
  // EAGAIN and EWOULDBLOCK share a number; Node names it by the first.
  if (!errnoNames.has(errno[name])) errnoNames.set(errno[name], name);
}

function getSystemErrorName(err) {
  if (typeof err !== "number") throw ERR_INVALID_ARG_TYPE("err", "number", err);
  if (err >= 0 || !Number.isSafeInteger(err)) throw ERR_OUT_OF_RANGE("err", "a negative integer", err);
  return errnoNames.get(-err) ?? `Unknown system error ${err}`;
}

function toUSVString(string) {
  return `${string}`.toWellFormed();
}

// NODE_DEBUG is never set in a worker: every section is off.
function debuglog(section, callback) {
  const logger = () => {};
  Object.defineProperty(logger, "enabled", { get: () => false, configurable: true, enumerable: true });
  void section;
  void callback;
  return logger;
}

function aborted(signal, resource) {
  if (signal === null || typeof signal !== "object" || !("aborted" in signal)) {
    throw ERR_INVALID_ARG_TYPE("signal", "AbortSignal", signal);
  }
  if (resource === null || (typeof resource !== "object" && typeof resource !== "function")) {
    throw ERR_INVALID_ARG_TYPE("resource", "object", resource);
  }
  if (signal.aborted) return Promise.resolve();
  // With the abort event, as Node's (addAbortListener passes it on).
  return new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n) => `${n}`.padStart(2, "0");

function log(...args) {
  const d = new Date();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  console.log("%s - %s", `${d.getDate()} ${months[d.getMonth()]} ${time}`, format(...args));
}

// The old type predicates, deprecated in Node's documentation only.
const isArray = Array.isArray;
const isBoolean = (arg) => typeof arg === "boolean";
const isBuffer = (arg) => globalThis.Buffer.isBuffer(arg);
const isNull = (arg) => arg === null;
const isNullOrUndefined = (arg) => arg === null || arg === undefined;
const isNumber = (arg) => typeof arg === "number";
const isString = (arg) => typeof arg === "string";
const isSymbol = (arg) => typeof arg === "symbol";
const isUndefined = (arg) => arg === undefined;
const isRegExp = types.isRegExp;
const isObject = (arg) => arg !== null && typeof arg === "object";
const isDate = types.isDate;
const isError = (arg) => types.isNativeError(arg) || arg instanceof Error;
const isFunction = (arg) => typeof arg === "function";
const isPrimitive = (arg) => arg === null || (typeof arg !== "object" && typeof arg !== "function");

function _extend(target, source) {
  if (source === null || typeof source !== "object") return target;
  for (const key of Object.keys(source)) target[key] = source[key];
  return target;
}

export {
  _extend, callbackify, debuglog, debuglog as debug, deprecate, format, formatWithOptions, getSystemErrorName,
  inherits, inspect, isArray, isBoolean, isBuffer, isDeepStrictEqual, isNull, isNullOrUndefined, isNumber, isString,
  isSymbol, isUndefined, isRegExp, isObject, isDate, isError, isFunction, isPrimitive, log, promisify, toUSVString,
  aborted, types, TextDecoder, TextEncoder,
};

export default {
  _extend, callbackify, debuglog, debug: debuglog, deprecate, format, formatWithOptions, getSystemErrorName,
  inherits, inspect, isArray, isBoolean, isBuffer, isDeepStrictEqual, isNull, isNullOrUndefined, isNumber, isString,
  isSymbol, isUndefined, isRegExp, isObject, isDate, isError, isFunction, isPrimitive, log, promisify, toUSVString,
  aborted, types, TextDecoder, TextEncoder,
};
