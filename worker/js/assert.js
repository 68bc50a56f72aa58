// Node's `assert` and `assert/strict`: the legacy (loose) and strict modes,
// with Node's argument checks, error codes and messages (assertion_error.js).
import { AssertionError } from "./assertion_error.js";
import { isDeepEqual, isDeepStrictEqual } from "./comparisons.js";
import { isRegExp, isPromise, isNativeError } from "./util_types.js";
import { inspect } from "./inspect.js";
import { emitWarning } from "./events.js";
import { callSiteSource } from "./call_site.js";
import {
  ERR_AMBIGUOUS_ARGUMENT, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_RETURN_VALUE, ERR_MISSING_ARGS,
} from "./errors.js";

const regExpExec = Function.prototype.call.bind(RegExp.prototype.exec);
const NO_EXCEPTION = Symbol("no exception");

function innerFail(details) {
  if (details.message instanceof Error) throw details.message;
  throw new AssertionError(details);
}

const isError = (value) => isNativeError(value) || value instanceof Error;

// assert(value) without a message: Node quotes the call from the caller's
// source, "The expression evaluated to a falsy value:\n\n  assert.ok(x)\n".
function falsyValueMessage() {
  const source = callSiteSource();
  return source === undefined ? undefined : `The expression evaluated to a falsy value:\n\n  ${source}\n`;
}

function innerOk(argumentCount, value, message) {
  if (value) return;
  let generatedMessage = false;
  if (argumentCount === 0) {
    generatedMessage = true;
    message = "No value argument passed to `assert.ok()`";
  } else if (message == null) {
    generatedMessage = true;
    message = falsyValueMessage();
  } else if (message instanceof Error) {
    throw message;
  }
  const error = new AssertionError({ actual: value, expected: true, message, operator: "==" });
  error.generatedMessage = generatedMessage;
  throw error;
}

function ok(...args) {
  innerOk(args.length, ...args);
}

let failWarned = false;

function fail(actual, expected, message, operator, stackStartFn) {
  const argumentCount = arguments.length;
  let internalMessage = false;
  if (actual == null && argumentCount <= 1) {
    internalMessage = true;
    message = "Failed";
  } else if (argumentCount === 1) {
    message = actual;
    actual = undefined;
  } else {
    if (!failWarned) {
      failWarned = true;
      const warning = new Error("assert.fail() with more than one argument is deprecated. " +
        "Please use assert.strictEqual() instead or only pass a message.");
      warning.name = "DeprecationWarning";
      warning.code = "DEP0094";
      emitWarning(warning);
    }
    if (argumentCount === 2) operator = "!=";
  }
  if (message instanceof Error) throw message;
  void stackStartFn;
  const error = new AssertionError({ actual, expected, operator: operator === undefined ? "fail" : operator, message });
  if (internalMessage) error.generatedMessage = true;
  throw error;
}

function requireTwo(count) {
  if (count < 2) throw ERR_MISSING_ARGS("actual", "expected");
}

function equal(actual, expected, message) {
  requireTwo(arguments.length);
  // eslint-disable-next-line eqeqeq
  if (actual != expected && (!Number.isNaN(actual) || !Number.isNaN(expected))) {
    innerFail({ actual, expected, message, operator: "==" });
  }
}

function notEqual(actual, expected, message) {
  requireTwo(arguments.length);
  // eslint-disable-next-line eqeqeq
  if (actual == expected || (Number.isNaN(actual) && Number.isNaN(expected))) {
    innerFail({ actual, expected, message, operator: "!=" });
  }
}

function deepEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (!isDeepEqual(actual, expected)) innerFail({ actual, expected, message, operator: "deepEqual" });
}

function notDeepEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (isDeepEqual(actual, expected)) innerFail({ actual, expected, message, operator: "notDeepEqual" });
}

function deepStrictEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (!isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: "deepStrictEqual" });
}

function notDeepStrictEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (isDeepStrictEqual(actual, expected)) innerFail({ actual, expected, message, operator: "notDeepStrictEqual" });
}

function strictEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (!Object.is(actual, expected)) innerFail({ actual, expected, message, operator: "strictEqual" });
}

function notStrictEqual(actual, expected, message) {
  requireTwo(arguments.length);
  if (Object.is(actual, expected)) innerFail({ actual, expected, message, operator: "notStrictEqual" });
}

// The properties of `source` named by `keys`, as an object printed
// "Comparison {...}" in the diff of a failed validation object. Where the
// expected side holds a RegExp the actual string matched, the string is shown
// on both sides.
class Comparison {
  constructor(source, keys, actual) {
    for (const key of keys) {
      if (!(key in source)) continue;
      if (actual !== undefined && typeof actual[key] === "string" && isRegExp(source[key]) &&
          regExpExec(source[key], actual[key]) !== null) {
        this[key] = actual[key];
      } else {
        this[key] = source[key];
      }
    }
  }
}

function compareExceptionKey(actual, expected, key, message, keys, operator) {
  if (key in actual && isDeepStrictEqual(actual[key], expected[key])) return;
  if (!message) {
    const error = new AssertionError({
      actual: new Comparison(actual, keys), expected: new Comparison(expected, keys, actual),
      operator: "deepStrictEqual",
    });
    error.actual = actual;
    error.expected = expected;
    error.operator = operator;
    throw error;
  }
  innerFail({ actual, expected, message, operator });
}

// Checks a thrown (or rejected) value against the `error` argument of
// throws()/rejects(): a RegExp for its string form, a validation object for
// its properties, an error class, or a validation function.
function expectedException(actual, expected, message, operator) {
  let generatedMessage = false;
  let failed = false;
  if (typeof expected !== "function") {
    if (isRegExp(expected)) {
      const text = String(actual);
      if (regExpExec(expected, text) !== null) return;
      if (!message) {
        generatedMessage = true;
        message = "The input did not match the regular expression " +
          `${inspect(expected)}. Input:\n\n${inspect(text)}\n`;
      }
      failed = true;
    } else if (typeof actual !== "object" || actual === null) {
      const error = new AssertionError({ actual, expected, message, operator: "deepStrictEqual" });
      error.operator = operator;
      throw error;
    } else {
      const keys = Object.keys(expected);
      if (expected instanceof Error) keys.push("name", "message");
      else if (keys.length === 0) throw ERR_INVALID_ARG_VALUE("error", expected, "may not be an empty object");
      for (const key of keys) {
        if (typeof actual[key] === "string" && isRegExp(expected[key]) &&
            regExpExec(expected[key], actual[key]) !== null) {
          continue;
        }
        compareExceptionKey(actual, expected, key, message, keys, operator);
      }
      return;
    }
  } else if (expected.prototype !== undefined && actual instanceof expected) {
    return;
  } else if (Object.prototype.isPrototypeOf.call(Error, expected)) {
    if (!message) {
      generatedMessage = true;
      message = `The error is expected to be an instance of "${expected.name}". Received `;
      if (isError(actual)) {
        const name = actual.constructor?.name || actual.name;
        message += expected.name === name ? "an error with identical name but a different prototype." : `"${name}"`;
        if (actual.message) message += `\n\nError message:\n\n${actual.message}`;
      } else {
        message += `"${inspect(actual, { depth: -1 })}"`;
      }
    }
    failed = true;
  } else {
    const result = Reflect.apply(expected, {}, [actual]);
    if (result !== true) {
      if (!message) {
        generatedMessage = true;
        const name = expected.name ? `"${expected.name}" ` : "";
        message = `The ${name}validation function is expected to return "true". Received ${inspect(result)}`;
        if (isError(actual)) message += `\n\nCaught error:\n\n${actual}`;
      }
      failed = true;
    }
  }
  if (failed) {
    const error = new AssertionError({ actual, expected, message, operator });
    error.generatedMessage = generatedMessage;
    throw error;
  }
}

const errorTypes = ["Object", "Error", "Function", "RegExp"];

function expectsError(operator, actual, error, message, argumentCount) {
  if (typeof error === "string") {
    // A string both as `error` and as `message` is refused.
    if (argumentCount === 2) throw ERR_INVALID_ARG_TYPE("error", errorTypes, error);
    if (typeof actual === "object" && actual !== null) {
      if (actual.message === error) {
        throw ERR_AMBIGUOUS_ARGUMENT("error/message", `The error message "${actual.message}" is identical to the message.`);
      }
    } else if (actual === error) {
      throw ERR_AMBIGUOUS_ARGUMENT("error/message", `The error "${actual}" is identical to the message.`);
    }
    message = error;
    error = undefined;
  } else if (error != null && typeof error !== "object" && typeof error !== "function") {
    throw ERR_INVALID_ARG_TYPE("error", errorTypes, error);
  }
  if (actual === NO_EXCEPTION) {
    let details = "";
    if (error && error.name) details += ` (${error.name})`;
    details += message ? `: ${message}` : ".";
    const kind = operator === "rejects" ? "rejection" : "exception";
    innerFail({ actual: undefined, expected: error, operator, message: `Missing expected ${kind}${details}` });
  }
  if (!error) return;
  expectedException(actual, error, message, operator);
}

function hasMatchingError(actual, expected) {
  if (typeof expected !== "function") {
    if (isRegExp(expected)) return regExpExec(expected, String(actual)) !== null;
    throw ERR_INVALID_ARG_TYPE("expected", ["Function", "RegExp"], expected);
  }
  if (expected.prototype !== undefined && actual instanceof expected) return true;
  if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
  return Reflect.apply(expected, {}, [actual]) === true;
}

function expectsNoError(operator, actual, error, message) {
  if (actual === NO_EXCEPTION) return;
  if (typeof error === "string") {
    message = error;
    error = undefined;
  }
  if (!error || hasMatchingError(actual, error)) {
    const details = message ? `: ${message}` : ".";
    const kind = operator === "doesNotReject" ? "rejection" : "exception";
    innerFail({
      actual, expected: error, operator,
      message: `Got unwanted ${kind}${details}\nActual message: "${actual && actual.message}"`,
    });
  }
  throw actual;
}

function thrownBy(fn) {
  if (typeof fn !== "function") throw ERR_INVALID_ARG_TYPE("fn", "Function", fn);
  try {
    fn();
  } catch (error) {
    return error;
  }
  return NO_EXCEPTION;
}

const isPromiseLike = (value) => isPromise(value) ||
  (value !== null && typeof value === "object" && typeof value.then === "function" && typeof value.catch === "function");

async function rejectionOf(promiseFn) {
  let promise;
  if (typeof promiseFn === "function") {
    promise = promiseFn();
    if (!isPromiseLike(promise)) throw ERR_INVALID_RETURN_VALUE("instance of Promise", "promiseFn", promise);
  } else if (isPromiseLike(promiseFn)) {
    promise = promiseFn;
  } else {
    throw ERR_INVALID_ARG_TYPE("promiseFn", ["Function", "Promise"], promiseFn);
  }
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return NO_EXCEPTION;
}

function throws(promiseFn, ...args) {
  expectsError("throws", thrownBy(promiseFn), args[0], args[1], args.length);
}

async function rejects(promiseFn, ...args) {
  expectsError("rejects", await rejectionOf(promiseFn), args[0], args[1], args.length);
}

function doesNotThrow(fn, ...args) {
  expectsNoError("doesNotThrow", thrownBy(fn), ...args);
}

async function doesNotReject(fn, ...args) {
  expectsNoError("doesNotReject", await rejectionOf(fn), ...args);
}

function ifError(err) {
  if (err === null || err === undefined) return;
  let message = "ifError got unwanted exception: ";
  if (typeof err === "object" && typeof err.message === "string") {
    message += err.message.length === 0 && err.constructor ? err.constructor.name : err.message;
  } else {
    message += inspect(err);
  }
  throw new AssertionError({ actual: err, expected: null, operator: "ifError", message });
}

function internalMatch(string, regexp, message, operator) {
  if (!isRegExp(regexp)) throw ERR_INVALID_ARG_TYPE("regexp", "RegExp", regexp);
  const wanted = operator === "match";
  if (typeof string !== "string" || (regExpExec(regexp, string) !== null) !== wanted) {
    if (message instanceof Error) throw message;
    const generatedMessage = !message;
    if (!message) {
      if (typeof string !== "string") {
        message = `The "string" argument must be of type string. Received type ${typeof string} (${inspect(string)})`;
      } else {
        message = `${wanted ? "The input did not match the regular expression " :
          "The input was expected to not match the regular expression "}${inspect(regexp)}. Input:\n\n` +
          `${inspect(string)}\n`;
      }
    }
    const error = new AssertionError({ actual: string, expected: regexp, message, operator });
    error.generatedMessage = generatedMessage;
    throw error;
  }
}

function match(string, regexp, message) {
  internalMatch(string, regexp, message, "match");
}

function doesNotMatch(string, regexp, message) {
  internalMatch(string, regexp, message, "doesNotMatch");
}

// `assert` itself is ok(); `assert.strict` is a second function whose
// equality checks are the strict ones.
export const assert = ok;
Object.assign(assert, {
  fail, AssertionError, ok, equal, notEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual,
  strictEqual, notStrictEqual, throws, rejects, doesNotThrow, doesNotReject, ifError, match, doesNotMatch,
});

export function strict(...args) {
  innerOk(args.length, ...args);
}
Object.assign(strict, assert, {
  equal: strictEqual, deepEqual: deepStrictEqual, notEqual: notStrictEqual, notDeepEqual: notDeepStrictEqual,
});
assert.strict = strict;
strict.strict = strict;
