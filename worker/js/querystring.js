// Node's `querystring`. As in Node, parse() and stringify() call the
// module's current `unescape` and `escape`, so code that replaces them on
// the module object changes both.
import { Buffer } from "./buffer.js";
import { makeError } from "./errors.js";

function ERR_INVALID_URI() {
  return makeError(URIError, "ERR_INVALID_URI", "URI malformed");
}

function hexValue(code) {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

// Percent-decodes bytes: a "%" not followed by two hex digits stays as it
// is; with decodeSpaces, "+" becomes a space.
function unescapeBuffer(s, decodeSpaces) {
  const input = Buffer.from(`${s}`);
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    if (byte === 0x2b && decodeSpaces) {
      out[n++] = 0x20;
    } else if (byte === 0x25 && i + 2 < input.length && hexValue(input[i + 1]) >= 0 && hexValue(input[i + 2]) >= 0) {
      out[n++] = hexValue(input[i + 1]) * 16 + hexValue(input[i + 2]);
      i += 2;
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

function unescape(s, decodeSpaces) {
  try {
    return decodeURIComponent(s);
  } catch {
    return querystring.unescapeBuffer(s, decodeSpaces).toString();
  }
}

// encodeURIComponent leaves exactly the characters Node's escape() leaves.
function escape(str) {
  if (typeof str !== "string") {
    if (typeof str === "object") str = String(str);
    else str += "";
  }
  try {
    return encodeURIComponent(str);
  } catch {
    throw ERR_INVALID_URI();
  }
}

function stringifyPrimitive(v) {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return `${v}`;
  if (typeof v === "bigint") return `${v}`;
  if (typeof v === "boolean") return v ? "true" : "false";
  return "";
}

function stringify(obj, sep, eq, options) {
  sep = sep || "&";
  eq = eq || "=";
  let encode = querystring.escape;
  if (options && typeof options.encodeURIComponent === "function") encode = options.encodeURIComponent;
  if (obj === null || typeof obj !== "object") return "";
  const fields = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    const prefix = `${encode(stringifyPrimitive(key))}${eq}`;
    if (Array.isArray(value)) {
      for (const item of value) fields.push(`${prefix}${encode(stringifyPrimitive(item))}`);
    } else {
      fields.push(`${prefix}${encode(stringifyPrimitive(value))}`);
    }
  }
  return fields.join(sep);
}

function decodeWith(s, decode) {
  try {
    return decode(s);
  } catch {
    return querystring.unescape(s, true);
  }
}

function parse(qs, sep, eq, options) {
  const obj = { __proto__: null };
  if (typeof qs !== "string" || qs.length === 0) return obj;
  sep = sep ? `${sep}` : "&";
  eq = eq ? `${eq}` : "=";
  let maxKeys = 1000;
  if (options && typeof options.maxKeys === "number") maxKeys = options.maxKeys > 0 ? options.maxKeys : 0;
  let decode = querystring.unescape;
  if (options && typeof options.decodeURIComponent === "function") decode = options.decodeURIComponent;
  // Node skips its decoder for text without "%" only when it is its own.
  const alwaysDecode = decode !== unescape;
  const decodePart = (part) => {
    if (part.length === 0) return part;
    const text = part.includes("+") ? part.replaceAll("+", "%20") : part;
    return alwaysDecode || text.includes("%") ? decodeWith(text, decode) : text;
  };
  const add = (key, value) => {
    key = decodePart(key);
    value = decodePart(value);
    const existing = obj[key];
    if (existing === undefined) obj[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else obj[key] = [existing, value];
  };
  // Node's matcher, kept for its answers with separators of several
  // characters: it matches `sep` and `eq` as it reads, without backtracking,
  // and a character that continues a partial `sep` match does not break a
  // partial `eq` match.
  let pairsLeft = maxKeys === 0 ? -1 : maxKeys;
  let sepIndex = 0;
  let eqIndex = 0;
  let lastPos = 0;
  let key = "";
  for (let i = 0; i < qs.length; i++) {
    const code = qs.charCodeAt(i);
    if (code === sep.charCodeAt(sepIndex)) {
      if (++sepIndex < sep.length) continue;
      const end = i - sepIndex + 1;
      let value = "";
      if (eqIndex < eq.length) {
        if (lastPos < end) {
          key = qs.slice(lastPos, end);
        } else if (key.length === 0) {
          // An empty piece between separators: no pair, but it counts.
          if (--pairsLeft === 0) return obj;
          lastPos = i + 1;
          sepIndex = eqIndex = 0;
          continue;
        }
      } else if (lastPos < end) {
        value = qs.slice(lastPos, end);
      }
      add(key, value);
      if (--pairsLeft === 0) return obj;
      key = "";
      lastPos = i + 1;
      sepIndex = eqIndex = 0;
      continue;
    }
    sepIndex = 0;
    if (eqIndex < eq.length) {
      if (code === eq.charCodeAt(eqIndex)) {
        if (++eqIndex === eq.length) {
          const end = i - eqIndex + 1;
          if (lastPos < end) key = qs.slice(lastPos, end);
          lastPos = i + 1;
        }
      } else {
        eqIndex = 0;
      }
    }
  }
  let value = "";
  if (lastPos < qs.length) {
    if (eqIndex < eq.length) key = qs.slice(lastPos);
    else value = qs.slice(lastPos);
  } else if (eqIndex === 0 && key.length === 0) {
    return obj;
  }
  add(key, value);
  return obj;
}

const querystring = {
  unescapeBuffer,
  unescape,
  escape,
  stringify,
  encode: stringify,
  parse,
  decode: parse,
};

export { unescapeBuffer, unescape, escape, stringify, parse, stringify as encode, parse as decode };
export default querystring;
