// Deep equality as Node's assert.deepStrictEqual / assert.deepEqual and
// util.isDeepStrictEqual define it (see Node's assert documentation,
// "Comparison details"):
//  - strict: primitives by Object.is, prototypes by ===, enumerable own
//    string and symbol keys;
//  - loose: primitives by == (NaN equals NaN), prototypes and symbol keys
//    ignored;
//  - both: the same Object.prototype.toString tag; Date times, RegExp source,
//    flags and lastIndex, Error name, message, cause and errors, boxed values,
//    typed array contents, Map and Set entries regardless of order; array
//    holes must line up; comparison stops, equal, where both sides are back
//    at objects already being compared (reference cycles).
import * as types from "./util_types.js";

const { getPrototypeOf, getOwnPropertySymbols, is: objectIs } = Object;
const objectKeys = Object.keys;
const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);
const objectToString = uncurryThis(Object.prototype.toString);
const hasOwn = Object.hasOwn;
const isEnumerable = uncurryThis(Object.prototype.propertyIsEnumerable);
const dateGetTime = uncurryThis(Date.prototype.getTime);
const regExpSource = uncurryThis(Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get);
const regExpFlags = uncurryThis(Object.getOwnPropertyDescriptor(RegExp.prototype, "flags").get);
const numberValue = uncurryThis(Number.prototype.valueOf);
const stringValue = uncurryThis(String.prototype.valueOf);
const booleanValue = uncurryThis(Boolean.prototype.valueOf);
const bigIntValue = uncurryThis(BigInt.prototype.valueOf);
const symbolValue = uncurryThis(Symbol.prototype.valueOf);
const mapHas = uncurryThis(Map.prototype.has);
const mapGet = uncurryThis(Map.prototype.get);
const mapEntries = uncurryThis(Map.prototype.entries);
const setHas = uncurryThis(Set.prototype.has);
const setValues = uncurryThis(Set.prototype.values);
const mapSize = uncurryThis(Object.getOwnPropertyDescriptor(Map.prototype, "size").get);
const setSize = uncurryThis(Object.getOwnPropertyDescriptor(Set.prototype, "size").get);
const arrayBufferByteLength = uncurryThis(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get);
const sharedByteLength = uncurryThis(Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get);
const ArrayIsArray = Array.isArray;

const isObjectLike = (value) => value !== null && typeof value === "object";

// Own enumerable keys that are not array indices: string keys, then (strict
// only) symbol keys.
function comparableKeys(object, strict, skipIndices) {
  let keys = objectKeys(object);
  if (skipIndices) {
    const named = [];
    for (const key of keys) {
      if (!isArrayIndex(key)) named.push(key);
    }
    keys = named;
  }
  if (strict) {
    for (const symbol of getOwnPropertySymbols(object)) {
      if (isEnumerable(object, symbol)) keys.push(symbol);
    }
  }
  return keys;
}

function isArrayIndex(key) {
  const code = key.charCodeAt(0);
  if (code < 0x30 || code > 0x39) return false;
  if (key.length > 1 && code === 0x30) return false;
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return +key < 4294967295;
}

function sameKeySets(a, b, aKeys, strict, skipIndices) {
  const bKeys = comparableKeys(b, strict, skipIndices);
  if (aKeys.length !== bKeys.length) return false;
  for (const key of aKeys) {
    if (!isEnumerable(b, key)) return false;
  }
  return true;
}

function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

function sameBoxedValue(a, b) {
  if (types.isNumberObject(a)) return types.isNumberObject(b) && objectIs(numberValue(a), numberValue(b));
  if (types.isStringObject(a)) return types.isStringObject(b) && stringValue(a) === stringValue(b);
  if (types.isBooleanObject(a)) return types.isBooleanObject(b) && booleanValue(a) === booleanValue(b);
  if (types.isBigIntObject(a)) return types.isBigIntObject(b) && bigIntValue(a) === bigIntValue(b);
  return types.isSymbolObject(b) && symbolValue(a) === symbolValue(b);
}

// Whether the two values are of a kind with its own comparison rule.
function isSpecialKind(value) {
  return ArrayIsArray(value) || types.isArrayBufferView(value) || types.isSet(value) || types.isMap(value) ||
    types.isDate(value) || types.isRegExp(value) || types.isAnyArrayBuffer(value) || types.isBoxedPrimitive(value) ||
    types.isNativeError(value) || value instanceof Error;
}

function innerDeepEqual(a, b, strict, memos) {
  if (a === b) return a !== 0 || !strict || objectIs(a, b);
  if (strict) {
    if (typeof a !== "object") return typeof a === "number" && a !== a && b !== b;
    if (typeof b !== "object" || a === null || b === null) return false;
    if (getPrototypeOf(a) !== getPrototypeOf(b)) return false;
  } else {
    if (!isObjectLike(a)) {
      // eslint-disable-next-line eqeqeq
      return !isObjectLike(b) && (a == b || (a !== a && b !== b));
    }
    if (!isObjectLike(b)) return false;
  }
  const tag = objectToString(a);
  if (tag !== objectToString(b)) return false;

  if (ArrayIsArray(a)) {
    if (!ArrayIsArray(b) || a.length !== b.length) return false;
    const keys = comparableKeys(a, strict, true);
    if (!sameKeySets(a, b, keys, strict, true)) return false;
    return compareWithMemos(a, b, strict, memos, keys, compareArrays);
  }
  if (tag === "[object Object]" && !isSpecialKind(a) && !isSpecialKind(b)) {
    return compareKeyed(a, b, strict, memos);
  }
  if (types.isDate(a)) {
    if (!types.isDate(b) || dateGetTime(a) !== dateGetTime(b)) return false;
  } else if (types.isRegExp(a)) {
    if (!types.isRegExp(b) || regExpSource(a) !== regExpSource(b) || regExpFlags(a) !== regExpFlags(b) ||
        a.lastIndex !== b.lastIndex) {
      return false;
    }
  } else if (types.isNativeError(a) || a instanceof Error) {
    if ((!types.isNativeError(b) && !(b instanceof Error)) || a.message !== b.message || a.name !== b.name) {
      return false;
    }
    if (("cause" in a || "cause" in b) && !innerDeepEqual(a.cause, b.cause, strict, memos)) return false;
    if (("errors" in a || "errors" in b) && !innerDeepEqual(a.errors, b.errors, strict, memos)) return false;
  } else if (types.isArrayBufferView(a)) {
    if (!types.isArrayBufferView(b)) return false;
    if (!strict && (types.isFloat32Array(a) || types.isFloat64Array(a))) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) return false;
      }
    } else if (!sameBytes(bytesOf(a), bytesOf(b))) {
      return false;
    }
    const keys = comparableKeys(a, strict, true);
    if (!sameKeySets(a, b, keys, strict, true)) return false;
    return compareWithMemos(a, b, strict, memos, keys, compareProperties);
  } else if (types.isSet(a)) {
    if (!types.isSet(b) || setSize(a) !== setSize(b)) return false;
    return compareKeyed(a, b, strict, memos, compareSets);
  } else if (types.isMap(a)) {
    if (!types.isMap(b) || mapSize(a) !== mapSize(b)) return false;
    return compareKeyed(a, b, strict, memos, compareMaps);
  } else if (types.isAnyArrayBuffer(a)) {
    if (!types.isAnyArrayBuffer(b)) return false;
    const length = types.isArrayBuffer(a) ? arrayBufferByteLength(a) : sharedByteLength(a);
    const otherLength = types.isArrayBuffer(b) ? arrayBufferByteLength(b) : sharedByteLength(b);
    if (length !== otherLength || !sameBytes(new Uint8Array(a), new Uint8Array(b))) return false;
  } else if (types.isBoxedPrimitive(a)) {
    if (!sameBoxedValue(a, b)) return false;
  } else if (isSpecialKind(b)) {
    return false;
  }
  return compareKeyed(a, b, strict, memos);
}

function compareKeyed(a, b, strict, memos, compareEntries) {
  const keys = comparableKeys(a, strict, false);
  if (!sameKeySets(a, b, keys, strict, false)) return false;
  return compareWithMemos(a, b, strict, memos, keys, compareEntries ?? compareProperties);
}

// Tracks the objects being compared on the current path, per side: a pair
// whose two values are both already being compared is taken as equal (both
// structures loop back), as Node does.
function compareWithMemos(a, b, strict, memos, keys, compare) {
  if (memos === undefined) {
    memos = { a: new Set(), b: new Set() };
  } else if (memos.a.has(a) && memos.b.has(b)) {
    return true;
  }
  const addedA = !memos.a.has(a);
  const addedB = !memos.b.has(b);
  if (addedA) memos.a.add(a);
  if (addedB) memos.b.add(b);
  const equal = compare(a, b, strict, memos, keys);
  if (addedA) memos.a.delete(a);
  if (addedB) memos.b.delete(b);
  return equal;
}

function compareProperties(a, b, strict, memos, keys) {
  for (const key of keys) {
    if (!innerDeepEqual(a[key], b[key], strict, memos)) return false;
  }
  return true;
}

function compareArrays(a, b, strict, memos, keys) {
  for (let i = 0; i < a.length; i++) {
    const present = hasOwn(a, i);
    if (present !== hasOwn(b, i)) return false;
    if (present && !innerDeepEqual(a[i], b[i], strict, memos)) return false;
  }
  return compareProperties(a, b, strict, memos, keys);
}

// Removes from `candidates` the first element `matches` accepts.
function takeMatch(candidates, matches) {
  for (let i = 0; i < candidates.length; i++) {
    if (matches(candidates[i])) {
      candidates.splice(i, 1);
      return true;
    }
  }
  return false;
}

// Elements present on both sides (SameValueZero) pair up; each remaining one
// must deep-equal a distinct remaining one of the other set.
function compareSets(a, b, strict, memos, keys) {
  const onlyA = [];
  for (const value of setValues(a)) {
    if (setHas(b, value)) continue;
    if (strict && !isObjectLike(value)) return false;
    onlyA.push(value);
  }
  if (onlyA.length > 0) {
    for (const value of setValues(b)) {
      if (setHas(a, value)) continue;
      if (!takeMatch(onlyA, (candidate) => innerDeepEqual(candidate, value, strict, memos))) return false;
    }
    if (onlyA.length > 0) return false;
  }
  return compareProperties(a, b, strict, memos, keys);
}

// Entries whose key is on both sides (SameValueZero) with deep-equal values
// pair up; each remaining entry must match a distinct remaining one of the
// other map, key and value.
function compareMaps(a, b, strict, memos, keys) {
  const onlyA = [];
  for (const [key, value] of mapEntries(a)) {
    if (mapHas(b, key) && innerDeepEqual(value, mapGet(b, key), strict, memos)) continue;
    if (strict && !isObjectLike(key)) return false;
    onlyA.push([key, value]);
  }
  if (onlyA.length > 0) {
    for (const [key, value] of mapEntries(b)) {
      if (mapHas(a, key) && innerDeepEqual(mapGet(a, key), value, strict, memos)) continue;
      const matched = takeMatch(onlyA, ([candidateKey, candidateValue]) =>
        innerDeepEqual(candidateKey, key, strict, memos) && innerDeepEqual(candidateValue, value, strict, memos));
      if (!matched) return false;
    }
    if (onlyA.length > 0) return false;
  }
  return compareProperties(a, b, strict, memos, keys);
}

export function isDeepStrictEqual(a, b) {
  return innerDeepEqual(a, b, true);
}

export function isDeepEqual(a, b) {
  return innerDeepEqual(a, b, false);
}
