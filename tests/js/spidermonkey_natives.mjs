// The engine binding's natives in plain JavaScript, slow but dependency-free,
// so the runtime library can run in the SpiderMonkey shell (js102). Behaviour
// follows the contract in worker/js/native.js's callers: Node's Buffer
// semantics for every encoding.
const HEX = "0123456789abcdef";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const b64Values = new Map();
for (let i = 0; i < 64; i++) {
  b64Values.set(B64[i], i);
  b64Values.set(B64URL[i], i);
}

// Code points of a string; lone surrogates become U+FFFD as in Node's UTF-8.
function* codePoints(string) {
  for (let i = 0; i < string.length; i++) {
    const c = string.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < string.length) {
      const d = string.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        yield [0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00), 2];
        i++;
        continue;
      }
    }
    yield [c >= 0xd800 && c <= 0xdfff ? 0xfffd : c, 1];
  }
}

function utf8Bytes(cp) {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

function hexBytes(string) {
  const out = [];
  for (let i = 0; i + 1 < string.length; i += 2) {
    const hi = HEX.indexOf(string[i].toLowerCase());
    const lo = HEX.indexOf(string[i + 1].toLowerCase());
    if (hi < 0 || lo < 0) break;
    out.push(hi * 16 + lo);
  }
  return out;
}

function base64Bytes(string) {
  const values = [];
  for (const ch of string) {
    if (ch === "=") break;
    const v = b64Values.get(ch);
    if (v !== undefined) values.push(v);
  }
  const out = [];
  for (let i = 0; i < values.length; i += 4) {
    const [a, b, c, d] = values.slice(i, i + 4);
    if (b === undefined) break;
    out.push((a << 2) | (b >> 4));
    if (c !== undefined) out.push(((b & 15) << 4) | (c >> 2));
    if (d !== undefined) out.push(((c & 3) << 6) | d);
  }
  return out;
}

// Units of the string in an encoding: each an array of bytes never split by
// encodeInto.
function encodedUnits(string, encoding) {
  switch (encoding) {
    case "utf8":
      return Array.from(codePoints(string), ([cp]) => utf8Bytes(cp));
    case "utf16le":
      return Array.from({ length: string.length }, (_, i) => {
        const c = string.charCodeAt(i);
        return [c & 255, c >> 8];
      });
    case "latin1":
    case "ascii":
      return Array.from({ length: string.length }, (_, i) => [string.charCodeAt(i) & 255]);
    case "hex":
      return hexBytes(string).map((b) => [b]);
    default:
      return base64Bytes(string).map((b) => [b]);
  }
}

function encodeString(string, encoding) {
  return Uint8Array.from(encodedUnits(string, encoding).flat());
}

function decodeUtf8(bytes, start, end) {
  let out = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let need;
    let cp;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0xf;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 7;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else {
      out += "\ufffd";
      i++;
      continue;
    }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++, j++) {
      const c = bytes[j];
      if (j >= end || c < (k === 0 ? low : 0x80) || c > (k === 0 ? high : 0xbf)) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3f);
    }
    out += ok ? String.fromCodePoint(cp) : "\ufffd";
    i = j;
  }
  return out;
}

function decodeBase64(bytes, start, end, alphabet, pad) {
  let out = "";
  for (let i = start; i < end; i += 3) {
    const n = Math.min(3, end - i);
    const a = bytes[i];
    const b = n > 1 ? bytes[i + 1] : 0;
    const c = n > 2 ? bytes[i + 2] : 0;
    out += alphabet[a >> 2] + alphabet[((a & 3) << 4) | (b >> 4)];
    out += n > 1 ? alphabet[((b & 15) << 2) | (c >> 6)] : pad ? "=" : "";
    out += n > 2 ? alphabet[c & 63] : pad ? "=" : "";
  }
  return out;
}

function decodeString(bytes, start, end, encoding) {
  let out = "";
  switch (encoding) {
    case "utf8":
      return decodeUtf8(bytes, start, end);
    case "utf16le":
      for (let i = start; i + 1 < end; i += 2) out += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
      return out;
    case "latin1":
      for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i]);
      return out;
    case "ascii":
      for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i] & 0x7f);
      return out;
    case "hex":
      for (let i = start; i < end; i++) out += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
      return out;
    case "base64":
      return decodeBase64(bytes, start, end, B64, true);
    default:
      return decodeBase64(bytes, start, end, B64URL, false);
  }
}

let context;

export const natives = {
  encodeString,
  encodeInto(string, encoding, target, offset, maxBytes) {
    let written = 0;
    for (const unit of encodedUnits(string, encoding)) {
      if (written + unit.length > maxBytes) break;
      target.set(unit, offset + written);
      written += unit.length;
    }
    return written;
  },
  utf8EncodeInto(string, target) {
    let read = 0;
    let written = 0;
    for (const [cp, units] of codePoints(string)) {
      const bytes = utf8Bytes(cp);
      if (written + bytes.length > target.length) break;
      target.set(bytes, written);
      written += bytes.length;
      read += units;
    }
    return [read, written];
  },
  decodeString,
  byteLength(string, encoding) {
    return encodeString(string, encoding).length;
  },
  // Timers are not exercised in the shell; these only satisfy timers.js.
  now: () => Date.now(),
  setTimerCallback() {},
  timerArm() {},
  timerDisarm() {},
  setImmediateCallback() {},
  setImmediatePending() {},
  drainMicrotasks() {},
  // The shell has no tick queue; a promise job is the nearest stand-in.
  nextTick(callback, args) {
    Promise.resolve().then(() => callback(...(args ?? [])));
  },
  // The shell cannot ask the kernel; process.js only needs a machine name to
  // translate when the module loads.
  osUname: () => ["Linux", "js102", "", "", "x86_64"],
  getContext: () => context,
  setContext(value) {
    context = value;
  },
};
