// Web Crypto's SubtleCrypto for the algorithms this runtime has: digest
// (SHA-1/256/384/512), HMAC (generateKey, importKey raw/jwk, exportKey
// raw/jwk, sign, verify) and PBKDF2 (importKey raw, deriveBits). Everything
// else rejects with NotSupportedError. Errors follow Node 20, quirks included.
import { native } from "./native.js";
import { Buffer } from "./buffer.js";
import { DOMException } from "./dom_events.js";
import { ERR_ILLEGAL_CONSTRUCTOR, makeError } from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { setSecretKeyReader } from "./crypto.js";

const digests = { "sha-1": "SHA-1", "sha-256": "SHA-256", "sha-384": "SHA-384", "sha-512": "SHA-512" };
const opensslDigest = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };
const jwkAlg = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };

const notSupported = () => new DOMException("Unrecognized algorithm name", "NotSupportedError");

function normalize(algorithm, allowed) {
  if (typeof algorithm === "string") algorithm = { name: algorithm };
  if (algorithm === null || typeof algorithm !== "object") throw notSupported();
  if (algorithm.name === undefined) {
    throw makeError(TypeError, "ERR_MISSING_OPTION", "Failed to normalize algorithm: passed algorithm can not be " +
      "converted to 'Algorithm' because 'name' is required in 'Algorithm'.");
  }
  const name = allowed.find((n) => n.toLowerCase() === `${algorithm.name}`.toLowerCase());
  if (name === undefined) throw notSupported();
  return { ...algorithm, name };
}

function normalizeHash(hash, dictionary) {
  if (hash === undefined) {
    throw makeError(TypeError, "ERR_MISSING_OPTION", "Failed to normalize algorithm: passed algorithm can not be " +
      `converted to '${dictionary}' because 'hash' is required in '${dictionary}'.`);
  }
  const name = digests[`${typeof hash === "string" ? hash : hash?.name}`.toLowerCase()];
  if (name === undefined) throw notSupported();
  return name;
}

function bufferSource(value, method, position) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  throw makeError(TypeError, "ERR_INVALID_ARG_TYPE", `Failed to execute '${method}' on 'SubtleCrypto': ` +
    `${position} argument is not instance of ArrayBuffer, Buffer, TypedArray, or DataView.`);
}

function requireArguments(count, given, method) {
  if (given < count) {
    throw makeError(TypeError, "ERR_MISSING_ARGS", `Failed to execute '${method}' on 'SubtleCrypto': ` +
      `${count} arguments required, but only ${given} present.`);
  }
}

function hashBytes(name, bytes) {
  const handle = native.hashNew(opensslDigest[name]);
  native.hashUpdate(handle, bytes);
  return native.hashDigest(handle);
}

function hmacBytes(hash, key, data) {
  const handle = native.hmacNew(opensslDigest[hash], key);
  native.hmacUpdate(handle, data);
  return native.hmacDigest(handle);
}

// --- CryptoKey ------------------------------------------------------------------------

const kToken = Symbol("kToken");
const keys = new WeakMap();

export class CryptoKey {
  constructor(token, type, extractable, algorithm, usages, material) {
    if (token !== kToken) throw ERR_ILLEGAL_CONSTRUCTOR();
    keys.set(this, { type, extractable, algorithm, usages, material });
  }

  get type() {
    return keys.get(this)?.type;
  }

  get extractable() {
    return keys.get(this)?.extractable;
  }

  get algorithm() {
    return keys.get(this)?.algorithm;
  }

  get usages() {
    return keys.get(this)?.usages;
  }

  [customInspectSymbol](depth, options) {
    if (depth < 0) return this;
    const inner = { ...options, depth: options?.depth == null ? null : options.depth - 1 };
    return `CryptoKey ${inspect({ type: this.type, extractable: this.extractable, algorithm: this.algorithm,
      usages: this.usages }, inner)}`;
  }
}
Object.defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: "CryptoKey", configurable: true });

const newKey = (type, extractable, algorithm, usages, material) =>
  new CryptoKey(kToken, type, extractable, algorithm, usages, material);
const material = (key) => keys.get(key)?.material;

// createHmac accepts a secret CryptoKey as its key.
setSecretKeyReader((key) => (keys.has(key) && keys.get(key).type === "secret" ? material(key) : undefined));

function checkUsages(usages, allowed, what) {
  usages = [...usages];
  for (const usage of usages) {
    if (!allowed.includes(usage)) throw new DOMException(`Unsupported key usage for ${what}`, "SyntaxError");
  }
  return usages;
}

function requireUsages(usages) {
  if (usages.length === 0) throw new DOMException("Usages cannot be empty when creating a key.", "SyntaxError");
}

function useKey(key, name, usage) {
  const data = keys.get(key);
  if (data === undefined || data.algorithm.name !== name || !data.usages.includes(usage)) {
    throw new DOMException(`Unable to use this key to ${usage}`, "InvalidAccessError");
  }
  return data.material;
}

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

// --- SubtleCrypto ------------------------------------------------------------------------

export class SubtleCrypto {
  constructor(token) {
    if (token !== kToken) throw ERR_ILLEGAL_CONSTRUCTOR();
  }

  async digest(algorithm, data) {
    requireArguments(2, arguments.length, "digest");
    const { name } = normalize(algorithm, ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]);
    return hashBytes(name, bufferSource(data, "digest", "2nd"));
  }

  async generateKey(algorithm, extractable, usages) {
    requireArguments(3, arguments.length, "generateKey");
    algorithm = normalize(algorithm, ["HMAC"]);
    const hash = normalizeHash(algorithm.hash, "HmacKeyGenParams");
    usages = checkUsages(usages, ["sign", "verify"], "an HMAC key");
    let length = algorithm.length;
    if (length === undefined) length = native.digestInfo(opensslDigest[hash])[1] * 8;
    else if (length % 8 !== 0) {
      throw makeError(TypeError, "ERR_INVALID_ARG_VALUE",
        `The property 'algorithm.length' must be a multiple of 8. Received ${inspect(length)}`);
    }
    requireUsages(usages);
    const bytes = new Uint8Array(length / 8);
    native.getRandomValues(bytes);
    return newKey("secret", !!extractable, { name: "HMAC", length, hash: { name: hash } }, usages, bytes);
  }

  async importKey(format, keyData, algorithm, extractable, usages) {
    requireArguments(5, arguments.length, "importKey");
    algorithm = normalize(algorithm, ["HMAC", "PBKDF2"]);
    if (algorithm.name === "PBKDF2") {
      if (format !== "raw") throw new DOMException(`Unable to import PBKDF2 key with format ${format}`, "NotSupportedError");
      usages = checkUsages(usages, ["deriveKey", "deriveBits"], "a PBKDF2 key");
      if (extractable) throw new DOMException("PBKDF2 keys are not extractable", "SyntaxError");
      const bytes = bufferSource(keyData, "importKey", "2nd");
      return newKey("secret", false, { name: "PBKDF2" }, usages, bytes);
    }
    const hash = normalizeHash(algorithm.hash, "HmacImportParams");
    usages = checkUsages(usages, ["sign", "verify"], "an HMAC key");
    let bytes;
    if (format === "raw") {
      bytes = bufferSource(keyData, "importKey", "2nd");
    } else if (format === "jwk") {
      if (keyData === null || typeof keyData !== "object") {
        throw new DOMException("Invalid keyData", "DataError");
      }
      if (keyData.kty !== "oct") throw new DOMException("Invalid JWK \"kty\" Parameter", "DataError");
      if (typeof keyData.k !== "string") throw new DOMException("Invalid JWK \"k\" Parameter", "DataError");
      if (keyData.alg !== undefined && keyData.alg !== jwkAlg[hash]) {
        throw new DOMException("JWK \"alg\" does not match the requested algorithm", "DataError");
      }
      if (keyData.ext !== undefined && keyData.ext === false && extractable) {
        throw new DOMException("JWK \"ext\" Parameter and extractable mismatch", "DataError");
      }
      bytes = new Uint8Array(Buffer.from(keyData.k, "base64url"));
    } else {
      throw new DOMException(`Unable to import HMAC key with format ${format}`, "NotSupportedError");
    }
    if (bytes.length === 0) throw new DOMException("Zero-length key is not supported", "DataError");
    requireUsages(usages);
    return newKey("secret", !!extractable, { name: "HMAC", hash: { name: hash }, length: bytes.length * 8 }, usages,
      bytes);
  }

  async exportKey(format, key) {
    requireArguments(2, arguments.length, "exportKey");
    const data = keys.get(key);
    if (data === undefined) {
      throw makeError(TypeError, "ERR_INVALID_ARG_TYPE", "The \"key\" argument must be an instance of CryptoKey.");
    }
    // Node's name for this one.
    if (!data.extractable) throw new DOMException("key is not extractable", "InvalidAccessException");
    if (data.algorithm.name !== "HMAC") {
      throw new DOMException(`Unable to export a raw ${data.algorithm.name} key`, "NotSupportedError");
    }
    if (format === "raw") return data.material.slice().buffer;
    if (format === "jwk") {
      return { key_ops: [...data.usages], ext: data.extractable, kty: "oct", k: base64url(data.material),
        alg: jwkAlg[data.algorithm.hash.name] };
    }
    throw new DOMException(`Unable to export HMAC key with format ${format}`, "NotSupportedError");
  }

  async sign(algorithm, key, data) {
    requireArguments(3, arguments.length, "sign");
    normalize(algorithm, ["HMAC"]);
    const secret = useKey(key, "HMAC", "sign");
    return hmacBytes(keys.get(key).algorithm.hash.name, secret, bufferSource(data, "sign", "3rd"));
  }

  async verify(algorithm, key, signature, data) {
    requireArguments(4, arguments.length, "verify");
    normalize(algorithm, ["HMAC"]);
    const secret = useKey(key, "HMAC", "verify");
    const expected = new Uint8Array(hmacBytes(keys.get(key).algorithm.hash.name, secret,
      bufferSource(data, "verify", "4th")));
    const given = bufferSource(signature, "verify", "3rd");
    return given.length === expected.length && native.timingSafeEqual(given, expected);
  }

  async deriveBits(algorithm, baseKey, length) {
    requireArguments(3, arguments.length, "deriveBits");
    algorithm = normalize(algorithm, ["PBKDF2"]);
    const hash = normalizeHash(algorithm.hash, "Pbkdf2Params");
    const secret = useKey(baseKey, "PBKDF2", "deriveBits");
    const salt = bufferSource(algorithm.salt, "deriveBits", "1st");
    const iterations = algorithm.iterations >>> 0;
    if (iterations === 0) throw new DOMException("iterations cannot be zero", "OperationError");
    if (length === null || length === undefined) throw new DOMException("length cannot be null", "OperationError");
    if (length % 8 !== 0) throw new DOMException("length must be a multiple of 8", "OperationError");
    return new Promise((resolve, reject) => {
      native.pbkdf2Job(secret, salt, iterations, length / 8, opensslDigest[hash], (error, bits) => {
        if (error !== null) reject(new DOMException("The operation failed for an operation-specific reason", "OperationError"));
        else resolve(bits);
      });
    });
  }
}

for (const name of ["encrypt", "decrypt", "deriveKey", "wrapKey", "unwrapKey"]) {
  Object.defineProperty(SubtleCrypto.prototype, name, {
    value: async function unsupported() {
      throw notSupported();
    },
    writable: true,
    enumerable: true,
    configurable: true,
  });
}
Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: "SubtleCrypto", configurable: true });

export const subtle = new SubtleCrypto(kToken);
