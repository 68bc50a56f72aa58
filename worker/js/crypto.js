// node:crypto's hashing, HMAC, random and key-derivation functions on
// OpenSSL (worker/api_crypto.cc). Argument checks and errors are Node 20's.
// Hash and Hmac are plain classes with update/digest: they become Transform
// streams when node:stream exists (see NODE_DIFFERENCES.md).
//
// Callback forms: pbkdf2 and scrypt run on libuv's thread pool (as in Node);
// randomBytes, randomFill and randomInt fill synchronously from getrandom and
// call back from setImmediate, since the kernel call is cheaper than a trip
// through the pool.
import { native } from "./native.js";
import { Buffer } from "./buffer.js";
import { setImmediate } from "./timers.js";
import {
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_OUT_OF_RANGE,
  makeError,
  makeNativeError,
} from "./errors.js";

const kMaxInt32 = 2 ** 31 - 1;
const kMaxUint32 = 2 ** 32 - 1;
const kBufferTypes = ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView"];

export const ERR_CRYPTO_HASH_FINALIZED = () =>
  makeError(Error, "ERR_CRYPTO_HASH_FINALIZED", "Digest already called");
export const ERR_CRYPTO_INVALID_DIGEST = (name) =>
  makeNativeError(TypeError, "ERR_CRYPTO_INVALID_DIGEST", `Invalid digest: ${name}`);

export function validateString(value, name) {
  if (typeof value !== "string") throw ERR_INVALID_ARG_TYPE(name, "string", value);
}

export function validateFunction(value, name) {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, "function", value);
}

function validateInteger(value, name, min, max) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
}

const isBytes = (value) => ArrayBuffer.isView(value) || value instanceof ArrayBuffer ||
  (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);

// string | ArrayBuffer | view → a Uint8Array over the same (or encoded) bytes.
export function toBytes(value, name, encoding = "utf8", types = kBufferTypes) {
  if (typeof value === "string") return Buffer.from(value, Buffer.isEncoding(encoding) ? encoding : "utf8");
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (isBytes(value)) return new Uint8Array(value);
  throw ERR_INVALID_ARG_TYPE(name, types, value);
}

function encodeOutput(bytes, encoding) {
  const buffer = Buffer.from(bytes);
  if (encoding === undefined || encoding === "buffer" || !Buffer.isEncoding(encoding)) return buffer;
  return buffer.toString(encoding);
}

function validateOutputLength(options) {
  const length = options?.outputLength;
  if (length !== undefined) validateInteger(length, "options.outputLength", 0, kMaxUint32);
  return length;
}

function notXofError() {
  const error = makeNativeError(Error, "ERR_OSSL_EVP_NOT_XOF_OR_INVALID_LENGTH",
    "error:030000B2:digital envelope routines::not XOF or invalid length");
  error.library = "digital envelope routines";
  error.reason = "not XOF or invalid length";
  return error;
}

const kHandle = Symbol("kHandle");
const kState = Symbol("kState");

export function Hash(algorithm, options) {
  if (!new.target) return new Hash(algorithm, options);
  let handle;
  if (algorithm !== null && typeof algorithm === "object" && algorithm[kHandle] !== undefined) {
    // copy(): a handle already made.
    handle = algorithm[kHandle];
  } else {
    validateString(algorithm, "algorithm");
    const outputLength = validateOutputLength(options);
    handle = native.hashNew(algorithm, outputLength);
    if (handle === null) throw new Error("Digest method not supported");
    if (handle === "xof") throw notXofError();
  }
  this[kHandle] = handle;
  this[kState] = { finalized: false };
}

Hash.prototype.copy = function copy(options) {
  if (this[kState].finalized) throw ERR_CRYPTO_HASH_FINALIZED();
  const outputLength = validateOutputLength(options);
  return new Hash({ [kHandle]: native.hashCopy(this[kHandle], outputLength) });
};

function updateWith(nativeUpdate) {
  return function update(data, encoding) {
    if (this[kState].finalized) throw ERR_CRYPTO_HASH_FINALIZED();
    if (typeof data !== "string" && !ArrayBuffer.isView(data)) {
      throw ERR_INVALID_ARG_TYPE("data", ["string", "Buffer", "TypedArray", "DataView"], data);
    }
    nativeUpdate(this[kHandle], toBytes(data, "data", encoding));
    return this;
  };
}

Hash.prototype.update = updateWith((handle, bytes) => native.hashUpdate(handle, bytes));

Hash.prototype.digest = function digest(outputEncoding) {
  if (this[kState].finalized) throw ERR_CRYPTO_HASH_FINALIZED();
  this[kState].finalized = true;
  return encodeOutput(new Uint8Array(native.hashDigest(this[kHandle])), outputEncoding);
};

// A key for createHmac: the raw bytes of a string, buffer, or (Web Crypto)
// secret CryptoKey.
let secretKeyBytes = () => undefined;
export function setSecretKeyReader(reader) {
  secretKeyBytes = reader;
}

const kKeyTypes = ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView", "KeyObject", "CryptoKey"];

export function Hmac(hmac, key, options) {
  if (!new.target) return new Hmac(hmac, key, options);
  validateString(hmac, "hmac");
  const encoding = options?.encoding ?? "utf8";
  let bytes = secretKeyBytes(key);
  if (bytes === undefined) bytes = toBytes(key, "key", encoding, kKeyTypes);
  const handle = native.hmacNew(hmac, bytes);
  if (handle === null) throw ERR_CRYPTO_INVALID_DIGEST(hmac);
  this[kHandle] = handle;
  this[kState] = { finalized: false };
}

Hmac.prototype.update = updateWith((handle, bytes) => native.hmacUpdate(handle, bytes));

Hmac.prototype.digest = function digest(outputEncoding) {
  // Node gives an empty result, not an error, for a second digest().
  if (this[kState].finalized) return encodeOutput(new Uint8Array(0), outputEncoding);
  this[kState].finalized = true;
  return encodeOutput(new Uint8Array(native.hmacDigest(this[kHandle])), outputEncoding);
};

export function createHash(algorithm, options) {
  return new Hash(algorithm, options);
}

export function createHmac(hmac, key, options) {
  return new Hmac(hmac, key, options);
}

let hashes;
export function getHashes() {
  hashes ??= Object.freeze(native.getHashes());
  return hashes.slice();
}

export function timingSafeEqual(buf1, buf2) {
  for (const [value, name] of [[buf1, "buf1"], [buf2, "buf2"]]) {
    if (!isBytes(value)) {
      throw makeNativeError(TypeError, "ERR_INVALID_ARG_TYPE",
        `The "${name}" argument must be an instance of ArrayBuffer, Buffer, TypedArray, or DataView.`);
    }
  }
  if (buf1.byteLength !== buf2.byteLength) {
    throw makeNativeError(RangeError, "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH",
      "Input buffers must have the same byte length");
  }
  return native.timingSafeEqual(toBytes(buf1), toBytes(buf2));
}

// --- Random ------------------------------------------------------------------------------

function fillRandom(view) {
  // getrandom fills at most 32 MiB per call; larger requests go in slices.
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  for (let offset = 0; offset < bytes.length; offset += 65536) {
    native.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65536)));
  }
  return view;
}

export function randomBytes(size, callback) {
  if (typeof size !== "number") throw ERR_INVALID_ARG_TYPE("size", "number", size);
  if (!(size >= 0 && size <= kMaxInt32)) throw ERR_OUT_OF_RANGE("size", `>= 0 && <= ${kMaxInt32}`, size);
  if (callback !== undefined) validateFunction(callback, "callback");
  const buffer = fillRandom(Buffer.alloc(size));
  if (callback === undefined) return buffer;
  setImmediate(() => callback(null, buffer));
  return undefined;
}

function checkFillRange(buf, offset, size, name) {
  const length = buf.byteLength;
  if (typeof offset !== "number") throw ERR_INVALID_ARG_TYPE("offset", "number", offset);
  if (!(offset >= 0 && offset <= kMaxUint32) || !Number.isInteger(offset)) {
    throw ERR_OUT_OF_RANGE("offset", `>= 0 && <= ${kMaxUint32}`, offset);
  }
  if (offset > length) throw ERR_OUT_OF_RANGE("offset", `<= ${length}`, offset);
  if (size === undefined) size = length - offset;
  if (typeof size !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", size);
  if (!(size >= 0 && size <= kMaxInt32)) throw ERR_OUT_OF_RANGE(name, `>= 0 && <= ${kMaxInt32}`, size);
  if (size + offset > length) throw ERR_OUT_OF_RANGE("size + offset", `<= ${length}`, size + offset);
  return size;
}

function fillTarget(buf) {
  if (!ArrayBuffer.isView(buf) && !(buf instanceof ArrayBuffer)) {
    throw ERR_INVALID_ARG_TYPE("buf", ["ArrayBuffer", "ArrayBufferView"], buf);
  }
  return ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
}

export function randomFillSync(buf, offset = 0, size = undefined) {
  const bytes = fillTarget(buf);
  size = checkFillRange(bytes, offset, size, "size");
  fillRandom(bytes.subarray(offset, offset + size));
  return buf;
}

export function randomFill(buf, offset, size, callback) {
  const bytes = fillTarget(buf);
  if (typeof offset === "function") {
    callback = offset;
    offset = 0;
    size = undefined;
  } else if (typeof size === "function") {
    callback = size;
    size = undefined;
  }
  validateFunction(callback, "callback");
  size = checkFillRange(bytes, offset, size, "size");
  fillRandom(bytes.subarray(offset, offset + size));
  setImmediate(() => callback(null, buf));
}

const kRandMax = 0xffff_ffff_ffff;

export function randomInt(min, max, callback) {
  const minNotGiven = typeof max === "undefined" || typeof max === "function";
  if (minNotGiven) {
    callback = max;
    max = min;
    min = 0;
  }
  const sync = typeof callback === "undefined";
  if (!sync) validateFunction(callback, "callback");
  if (!Number.isSafeInteger(min)) throw ERR_INVALID_ARG_TYPE("min", "a safe integer", min);
  if (!Number.isSafeInteger(max)) throw ERR_INVALID_ARG_TYPE("max", "a safe integer", max);
  if (max <= min) throw ERR_OUT_OF_RANGE("max", `greater than the value of "min" (${min})`, max);
  const range = max - min;
  if (!(range <= kRandMax)) throw ERR_OUT_OF_RANGE(`max${minNotGiven ? "" : " - min"}`, `<= ${kRandMax}`, range);
  // Rejection sampling over 48-bit values keeps every result equally likely.
  const limit = kRandMax - (kRandMax % range);
  const six = new Uint8Array(6);
  let value;
  for (;;) {
    native.getRandomValues(six);
    const x = six[0] * 2 ** 40 + six[1] * 2 ** 32 + six[2] * 2 ** 24 + six[3] * 2 ** 16 + six[4] * 2 ** 8 + six[5];
    if (x < limit) {
      value = (x % range) + min;
      break;
    }
  }
  if (sync) return value;
  setImmediate(() => callback(null, value));
  return undefined;
}

export function randomUUID(options) {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw ERR_INVALID_ARG_TYPE("options", "object", options);
  }
  return native.randomUUID();
}

// --- PBKDF2 and scrypt -------------------------------------------------------------------

function pbkdf2Arguments(password, salt, iterations, keylen, digest) {
  validateString(digest, "digest");
  password = toBytes(password, "password", "utf8", ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView"]);
  salt = toBytes(salt, "salt", "utf8", ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView"]);
  validateInteger(iterations, "iterations", 1, kMaxInt32);
  validateInteger(keylen, "keylen", 0, kMaxInt32);
  if (native.digestInfo(digest) === null) throw ERR_CRYPTO_INVALID_DIGEST(digest);
  return [password, salt, iterations, keylen, digest];
}

export function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  const args = pbkdf2Arguments(password, salt, iterations, keylen, digest);
  return Buffer.from(native.pbkdf2Sync(...args));
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  if (typeof digest === "function") {
    callback = digest;
    digest = undefined;
  }
  const args = pbkdf2Arguments(password, salt, iterations, keylen, digest);
  validateFunction(callback, "callback");
  native.pbkdf2Job(...args, (error, result) => {
    if (error !== null) callback(new Error(error));
    else callback(null, Buffer.from(result));
  });
}

const scryptDefaults = { N: 16384, r: 8, p: 1, maxmem: 32 << 20 };

function scryptArguments(password, salt, keylen, options) {
  password = toBytes(password, "password", "utf8", ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView"]);
  salt = toBytes(salt, "salt", "utf8", ["string", "ArrayBuffer", "Buffer", "TypedArray", "DataView"]);
  validateInteger(keylen, "keylen", 0, kMaxInt32);
  let { N, r, p, maxmem } = scryptDefaults;
  if (options !== undefined && options !== null) {
    const pick = (primary, alias, current) => {
      const hasPrimary = options[primary] !== undefined;
      let value = current;
      if (hasPrimary) {
        value = options[primary];
        validateInteger(value, primary, 0, kMaxUint32);
      }
      if (options[alias] !== undefined) {
        if (hasPrimary) throw makeError(Error, "ERR_CRYPTO_SCRYPT_INVALID_PARAMETER", "Invalid scrypt parameter");
        value = options[alias];
        validateInteger(value, alias, 0, kMaxUint32);
      }
      return value;
    };
    N = pick("N", "cost", N);
    r = pick("r", "blockSize", r);
    p = pick("p", "parallelization", p);
    if (options.maxmem !== undefined) {
      maxmem = options.maxmem;
      validateInteger(maxmem, "maxmem", 0, Number.MAX_SAFE_INTEGER);
    }
    if (N === 0) N = scryptDefaults.N;
    if (r === 0) r = scryptDefaults.r;
    if (p === 0) p = scryptDefaults.p;
    if (maxmem === 0) maxmem = scryptDefaults.maxmem;
  }
  const problem = native.scryptCheck(N, r, p, maxmem);
  if (problem !== "") {
    throw makeNativeError(RangeError, "ERR_CRYPTO_INVALID_SCRYPT_PARAMS",
      problem === "-" ? "Invalid scrypt params" : `Invalid scrypt params: ${problem}`);
  }
  return [password, salt, keylen, N, r, p, maxmem];
}

export function scryptSync(password, salt, keylen, options) {
  return Buffer.from(native.scryptSync(...scryptArguments(password, salt, keylen, options)));
}

export function scrypt(password, salt, keylen, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  const args = scryptArguments(password, salt, keylen, options);
  validateFunction(callback, "callback");
  native.scryptJob(...args, (error, result) => {
    if (error !== null) callback(new Error(error));
    else callback(null, Buffer.from(result));
  });
}

export { ERR_INVALID_ARG_VALUE };
