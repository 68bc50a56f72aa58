// ES2023 methods that V8 (Node 20) has and SpiderMonkey 102 lacks:
// Array.prototype.findLast/findLastIndex, the "change array by copy" methods
// (toReversed, toSorted, toSpliced, with) on arrays and typed arrays, and
// String.prototype.isWellFormed/toWellFormed. Each follows the
// specification's steps in order, so argument coercions, reads of the source
// and errors happen when V8's do; error messages are V8's.
//
// Everything these functions call is captured here, before handler code runs,
// so a handler that replaces a built-in (Array.prototype.sort, Function.
// prototype.call, ...) does not change how they behave.

// uncurryThis(f)(self, ...args) calls f with `self` as this, allocating no
// arguments array (unlike Reflect.apply).
const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);
const call = uncurryThis(Function.prototype.call);
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf } = Object;
const { trunc } = Math;
const ArrayIsArray = Array.isArray;
const arraySort = uncurryThis(Array.prototype.sort);
const TypedArray = getPrototypeOf(Uint8Array);
const TypedArrayPrototype = TypedArray.prototype;
const typedArrayLength = uncurryThis(getOwnPropertyDescriptor(TypedArrayPrototype, "length").get);
const typedArrayName = uncurryThis(getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get);
const typedArrayKeys = uncurryThis(TypedArrayPrototype.keys);
const typedArraySet = uncurryThis(TypedArrayPrototype.set);
const typedArraySort = uncurryThis(TypedArrayPrototype.sort);
const stringSlice = uncurryThis(String.prototype.slice);
const regExpExec = uncurryThis(RegExp.prototype.exec);
const ObjectCtor = Object;
const typedArrayConstructors = {
  __proto__: null, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};
const kMaxSafeInteger = 2 ** 53 - 1;

function describe(value) {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") return `Symbol(${value.description ?? ""})`;
  if (typeof value === "function") return "function";
  if (value !== null && typeof value === "object") return "#<Object>";
  return `${value}`;
}

function toObject(value, method) {
  if (value === null || value === undefined) throw new TypeError(`${method} called on null or undefined`);
  return ObjectCtor(value);
}

// ToIntegerOrInfinity: unary plus is ToNumber (it throws for BigInt and Symbol).
function toIntegerOrInfinity(value) {
  const number = +value;
  if (number !== number) return 0;
  return trunc(number) + 0;
}

function lengthOfArrayLike(object) {
  const length = toIntegerOrInfinity(object.length);
  if (length <= 0) return 0;
  return length < kMaxSafeInteger ? length : kMaxSafeInteger;
}

// ArrayCreate(length): a RangeError beyond 2^32 - 1, before any element is read.
function arrayCreate(length) {
  if (length > 2 ** 32 - 1) throw new RangeError("Invalid array length");
  return [];
}

function requireCallable(fn) {
  if (typeof fn !== "function") throw new TypeError(`${describe(fn)} is not a function`);
}

function requireComparator(comparefn) {
  if (comparefn !== undefined && typeof comparefn !== "function") {
    throw new TypeError("The comparison function must be either a function or undefined");
  }
}

// V8 names an unsuitable receiver this way in its messages.
function describeReceiver(value) {
  if (ArrayIsArray(value)) return "[object Array]";
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return describe(value);
  let name;
  try {
    name = getPrototypeOf(value)?.constructor?.name;
  } catch {}
  return `#<${typeof name === "string" && name !== "" ? name : "Object"}>`;
}

// V8 words the same check two ways, depending on the method.
const notTypedArrayMessage = {
  __proto__: null,
  toReversed: "Method %TypedArray%.prototype.toReversed called on incompatible receiver ",
  toSorted: "Method %TypedArray%.prototype.toSorted called on incompatible receiver ",
};

// ValidateTypedArray: a TypeError for anything but a typed array, or one
// whose buffer is detached; returns its length.
function validateTypedArray(value, method) {
  if (value === null || typeof value !== "object" || typedArrayName(value) === undefined) {
    const prefix = notTypedArrayMessage[method];
    throw new TypeError(prefix === undefined ? "this is not a typed array." : prefix + describeReceiver(value));
  }
  try {
    // keys() validates and fails only for a detached buffer.
    typedArrayKeys(value);
  } catch {
    throw new TypeError(`Cannot perform %TypedArray%.prototype.${method} on a detached ArrayBuffer`);
  }
  return typedArrayLength(value);
}

// TypedArrayCreateSameType: the intrinsic constructor of the source's kind,
// never its `constructor` property or species.
function typedArrayCreateSameType(exemplar, length) {
  return new typedArrayConstructors[typedArrayName(exemplar)](length);
}

function define(target, methods) {
  for (const name of Object.keys(methods)) {
    defineProperty(target, name, { value: methods[name], writable: true, enumerable: false, configurable: true });
  }
}

// Method shorthand gives each function its name, a length from its
// parameters, and no prototype or constructor behaviour, as built-ins have.
define(Array.prototype, {
  findLast(predicate, thisArg = undefined) {
    const O = toObject(this, "Array.prototype.findLast");
    const len = lengthOfArrayLike(O);
    requireCallable(predicate);
    for (let k = len - 1; k >= 0; k--) {
      const kValue = O[k];
      if (call(predicate, thisArg, kValue, k, O)) return kValue;
    }
    return undefined;
  },
  findLastIndex(predicate, thisArg = undefined) {
    const O = toObject(this, "Array.prototype.findLastIndex");
    const len = lengthOfArrayLike(O);
    requireCallable(predicate);
    for (let k = len - 1; k >= 0; k--) {
      if (call(predicate, thisArg, O[k], k, O)) return k;
    }
    return -1;
  },
  toReversed() {
    const O = toObject(this, "Array.prototype.toReversed");
    const len = lengthOfArrayLike(O);
    const A = arrayCreate(len);
    for (let k = 0; k < len; k++) A[k] = O[len - k - 1];
    return A;
  },
  toSorted(comparefn) {
    requireComparator(comparefn);
    const O = toObject(this, "Array.prototype.toSorted");
    const len = lengthOfArrayLike(O);
    const A = arrayCreate(len);
    // Every element is read (holes as undefined) before the first comparison.
    for (let k = 0; k < len; k++) A[k] = O[k];
    arraySort(A, comparefn);
    return A;
  },
  toSpliced(start, skipCount, ...items) {
    const O = toObject(this, "Array.prototype.toSpliced");
    const len = lengthOfArrayLike(O);
    const relativeStart = toIntegerOrInfinity(start);
    let actualStart;
    if (relativeStart === -Infinity) actualStart = 0;
    else if (relativeStart < 0) actualStart = len + relativeStart > 0 ? len + relativeStart : 0;
    else actualStart = relativeStart < len ? relativeStart : len;
    const insertCount = items.length;
    let actualSkipCount;
    if (arguments.length === 0) {
      actualSkipCount = 0;
    } else if (arguments.length === 1) {
      actualSkipCount = len - actualStart;
    } else {
      const sc = toIntegerOrInfinity(skipCount);
      actualSkipCount = sc < 0 ? 0 : sc < len - actualStart ? sc : len - actualStart;
    }
    const newLen = len + insertCount - actualSkipCount;
    if (newLen > kMaxSafeInteger) throw new TypeError("Invalid array length");
    const A = arrayCreate(newLen);
    let i = 0;
    let r = actualStart + actualSkipCount;
    for (; i < actualStart; i++) A[i] = O[i];
    for (let j = 0; j < insertCount; j++) A[i++] = items[j];
    for (; i < newLen; i++, r++) A[i] = O[r];
    return A;
  },
  with(index, value) {
    const O = toObject(this, "Array.prototype.with");
    const len = lengthOfArrayLike(O);
    const relativeIndex = toIntegerOrInfinity(index);
    const actualIndex = relativeIndex >= 0 ? relativeIndex : len + relativeIndex;
    if (actualIndex >= len || actualIndex < 0) throw new RangeError(`Invalid index : ${describe(index)}`);
    const A = arrayCreate(len);
    for (let k = 0; k < len; k++) A[k] = k === actualIndex ? value : O[k];
    return A;
  },
});

// Array.prototype[@@unscopables] rebuilt in V8's key order.
{
  const old = Array.prototype[Symbol.unscopables];
  const unscopables = { __proto__: null };
  for (const key of ["at", "copyWithin", "entries", "fill", "find", "findIndex", "findLast", "findLastIndex",
    "flat", "flatMap", "includes", "keys", "values", "toReversed", "toSorted", "toSpliced"]) {
    unscopables[key] = true;
  }
  for (const key of Object.keys(old)) unscopables[key] = old[key];
  defineProperty(Array.prototype, Symbol.unscopables,
    { value: unscopables, writable: false, enumerable: false, configurable: true });
}

// Converts like an element write of `exemplar`'s kind: ToBigInt for BigInt64
// and BigUint64 arrays, ToNumber for the others. Both BigInt kinds store
// modulo 2^64, so the signed scratch serves both.
const bigIntScratch = new BigInt64Array(1);
function toElementValue(exemplar, value) {
  const name = typedArrayName(exemplar);
  if (name === "BigInt64Array" || name === "BigUint64Array") {
    bigIntScratch[0] = value;
    return bigIntScratch[0];
  }
  return +value;
}

define(TypedArrayPrototype, {
  findLast(predicate, thisArg = undefined) {
    const O = this;
    const len = validateTypedArray(O, "findLast");
    requireCallable(predicate);
    for (let k = len - 1; k >= 0; k--) {
      const kValue = O[k];
      if (call(predicate, thisArg, kValue, k, O)) return kValue;
    }
    return undefined;
  },
  findLastIndex(predicate, thisArg = undefined) {
    const O = this;
    const len = validateTypedArray(O, "findLastIndex");
    requireCallable(predicate);
    for (let k = len - 1; k >= 0; k--) {
      if (call(predicate, thisArg, O[k], k, O)) return k;
    }
    return -1;
  },
  toReversed() {
    const O = this;
    const len = validateTypedArray(O, "toReversed");
    const A = typedArrayCreateSameType(O, len);
    for (let k = 0; k < len; k++) A[k] = O[len - k - 1];
    return A;
  },
  toSorted(comparefn) {
    requireComparator(comparefn);
    const O = this;
    const len = validateTypedArray(O, "toSorted");
    const A = typedArrayCreateSameType(O, len);
    typedArraySet(A, O);
    typedArraySort(A, comparefn);
    return A;
  },
  with(index, value) {
    const O = this;
    const len = validateTypedArray(O, "with");
    // V8 converts the value before the index; the specification the other
    // way round. Node's order is kept.
    const numericValue = toElementValue(O, value);
    const relativeIndex = toIntegerOrInfinity(index);
    const actualIndex = relativeIndex >= 0 ? relativeIndex : len + relativeIndex;
    // The coercions above may have detached or shrunk the buffer.
    if (actualIndex < 0 || actualIndex >= typedArrayLength(O)) {
      throw new RangeError("Invalid typed array index");
    }
    const A = typedArrayCreateSameType(O, len);
    for (let k = 0; k < len; k++) A[k] = k === actualIndex ? numericValue : O[k];
    return A;
  },
});

function requireString(value, method) {
  if (value === null || value === undefined) throw new TypeError(`${method} called on null or undefined`);
  return `${value}`;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// The index of the first lone surrogate of `string` at or after `from`, or
// its length.
function firstLoneSurrogate(string, from) {
  loneSurrogate.lastIndex = from;
  const match = regExpExec(loneSurrogate, string);
  return match === null ? string.length : match.index;
}

define(String.prototype, {
  isWellFormed() {
    const S = requireString(this, "String.prototype.isWellFormed");
    return firstLoneSurrogate(S, 0) === S.length;
  },
  toWellFormed() {
    const S = requireString(this, "String.prototype.toWellFormed");
    const length = S.length;
    let result = "";
    let copied = 0;
    for (let bad = firstLoneSurrogate(S, 0); bad < length; bad = firstLoneSurrogate(S, copied)) {
      result += `${stringSlice(S, copied, bad)}\ufffd`;
      copied = bad + 1;
    }
    return copied === 0 ? S : result + stringSlice(S, copied);
  },
});
