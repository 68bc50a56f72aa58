// Node's Buffer: Uint8Array instances whose prototype carries Node's methods.
// As in Node, `Buffer` itself is a plain function (callable with or without
// `new`) whose prototype is the prototype of FastBuffer, the actual Uint8Array
// subclass. Typed-array species creation therefore goes through Buffer(n) and
// still yields Buffers. Byte/string conversions are the engine binding's job;
// argument handling, range checks and error messages are Node's, here in JS.
import { native } from "./native.js";
import {
  ERR_BUFFER_OUT_OF_BOUNDS,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_INVALID_BUFFER_SIZE,
  ERR_MISSING_ARGS,
  ERR_OUT_OF_RANGE,
  ERR_UNKNOWN_ENCODING,
  makeNativeError,
} from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { DOMException } from "./dom_events.js";

export const kMaxLength = 2 ** 32;
export const kStringMaxLength = 2 ** 29 - 24;
export const constants = Object.freeze({
  __proto__: null,
  MAX_LENGTH: kMaxLength,
  MAX_STRING_LENGTH: kStringMaxLength,
});
export let INSPECT_MAX_BYTES = 50;

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const uint8Set = Uint8Array.prototype.set;
const uint8Fill = Uint8Array.prototype.fill;
const uint8IndexOf = Uint8Array.prototype.indexOf;
const uint8LastIndexOf = Uint8Array.prototype.lastIndexOf;

function isUint8Array(value) {
  return typedArrayTag.call(value) === "Uint8Array";
}

function isTypedArray(value) {
  return typedArrayTag.call(value) !== undefined;
}

function isArrayBufferView(value) {
  return ArrayBuffer.isView(value);
}

function isArrayBuffer(value) {
  if (value === null || typeof value !== "object") return false;
  try {
    // Throws for anything that is not a real ArrayBuffer.
    Reflect.apply(arrayBufferByteLength, value, []);
    return true;
  } catch {
    return false;
  }
}
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;

class FastBuffer extends Uint8Array {
  // Only the (length) and (arrayBuffer, byteOffset, length) forms are used.
  constructor(bufferOrLength, byteOffset, length) {
    super(bufferOrLength, byteOffset, length);
  }
}

// Encoding names ---------------------------------------------------------

const canonicalEncodings = new Map([
  ["utf8", "utf8"], ["utf-8", "utf8"],
  ["ucs2", "utf16le"], ["ucs-2", "utf16le"], ["utf16le", "utf16le"], ["utf-16le", "utf16le"],
  ["latin1", "latin1"], ["binary", "latin1"],
  ["base64", "base64"], ["base64url", "base64url"], ["hex", "hex"], ["ascii", "ascii"],
]);

// Strict lookup used where Node throws ERR_UNKNOWN_ENCODING for anything else
// (toString(null) and toString('') included).
function lookupEncoding(encoding) {
  const name = `${encoding}`;
  return canonicalEncodings.get(name) ?? canonicalEncodings.get(name.toLowerCase());
}

// Lenient variant: null, undefined and '' mean utf8.
export function normalizeEncoding(encoding) {
  if (encoding == null || encoding === "utf8" || encoding === "utf-8") return "utf8";
  if (encoding === "") return "utf8";
  return lookupEncoding(encoding);
}

function byteLengthOf(string, encoding) {
  switch (encoding) {
    case "utf8":
      return native.byteLength(string, "utf8");
    case "utf16le":
      return string.length * 2;
    case "latin1":
    case "ascii":
      return string.length;
    case "hex":
      return string.length >>> 1;
    default: {
      // Node estimates base64 from the length, ignoring invalid characters.
      let bytes = string.length;
      if (string.charCodeAt(bytes - 1) === 0x3d) bytes--;
      if (bytes > 1 && string.charCodeAt(bytes - 1) === 0x3d) bytes--;
      return (bytes * 3) >>> 2;
    }
  }
}

// Validation helpers, with Node's messages ---------------------------------

function validateNumber(value, name, min, max) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if ((min != null && value < min) || (max != null && value > max) ||
      ((min != null || max != null) && Number.isNaN(value))) {
    throw ERR_OUT_OF_RANGE(name,
      `${min != null ? `>= ${min}` : ""}${min != null && max != null ? " && " : ""}` +
      `${max != null ? `<= ${max}` : ""}`, value);
  }
}

function validateOffset(value, name, min = 0, max = kMaxLength) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
}

function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
}

function toInteger(n, defaultValue) {
  n = +n;
  if (!Number.isNaN(n) && n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER) {
    return n % 1 === 0 ? n : Math.floor(n);
  }
  return defaultValue;
}

// Node's C++ ParseArrayIndex, used by the xxxSlice/xxxWrite methods.
function parseArrayIndex(value, defaultValue) {
  if (value === undefined) return defaultValue;
  const n = Math.trunc(Number(value)) || 0;
  if (n < 0) throw ERR_OUT_OF_RANGE_INDEX();
  return n;
}

function ERR_OUT_OF_RANGE_INDEX() {
  return makeNativeError(RangeError, "ERR_OUT_OF_RANGE", "Index out of range");
}

// Construction ----------------------------------------------------------------

function createBuffer(size) {
  return new FastBuffer(size);
}

function fromString(string, encoding) {
  let enc;
  if (typeof encoding !== "string" || encoding.length === 0) {
    if (string.length === 0) return new FastBuffer();
    enc = "utf8";
  } else {
    enc = lookupEncoding(encoding);
    if (enc === undefined) throw ERR_UNKNOWN_ENCODING(encoding);
    if (string.length === 0) return new FastBuffer();
  }
  const bytes = native.encodeString(string, enc);
  return new FastBuffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fromArrayBuffer(arrayBuffer, byteOffset, length) {
  if (byteOffset === undefined) {
    byteOffset = 0;
  } else {
    byteOffset = +byteOffset;
    if (Number.isNaN(byteOffset)) byteOffset = 0;
  }
  const maxLength = arrayBuffer.byteLength - byteOffset;
  if (maxLength < 0) throw ERR_BUFFER_OUT_OF_BOUNDS("offset");
  if (length === undefined) {
    length = maxLength;
  } else {
    length = +length;
    if (length > 0) {
      if (length > maxLength) throw ERR_BUFFER_OUT_OF_BOUNDS("length");
    } else {
      length = 0;
    }
  }
  return new FastBuffer(arrayBuffer, byteOffset, length);
}

function fromArrayLike(arrayLike) {
  if (arrayLike.length <= 0) return new FastBuffer();
  const buffer = createBuffer(arrayLike.length);
  // `set` converts each element with ToUint8, as Node's element-wise copy does.
  uint8Set.call(buffer, arrayLike, 0);
  return buffer;
}

function fromObject(object) {
  if (object.length !== undefined || isArrayBuffer(object.buffer)) {
    if (typeof object.length !== "number") return new FastBuffer();
    return fromArrayLike(object);
  }
  if (object.type === "Buffer" && Array.isArray(object.data)) return fromArrayLike(object.data);
  return undefined;
}

function fromValue(value, encodingOrOffset, length) {
  if (typeof value === "string") return fromString(value, encodingOrOffset);
  if (typeof value === "object" && value !== null) {
    if (isArrayBuffer(value)) return fromArrayBuffer(value, encodingOrOffset, length);
    const valueOf = value.valueOf && value.valueOf();
    if (valueOf != null && valueOf !== value &&
        (typeof valueOf === "string" || typeof valueOf === "object")) {
      return fromValue(valueOf, encodingOrOffset, length);
    }
    const buffer = fromObject(value);
    if (buffer) return buffer;
    if (typeof value[Symbol.toPrimitive] === "function") {
      const primitive = value[Symbol.toPrimitive]("string");
      if (typeof primitive === "string") return fromString(primitive, encodingOrOffset);
    }
  }
  throw ERR_INVALID_ARG_TYPE("first argument",
    ["string", "Buffer", "ArrayBuffer", "Array", "Array-like Object"], value);
}

export function Buffer(arg, encodingOrOffset, length) {
  if (typeof arg === "number") {
    if (typeof encodingOrOffset === "string") throw ERR_INVALID_ARG_TYPE("string", "string", arg);
    return Buffer.alloc(arg);
  }
  return Buffer.from(arg, encodingOrOffset, length);
}

Object.defineProperty(Buffer, "name", { value: "Buffer" });
FastBuffer.prototype.constructor = Buffer;
Buffer.prototype = FastBuffer.prototype;
Object.setPrototypeOf(Buffer, Uint8Array);

Buffer.poolSize = 8 * 1024;

Buffer.from = function from(value, encodingOrOffset, length) {
  return fromValue(value, encodingOrOffset, length);
};

Buffer.copyBytesFrom = function copyBytesFrom(view, offset, length) {
  if (!isTypedArray(view)) throw ERR_INVALID_ARG_TYPE("view", ["TypedArray"], view);
  const viewLength = view.length;
  if (viewLength === 0) return Buffer.alloc(0);
  if (offset !== undefined || length !== undefined) {
    if (offset !== undefined) {
      validateInteger(offset, "offset", 0);
      if (offset >= viewLength) return Buffer.alloc(0);
    } else {
      offset = 0;
    }
    let end;
    if (length !== undefined) {
      validateInteger(length, "length", 0);
      end = offset + length;
    } else {
      end = viewLength;
    }
    view = TypedArrayPrototype.slice.call(view, offset, end);
  }
  return fromArrayLike(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
};

Buffer.of = function of(...items) {
  const buffer = createBuffer(items.length);
  for (let k = 0; k < items.length; k++) buffer[k] = items[k];
  return buffer;
};

Buffer.alloc = function alloc(size, fill, encoding) {
  validateNumber(size, "size", 0, kMaxLength);
  if (fill !== undefined && fill !== 0 && size > 0) {
    return fillImpl(createBuffer(size), fill, 0, size, encoding);
  }
  return new FastBuffer(size);
};

// Without Node's pool every allocation is a fresh, zeroed ArrayBuffer.
Buffer.allocUnsafe = function allocUnsafe(size) {
  validateNumber(size, "size", 0, kMaxLength);
  return createBuffer(size);
};

Buffer.allocUnsafeSlow = function allocUnsafeSlow(size) {
  validateNumber(size, "size", 0, kMaxLength);
  return createBuffer(size);
};

Buffer.isBuffer = function isBuffer(b) {
  return b instanceof Buffer;
};

Buffer.compare = function compare(buf1, buf2) {
  if (!isUint8Array(buf1)) throw ERR_INVALID_ARG_TYPE("buf1", ["Buffer", "Uint8Array"], buf1);
  if (!isUint8Array(buf2)) throw ERR_INVALID_ARG_TYPE("buf2", ["Buffer", "Uint8Array"], buf2);
  if (buf1 === buf2) return 0;
  return compareBytes(buf1, 0, buf1.length, buf2, 0, buf2.length);
};

Buffer.isEncoding = function isEncoding(encoding) {
  return typeof encoding === "string" && encoding.length !== 0 &&
    normalizeEncoding(encoding) !== undefined;
};

Buffer.concat = function concat(list, length) {
  if (!Array.isArray(list)) throw ERR_INVALID_ARG_TYPE("list", "Array", list);
  if (list.length === 0) return new FastBuffer();
  if (length === undefined) {
    length = 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i].length) length += list[i].length;
    }
  } else {
    validateOffset(length, "length");
  }
  const buffer = createBuffer(length);
  let pos = 0;
  for (let i = 0; i < list.length; i++) {
    const buf = list[i];
    if (!isUint8Array(buf)) {
      throw ERR_INVALID_ARG_TYPE(`list[${i}]`, ["Buffer", "Uint8Array"], list[i]);
    }
    pos += copyActual(buf, buffer, pos, 0, buf.length);
  }
  return buffer;
};

Buffer.byteLength = function byteLength(string, encoding) {
  if (typeof string !== "string") {
    if (isArrayBufferView(string)) return string.byteLength;
    if (isArrayBuffer(string)) return string.byteLength;
    throw ERR_INVALID_ARG_TYPE("string", ["string", "Buffer", "ArrayBuffer"], string);
  }
  if (string.length === 0) return 0;
  if (!encoding) return native.byteLength(string, "utf8");
  const enc = lookupEncoding(encoding);
  if (enc === undefined) return native.byteLength(string, "utf8");
  return byteLengthOf(string, enc);
};

// Shared byte operations --------------------------------------------------

// memcmp-like comparison of two ranges, returning -1, 0 or 1.
function compareBytes(a, aStart, aEnd, b, bStart, bEnd) {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i];
    const y = b[bStart + i];
    if (x !== y) return x < y ? -1 : 1;
  }
  return aLength < bLength ? -1 : aLength > bLength ? 1 : 0;
}

function copyActual(source, target, targetStart, sourceStart, sourceEnd) {
  if (sourceEnd - sourceStart > target.length - targetStart) {
    sourceEnd = sourceStart + target.length - targetStart;
  }
  let nb = sourceEnd - sourceStart;
  const sourceLength = source.length - sourceStart;
  if (nb > sourceLength) nb = sourceLength;
  if (nb <= 0) return 0;
  if (sourceStart !== 0 || sourceEnd < source.length) {
    source = new Uint8Array(source.buffer, source.byteOffset + sourceStart, nb);
  }
  uint8Set.call(target, source, targetStart);
  return nb;
}

function fillImpl(buf, value, offset, end, encoding) {
  let enc;
  if (typeof value === "string") {
    if (offset === undefined || typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = buf.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = buf.length;
    }
    enc = normalizeEncoding(encoding);
    if (enc === undefined) {
      if (typeof encoding !== "string") throw ERR_INVALID_ARG_TYPE("encoding", "string", encoding);
      throw ERR_UNKNOWN_ENCODING(encoding);
    }
    if (value.length === 0) {
      value = 0;
    } else if (value.length === 1) {
      const code = value.charCodeAt(0);
      if ((enc === "utf8" && code < 128) || enc === "latin1") value = code;
    }
  }
  if (offset === undefined) {
    offset = 0;
    end = buf.length;
  } else {
    validateOffset(offset, "offset");
    if (end === undefined) end = buf.length;
    else validateOffset(end, "end", 0, buf.length);
    if (offset >= end) return buf;
  }
  if (typeof value === "number") {
    if (end - offset + offset > buf.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS();
    uint8Fill.call(buf, value, offset, end);
    return buf;
  }
  let pattern;
  if (typeof value === "string") {
    pattern = native.encodeString(value, enc);
  } else if (isArrayBufferView(value)) {
    pattern = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else {
    uint8Fill.call(buf, Number(value) & 255, offset, end);
    return buf;
  }
  if (pattern.length === 0) throw ERR_INVALID_ARG_VALUE("value", value);
  if (offset > buf.length || end > buf.length) throw ERR_BUFFER_OUT_OF_BOUNDS();
  repeatInto(buf, pattern, offset, end);
  return buf;
}

// Fills [start, end) with repetitions of pattern by doubling the written part.
function repeatInto(buf, pattern, start, end) {
  const length = end - start;
  const first = Math.min(pattern.length, length);
  uint8Set.call(buf, first === pattern.length ? pattern : pattern.subarray(0, first), start);
  let filled = first;
  while (filled < length) {
    const chunk = Math.min(filled, length - filled);
    buf.copyWithin(start + filled, start, start + chunk);
    filled += chunk;
  }
}

// indexOf / lastIndexOf ---------------------------------------------------------

// Node's IndexOfOffset: where a search for a needle of this length starts.
function indexOfOffset(length, offset, needleLength, isForward) {
  if (offset < 0) {
    if (offset + length >= 0) return length + offset;
    if (isForward || needleLength === 0) return 0;
    return -1;
  }
  if (offset + needleLength <= length) return offset;
  if (needleLength === 0) return length;
  if (isForward) return -1;
  return length - 1;
}

// Finds needle in haystack starting at `start` (forward) or at or before it
// (backward); `step` 2 restricts matches to even positions (UTF-16 searches).
function searchBytes(haystack, needle, start, isForward, step) {
  const diff = haystack.length - needle.length;
  if (diff < 0) return -1;
  const first = needle[0];
  if (isForward) {
    let pos = start;
    while (pos <= diff) {
      pos = uint8IndexOf.call(haystack, first, pos);
      if (pos === -1 || pos > diff) return -1;
      if (pos % step === 0 && matchesAt(haystack, needle, pos)) return pos;
      pos++;
    }
    return -1;
  }
  let pos = Math.min(start, diff);
  while (pos >= 0) {
    pos = uint8LastIndexOf.call(haystack, first, pos);
    if (pos === -1) return -1;
    if (pos % step === 0 && matchesAt(haystack, needle, pos)) return pos;
    pos--;
  }
  return -1;
}

function matchesAt(haystack, needle, pos) {
  for (let i = 1; i < needle.length; i++) {
    if (haystack[pos + i] !== needle[i]) return false;
  }
  return true;
}

function indexOfBytes(buffer, needle, byteOffset, isUtf16, isForward) {
  const length = buffer.length;
  const offset = indexOfOffset(length, byteOffset, needle.length, isForward);
  if (needle.length === 0) return offset;
  if (length === 0 || offset <= -1) return -1;
  if ((isForward && needle.length + offset > length) || needle.length > length) return -1;
  if (isUtf16) {
    if (length < 2 || needle.length < 2) return -1;
    // Node compares whole UTF-16 code units of both sides.
    const units = needle.length >>> 1;
    const evenNeedle = needle.length % 2 === 0 ? needle : needle.subarray(0, units * 2);
    const haystack = length % 2 === 0 ? buffer : buffer.subarray(0, length - 1);
    let start = offset - (offset % 2);
    return searchBytes(haystack, evenNeedle, start, isForward, 2);
  }
  return searchBytes(buffer, needle, offset, isForward, 1);
}

function bidirectionalIndexOf(buffer, value, byteOffset, encoding, isForward) {
  if (typeof byteOffset === "string") {
    encoding = byteOffset;
    byteOffset = undefined;
  } else if (byteOffset > 0x7fffffff) {
    byteOffset = 0x7fffffff;
  } else if (byteOffset < -0x80000000) {
    byteOffset = -0x80000000;
  }
  byteOffset = +byteOffset;
  if (Number.isNaN(byteOffset)) byteOffset = isForward ? 0 : (buffer.length || buffer.byteLength);
  byteOffset = Math.trunc(byteOffset);

  if (typeof value === "number") {
    const length = buffer.length;
    const offset = indexOfOffset(length, byteOffset, 1, isForward);
    if (offset <= -1 || length === 0) return -1;
    const byte = (value >>> 0) & 255;
    return isForward ? uint8IndexOf.call(buffer, byte, offset)
      : uint8LastIndexOf.call(buffer, byte, offset);
  }
  const enc = encoding === undefined ? "utf8" : lookupEncoding(encoding);
  if (typeof value === "string") {
    if (enc === undefined) throw ERR_UNKNOWN_ENCODING(encoding);
    const needle = native.encodeString(value, enc);
    // Node measures an empty-or-not needle by its encoded length; utf16le
    // and the others all go through the same byte search.
    return indexOfBytes(buffer, needle, byteOffset, enc === "utf16le", isForward);
  }
  if (isUint8Array(value)) {
    return indexOfBytes(buffer, value, byteOffset, enc === "utf16le", isForward);
  }
  throw ERR_INVALID_ARG_TYPE("value", ["number", "string", "Buffer", "Uint8Array"], value);
}

// Integer and float access -------------------------------------------------------

function boundsError(value, length, type) {
  if (Math.floor(value) !== value) {
    validateNumber(value, type);
    throw ERR_OUT_OF_RANGE(type || "offset", "an integer", value);
  }
  if (length < 0) throw ERR_BUFFER_OUT_OF_BOUNDS();
  throw ERR_OUT_OF_RANGE(type || "offset", `>= ${type ? 1 : 0} and <= ${length}`, value);
}

function checkReadable(buf, offset, byteLength) {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + byteLength - 1] === undefined) {
    boundsError(offset, buf.length - byteLength);
  }
}

function checkBounds(buf, offset, byteLength) {
  validateNumber(offset, "offset");
  if (buf[offset] === undefined || buf[offset + byteLength] === undefined) {
    boundsError(offset, buf.length - (byteLength + 1));
  }
}

function checkInt(value, min, max, buf, offset, byteLength) {
  if (value > max || value < min) {
    const n = typeof min === "bigint" ? "n" : "";
    let range;
    if (byteLength > 3) {
      if (min === 0 || min === 0n) {
        range = `>= 0${n} and < 2${n} ** ${(byteLength + 1) * 8}${n}`;
      } else {
        range = `>= -(2${n} ** ${(byteLength + 1) * 8 - 1}${n}) and < 2${n} ** ` +
          `${(byteLength + 1) * 8 - 1}${n}`;
      }
    } else {
      range = `>= ${min}${n} and <= ${max}${n}`;
    }
    throw ERR_OUT_OF_RANGE("value", range, value);
  }
  checkBounds(buf, offset, byteLength);
}

function readUnsigned(buf, offset, byteLength, littleEndian) {
  checkReadable(buf, offset, byteLength);
  let value = 0;
  if (littleEndian) {
    for (let i = byteLength - 1; i >= 0; i--) value = value * 256 + buf[offset + i];
  } else {
    for (let i = 0; i < byteLength; i++) value = value * 256 + buf[offset + i];
  }
  return value;
}

function readSigned(buf, offset, byteLength, littleEndian) {
  const value = readUnsigned(buf, offset, byteLength, littleEndian);
  const limit = 2 ** (byteLength * 8 - 1);
  return value >= limit ? value - limit * 2 : value;
}

function writeInteger(buf, value, offset, byteLength, min, max, littleEndian) {
  value = +value;
  if (byteLength === 1) {
    validateNumber(offset, "offset");
    if (value > max || value < min) throw ERR_OUT_OF_RANGE("value", `>= ${min} and <= ${max}`, value);
    if (buf[offset] === undefined) boundsError(offset, buf.length - 1);
    buf[offset] = value;
    return offset + 1;
  }
  checkInt(value, min, max, buf, offset, byteLength - 1);
  // Two's complement bytes of a (possibly non-integer or NaN) value, as
  // Node's shifts and typed-array stores produce them.
  let low = value >>> 0;
  let high = Math.floor(value * 2 ** -32);
  for (let i = 0; i < byteLength; i++) {
    const byte = i < 4 ? (low >>> (8 * i)) & 255 : (high >>> (8 * (i - 4))) & 255;
    buf[littleEndian ? offset + i : offset + byteLength - 1 - i] = byte;
  }
  return offset + byteLength;
}

function variableLength(byteLength, action) {
  if (byteLength >= 1 && byteLength <= 6 && Number.isInteger(byteLength)) return action();
  boundsError(byteLength, 6, "byteLength");
  return undefined;
}

const float32 = new Float32Array(1);
const float32Bytes = new Uint8Array(float32.buffer);
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readFloat(buf, offset, scratch, scratchBytes, littleEndian) {
  const size = scratchBytes.length;
  checkReadable(buf, offset, size);
  const swap = littleEndian !== hostLittleEndian;
  for (let i = 0; i < size; i++) scratchBytes[swap ? size - 1 - i : i] = buf[offset + i];
  return scratch[0];
}

function writeFloat(buf, value, offset, scratch, scratchBytes, littleEndian) {
  value = +value;
  const size = scratchBytes.length;
  checkBounds(buf, offset, size - 1);
  scratch[0] = value;
  const swap = littleEndian !== hostLittleEndian;
  for (let i = 0; i < size; i++) buf[offset + i] = scratchBytes[swap ? size - 1 - i : i];
  return offset + size;
}

function readBig64(buf, offset, littleEndian, signed) {
  checkReadable(buf, offset, 8);
  const first = readUnsigned(buf, littleEndian ? offset : offset + 4, 4, littleEndian);
  const second = readUnsigned(buf, littleEndian ? offset + 4 : offset, 4, littleEndian);
  const value = BigInt(first) + (BigInt(second) << 32n);
  return signed ? BigInt.asIntN(64, value) : value;
}

function writeBig64(buf, value, offset, min, max, littleEndian) {
  checkInt(value, min, max, buf, offset, 7);
  const lo = Number(value & 0xffffffffn);
  const hi = Number((value >> 32n) & 0xffffffffn);
  for (let i = 0; i < 4; i++) {
    const loByte = (lo >>> (8 * i)) & 255;
    const hiByte = (hi >>> (8 * i)) & 255;
    if (littleEndian) {
      buf[offset + i] = loByte;
      buf[offset + 4 + i] = hiByte;
    } else {
      buf[offset + 7 - i] = loByte;
      buf[offset + 3 - i] = hiByte;
    }
  }
  return offset + 8;
}

// Prototype -------------------------------------------------------------------------

// Node assigns its prototype methods (enumerable) in this order.
const methods = {
  readBigUInt64LE(offset = 0) { return readBig64(this, offset, true, false); },
  readBigUInt64BE(offset = 0) { return readBig64(this, offset, false, false); },
  readBigInt64LE(offset = 0) { return readBig64(this, offset, true, true); },
  readBigInt64BE(offset = 0) { return readBig64(this, offset, false, true); },
  writeBigUInt64LE(value, offset = 0) {
    return writeBig64(this, value, offset, 0n, 0xffffffffffffffffn, true);
  },
  writeBigUInt64BE(value, offset = 0) {
    return writeBig64(this, value, offset, 0n, 0xffffffffffffffffn, false);
  },
  writeBigInt64LE(value, offset = 0) {
    return writeBig64(this, value, offset, -(2n ** 63n), 2n ** 63n - 1n, true);
  },
  writeBigInt64BE(value, offset = 0) {
    return writeBig64(this, value, offset, -(2n ** 63n), 2n ** 63n - 1n, false);
  },

  readUIntLE(offset, byteLength) {
    if (offset === undefined) throw ERR_INVALID_ARG_TYPE("offset", "number", offset);
    return variableLength(byteLength, () => readUnsigned(this, offset, byteLength, true));
  },
  readUInt32LE(offset = 0) { return readUnsigned(this, offset, 4, true); },
  readUInt16LE(offset = 0) { return readUnsigned(this, offset, 2, true); },
  readUInt8(offset = 0) { return readUnsigned(this, offset, 1, true); },
  readUIntBE(offset, byteLength) {
    if (offset === undefined) throw ERR_INVALID_ARG_TYPE("offset", "number", offset);
    return variableLength(byteLength, () => readUnsigned(this, offset, byteLength, false));
  },
  readUInt32BE(offset = 0) { return readUnsigned(this, offset, 4, false); },
  readUInt16BE(offset = 0) { return readUnsigned(this, offset, 2, false); },

  readIntLE(offset, byteLength) {
    if (offset === undefined) throw ERR_INVALID_ARG_TYPE("offset", "number", offset);
    return variableLength(byteLength, () => readSigned(this, offset, byteLength, true));
  },
  readInt32LE(offset = 0) { return readSigned(this, offset, 4, true); },
  readInt16LE(offset = 0) { return readSigned(this, offset, 2, true); },
  readInt8(offset = 0) { return readSigned(this, offset, 1, true); },
  readIntBE(offset, byteLength) {
    if (offset === undefined) throw ERR_INVALID_ARG_TYPE("offset", "number", offset);
    return variableLength(byteLength, () => readSigned(this, offset, byteLength, false));
  },
  readInt32BE(offset = 0) { return readSigned(this, offset, 4, false); },
  readInt16BE(offset = 0) { return readSigned(this, offset, 2, false); },

  writeUIntLE(value, offset, byteLength) {
    return variableLength(byteLength, () =>
      writeInteger(this, value, offset, byteLength, 0, 2 ** (8 * byteLength) - 1, true));
  },
  writeUInt32LE(value, offset = 0) { return writeInteger(this, value, offset, 4, 0, 0xffffffff, true); },
  writeUInt16LE(value, offset = 0) { return writeInteger(this, value, offset, 2, 0, 0xffff, true); },
  writeUInt8(value, offset = 0) { return writeInteger(this, value, offset, 1, 0, 0xff, true); },
  writeUIntBE(value, offset, byteLength) {
    return variableLength(byteLength, () =>
      writeInteger(this, value, offset, byteLength, 0, 2 ** (8 * byteLength) - 1, false));
  },
  writeUInt32BE(value, offset = 0) { return writeInteger(this, value, offset, 4, 0, 0xffffffff, false); },
  writeUInt16BE(value, offset = 0) { return writeInteger(this, value, offset, 2, 0, 0xffff, false); },

  writeIntLE(value, offset, byteLength) {
    return variableLength(byteLength, () => {
      const limit = 2 ** (8 * byteLength - 1);
      return writeInteger(this, value, offset, byteLength, -limit, limit - 1, true);
    });
  },
  writeInt32LE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, -0x80000000, 0x7fffffff, true);
  },
  writeInt16LE(value, offset = 0) { return writeInteger(this, value, offset, 2, -0x8000, 0x7fff, true); },
  writeInt8(value, offset = 0) { return writeInteger(this, value, offset, 1, -0x80, 0x7f, true); },
  writeIntBE(value, offset, byteLength) {
    return variableLength(byteLength, () => {
      const limit = 2 ** (8 * byteLength - 1);
      return writeInteger(this, value, offset, byteLength, -limit, limit - 1, false);
    });
  },
  writeInt32BE(value, offset = 0) {
    return writeInteger(this, value, offset, 4, -0x80000000, 0x7fffffff, false);
  },
  writeInt16BE(value, offset = 0) { return writeInteger(this, value, offset, 2, -0x8000, 0x7fff, false); },

  readFloatLE(offset = 0) { return readFloat(this, offset, float32, float32Bytes, true); },
  readFloatBE(offset = 0) { return readFloat(this, offset, float32, float32Bytes, false); },
  readDoubleLE(offset = 0) { return readFloat(this, offset, float64, float64Bytes, true); },
  readDoubleBE(offset = 0) { return readFloat(this, offset, float64, float64Bytes, false); },
  writeFloatLE(value, offset = 0) { return writeFloat(this, value, offset, float32, float32Bytes, true); },
  writeFloatBE(value, offset = 0) { return writeFloat(this, value, offset, float32, float32Bytes, false); },
  writeDoubleLE(value, offset = 0) { return writeFloat(this, value, offset, float64, float64Bytes, true); },
  writeDoubleBE(value, offset = 0) { return writeFloat(this, value, offset, float64, float64Bytes, false); },
};

// Node's lower-case aliases are the same function objects.
const aliases = {
  readBigUint64LE: "readBigUInt64LE", readBigUint64BE: "readBigUInt64BE",
  writeBigUint64LE: "writeBigUInt64LE", writeBigUint64BE: "writeBigUInt64BE",
  readUintLE: "readUIntLE", readUint32LE: "readUInt32LE", readUint16LE: "readUInt16LE",
  readUint8: "readUInt8", readUintBE: "readUIntBE", readUint32BE: "readUInt32BE",
  readUint16BE: "readUInt16BE",
  writeUintLE: "writeUIntLE", writeUint32LE: "writeUInt32LE", writeUint16LE: "writeUInt16LE",
  writeUint8: "writeUInt8", writeUintBE: "writeUIntBE", writeUint32BE: "writeUInt32BE",
  writeUint16BE: "writeUInt16BE",
};

const prototypeOrder = [
  "readBigUInt64LE", "readBigUInt64BE", "readBigUint64LE", "readBigUint64BE",
  "readBigInt64LE", "readBigInt64BE", "writeBigUInt64LE", "writeBigUInt64BE",
  "writeBigUint64LE", "writeBigUint64BE", "writeBigInt64LE", "writeBigInt64BE",
  "readUIntLE", "readUInt32LE", "readUInt16LE", "readUInt8", "readUIntBE", "readUInt32BE",
  "readUInt16BE", "readUintLE", "readUint32LE", "readUint16LE", "readUint8", "readUintBE",
  "readUint32BE", "readUint16BE", "readIntLE", "readInt32LE", "readInt16LE", "readInt8",
  "readIntBE", "readInt32BE", "readInt16BE", "writeUIntLE", "writeUInt32LE", "writeUInt16LE",
  "writeUInt8", "writeUIntBE", "writeUInt32BE", "writeUInt16BE", "writeUintLE",
  "writeUint32LE", "writeUint16LE", "writeUint8", "writeUintBE", "writeUint32BE",
  "writeUint16BE", "writeIntLE", "writeInt32LE", "writeInt16LE", "writeInt8", "writeIntBE",
  "writeInt32BE", "writeInt16BE", "readFloatLE", "readFloatBE", "readDoubleLE",
  "readDoubleBE", "writeFloatLE", "writeFloatBE", "writeDoubleLE", "writeDoubleBE",
];
for (const name of prototypeOrder) {
  Buffer.prototype[name] = methods[name] ?? methods[aliases[name]];
}

// The per-encoding slice/write methods Node exposes (buf.utf8Write etc.).
const encodingMethodNames = [
  ["ascii", "ascii"], ["base64", "base64"], ["base64url", "base64url"], ["latin1", "latin1"],
  ["hex", "hex"], ["ucs2", "utf16le"], ["utf8", "utf8"],
];
for (const [prefix, encoding] of encodingMethodNames) {
  Buffer.prototype[`${prefix}Slice`] = {
    [`${prefix}Slice`](start, end) {
      const length = this.length;
      start = parseArrayIndex(start, 0);
      end = parseArrayIndex(end, length);
      if (end < start) end = start;
      if (end > length) throw ERR_OUT_OF_RANGE_INDEX();
      return start === end ? "" : native.decodeString(this, start, end, encoding);
    },
  }[`${prefix}Slice`];
}
for (const [prefix, encoding] of encodingMethodNames) {
  Buffer.prototype[`${prefix}Write`] = {
    [`${prefix}Write`](string, offset, length) {
      if (typeof string !== "string") {
        throw makeNativeError(TypeError, "ERR_INVALID_ARG_TYPE", "argument must be a string");
      }
      return encodeIntoBuffer(this, string, offset, length, encoding);
    },
  }[`${prefix}Write`];
}

function encodeIntoBuffer(buf, string, offset, length, encoding) {
  offset = parseArrayIndex(offset, 0);
  if (offset > buf.length) {
    throw makeNativeError(RangeError, "ERR_BUFFER_OUT_OF_BOUNDS", '"offset" is outside of buffer bounds');
  }
  let maxLength = parseArrayIndex(length, buf.length - offset);
  maxLength = Math.min(buf.length - offset, maxLength);
  if (maxLength === 0) return 0;
  return native.encodeInto(string, encoding, buf, offset, maxLength);
}

Object.defineProperty(Buffer.prototype, "parent", {
  enumerable: true,
  configurable: false,
  get() {
    if (!(this instanceof Buffer)) return undefined;
    return this.buffer;
  },
});
Object.defineProperty(Buffer.prototype, "offset", {
  enumerable: true,
  configurable: false,
  get() {
    if (!(this instanceof Buffer)) return undefined;
    return this.byteOffset;
  },
});

Buffer.prototype.copy = function copy(target, targetStart, sourceStart, sourceEnd) {
  if (!isUint8Array(this)) throw ERR_INVALID_ARG_TYPE("source", ["Buffer", "Uint8Array"], this);
  if (!isUint8Array(target)) throw ERR_INVALID_ARG_TYPE("target", ["Buffer", "Uint8Array"], target);
  if (targetStart === undefined) {
    targetStart = 0;
  } else {
    targetStart = toInteger(targetStart, 0);
    if (targetStart < 0) throw ERR_OUT_OF_RANGE("targetStart", ">= 0", targetStart);
  }
  if (sourceStart === undefined) {
    sourceStart = 0;
  } else {
    sourceStart = toInteger(sourceStart, 0);
    if (sourceStart < 0 || sourceStart > this.length) {
      throw ERR_OUT_OF_RANGE("sourceStart", `>= 0 && <= ${this.length}`, sourceStart);
    }
  }
  if (sourceEnd === undefined) {
    sourceEnd = this.length;
  } else {
    sourceEnd = toInteger(sourceEnd, 0);
    if (sourceEnd < 0) throw ERR_OUT_OF_RANGE("sourceEnd", ">= 0", sourceEnd);
  }
  if (targetStart >= target.length || sourceStart >= sourceEnd) return 0;
  return copyActual(this, target, targetStart, sourceStart, sourceEnd);
};

Buffer.prototype.toString = function toString(encoding, start, end) {
  if (arguments.length === 0) return native.decodeString(this, 0, this.length, "utf8");
  const length = this.length;
  if (start <= 0) start = 0;
  else if (start >= length) return "";
  else start = Math.trunc(start) || 0;
  if (end === undefined || end > length) end = length;
  else end = Math.trunc(end) || 0;
  if (end <= start) return "";
  let enc = "utf8";
  if (encoding !== undefined) {
    enc = lookupEncoding(encoding);
    if (enc === undefined) throw ERR_UNKNOWN_ENCODING(encoding);
  }
  return native.decodeString(this, start, end, enc);
};

Buffer.prototype.equals = function equals(otherBuffer) {
  if (!isUint8Array(otherBuffer)) {
    throw ERR_INVALID_ARG_TYPE("otherBuffer", ["Buffer", "Uint8Array"], otherBuffer);
  }
  if (this === otherBuffer) return true;
  if (this.byteLength !== otherBuffer.byteLength) return false;
  return this.byteLength === 0 ||
    compareBytes(this, 0, this.length, otherBuffer, 0, otherBuffer.length) === 0;
};

function inspectBuffer(recurseTimes, ctx) {
  const max = INSPECT_MAX_BYTES;
  const actualMax = Math.min(max, this.length);
  const remaining = this.length - max;
  let str = native.decodeString(this, 0, actualMax, "hex").replace(/(.{2})/g, "$1 ").trim();
  if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
  if (ctx) {
    // Extra own properties are shown after the bytes, as Node does.
    let extras = false;
    const object = { __proto__: null };
    const keys = ctx.showHidden ? Object.getOwnPropertyNames(this) : Object.keys(this);
    for (const key of keys) {
      if (/^(0|[1-9][0-9]*)$/.test(key)) continue;
      extras = true;
      object[key] = this[key];
    }
    if (extras) {
      if (this.length !== 0) str += ", ";
      str += inspect(object, { ...ctx, breakLength: Infinity, compact: true }).slice(27, -2);
    }
  }
  return `<${this.constructor.name} ${str}>`;
}
Buffer.prototype.inspect = { inspect: inspectBuffer }.inspect;
Object.defineProperty(Buffer.prototype.inspect, "name", { value: "inspect" });

Buffer.prototype.compare = function compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
  if (!isUint8Array(target)) throw ERR_INVALID_ARG_TYPE("target", ["Buffer", "Uint8Array"], target);
  if (arguments.length === 1) return compareBytes(this, 0, this.length, target, 0, target.length);
  if (targetStart === undefined) targetStart = 0;
  else validateOffset(targetStart, "targetStart");
  if (targetEnd === undefined) targetEnd = target.length;
  else validateOffset(targetEnd, "targetEnd", 0, target.length);
  if (sourceStart === undefined) sourceStart = 0;
  else validateOffset(sourceStart, "sourceStart");
  if (sourceEnd === undefined) sourceEnd = this.length;
  else validateOffset(sourceEnd, "sourceEnd", 0, this.length);
  if (sourceStart >= sourceEnd) return targetStart >= targetEnd ? 0 : -1;
  if (targetStart >= targetEnd) return 1;
  if (sourceStart > this.length) throw rangeMessage("sourceStart");
  if (targetStart > target.length) throw rangeMessage("targetStart");
  return compareBytes(this, sourceStart, sourceEnd, target, targetStart, targetEnd);
};

function rangeMessage(name) {
  return makeNativeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range.`);
}

Buffer.prototype.indexOf = function indexOf(value, byteOffset, encoding) {
  return bidirectionalIndexOf(this, value, byteOffset, encoding, true);
};

Buffer.prototype.lastIndexOf = function lastIndexOf(value, byteOffset, encoding) {
  return bidirectionalIndexOf(this, value, byteOffset, encoding, false);
};

Buffer.prototype.includes = function includes(value, byteOffset, encoding) {
  return this.indexOf(value, byteOffset, encoding) !== -1;
};

Buffer.prototype.fill = function fill(value, offset, end, encoding) {
  return fillImpl(this, value, offset, end, encoding);
};

Buffer.prototype.write = function write(string, offset, length, encoding) {
  if (offset === undefined) return this.utf8Write(string, 0, this.length);
  if (length === undefined && typeof offset === "string") {
    encoding = offset;
    length = this.length;
    offset = 0;
  } else {
    validateOffset(offset, "offset", 0, this.length);
    const remaining = this.length - offset;
    if (length === undefined) {
      length = remaining;
    } else if (typeof length === "string") {
      encoding = length;
      length = remaining;
    } else {
      validateOffset(length, "length", 0, this.length);
      if (length > remaining) length = remaining;
    }
  }
  if (!encoding || encoding === "utf8") return this.utf8Write(string, offset, length);
  const enc = lookupEncoding(encoding);
  if (enc === undefined) throw ERR_UNKNOWN_ENCODING(encoding);
  if (typeof string !== "string") return this.utf8Write(string, offset, length);
  return encodeIntoBuffer(this, string, offset, length, enc);
};

Buffer.prototype.toJSON = function toJSON() {
  if (this.length > 0) {
    const data = new Array(this.length);
    for (let i = 0; i < this.length; ++i) data[i] = this[i];
    return { type: "Buffer", data };
  }
  return { type: "Buffer", data: [] };
};

function adjustOffset(offset, length) {
  offset = Math.trunc(offset);
  if (offset === 0 || Number.isNaN(offset)) return 0;
  if (offset < 0) {
    offset += length;
    return offset > 0 ? offset : 0;
  }
  if (offset < length) return offset;
  return length;
}

Buffer.prototype.subarray = function subarray(start, end) {
  const srcLength = this.length;
  start = adjustOffset(start, srcLength);
  end = end !== undefined ? adjustOffset(end, srcLength) : srcLength;
  const newLength = end > start ? end - start : 0;
  return new FastBuffer(this.buffer, this.byteOffset + start, newLength);
};

Buffer.prototype.slice = function slice(start, end) {
  return this.subarray(start, end);
};

function swap(b, n, m) {
  const i = b[n];
  b[n] = b[m];
  b[m] = i;
}

Buffer.prototype.swap16 = function swap16() {
  const length = this.length;
  if (length % 2 !== 0) throw ERR_INVALID_BUFFER_SIZE("16-bits");
  for (let i = 0; i < length; i += 2) swap(this, i, i + 1);
  return this;
};

Buffer.prototype.swap32 = function swap32() {
  const length = this.length;
  if (length % 4 !== 0) throw ERR_INVALID_BUFFER_SIZE("32-bits");
  for (let i = 0; i < length; i += 4) {
    swap(this, i, i + 3);
    swap(this, i + 1, i + 2);
  }
  return this;
};

Buffer.prototype.swap64 = function swap64() {
  const length = this.length;
  if (length % 8 !== 0) throw ERR_INVALID_BUFFER_SIZE("64-bits");
  for (let i = 0; i < length; i += 8) {
    swap(this, i, i + 7);
    swap(this, i + 1, i + 6);
    swap(this, i + 2, i + 5);
    swap(this, i + 3, i + 4);
  }
  return this;
};

Buffer.prototype.toLocaleString = Buffer.prototype.toString;
Buffer.prototype[customInspectSymbol] = Buffer.prototype.inspect;

// Other exports of node:buffer ----------------------------------------------------------

export function SlowBuffer(size) {
  validateNumber(size, "size", 0, kMaxLength);
  return createBuffer(size);
}
Object.setPrototypeOf(SlowBuffer.prototype, Uint8Array.prototype);
Object.setPrototypeOf(SlowBuffer, Uint8Array);

function validateBinaryInput(input) {
  if (isArrayBufferView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (isArrayBuffer(input)) return new Uint8Array(input);
  throw ERR_INVALID_ARG_TYPE("input", ["ArrayBuffer", "Buffer", "TypedArray"], input);
}

export function isAscii(input) {
  const bytes = validateBinaryInput(input);
  if (bytes.length === 0) return true;
  return !/[^\x00-\x7f]/.test(native.decodeString(bytes, 0, bytes.length, "latin1"));
}

export function isUtf8(input) {
  const bytes = validateBinaryInput(input);
  // Valid input decodes without U+FFFD; only otherwise are the bytes walked.
  if (bytes.length === 0 || !native.decodeString(bytes, 0, bytes.length, "utf8").includes("\ufffd")) {
    return true;
  }
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need;
    let min;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return false;
    if (i + need >= n) return false;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

// The forgiving-base64 alphabet plus the five ASCII whitespace characters first.
const base64Allowed = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
  base64Allowed.add(c.charCodeAt(0));
}

function invalidCharacter(message = "Invalid character") {
  return new DOMException(message, "InvalidCharacterError");
}

export function btoa(input) {
  if (arguments.length === 0) throw ERR_MISSING_ARGS("input");
  input = `${input}`;
  for (let n = 0; n < input.length; n++) {
    if (input.charCodeAt(n) > 0xff) throw invalidCharacter();
  }
  if (input.length === 0) return "";
  const bytes = native.encodeString(input, "latin1");
  return native.decodeString(bytes, 0, bytes.length, "base64");
}

export function atob(input) {
  if (arguments.length === 0) throw ERR_MISSING_ARGS("input");
  input = `${input}`;
  let significant = 0;
  let equals = 0;
  for (let n = 0; n < input.length; n++) {
    const code = input.charCodeAt(n);
    if (!base64Allowed.has(code)) throw invalidCharacter();
    if (code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d || code === 0x20) continue;
    significant++;
    if (code === 0x3d) {
      equals++;
    } else if (equals) {
      // '=' may only end the input.
      throw invalidCharacter();
    }
    if (equals > 2) throw invalidCharacter();
  }
  let remainder = significant % 4;
  if (!remainder) {
    remainder = (significant - equals) % 4;
  } else if (equals) {
    throw invalidCharacter();
  }
  if (remainder === 1) {
    throw invalidCharacter("The string to be decoded is not correctly encoded.");
  }
  if (significant === 0) return "";
  const bytes = native.encodeString(input, "base64");
  return bytes.length === 0 ? "" : native.decodeString(bytes, 0, bytes.length, "latin1");
}

export default {
  Buffer,
  SlowBuffer,
  kMaxLength,
  kStringMaxLength,
  constants,
  // An accessor, as Node's: setting it changes what inspect() shows.
  get INSPECT_MAX_BYTES() {
    return INSPECT_MAX_BYTES;
  },
  set INSPECT_MAX_BYTES(value) {
    if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE("INSPECT_MAX_BYTES", "number", value);
    if (!(value >= 0)) throw ERR_OUT_OF_RANGE("INSPECT_MAX_BYTES", ">= 0", value);
    INSPECT_MAX_BYTES = value;
  },
  isAscii,
  isUtf8,
  atob,
  btoa,
};
