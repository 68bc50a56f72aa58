// util.types: what kind of object a value is, by the engine's own class of
// the object (worker/api_types.cc), as V8 answers from its internal type:
// neither a changed prototype nor Symbol.toStringTag fools it, and a proxy
// is a proxy, never its target.
import { native } from "./native.js";
import { DOMException } from "./dom_events.js";

const { classOf, isProxy: nativeIsProxy } = native;
const { getPrototypeOf } = Object;

const is = (name) => (value) => classOf(value) === name;

const typedArrayNames = new Set(["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]);
const errorNames = new Set(["Error", "InternalError", "AggregateError", "EvalError", "RangeError", "ReferenceError",
  "SyntaxError", "TypeError", "URIError", "DebuggeeWouldRun", "CompileError", "LinkError", "RuntimeError"]);
const boxedNames = new Set(["Number", "String", "Boolean", "BigInt", "Symbol"]);

// The engine keeps no kind on function objects that JavaScript can read; the
// intrinsic prototypes tell async and generator functions apart.
const AsyncFunctionPrototype = getPrototypeOf(async function () {});
const GeneratorFunctionPrototype = getPrototypeOf(function* () {});
const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {});

function protoOf(value) {
  try {
    return getPrototypeOf(value);
  } catch {
    return undefined;
  }
}

export const isExternal = () => false;
export const isDate = is("Date");
export const isArgumentsObject = is("Arguments");
export const isBigIntObject = is("BigInt");
export const isBooleanObject = is("Boolean");
export const isNumberObject = is("Number");
export const isStringObject = is("String");
export const isSymbolObject = is("Symbol");
// Node's DOMException is not an engine error; this library's extends Error.
export const isNativeError = (value) => errorNames.has(classOf(value)) && !(value instanceof DOMException);
export const isRegExp = is("RegExp");
export function isAsyncFunction(value) {
  if (classOf(value) !== "Function") return false;
  const proto = protoOf(value);
  return proto === AsyncFunctionPrototype || proto === AsyncGeneratorFunctionPrototype;
}
export function isGeneratorFunction(value) {
  if (classOf(value) !== "Function") return false;
  const proto = protoOf(value);
  return proto === GeneratorFunctionPrototype || proto === AsyncGeneratorFunctionPrototype;
}
export const isGeneratorObject = (value) => {
  const name = classOf(value);
  return name === "Generator" || name === "AsyncGenerator";
};
export const isPromise = is("Promise");
export const isMap = is("Map");
export const isSet = is("Set");
export const isMapIterator = is("Map Iterator");
export const isSetIterator = is("Set Iterator");
export const isWeakMap = is("WeakMap");
export const isWeakSet = is("WeakSet");
export const isArrayBuffer = is("ArrayBuffer");
export const isDataView = is("DataView");
export const isSharedArrayBuffer = is("SharedArrayBuffer");
export const isProxy = (value) => nativeIsProxy(value);
export const isModuleNamespaceObject = (value) =>
  value !== null && typeof value === "object" && !nativeIsProxy(value) && classOf(value) === "Proxy" &&
  protoOf(value) === null && value[Symbol.toStringTag] === "Module";
export const isAnyArrayBuffer = (value) => {
  const name = classOf(value);
  return name === "ArrayBuffer" || name === "SharedArrayBuffer";
};
export const isBoxedPrimitive = (value) => boxedNames.has(classOf(value));
export const isArrayBufferView = (value) => ArrayBuffer.isView(value);
export const isTypedArray = (value) => typedArrayNames.has(classOf(value));
export const isUint8Array = is("Uint8Array");
export const isUint8ClampedArray = is("Uint8ClampedArray");
export const isUint16Array = is("Uint16Array");
export const isUint32Array = is("Uint32Array");
export const isInt8Array = is("Int8Array");
export const isInt16Array = is("Int16Array");
export const isInt32Array = is("Int32Array");
export const isFloat32Array = is("Float32Array");
export const isFloat64Array = is("Float64Array");
export const isBigInt64Array = is("BigInt64Array");
export const isBigUint64Array = is("BigUint64Array");
export const isKeyObject = () => false;
export const isCryptoKey = (value) => typeof globalThis.CryptoKey === "function" && value instanceof globalThis.CryptoKey;

// In Node's order.
const types = {
  isExternal, isDate, isArgumentsObject, isBigIntObject, isBooleanObject, isNumberObject, isStringObject,
  isSymbolObject, isNativeError, isRegExp, isAsyncFunction, isGeneratorFunction, isGeneratorObject, isPromise,
  isMap, isSet, isMapIterator, isSetIterator, isWeakMap, isWeakSet, isArrayBuffer, isDataView, isSharedArrayBuffer,
  isProxy, isModuleNamespaceObject, isAnyArrayBuffer, isBoxedPrimitive, isArrayBufferView, isTypedArray,
  isUint8Array, isUint8ClampedArray, isUint16Array, isUint32Array, isInt8Array, isInt16Array, isInt32Array,
  isFloat32Array, isFloat64Array, isBigInt64Array, isBigUint64Array, isKeyObject, isCryptoKey,
};

export default types;
