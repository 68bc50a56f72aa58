// The WHATWG URL Standard's URL and URLSearchParams, written from the
// specification's algorithms (basic URL parser, host parser, serializers,
// application/x-www-form-urlencoded). Only UTS #46 processing of non-ASCII or
// "xn--" domains is native (ICU, worker/api_url.cc). Where Node 20 follows an
// older revision of the standard, this follows Node (the path percent-encode
// set without "^", for one).
//
// `URL` is a global, so nothing here is computed when the module loads: the
// parser works from small predicates, not tables.
import { native } from "./native.js";
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_THIS, ERR_MISSING_ARGS, makeError, makeNativeError } from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";

const FAILURE = null;
// Special schemes and their default ports (file has none).
const SPECIAL = { __proto__: null, ftp: 21, file: null, http: 80, https: 443, ws: 80, wss: 443 };
const isSpecialScheme = (scheme) => scheme in SPECIAL;

// Percent-encode sets, as predicates on a code point.
const c0Set = (c) => c < 0x20 || c > 0x7e;
const fragmentSet = (c) => c0Set(c) || c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
const querySet = (c) => c0Set(c) || c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
const specialQuerySet = (c) => querySet(c) || c === 0x27;
const pathSet = (c) => querySet(c) || c === 0x3f || c === 0x60 || c === 0x7b || c === 0x7d;
const userinfoSet = (c) => pathSet(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 ||
  (c >= 0x5b && c <= 0x5e) || c === 0x7c;
const componentSet = (c) => userinfoSet(c) || (c >= 0x24 && c <= 0x26) || c === 0x2b || c === 0x2c;
const formSet = (c) => componentSet(c) || c === 0x21 || (c >= 0x27 && c <= 0x29) || c === 0x7e;

const HEX = "0123456789ABCDEF";

function utf8Bytes(cp, out) {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  return out;
}

// One code point (a string of one or two code units), UTF-8 percent-encoded
// if the set says so.
function encodeCodePoint(ch, set) {
  const cp = ch.codePointAt(0);
  if (!set(cp)) return ch;
  let out = "";
  for (const b of utf8Bytes(cp, [])) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

function encodeString(string, set, spaceAsPlus = false) {
  let out = "";
  for (const ch of string) out += spaceAsPlus && ch === " " ? "+" : encodeCodePoint(ch, set);
  return out;
}

export { encodeString as percentEncodeString, c0Set, pathSet, querySet, fragmentSet, userinfoSet, componentSet };

// Lone surrogates become U+FFFD, as WebIDL's USVString conversion does.
export function toUSVString(value) {
  const string = `${value}`;
  return /[\ud800-\udfff]/.test(string)
    ? string.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
    : string;
}

const hexValue = (c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55
  : c >= 0x61 && c <= 0x66 ? c - 87 : -1);

// Bytes to bytes: %XX sequences decoded, anything else kept.
function percentDecodeBytes(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out.push(b);
  }
  return out;
}

function stringToUtf8(string) {
  const out = [];
  for (const ch of string) utf8Bytes(ch.codePointAt(0), out);
  return out;
}

// UTF-8 decode without BOM, with replacement (the Encoding Standard's decoder).
function utf8Decode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let needed = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      needed = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
      needed = 2;
      cp = b & 0xf;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
      needed = 3;
      cp = b & 0x7;
    } else {
      out += "\ufffd";
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < needed; k++, j++) {
      const next = bytes[j];
      if (next === undefined || next < lower || next > upper) {
        ok = false;
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (next & 0x3f);
    }
    if (!ok) {
      out += "\ufffd";
      i = j;
      continue;
    }
    out += String.fromCodePoint(cp);
    i = j;
  }
  return out;
}

export function percentDecodeString(string) {
  if (!string.includes("%")) return string;
  return utf8Decode(percentDecodeBytes(stringToUtf8(string)));
}

// --- Hosts -----------------------------------------------------------------

const isAsciiDigit = (ch) => ch >= "0" && ch <= "9";
const isAsciiAlpha = (ch) => (ch >= "a" && ch <= "z") || (ch >= "A" && ch <= "Z");
const isAsciiHexDigit = (ch) => ch !== undefined && ch.length === 1 && hexValue(ch.charCodeAt(0)) >= 0;

const forbiddenHost = /[\u0000\t\n\r #/:<>?@[\\\]^|]/;
const forbiddenDomain = /[\u0000-\u001f #%/:<>?@[\\\]^|\u007f]/;

function parseIPv4Number(input) {
  if (input === "") return FAILURE;
  let radix = 10;
  if (input.length >= 2 && input[0] === "0" && (input[1] === "x" || input[1] === "X")) {
    input = input.slice(2);
    radix = 16;
  } else if (input.length >= 2 && input[0] === "0") {
    input = input.slice(1);
    radix = 8;
  }
  if (input === "") return 0;
  const valid = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
  if (!valid.test(input)) return FAILURE;
  return parseInt(input, radix);
}

function endsInANumber(input) {
  const parts = input.split(".");
  if (parts[parts.length - 1] === "") {
    if (parts.length === 1) return false;
    parts.pop();
  }
  const last = parts[parts.length - 1];
  if (last !== "" && /^[0-9]+$/.test(last)) return true;
  return parseIPv4Number(last) !== FAILURE;
}

function parseIPv4(input) {
  const parts = input.split(".");
  if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
  if (parts.length > 4) return FAILURE;
  const numbers = [];
  for (const part of parts) {
    const n = parseIPv4Number(part);
    if (n === FAILURE) return FAILURE;
    numbers.push(n);
  }
  for (let i = 0; i < numbers.length - 1; i++) if (numbers[i] > 255) return FAILURE;
  const last = numbers[numbers.length - 1];
  if (last >= 256 ** (5 - numbers.length)) return FAILURE;
  let ipv4 = last;
  for (let i = 0; i < numbers.length - 1; i++) ipv4 += numbers[i] * 256 ** (3 - i);
  return ipv4;
}

function serializeIPv4(n) {
  const out = [];
  for (let i = 0; i < 4; i++) {
    out.unshift(String(n % 256));
    n = Math.floor(n / 256);
  }
  return out.join(".");
}

function parseIPv6(input) {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = null;
  let p = 0;
  if (input[p] === ":") {
    if (input[p + 1] !== ":") return FAILURE;
    p += 2;
    pieceIndex++;
    compress = pieceIndex;
  }
  while (p < input.length) {
    if (pieceIndex === 8) return FAILURE;
    if (input[p] === ":") {
      if (compress !== null) return FAILURE;
      p++;
      pieceIndex++;
      compress = pieceIndex;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && isAsciiHexDigit(input[p])) {
      value = value * 16 + hexValue(input.charCodeAt(p));
      p++;
      length++;
    }
    if (input[p] === ".") {
      if (length === 0) return FAILURE;
      p -= length;
      if (pieceIndex > 6) return FAILURE;
      let numbersSeen = 0;
      while (p < input.length) {
        let piece = null;
        if (numbersSeen > 0) {
          if (input[p] === "." && numbersSeen < 4) p++;
          else return FAILURE;
        }
        if (!isAsciiDigit(input[p] ?? "")) return FAILURE;
        while (isAsciiDigit(input[p] ?? "")) {
          const number = input.charCodeAt(p) - 0x30;
          if (piece === null) piece = number;
          else if (piece === 0) return FAILURE;
          else piece = piece * 10 + number;
          if (piece > 255) return FAILURE;
          p++;
        }
        address[pieceIndex] = address[pieceIndex] * 0x100 + piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return FAILURE;
      break;
    } else if (input[p] === ":") {
      p++;
      if (p >= input.length) return FAILURE;
    } else if (p < input.length) {
      return FAILURE;
    }
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== null) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const t = address[pieceIndex];
      address[pieceIndex] = address[compress + swaps - 1];
      address[compress + swaps - 1] = t;
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) {
    return FAILURE;
  }
  return address;
}

function serializeIPv6(address) {
  // The first longest run of two or more zero pieces is compressed.
  let compress = null;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (address[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > bestLength) {
      bestLength = j - i;
      compress = i;
    }
    i = j;
  }
  let out = "";
  let ignoreZero = false;
  for (let i = 0; i < 8; i++) {
    if (ignoreZero && address[i] === 0) continue;
    ignoreZero = false;
    if (compress === i) {
      out += i === 0 ? "::" : ":";
      ignoreZero = true;
      continue;
    }
    out += address[i].toString(16);
    if (i !== 7) out += ":";
  }
  return out;
}

// UTS #46 ToASCII with the URL Standard's flags. The common case, ASCII
// without "xn--" labels, is only lowercasing and never reaches ICU.
export function domainToASCIIOrFailure(domain) {
  let result;
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(domain) && !/(^|\.)xn--/i.test(domain)) result = domain.toLowerCase();
  else result = native.domainToASCII(domain);
  if (result === null || result === "") return FAILURE;
  return result;
}

export function domainToUnicodeLenient(domain) {
  return native.domainToUnicode(domain);
}

// The host parser; a host is kept serialized.
export function parseHost(input, isOpaque) {
  if (input[0] === "[") {
    if (input[input.length - 1] !== "]") return FAILURE;
    const address = parseIPv6(input.slice(1, -1));
    return address === FAILURE ? FAILURE : `[${serializeIPv6(address)}]`;
  }
  if (isOpaque) {
    if (forbiddenHost.test(input)) return FAILURE;
    return encodeString(input, c0Set);
  }
  const domain = percentDecodeString(input);
  const ascii = domainToASCIIOrFailure(domain);
  if (ascii === FAILURE || forbiddenDomain.test(ascii)) return FAILURE;
  if (endsInANumber(ascii)) {
    const ipv4 = parseIPv4(ascii);
    return ipv4 === FAILURE ? FAILURE : serializeIPv4(ipv4);
  }
  return ascii;
}

// --- The URL record and the basic URL parser ----------------------------------

export function newRecord() {
  // A path is a list of segments, or a string when it is opaque.
  return { scheme: "", username: "", password: "", host: null, port: null, path: [], query: null, fragment: null };
}

function copyRecord(r) {
  return { ...r, path: typeof r.path === "string" ? r.path : r.path.slice() };
}

const isSpecial = (url) => isSpecialScheme(url.scheme);
const includesCredentials = (url) => url.username !== "" || url.password !== "";
const isWindowsDriveLetter = (s) => s.length === 2 && isAsciiAlpha(s[0]) && (s[1] === ":" || s[1] === "|");
const isNormalizedWindowsDriveLetter = (s) => s.length === 2 && isAsciiAlpha(s[0]) && s[1] === ":";

function startsWithWindowsDriveLetter(cps, p) {
  if (cps.length - p < 2) return false;
  if (!isWindowsDriveLetter(cps[p] + cps[p + 1])) return false;
  if (cps.length - p === 2) return true;
  const third = cps[p + 2];
  return third === "/" || third === "\\" || third === "?" || third === "#";
}

function shortenPath(url) {
  const path = url.path;
  if (url.scheme === "file" && path.length === 1 && isNormalizedWindowsDriveLetter(path[0])) return;
  path.pop();
}

const isSingleDot = (s) => s === "." || s.toLowerCase() === "%2e";
const isDoubleDot = (s) => {
  switch (s.toLowerCase()) {
    case "..": case ".%2e": case "%2e.": case "%2e%2e": return true;
    default: return false;
  }
};

const SCHEME_START = 1;
const SCHEME = 2;
const NO_SCHEME = 3;
const SPECIAL_RELATIVE_OR_AUTHORITY = 4;
const PATH_OR_AUTHORITY = 5;
const RELATIVE = 6;
const RELATIVE_SLASH = 7;
const SPECIAL_AUTHORITY_SLASHES = 8;
const SPECIAL_AUTHORITY_IGNORE_SLASHES = 9;
const AUTHORITY = 10;
const HOST = 11;
const HOSTNAME = 12;
const PORT = 13;
const FILE = 14;
const FILE_SLASH = 15;
const FILE_HOST = 16;
const PATH_START = 17;
const PATH = 18;
const OPAQUE_PATH = 19;
const QUERY = 20;
const FRAGMENT = 21;

export const states = { SCHEME_START, AUTHORITY, HOST, HOSTNAME, PORT, PATH_START, QUERY, FRAGMENT };

// The basic URL parser. `input` must already be a USVString. Without `url`, a
// new record is returned (or FAILURE); with `url` and `stateOverride` (a
// setter), the record is changed in place, and the result only says whether
// the parser failed.
export function basicParse(input, base = null, url = null, stateOverride = 0) {
  if (url === null) {
    url = newRecord();
    // eslint-disable-next-line no-control-regex
    input = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
  }
  if (/[\t\n\r]/.test(input)) input = input.replace(/[\t\n\r]/g, "");
  let state = stateOverride || SCHEME_START;
  let buffer = "";
  let atSignSeen = false;
  let insideBrackets = false;
  let passwordTokenSeen = false;
  const cps = Array.from(input);
  for (let p = 0; ; p++) {
    const c = cps[p];
    switch (state) {
      case SCHEME_START:
        if (c !== undefined && isAsciiAlpha(c)) {
          buffer += c.toLowerCase();
          state = SCHEME;
        } else if (!stateOverride) {
          state = NO_SCHEME;
          p--;
        } else {
          return FAILURE;
        }
        break;
      case SCHEME:
        if (c !== undefined && (isAsciiAlpha(c) || isAsciiDigit(c) || c === "+" || c === "-" || c === ".")) {
          buffer += c.toLowerCase();
        } else if (c === ":") {
          if (stateOverride) {
            if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
            if ((includesCredentials(url) || url.port !== null) && buffer === "file") return url;
            if (url.scheme === "file" && url.host === "") return url;
          }
          url.scheme = buffer;
          if (stateOverride) {
            if (url.port === SPECIAL[url.scheme]) url.port = null;
            return url;
          }
          buffer = "";
          if (url.scheme === "file") {
            state = FILE;
          } else if (isSpecial(url) && base !== null && base.scheme === url.scheme) {
            state = SPECIAL_RELATIVE_OR_AUTHORITY;
          } else if (isSpecial(url)) {
            state = SPECIAL_AUTHORITY_SLASHES;
          } else if (cps[p + 1] === "/") {
            state = PATH_OR_AUTHORITY;
            p++;
          } else {
            url.path = "";
            state = OPAQUE_PATH;
          }
        } else if (!stateOverride) {
          buffer = "";
          state = NO_SCHEME;
          p = -1;
        } else {
          return FAILURE;
        }
        break;
      case NO_SCHEME:
        if (base === null || (typeof base.path === "string" && c !== "#")) return FAILURE;
        if (typeof base.path === "string") {
          url.scheme = base.scheme;
          url.path = base.path;
          url.query = base.query;
          url.fragment = "";
          state = FRAGMENT;
        } else {
          state = base.scheme !== "file" ? RELATIVE : FILE;
          p--;
        }
        break;
      case SPECIAL_RELATIVE_OR_AUTHORITY:
        if (c === "/" && cps[p + 1] === "/") {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
          p++;
        } else {
          state = RELATIVE;
          p--;
        }
        break;
      case PATH_OR_AUTHORITY:
        if (c === "/") {
          state = AUTHORITY;
        } else {
          state = PATH;
          p--;
        }
        break;
      case RELATIVE:
        url.scheme = base.scheme;
        if (c === "/" || (isSpecial(url) && c === "\\")) {
          state = RELATIVE_SLASH;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === "?") {
            url.query = "";
            state = QUERY;
          } else if (c === "#") {
            url.fragment = "";
            state = FRAGMENT;
          } else if (c !== undefined) {
            url.query = null;
            shortenPath(url);
            state = PATH;
            p--;
          }
        }
        break;
      case RELATIVE_SLASH:
        if (isSpecial(url) && (c === "/" || c === "\\")) {
          state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
        } else if (c === "/") {
          state = AUTHORITY;
        } else {
          url.username = base.username;
          url.password = base.password;
          url.host = base.host;
          url.port = base.port;
          state = PATH;
          p--;
        }
        break;
      case SPECIAL_AUTHORITY_SLASHES:
        state = SPECIAL_AUTHORITY_IGNORE_SLASHES;
        if (c === "/" && cps[p + 1] === "/") p++;
        else p--;
        break;
      case SPECIAL_AUTHORITY_IGNORE_SLASHES:
        if (c !== "/" && c !== "\\") {
          state = AUTHORITY;
          p--;
        }
        break;
      case AUTHORITY:
        if (c === "@") {
          if (atSignSeen) buffer = `%40${buffer}`;
          atSignSeen = true;
          for (const ch of buffer) {
            if (ch === ":" && !passwordTokenSeen) {
              passwordTokenSeen = true;
              continue;
            }
            if (passwordTokenSeen) url.password += encodeCodePoint(ch, userinfoSet);
            else url.username += encodeCodePoint(ch, userinfoSet);
          }
          buffer = "";
        } else if (c === undefined || c === "/" || c === "?" || c === "#" || (isSpecial(url) && c === "\\")) {
          if (atSignSeen && buffer === "") return FAILURE;
          p -= Array.from(buffer).length + 1;
          buffer = "";
          state = HOST;
        } else {
          buffer += c;
        }
        break;
      case HOST:
      case HOSTNAME:
        if (stateOverride && url.scheme === "file") {
          p--;
          state = FILE_HOST;
        } else if (c === ":" && !insideBrackets) {
          if (buffer === "") return FAILURE;
          if (stateOverride === HOSTNAME) return FAILURE;
          const host = parseHost(buffer, !isSpecial(url));
          if (host === FAILURE) return FAILURE;
          url.host = host;
          buffer = "";
          state = PORT;
        } else if (c === undefined || c === "/" || c === "?" || c === "#" || (isSpecial(url) && c === "\\")) {
          p--;
          if (isSpecial(url) && buffer === "") return FAILURE;
          if (stateOverride && buffer === "" && (includesCredentials(url) || url.port !== null)) return FAILURE;
          const host = parseHost(buffer, !isSpecial(url));
          if (host === FAILURE) return FAILURE;
          url.host = host;
          buffer = "";
          state = PATH_START;
          if (stateOverride) return url;
        } else {
          if (c === "[") insideBrackets = true;
          if (c === "]") insideBrackets = false;
          buffer += c;
        }
        break;
      case PORT:
        if (c !== undefined && isAsciiDigit(c)) {
          buffer += c;
        } else if (c === undefined || c === "/" || c === "?" || c === "#" || (isSpecial(url) && c === "\\") ||
                   stateOverride) {
          if (buffer !== "") {
            const port = parseInt(buffer, 10);
            if (port > 65535) return FAILURE;
            url.port = SPECIAL[url.scheme] === port ? null : port;
            buffer = "";
            if (stateOverride) return url;
          }
          if (stateOverride) return FAILURE;
          state = PATH_START;
          p--;
        } else {
          return FAILURE;
        }
        break;
      case FILE:
        url.scheme = "file";
        url.host = "";
        if (c === "/" || c === "\\") {
          state = FILE_SLASH;
        } else if (base !== null && base.scheme === "file") {
          url.host = base.host;
          url.path = base.path.slice();
          url.query = base.query;
          if (c === "?") {
            url.query = "";
            state = QUERY;
          } else if (c === "#") {
            url.fragment = "";
            state = FRAGMENT;
          } else if (c !== undefined) {
            url.query = null;
            if (!startsWithWindowsDriveLetter(cps, p)) shortenPath(url);
            else url.path = [];
            state = PATH;
            p--;
          }
        } else {
          state = PATH;
          p--;
        }
        break;
      case FILE_SLASH:
        if (c === "/" || c === "\\") {
          state = FILE_HOST;
        } else {
          if (base !== null && base.scheme === "file") {
            url.host = base.host;
            if (!startsWithWindowsDriveLetter(cps, p) && base.path.length > 0 &&
                isNormalizedWindowsDriveLetter(base.path[0])) {
              url.path.push(base.path[0]);
            }
          }
          state = PATH;
          p--;
        }
        break;
      case FILE_HOST:
        if (c === undefined || c === "/" || c === "\\" || c === "?" || c === "#") {
          p--;
          if (!stateOverride && isWindowsDriveLetter(buffer)) {
            state = PATH;
          } else if (buffer === "") {
            url.host = "";
            if (stateOverride) return url;
            state = PATH_START;
          } else {
            let host = parseHost(buffer, !isSpecial(url));
            if (host === FAILURE) return FAILURE;
            if (host === "localhost") host = "";
            url.host = host;
            if (stateOverride) return url;
            buffer = "";
            state = PATH_START;
          }
        } else {
          buffer += c;
        }
        break;
      case PATH_START:
        if (isSpecial(url)) {
          state = PATH;
          if (c !== "/" && c !== "\\") p--;
        } else if (!stateOverride && c === "?") {
          url.query = "";
          state = QUERY;
        } else if (!stateOverride && c === "#") {
          url.fragment = "";
          state = FRAGMENT;
        } else if (c !== undefined) {
          state = PATH;
          if (c !== "/") p--;
        } else if (stateOverride && url.host === null) {
          url.path.push("");
        }
        break;
      case PATH: {
        const slash = c === "/" || (isSpecial(url) && c === "\\");
        if (c === undefined || slash || (!stateOverride && (c === "?" || c === "#"))) {
          if (isDoubleDot(buffer)) {
            shortenPath(url);
            if (!slash) url.path.push("");
          } else if (isSingleDot(buffer) && !slash) {
            url.path.push("");
          } else if (!isSingleDot(buffer)) {
            if (url.scheme === "file" && url.path.length === 0 && isWindowsDriveLetter(buffer)) {
              buffer = `${buffer[0]}:`;
            }
            url.path.push(buffer);
          }
          buffer = "";
          if (c === "?") {
            url.query = "";
            state = QUERY;
          }
          if (c === "#") {
            url.fragment = "";
            state = FRAGMENT;
          }
        } else {
          buffer += encodeCodePoint(c, pathSet);
        }
        break;
      }
      case OPAQUE_PATH:
        if (c === "?") {
          url.query = "";
          state = QUERY;
        } else if (c === "#") {
          url.fragment = "";
          state = FRAGMENT;
        } else if (c !== undefined) {
          url.path += encodeCodePoint(c, c0Set);
        }
        break;
      case QUERY:
        if ((!stateOverride && c === "#") || c === undefined) {
          url.query += encodeString(buffer, isSpecial(url) ? specialQuerySet : querySet);
          buffer = "";
          if (c === "#") {
            url.fragment = "";
            state = FRAGMENT;
          }
        } else {
          buffer += c;
        }
        break;
      case FRAGMENT:
        if (c !== undefined) url.fragment += encodeCodePoint(c, fragmentSet);
        break;
      default:
        return FAILURE;
    }
    if (p >= cps.length) break;
  }
  return url;
}

export function serializePath(url) {
  if (typeof url.path === "string") return url.path;
  let out = "";
  for (const segment of url.path) out += `/${segment}`;
  return out;
}

export function serializeURL(url, excludeFragment = false) {
  let out = `${url.scheme}:`;
  if (url.host !== null) {
    out += "//";
    if (includesCredentials(url)) {
      out += url.username;
      if (url.password !== "") out += `:${url.password}`;
      out += "@";
    }
    out += url.host;
    if (url.port !== null) out += `:${url.port}`;
  } else if (typeof url.path !== "string" && url.path.length > 1 && url.path[0] === "") {
    out += "/.";
  }
  out += serializePath(url);
  if (url.query !== null) out += `?${url.query}`;
  if (!excludeFragment && url.fragment !== null) out += `#${url.fragment}`;
  return out;
}

export function serializeOrigin(url) {
  switch (url.scheme) {
    case "blob": {
      const inner = basicParse(serializePath(url));
      if (inner !== FAILURE && (inner.scheme === "http" || inner.scheme === "https")) return serializeOrigin(inner);
      return "null";
    }
    case "ftp": case "http": case "https": case "ws": case "wss":
      return `${url.scheme}://${url.host}${url.port === null ? "" : `:${url.port}`}`;
    default:
      return "null";
  }
}

// An opaque path loses its trailing spaces when nothing follows it any more.
function stripTrailingSpacesFromOpaquePath(url) {
  if (typeof url.path !== "string" || url.fragment !== null || url.query !== null) return;
  url.path = url.path.replace(/ +$/, "");
}

// --- application/x-www-form-urlencoded ------------------------------------------

function decodeFormComponent(string) {
  if (string.includes("+")) string = string.replaceAll("+", " ");
  return percentDecodeString(string);
}

export function parseForm(input) {
  const list = [];
  for (const sequence of input.split("&")) {
    if (sequence === "") continue;
    const eq = sequence.indexOf("=");
    const name = eq === -1 ? sequence : sequence.slice(0, eq);
    const value = eq === -1 ? "" : sequence.slice(eq + 1);
    list.push([decodeFormComponent(name), decodeFormComponent(value)]);
  }
  return list;
}

export function serializeForm(list) {
  let out = "";
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += "&";
    out += `${encodeString(list[i][0], formSet, true)}=${encodeString(list[i][1], formSet, true)}`;
  }
  return out;
}

// --- URLSearchParams ----------------------------------------------------------------

function ERR_INVALID_TUPLE(name, expected) {
  return makeError(TypeError, "ERR_INVALID_TUPLE", `${name} must be an iterable ${expected} tuple`);
}

function ERR_ARG_NOT_ITERABLE(name) {
  return makeError(TypeError, "ERR_ARG_NOT_ITERABLE", `${name} must be iterable`);
}

export function ERR_INVALID_URL(input, base) {
  const error = makeNativeError(TypeError, "ERR_INVALID_URL", "Invalid URL");
  Object.defineProperty(error, "input", { value: input, writable: true, enumerable: true, configurable: true });
  if (base !== undefined) {
    Object.defineProperty(error, "base", { value: base, writable: true, enumerable: true, configurable: true });
  }
  return error;
}

let paramsList;
let paramsAttach;
let urlRecordOf;
let urlParamsChanged;

const kIteratorKind = Symbol("kind");

export class URLSearchParams {
  #list = [];
  #url = null;

  constructor(init = undefined) {
    if (init === undefined || init === null) return;
    if (typeof init === "object" || typeof init === "function") {
      const method = init[Symbol.iterator];
      if (method === URLSearchParams.prototype[Symbol.iterator] && #list in init) {
        this.#list = init.#list.map(([name, value]) => [name, value]);
      } else if (method !== undefined && method !== null) {
        if (typeof method !== "function") throw ERR_ARG_NOT_ITERABLE("Query pairs");
        for (const pair of init) {
          if (pair === null || (typeof pair !== "object" && typeof pair !== "function") ||
              typeof pair[Symbol.iterator] !== "function") {
            throw ERR_INVALID_TUPLE("Each query pair", "[name, value]");
          }
          const converted = [];
          for (const element of pair) converted.push(toUSVString(element));
          if (converted.length !== 2) throw ERR_INVALID_TUPLE("Each query pair", "[name, value]");
          this.#list.push(converted);
        }
      } else {
        const seen = new Map();
        for (const key of Reflect.ownKeys(init)) {
          const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
          if (descriptor === undefined || !descriptor.enumerable) continue;
          const name = toUSVString(key);
          const value = toUSVString(init[key]);
          const index = seen.get(name);
          if (index === undefined) {
            seen.set(name, this.#list.length);
            this.#list.push([name, value]);
          } else {
            this.#list[index][1] = value;
          }
        }
      }
      return;
    }
    let string = toUSVString(init);
    if (string[0] === "?") string = string.slice(1);
    this.#list = parseForm(string);
  }

  static {
    paramsList = (params) => params.#list;
    paramsAttach = (params, url, list) => {
      params.#url = url;
      params.#list = list;
    };
  }

  #update() {
    if (this.#url !== null) urlParamsChanged(this.#url, serializeForm(this.#list));
  }

  get size() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    return this.#list.length;
  }

  append(name, value) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 2) throw ERR_MISSING_ARGS("name", "value");
    this.#list.push([toUSVString(name), toUSVString(value)]);
    this.#update();
  }

  delete(name, value = undefined) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 1) throw ERR_MISSING_ARGS("name");
    name = toUSVString(name);
    if (value !== undefined) {
      value = toUSVString(value);
      this.#list = this.#list.filter((pair) => pair[0] !== name || pair[1] !== value);
    } else {
      this.#list = this.#list.filter((pair) => pair[0] !== name);
    }
    this.#update();
  }

  get(name) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 1) throw ERR_MISSING_ARGS("name");
    name = toUSVString(name);
    const pair = this.#list.find((p) => p[0] === name);
    return pair === undefined ? null : pair[1];
  }

  getAll(name) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 1) throw ERR_MISSING_ARGS("name");
    name = toUSVString(name);
    return this.#list.filter((p) => p[0] === name).map((p) => p[1]);
  }

  has(name, value = undefined) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 1) throw ERR_MISSING_ARGS("name");
    name = toUSVString(name);
    if (value !== undefined) {
      value = toUSVString(value);
      return this.#list.some((p) => p[0] === name && p[1] === value);
    }
    return this.#list.some((p) => p[0] === name);
  }

  set(name, value) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (arguments.length < 2) throw ERR_MISSING_ARGS("name", "value");
    name = toUSVString(name);
    value = toUSVString(value);
    const index = this.#list.findIndex((p) => p[0] === name);
    if (index === -1) {
      this.#list.push([name, value]);
    } else {
      this.#list[index][1] = value;
      this.#list = this.#list.filter((p, i) => i <= index || p[0] !== name);
    }
    this.#update();
  }

  sort() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    // Stable, by UTF-16 code units.
    this.#list = this.#list
      .map((pair, i) => [pair, i])
      .sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]))
      .map(([pair]) => pair);
    this.#update();
  }

  entries() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    return new SearchParamsIterator(this, "key+value");
  }

  forEach(callback, thisArg = undefined) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", "Function", callback);
    for (let i = 0; i < this.#list.length; i++) {
      const [name, value] = this.#list[i];
      Reflect.apply(callback, thisArg, [value, name, this]);
    }
  }

  keys() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    return new SearchParamsIterator(this, "key");
  }

  values() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    return new SearchParamsIterator(this, "value");
  }

  toString() {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    return serializeForm(this.#list);
  }

  [customInspectSymbol](depth, options) {
    if (!(#list in this)) throw ERR_INVALID_THIS("URLSearchParams");
    if (typeof depth === "number" && depth < 0) return "[Object]";
    const inner = { ...options };
    if (depth !== null && depth !== undefined) inner.depth = depth - 1;
    const items = this.#list.map(([name, value]) => `${inspect(name, inner)} => ${inspect(value, inner)}`);
    return formatEntries(this.constructor.name, items, options);
  }
}

function formatEntries(name, items, options) {
  if (items.length === 0) return `${name} {}`;
  const length = items.reduce((sum, item) => sum + item.length + 2, -2);
  if (length > (options?.breakLength ?? 80)) return `${name} {\n  ${items.join(",\n  ")} }`;
  return `${name} { ${items.join(", ")} }`;
}

const ArrayIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

class SearchParamsIterator {
  #params;
  #kind;
  #index = 0;

  constructor(params, kind) {
    this.#params = params;
    this.#kind = kind;
  }

  next() {
    if (!(#params in this)) throw ERR_INVALID_THIS("URLSearchParamsIterator");
    const list = paramsList(this.#params);
    if (this.#index >= list.length) return { value: undefined, done: true };
    const [name, value] = list[this.#index++];
    const result = this.#kind === "key" ? name : this.#kind === "value" ? value : [name, value];
    return { value: result, done: false };
  }

  [customInspectSymbol](depth, options) {
    if (!(#params in this)) throw ERR_INVALID_THIS("URLSearchParamsIterator");
    const inner = { ...options };
    if (depth !== null && depth !== undefined) inner.depth = depth;
    const list = paramsList(this.#params).slice(this.#index);
    const items = list.map(([name, value]) => {
      if (this.#kind === "key") return inspect(name, inner);
      if (this.#kind === "value") return inspect(value, inner);
      return inspect([name, value], inner);
    });
    return formatEntries("URLSearchParams Iterator", items, options);
  }
}
Object.setPrototypeOf(SearchParamsIterator.prototype, ArrayIteratorPrototype);
Object.defineProperty(SearchParamsIterator.prototype, "next", { enumerable: true });
Object.defineProperty(SearchParamsIterator.prototype, Symbol.toStringTag, {
  value: "URLSearchParams Iterator", writable: false, enumerable: false, configurable: true,
});
Object.defineProperty(SearchParamsIterator.prototype, "constructor", { enumerable: false });
delete SearchParamsIterator.prototype.constructor;

Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  value: URLSearchParams.prototype.entries, writable: true, enumerable: false, configurable: true,
});
Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, {
  value: "URLSearchParams", writable: false, enumerable: false, configurable: true,
});
for (const name of ["size", "append", "delete", "get", "getAll", "has", "set", "sort", "entries", "forEach", "keys",
  "values", "toString"]) {
  Object.defineProperty(URLSearchParams.prototype, name, { enumerable: true });
}

// --- URL ------------------------------------------------------------------------------

function receiverError() {
  return new TypeError("Receiver must be an instance of class URL");
}

export class URL {
  #r;
  #searchParams = null;

  constructor(input, base = undefined) {
    if (arguments.length === 0) throw ERR_MISSING_ARGS("url");
    input = toUSVString(input);
    let baseRecord = null;
    if (base !== undefined) {
      base = toUSVString(base);
      baseRecord = basicParse(base);
      if (baseRecord === FAILURE) throw ERR_INVALID_URL(input, base);
    }
    const record = basicParse(input, baseRecord);
    if (record === FAILURE) throw ERR_INVALID_URL(input, base);
    this.#r = record;
  }

  static {
    urlRecordOf = (url) => url.#r;
    urlParamsChanged = (url, serialized) => {
      url.#r.query = serialized === "" ? null : serialized;
      if (serialized === "") stripTrailingSpacesFromOpaquePath(url.#r);
    };
  }

  static parse(input, base = undefined) {
    if (arguments.length === 0) throw ERR_MISSING_ARGS("url");
    try {
      return new URL(input, base);
    } catch {
      return null;
    }
  }

  static canParse(input, base = undefined) {
    if (arguments.length === 0) throw ERR_MISSING_ARGS("url");
    input = toUSVString(input);
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = basicParse(toUSVString(base));
      if (baseRecord === FAILURE) return false;
    }
    return basicParse(input, baseRecord) !== FAILURE;
  }

  #paramsChanged() {
    if (this.#searchParams !== null) paramsAttach(this.#searchParams, this, parseForm(this.#r.query ?? ""));
  }

  toString() {
    if (!(#r in this)) throw receiverError();
    return serializeURL(this.#r);
  }

  get href() {
    if (!(#r in this)) throw receiverError();
    return serializeURL(this.#r);
  }

  set href(value) {
    if (!(#r in this)) throw receiverError();
    value = toUSVString(value);
    const record = basicParse(value);
    if (record === FAILURE) throw ERR_INVALID_URL(value);
    this.#r = record;
    this.#paramsChanged();
  }

  get origin() {
    if (!(#r in this)) throw receiverError();
    return serializeOrigin(this.#r);
  }

  get protocol() {
    if (!(#r in this)) throw receiverError();
    return `${this.#r.scheme}:`;
  }

  set protocol(value) {
    if (!(#r in this)) throw receiverError();
    basicParse(`${toUSVString(value)}:`, null, this.#r, SCHEME_START);
  }

  get username() {
    if (!(#r in this)) throw receiverError();
    return this.#r.username;
  }

  set username(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    r.username = encodeString(toUSVString(value), userinfoSet);
  }

  get password() {
    if (!(#r in this)) throw receiverError();
    return this.#r.password;
  }

  set password(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    r.password = encodeString(toUSVString(value), userinfoSet);
  }

  get host() {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    if (r.host === null) return "";
    return r.port === null ? r.host : `${r.host}:${r.port}`;
  }

  set host(value) {
    if (!(#r in this)) throw receiverError();
    if (typeof this.#r.path === "string") return;
    basicParse(toUSVString(value), null, this.#r, HOST);
  }

  get hostname() {
    if (!(#r in this)) throw receiverError();
    return this.#r.host ?? "";
  }

  set hostname(value) {
    if (!(#r in this)) throw receiverError();
    if (typeof this.#r.path === "string") return;
    basicParse(toUSVString(value), null, this.#r, HOSTNAME);
  }

  get port() {
    if (!(#r in this)) throw receiverError();
    return this.#r.port === null ? "" : String(this.#r.port);
  }

  set port(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    if (r.host === null || r.host === "" || r.scheme === "file") return;
    value = toUSVString(value).replace(/[\t\n\r]/g, "");
    if (value === "") {
      r.port = null;
      return;
    }
    // Node 20 (ada) departs from the standard when the value does not start
    // with a digit: no digit at all or a leading control, space or "-" keeps
    // the port; anything else with a digit somewhere clears it.
    // eslint-disable-next-line no-control-regex
    if (/^[\u0000-\u0020-]/.test(value) || !/[0-9]/.test(value)) return;
    if (!isAsciiDigit(value[0])) {
      r.port = null;
      return;
    }
    basicParse(value, null, r, PORT);
  }

  get pathname() {
    if (!(#r in this)) throw receiverError();
    return serializePath(this.#r);
  }

  set pathname(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    if (typeof r.path === "string") return;
    r.path = [];
    basicParse(toUSVString(value), null, r, PATH_START);
  }

  get search() {
    if (!(#r in this)) throw receiverError();
    const query = this.#r.query;
    return query === null || query === "" ? "" : `?${query}`;
  }

  set search(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    value = toUSVString(value);
    if (value === "") {
      r.query = null;
      stripTrailingSpacesFromOpaquePath(r);
    } else {
      if (value[0] === "?") value = value.slice(1);
      r.query = "";
      basicParse(value, null, r, QUERY);
    }
    this.#paramsChanged();
  }

  get searchParams() {
    if (!(#r in this)) throw receiverError();
    if (this.#searchParams === null) {
      this.#searchParams = new URLSearchParams();
      paramsAttach(this.#searchParams, this, parseForm(this.#r.query ?? ""));
    }
    return this.#searchParams;
  }

  get hash() {
    if (!(#r in this)) throw receiverError();
    const fragment = this.#r.fragment;
    return fragment === null || fragment === "" ? "" : `#${fragment}`;
  }

  set hash(value) {
    if (!(#r in this)) throw receiverError();
    const r = this.#r;
    value = toUSVString(value);
    if (value === "") {
      r.fragment = null;
      stripTrailingSpacesFromOpaquePath(r);
      return;
    }
    if (value[0] === "#") value = value.slice(1);
    r.fragment = "";
    basicParse(value, null, r, FRAGMENT);
  }

  toJSON() {
    if (!(#r in this)) throw receiverError();
    return serializeURL(this.#r);
  }

  [customInspectSymbol](depth, options) {
    if (!(#r in this)) throw receiverError();
    if (typeof depth === "number" && depth < 0) return this;
    const constructor = this.constructor ?? URL;
    const shown = {};
    for (const key of ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname",
      "search", "searchParams", "hash"]) {
      shown[key] = this[key];
    }
    return `${constructor.name} ${inspect(shown, options)}`;
  }
}

for (const name of ["toString", "href", "origin", "protocol", "username", "password", "host", "hostname", "port",
  "pathname", "search", "searchParams", "hash", "toJSON"]) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}
Object.defineProperty(URL.prototype, Symbol.toStringTag, {
  value: "URL", writable: false, enumerable: false, configurable: true,
});
Object.defineProperty(URL, "parse", { enumerable: true });
Object.defineProperty(URL, "canParse", { enumerable: true });

// For node:url: the record behind a URL object.
export function recordOf(url) {
  try {
    return urlRecordOf(url);
  } catch {
    return undefined;
  }
}

export function isURL(value) {
  return recordOf(value) !== undefined;
}

export { copyRecord };
