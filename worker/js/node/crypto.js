// node:crypto — hashes, HMAC, random values, PBKDF2, scrypt, timingSafeEqual
// and Web Crypto (worker/js/crypto.js, worker/js/webcrypto.js). Ciphers,
// signatures, key objects and Diffie-Hellman are not here (NODE_DIFFERENCES.md).
import {
  Hash,
  Hmac,
  createHash,
  createHmac,
  getHashes,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  scrypt,
  scryptSync,
  timingSafeEqual,
} from "../crypto.js";
import { subtle } from "../webcrypto.js";

const webcrypto = globalThis.crypto;
export const getRandomValues = (array) => webcrypto.getRandomValues(array);
export {
  Hash,
  Hmac,
  createHash,
  createHmac,
  getHashes,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  scrypt,
  scryptSync,
  subtle,
  timingSafeEqual,
  webcrypto,
};
export const pseudoRandomBytes = randomBytes;
export const prng = randomBytes;
export const rng = randomBytes;
export default {
  Hash,
  Hmac,
  createHash,
  createHmac,
  getHashes,
  getRandomValues,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  scrypt,
  scryptSync,
  subtle,
  timingSafeEqual,
  webcrypto,
};
