// The source text of the call that entered the library, as Node quotes it in
// assert's "The expression evaluated to a falsy value" message. The handler
// file is read again (worker/api_call_site.cc), as Node reads it, and the call
// is found from the caller's frame: the callee's member chain before it, and
// its arguments up to the matching parenthesis.
import { native } from "./native.js";

const { handlerSource } = native;

// SpiderMonkey frames read "name@file:line:column"; the library's own modules
// are "internal/...", and code made by eval or new Function has " > " in its
// file name.
const engineFrame = /^[^@]*@(.+):(\d+):(\d+)$/;

const isIdentifierChar = (c) => c !== undefined && /[\p{ID_Continue}$\u200c\u200d]/u.test(c);
const isSpace = (c) => c === " " || c === "\t" || c === "\n" || c === "\r";

// A "/" starts a regular expression after these (or at the start).
const beforeRegExp = new Set(["(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*", "%", "<",
  ">", "~", "^", undefined]);

// The index just past a string, template, comment or regular expression
// starting at i, or i when none starts there.
function skipLiteral(source, i) {
  const c = source[i];
  if (c === "'" || c === '"' || c === "`") {
    for (let j = i + 1; j < source.length; j++) {
      if (source[j] === "\\") j++;
      else if (source[j] === c) return j + 1;
    }
    return source.length;
  }
  if (c === "/" && source[i + 1] === "/") {
    const end = source.indexOf("\n", i);
    return end === -1 ? source.length : end;
  }
  if (c === "/" && source[i + 1] === "*") {
    const end = source.indexOf("*/", i + 2);
    return end === -1 ? source.length : end + 2;
  }
  if (c === "/") {
    let k = i - 1;
    while (k >= 0 && isSpace(source[k])) k--;
    if (!beforeRegExp.has(source[k])) return i;
    let inClass = false;
    for (let j = i + 1; j < source.length; j++) {
      const d = source[j];
      if (d === "\\") j++;
      else if (d === "[") inClass = true;
      else if (d === "]") inClass = false;
      else if (d === "/" && !inClass) return j + 1;
      else if (d === "\n") return i;
    }
  }
  return i;
}

// The index of the parenthesis closing the one at `open`, or -1.
function closingParen(source, open) {
  let depth = 0;
  for (let i = open; i < source.length;) {
    const next = skipLiteral(source, i);
    if (next !== i) {
      i = next;
      continue;
    }
    const c = source[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return c === ")" ? i : -1;
    }
    i++;
  }
  return -1;
}

// The start of the callee ending just before `end`: a member chain of names,
// dots, and bracketed or called parts (`a.b`, `x[0].y`, `f().g`).
function calleeStart(source, end) {
  let i = end;
  for (;;) {
    while (i > 0 && isSpace(source[i - 1])) i--;
    const c = source[i - 1];
    if (c === ")" || c === "]") {
      const open = c === ")" ? "(" : "[";
      let depth = 0;
      let j = i - 1;
      for (; j >= 0; j--) {
        if (source[j] === c) depth++;
        else if (source[j] === open && --depth === 0) break;
      }
      if (j < 0) return i;
      i = j;
      continue;
    }
    if (!isIdentifierChar(c)) return i;
    while (i > 0 && isIdentifierChar(source[i - 1])) i--;
    let k = i;
    while (k > 0 && isSpace(source[k - 1])) k--;
    if (source[k - 1] === "." ) {
      i = source[k - 2] === "?" ? k - 2 : k - 1;
      continue;
    }
    return i;
  }
}

function quoteCall(file, line, column) {
  const source = handlerSource(file);
  if (source === undefined) return undefined;
  let lineStart = 0;
  for (let n = 1; n < line; n++) {
    lineStart = source.indexOf("\n", lineStart) + 1;
    if (lineStart === 0) return undefined;
  }
  // The frame's column is at the callee's last name, or at the parenthesis.
  let open = lineStart + column - 1;
  while (isIdentifierChar(source[open])) open++;
  while (isSpace(source[open])) open++;
  if (source[open] !== "(") return undefined;
  const close = closingParen(source, open);
  if (close === -1) return undefined;
  const start = calleeStart(source, open);
  const lines = source.slice(start, close + 1).replace(/\r\n/g, "\n").split("\n");
  // Later lines lose the indentation up to the call's own column, as in Node.
  const callColumn = start - (source.lastIndexOf("\n", start - 1) + 1);
  let quoted = lines[0];
  for (const rest of lines.slice(1)) {
    let pos = 0;
    while (pos < callColumn && (rest[pos] === " " || rest[pos] === "\t")) pos++;
    quoted += `\n  ${rest.slice(pos)}`;
  }
  return quoted.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// The call in the first frame outside the library, or undefined when its
// source cannot be read.
export function callSiteSource() {
  const stack = new Error().stack;
  if (typeof stack !== "string" || handlerSource === undefined) return undefined;
  for (const line of stack.split("\n")) {
    const match = engineFrame.exec(line);
    if (match === null) return undefined;
    const [, file, lineNumber, column] = match;
    if (file.startsWith("internal/")) continue;
    if (file.includes(" > ")) return undefined;
    try {
      return quoteCall(file, Number(lineNumber), Number(column));
    } catch {
      return undefined;
    }
  }
  return undefined;
}
