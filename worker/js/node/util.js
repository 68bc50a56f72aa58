// node:util — the formatting half, plus promisify and TextEncoder/TextDecoder.
import { inspect, format, formatWithOptions } from "../inspect.js";
import { TextEncoder, TextDecoder } from "../text_coding.js";

const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");

function promisify(original) {
  if (typeof original !== "function") throw new TypeError('The "original" argument must be of type function');
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

const types = {
  isPromise: (v) => v instanceof Promise,
  isUint8Array: (v) => v instanceof Uint8Array,
  isDate: (v) => v instanceof Date,
  isRegExp: (v) => v instanceof RegExp,
};

export { inspect, format, formatWithOptions, promisify, types, TextEncoder, TextDecoder };
export default { inspect, format, formatWithOptions, promisify, types, TextEncoder, TextDecoder };
