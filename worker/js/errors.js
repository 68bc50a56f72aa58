// Node's internal errors: plain TypeError/RangeError/Error instances carrying an
// enumerable `code`, whose toString() reads `TypeError [ERR_X]: message` as in
// Node. Messages follow Node 20 word for word because handler code (and its
// tests) compare them.
import { engineFramesToNode, inspect } from "./inspect.js";

// One prototype per (base class, code): it inherits from the base's prototype,
// so instanceof, `name` and `constructor` are the base's, and it only adds the
// toString Node's error classes have.
const prototypes = new Map();
const nodeErrorPrototypes = new WeakSet();

function prototypeFor(Base, code) {
  const key = `${Base.name}:${code}`;
  let proto = prototypes.get(key);
  if (proto === undefined) {
    proto = Object.create(Base.prototype, {
      toString: {
        value: function toString() {
          return `${this.name} [${code}]: ${this.message}`;
        },
        writable: true,
        enumerable: false,
        configurable: true,
      },
    });
    nodeErrorPrototypes.add(proto);
    prototypes.set(key, proto);
  }
  return proto;
}

export function makeError(Base, code, message) {
  const error = new Base(message);
  Object.setPrototypeOf(error, prototypeFor(Base, code));
  Object.defineProperty(error, "code", {
    value: code,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(error, "stack", {
    value: nodeStyleStack(error.stack, `${error.name} [${code}]: ${message}`),
    writable: true,
    enumerable: false,
    configurable: true,
  });
  return error;
}

// Node's stack does not show the frames that built the error. A SpiderMonkey
// stack keeps its format (inspect() adds the `TypeError [CODE]: message`
// header); a V8 one, when the library runs under Node for its tests, gets
// Node's header.
function nodeStyleStack(stack, header) {
  if (typeof stack !== "string") return header;
  if (engineFramesToNode(stack) !== undefined) {
    return stack.split("\n").filter((line) => !internalEngineFrame.test(line)).join("\n");
  }
  const frames = stack.split("\n").filter((line) => line.startsWith("    at ") && !internalFrame.test(line));
  return [header, ...frames].join("\n");
}

const internalEngineFrame = /^(makeError|ERR_[A-Z0-9_]+)@/;
const internalFrame = /^ {4}at (makeError|ERR_[A-Z0-9_]+) /;

// inspect() shows these errors' code in the header, as Node's stack does.
// Node's AbortError (internal/errors): what an AbortSignal makes Node's own
// APIs reject or throw with; `cause` is the signal's reason.
export class AbortError extends Error {
  constructor(message = "The operation was aborted", options = undefined) {
    super(message, options);
    this.code = "ABORT_ERR";
    this.name = "AbortError";
  }
}

export function isNodeError(error) {
  return error !== null && typeof error === "object" &&
    nodeErrorPrototypes.has(Object.getPrototypeOf(error));
}

// Classes of the library whose instances print as Node's errors with a code
// (assert.AssertionError).
export function registerNodeErrorPrototype(prototype) {
  nodeErrorPrototypes.add(prototype);
}

// Errors Node throws from C++ carry a code but keep the plain
// `TypeError: message` toString().
export function makeNativeError(Base, code, message) {
  const error = new Base(message);
  Object.defineProperty(error, "code", {
    value: code,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return error;
}

// Node's description of a received value: "type number (1)", "an instance of Foo",
// "function f", "null".
export function describeReceived(value) {
  if (value == null) return String(value);
  if (typeof value === "function" && value.name) return `function ${value.name}`;
  if (typeof value === "function") return "function ";
  if (typeof value === "object") {
    const ctorName = safeConstructorName(value);
    if (ctorName) return `an instance of ${ctorName}`;
    return inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

function safeConstructorName(value) {
  try {
    return value.constructor?.name;
  } catch {
    return undefined;
  }
}

const kTypes = ["string", "function", "number", "object", "Function", "Object",
  "boolean", "bigint", "symbol"];
const classPattern = /^([A-Z][a-z0-9]*)+$/;

function listOf(items, lead, conjunction = "or") {
  if (items.length > 2) {
    const last = items[items.length - 1];
    return `${lead}${items.slice(0, -1).join(", ")}, ${conjunction} ${last}`;
  }
  if (items.length === 2) return `${lead}${items[0]} ${conjunction} ${items[1]}`;
  return `${lead}${items[0]}`;
}

export function ERR_INVALID_ARG_TYPE(name, expected, actual) {
  if (!Array.isArray(expected)) expected = [expected];
  let msg = "The ";
  if (name.endsWith(" argument")) {
    msg += `${name} `;
  } else {
    msg += `"${name}" ${name.includes(".") ? "property" : "argument"} `;
  }
  msg += "must be ";
  const types = [];
  const instances = [];
  const other = [];
  for (const value of expected) {
    if (kTypes.includes(value)) types.push(value.toLowerCase());
    else if (classPattern.test(value)) instances.push(value);
    else other.push(value);
  }
  // "object" is folded into the instance list when classes are also accepted.
  if (instances.length > 0) {
    const pos = types.indexOf("object");
    if (pos !== -1) {
      types.splice(pos, 1);
      instances.push("Object");
    }
  }
  if (types.length > 0) {
    if (types.length > 2) {
      msg += `one of type ${types.slice(0, -1).join(", ")}, or ${types[types.length - 1]}`;
    } else if (types.length === 2) {
      msg += `one of type ${types[0]} or ${types[1]}`;
    } else {
      msg += `of type ${types[0]}`;
    }
    if (instances.length > 0 || other.length > 0) msg += " or ";
  }
  if (instances.length > 0) {
    if (instances.length > 2) {
      msg += listOf(instances, "an instance of ");
    } else {
      msg += `an instance of ${instances[0]}`;
      if (instances.length === 2) msg += ` or ${instances[1]}`;
    }
    if (other.length > 0) msg += " or ";
  }
  if (other.length > 0) {
    if (other.length > 2) {
      msg += listOf(other, "one of ");
    } else if (other.length === 2) {
      msg += `one of ${other[0]} or ${other[1]}`;
    } else {
      if (other[0].toLowerCase() !== other[0]) msg += "an ";
      msg += other[0];
    }
  }
  msg += `. Received ${describeReceived(actual)}`;
  return makeError(TypeError, "ERR_INVALID_ARG_TYPE", msg);
}

export function ERR_INVALID_ARG_VALUE(name, value, reason = "is invalid") {
  let inspected = inspect(value);
  if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
  const type = name.includes(".") ? "property" : "argument";
  return makeError(TypeError, "ERR_INVALID_ARG_VALUE",
    `The ${type} '${name}' ${reason}. Received ${inspected}`);
}

function addNumericalSeparator(text) {
  let result = "";
  let i = text.length;
  const start = text[0] === "-" ? 1 : 0;
  for (; i >= start + 4; i -= 3) result = `_${text.slice(i - 3, i)}${result}`;
  return `${text.slice(0, i)}${result}`;
}

export function ERR_OUT_OF_RANGE(str, range, input, replaceDefaultBoolean = false) {
  let msg = replaceDefaultBoolean ? str : `The value of "${str}" is out of range.`;
  let received;
  if (Number.isInteger(input) && Math.abs(input) > 2 ** 32) {
    received = addNumericalSeparator(String(input));
  } else if (typeof input === "bigint") {
    received = String(input);
    if (input > 2n ** 32n || input < -(2n ** 32n)) received = addNumericalSeparator(received);
    received += "n";
  } else {
    received = inspect(input);
  }
  msg += ` It must be ${range}. Received ${received}`;
  return makeError(RangeError, "ERR_OUT_OF_RANGE", msg);
}

export function ERR_UNKNOWN_ENCODING(encoding) {
  return makeError(TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${encoding}`);
}

export function ERR_BUFFER_OUT_OF_BOUNDS(name) {
  return makeError(RangeError, "ERR_BUFFER_OUT_OF_BOUNDS", name
    ? `"${name}" is outside of buffer bounds`
    : "Attempt to access memory outside buffer bounds");
}

export function ERR_UNHANDLED_ERROR(described) {
  const msg = "Unhandled error.";
  return makeError(Error, "ERR_UNHANDLED_ERROR",
    described === undefined ? msg : `${msg} (${described})`);
}

export function ERR_INVALID_THIS(type) {
  return makeError(TypeError, "ERR_INVALID_THIS", `Value of "this" must be of type ${type}`);
}

export function ERR_MISSING_ARGS(...names) {
  const wrap = (a) => `"${a}"`;
  const shown = names.map((a) => (Array.isArray(a) ? a.map(wrap).join(" or ") : wrap(a)));
  let msg = "The ";
  if (shown.length === 1) msg += `${shown[0]} argument`;
  else if (shown.length === 2) msg += `${shown[0]} and ${shown[1]} arguments`;
  else msg += `${shown.slice(0, -1).join(", ")}, and ${shown[shown.length - 1]} arguments`;
  return makeError(TypeError, "ERR_MISSING_ARGS", `${msg} must be specified`);
}

export function ERR_INVALID_BUFFER_SIZE(suffix) {
  return makeError(RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${suffix}`);
}

export function ERR_ENCODING_NOT_SUPPORTED(encoding) {
  return makeError(RangeError, "ERR_ENCODING_NOT_SUPPORTED", `The "${encoding}" encoding is not supported`);
}

export function ERR_ENCODING_INVALID_ENCODED_DATA(encoding) {
  return makeNativeError(TypeError, "ERR_ENCODING_INVALID_ENCODED_DATA",
    `The encoded data was not valid for encoding ${encoding}`);
}

export function ERR_ILLEGAL_CONSTRUCTOR() {
  return makeError(TypeError, "ERR_ILLEGAL_CONSTRUCTOR", "Illegal constructor");
}

export function ERR_EVENT_RECURSION(type) {
  return makeError(Error, "ERR_EVENT_RECURSION", `The event "${type}" is already being dispatched`);
}

export function ERR_STRING_TOO_LONG() {
  return makeError(Error, "ERR_STRING_TOO_LONG",
    "Cannot create a string longer than 0x1fffffe8 characters");
}

export function ERR_AMBIGUOUS_ARGUMENT(name, reason) {
  return makeError(TypeError, "ERR_AMBIGUOUS_ARGUMENT", `The "${name}" argument is ambiguous. ${reason}`);
}

export function ERR_INVALID_RETURN_VALUE(input, name, value) {
  return makeError(TypeError, "ERR_INVALID_RETURN_VALUE",
    `Expected ${input} to be returned from the "${name}" function but got ${describeReceived(value)}.`);
}

export function ERR_INVALID_STATE(message, Base = TypeError) {
  return makeError(Base, "ERR_INVALID_STATE", `Invalid state: ${message}`);
}
