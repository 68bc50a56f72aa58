// assert.AssertionError and the messages Node 20 generates for failed
// assertions: the same headers, the line diff of the two values as
// util.inspect shows them (compact: false, sorted), the caret under the first
// differing character of two short one-line values, and the same limits on
// what is shown. Handler tests compare these messages, so they follow Node's
// output line for line.
import { inspect } from "./inspect.js";
import { ERR_INVALID_ARG_TYPE, registerNodeErrorPrototype } from "./errors.js";

const headers = {
  deepStrictEqual: "Expected values to be strictly deep-equal:",
  strictEqual: "Expected values to be strictly equal:",
  strictEqualObject: 'Expected "actual" to be reference-equal to "expected":',
  deepEqual: "Expected values to be loosely deep-equal:",
  notDeepStrictEqual: 'Expected "actual" not to be strictly deep-equal to:',
  notStrictEqual: 'Expected "actual" to be strictly unequal to:',
  notStrictEqualObject: 'Expected "actual" not to be reference-equal to "expected":',
  notDeepEqual: 'Expected "actual" not to be loosely deep-equal to:',
  notIdentical: "Values have same structure but are not reference-equal:",
  notDeepEqualUnequal: "Expected values not to be loosely deep-equal:",
};

// Up to this many lines of a value are shown; longer ones are cut after 46.
const kMaxLines = 50;
const kShownLines = 46;

function inspectValue(value) {
  return inspect(value, {
    compact: false, customInspect: false, depth: 1000, maxArrayLength: Infinity, showHidden: false,
    showProxy: false, sorted: true, getters: true,
  });
}

const isObject = (value) => typeof value === "object" && value !== null;

function cutLines(lines) {
  if (lines.length <= kMaxLines) return lines;
  return [...lines.slice(0, kShownLines), "..."];
}

// The message of a failed strictEqual or deepStrictEqual: `header`, then the
// two values, line by line. Lines are paired by position (no alignment
// search): pairs that differ show as "+ actual" then "- expected" lines,
// runs of equal lines are shortened to their first two and last three
// (with "..." between), and the values' common last lines to the first and
// the last three.
function diffMessage(actual, expected, operator, customHeader) {
  const actualText = inspectValue(actual);
  const actualLines = actualText.split("\n");
  const expectedLines = inspectValue(expected).split("\n");
  if (operator === "strictEqual" &&
      ((isObject(actual) && isObject(expected)) || (typeof actual === "function" && typeof expected === "function"))) {
    operator = "strictEqualObject";
  }
  const header = customHeader ?? headers[operator];

  let indicator = "";
  if (actualLines.length === 1 && expectedLines.length === 1 && actualLines[0] !== expectedLines[0]) {
    const a = actualLines[0];
    const b = expectedLines[0];
    if (a.length + b.length <= 12) {
      if (!isObject(actual) && !isObject(expected) && (actual !== 0 || expected !== 0)) {
        return `${header}\n\n${a} !== ${b}\n`;
      }
    } else if (operator !== "strictEqualObject" && a.length + b.length < 80) {
      let column = 0;
      while (column < a.length && a[column] === b[column]) column++;
      if (column > 2) indicator = `\n  ${" ".repeat(column)}^`;
    }
  }

  const trailing = [];
  while (actualLines.length > 0 && expectedLines.length > 0 &&
         actualLines[actualLines.length - 1] === expectedLines[expectedLines.length - 1]) {
    trailing.unshift(actualLines.pop());
    expectedLines.pop();
  }
  if (actualLines.length === 0 && expectedLines.length === 0) {
    return `${headers.notIdentical}\n\n${cutLines(actualText.split("\n")).join("\n")}\n`;
  }
  let skipped = false;
  let end = "";
  if (trailing.length > 0) {
    let shown = trailing;
    if (trailing.length > 4) {
      shown = [trailing[0], undefined, ...trailing.slice(-3)];
      skipped = true;
    }
    end = shown.map((line) => (line === undefined ? "\n..." : `\n  ${line}`)).join("");
  }

  const lineCount = Math.max(actualLines.length, expectedLines.length);
  const actualLonger = actualLines.length === lineCount;
  const longer = actualLonger ? actualLines : expectedLines;
  const paired = actualLonger ? expectedLines.length : actualLines.length;
  let body = "";
  // Expected lines wait here until the run of actual lines they pair with is out.
  let pending = "";
  let printed = 0;
  let identical = 0;
  const closeIdenticalRun = (i) => {
    if (identical > 2) {
      if (identical > 3) {
        if (identical > 4) {
          if (identical === 5) {
            body += `\n  ${longer[i - 3]}`;
            printed++;
          } else {
            body += "\n...";
            skipped = true;
          }
        }
        body += `\n  ${longer[i - 2]}`;
        printed++;
      }
      body += `\n  ${longer[i - 1]}`;
      printed++;
    }
    identical = 0;
  };
  for (let i = 0; i < lineCount; i++) {
    if (i >= paired) {
      closeIdenticalRun(i);
      if (actualLonger) body += `\n+ ${actualLines[i]}`;
      else pending += `\n- ${expectedLines[i]}`;
      printed++;
    } else {
      const expectedLine = expectedLines[i];
      let actualLine = actualLines[i];
      // Lines that differ only by a trailing comma (the last entry on one side) are alike.
      let differ = actualLine !== expectedLine &&
        !(actualLine.endsWith(",") && actualLine.slice(0, -1) === expectedLine);
      if (differ && expectedLine.endsWith(",") && expectedLine.slice(0, -1) === actualLine) {
        differ = false;
        actualLine += ",";
      }
      if (differ) {
        closeIdenticalRun(i);
        body += `\n+ ${actualLine}`;
        pending += `\n- ${expectedLine}`;
        printed += 2;
      } else {
        body += pending;
        pending = "";
        identical++;
        if (identical <= 2) {
          body += `\n  ${actualLine}`;
          printed++;
        }
      }
    }
    if (printed > kMaxLines && i < lineCount - 2) {
      return `${header}\n+ actual - expected ... Lines skipped\n${body}\n...${pending}\n...`;
    }
  }
  return `${header}\n+ actual - expected${skipped ? " ... Lines skipped" : ""}\n${body}${pending}${end}${indicator}`;
}

// notStrictEqual, notDeepStrictEqual: the one value, inline when short.
function unequalMessage(actual, operator) {
  let header = headers[operator];
  if (operator === "notStrictEqual" && (isObject(actual) || typeof actual === "function")) {
    header = headers.notStrictEqualObject;
  }
  const lines = cutLines(inspectValue(actual).split("\n"));
  if (lines.length === 1) return `${header}${lines[0].length > 5 ? "\n\n" : " "}${lines[0]}`;
  return `${header}\n\n${lines.join("\n")}\n`;
}

function cut(text, limit) {
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}

// deepEqual, notDeepEqual and the plain operators (==, !=, or fail()'s own).
function looseMessage(actual, expected, operator) {
  const actualText = inspectValue(actual);
  const expectedText = inspectValue(expected);
  if (operator === "notDeepEqual" && actualText === expectedText) {
    return cut(`${headers.notDeepEqual}\n\n${actualText}`, 1024);
  }
  const shownActual = cut(actualText, 512);
  const shownExpected = cut(expectedText, 512);
  if (operator === "deepEqual") {
    return `${headers.deepEqual}\n\n${shownActual}\n\nshould loosely deep-equal\n\n${shownExpected}`;
  }
  if (operator === "notDeepEqual") {
    return `${headers.notDeepEqualUnequal}\n\n${shownActual}\n\nshould not loosely deep-equal\n\n${shownExpected}`;
  }
  return `${shownActual} ${operator} ${shownExpected}`;
}

// Node shows a failed assertion from the caller's line: the frames of this
// library (internal modules) are left out of the stack.
function callerStack(stack) {
  if (typeof stack !== "string") return stack;
  const lines = stack.split("\n");
  let first = 0;
  while (first < lines.length && /(^|@|\()internal\/|\/worker\/js\//.test(lines[first])) first++;
  if (first === lines.length) return stack;
  if (lines[0].startsWith("    at ") || !/@/.test(lines[0])) {
    // V8's format (the library under Node, for its tests) starts with a header line.
    return stack;
  }
  return lines.slice(first).join("\n");
}

// Long strings are cut when an AssertionError itself is inspected, as Node
// does (keeping, like Node, the part after the first 512 characters).
function shortenForInspect(value) {
  if (typeof value !== "string") return value;
  const lines = value.split("\n", 11);
  if (lines.length > 10) return `${lines.slice(0, 10).join("\n")}\n...`;
  if (value.length > 512) return `${value.slice(512)}...`;
  return value;
}

// Node compares two errors without their stacks: each is shown through a
// copy that has its own enumerable properties and its message, and no stack.
function copyError(source) {
  const target = Object.assign({ __proto__: Object.getPrototypeOf(source) }, source);
  Object.defineProperty(target, "message", { value: source.message });
  return target;
}

const isStackedError = (value) => isObject(value) && "stack" in value && value instanceof Error;

export class AssertionError extends Error {
  constructor(options) {
    if (options === null || typeof options !== "object") throw ERR_INVALID_ARG_TYPE("options", "Object", options);
    const { message, operator, actual, expected } = options;
    let text;
    if (operator === "deepStrictEqual" || operator === "strictEqual") {
      const bothErrors = isStackedError(actual) && isStackedError(expected);
      text = diffMessage(bothErrors ? copyError(actual) : actual, bothErrors ? copyError(expected) : expected, operator,
        message != null ? String(message) : undefined);
    } else if (message != null) {
      text = String(message);
    } else if (operator === "notDeepStrictEqual" || operator === "notStrictEqual") {
      text = unequalMessage(actual, operator);
    } else {
      text = looseMessage(actual, expected, operator);
    }
    super(text);
    this.generatedMessage = !message;
    Object.defineProperty(this, "name", { value: "AssertionError", writable: true, enumerable: false, configurable: true });
    this.code = "ERR_ASSERTION";
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
    Object.defineProperty(this, "stack",
      { value: callerStack(this.stack), writable: true, enumerable: false, configurable: true });
  }

  toString() {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  [inspect.custom](recurseTimes, ctx) {
    const { actual, expected } = this;
    this.actual = shortenForInspect(actual);
    this.expected = shortenForInspect(expected);
    try {
      return inspect(this, { ...ctx, customInspect: false, depth: 0 });
    } finally {
      this.actual = actual;
      this.expected = expected;
    }
  }
}

registerNodeErrorPrototype(AssertionError.prototype);
