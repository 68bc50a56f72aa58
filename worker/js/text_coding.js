// WHATWG TextEncoder and TextDecoder as Node 20 ships them, for the encodings
// a Node build without ICU data has: UTF-8, UTF-16LE/BE and windows-1252.
// Node 20 decodes every windows-1252 label as ISO-8859-1 (0x80-0x9F map to
// U+0080-U+009F); that is what handlers see there, so it is kept.
import { native } from "./native.js";
import {
  ERR_ENCODING_INVALID_ENCODED_DATA,
  ERR_ENCODING_NOT_SUPPORTED,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_THIS,
  makeNativeError,
} from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";

export class TextEncoder {
  #encoding = "utf-8";

  get encoding() {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextEncoder");
    return this.#encoding;
  }

  encode(input = "") {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextEncoder");
    return native.encodeString(`${input}`, "utf8");
  }

  encodeInto(src, dest) {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextEncoder");
    if (typeof src !== "string") throw ERR_INVALID_ARG_TYPE("src", "string", src);
    if (!dest || !isUint8Array(dest)) throw ERR_INVALID_ARG_TYPE("dest", "Uint8Array", dest);
    const [read, written] = native.utf8EncodeInto(src, dest);
    return { read, written };
  }

  [customInspectSymbol](depth, options) {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextEncoder");
    if (typeof depth === "number" && depth < 0) return this;
    return inspect({ encoding: this.#encoding }, options);
  }
}
markEnumerable(TextEncoder.prototype, ["encoding", "encode", "encodeInto"]);
Object.defineProperty(TextEncoder.prototype, Symbol.toStringTag, {
  value: "TextEncoder",
  configurable: true,
});

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;

function isUint8Array(value) {
  return typedArrayTag.call(value) === "Uint8Array";
}

function isArrayBuffer(value) {
  try {
    Reflect.apply(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get, value, []);
    return true;
  } catch {
    return false;
  }
}

function markEnumerable(proto, names) {
  for (const name of names) Object.defineProperty(proto, name, { enumerable: true });
}

// Encoding labels ----------------------------------------------------------------

const labels = new Map();
for (const label of ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8",
  "x-unicode20utf8"]) labels.set(label, "utf-8");
for (const label of ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16",
  "utf-16le"]) labels.set(label, "utf-16le");
for (const label of ["unicodefffe", "utf-16be"]) labels.set(label, "utf-16be");
for (const label of ["ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
  "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1",
  "latin1", "us-ascii", "windows-1252", "x-cp1252"]) labels.set(label, "windows-1252");

function encodingFromLabel(label) {
  return labels.get(label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase());
}

// Node's decoders word a bad input differently depending on the encoding.
const inputErrorMessages = {
  "utf-8": 'The "list" argument must be an instance of SharedArrayBuffer, ArrayBuffer or ArrayBufferView.',
  "utf-16le": 'The "input" argument must be an instance of SharedArrayBuffer, ArrayBuffer or ArrayBufferView.',
  "utf-16be": 'The "input" argument must be an instance of SharedArrayBuffer, ArrayBuffer or ArrayBufferView.',
  "windows-1252": 'The "input" argument must be an instance of ArrayBuffer, SharedArrayBuffer, or ArrayBufferView.',
};

function toBytes(input, encoding) {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (isArrayBuffer(input)) return new Uint8Array(input);
  throw makeNativeError(TypeError, "ERR_INVALID_ARG_TYPE", inputErrorMessages[encoding]);
}

function validateOptions(options) {
  if (options !== null && options !== undefined && typeof options !== "object" &&
      typeof options !== "function") {
    throw ERR_INVALID_ARG_TYPE("options", "object", options);
  }
}

function concat(a, b) {
  if (a.length === 0) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

// windows-1252 differs from ISO-8859-1 only in 0x80-0x9F.
const windows1252Table = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,
  0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
  0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];

function windows1252(char) {
  return String.fromCharCode(windows1252Table[char.charCodeAt(0) - 0x80]);
}

// UTF-8 ---------------------------------------------------------------------------

// Length of the incomplete-but-valid sequence the bytes end with (0 if none):
// only such a tail may wait for the next chunk.
function utf8IncompleteTail(bytes) {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const lead = bytes[length - back];
    if ((lead & 0xc0) === 0x80) continue;
    let needed;
    if (lead >= 0xc2 && lead <= 0xdf) needed = 2;
    else if (lead >= 0xe0 && lead <= 0xef) needed = 3;
    else if (lead >= 0xf0 && lead <= 0xf4) needed = 4;
    else return 0;
    if (back >= needed) return 0;
    if (back >= 2) {
      const second = bytes[length - back + 1];
      let low = 0x80;
      let high = 0xbf;
      if (lead === 0xe0) low = 0xa0;
      else if (lead === 0xed) high = 0x9f;
      else if (lead === 0xf0) low = 0x90;
      else if (lead === 0xf4) high = 0x8f;
      if (second < low || second > high) return 0;
    }
    return back;
  }
  return 0;
}

function isValidUtf8(bytes) {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    let needed;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) needed = 1;
    else if (lead >= 0xe0 && lead <= 0xef) needed = 2;
    else if (lead >= 0xf0 && lead <= 0xf4) needed = 3;
    else return false;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
    else if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
    if (i + needed >= n) return false;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return false;
    for (let k = 2; k <= needed; k++) {
      if ((bytes[i + k] & 0xc0) !== 0x80) return false;
    }
    i += needed + 1;
  }
  return true;
}

// UTF-16 --------------------------------------------------------------------------

const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function swapPairs(bytes, length) {
  const swapped = new Uint8Array(length);
  for (let i = 0; i + 1 < length; i += 2) {
    swapped[i] = bytes[i + 1];
    swapped[i + 1] = bytes[i];
  }
  return swapped;
}

// TextDecoder ---------------------------------------------------------------------

export class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  #pending = new Uint8Array(0);
  #bomChecked = false;
  #streamed = false;

  constructor(encoding = "utf-8", options = {}) {
    encoding = `${encoding}`;
    validateOptions(options);
    const resolved = encodingFromLabel(encoding);
    if (resolved === undefined) throw ERR_ENCODING_NOT_SUPPORTED(encoding);
    this.#encoding = resolved;
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
  }

  get encoding() {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextDecoder");
    return this.#encoding;
  }

  get fatal() {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextDecoder");
    return this.#fatal;
  }

  get ignoreBOM() {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextDecoder");
    return this.#ignoreBOM;
  }

  decode(input = undefined, options = {}) {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextDecoder");
    const bytes = input === undefined ? new Uint8Array(0) : toBytes(input, this.#encoding);
    let flush;
    if ((this.#encoding === "utf-8" || this.#encoding === "windows-1252") && !this.#streamed &&
        !options?.stream) {
      // Node's one-shot UTF-8 path neither validates nor honours `options`.
      flush = true;
    } else {
      validateOptions(options);
      flush = options === null ? false : !options?.stream;
      if (!flush) this.#streamed = true;
    }
    let text;
    switch (this.#encoding) {
      case "utf-8":
        text = this.#decodeUtf8(bytes, flush);
        break;
      case "utf-16le":
      case "utf-16be":
        text = this.#decodeUtf16(bytes, flush, this.#encoding === "utf-16be");
        break;
      default:
        text = bytes.length === 0 ? "" : native.decodeString(bytes, 0, bytes.length, "latin1");
        // Node's one-shot path drops a leading 0xFF when told to keep BOMs.
        if (!this.#streamed && this.#ignoreBOM && bytes[0] === 0xff) text = text.slice(1);
        // Node's one-shot path decodes as ISO-8859-1; once a decoder has
        // streamed it uses the real windows-1252 table.
        if (this.#streamed) text = text.replace(/[\x80-\x9f]/g, windows1252);
        break;
    }
    if (!this.#ignoreBOM && !this.#bomChecked && text.length > 0) {
      this.#bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff && this.#encoding !== "windows-1252") text = text.slice(1);
    }
    if (flush) this.#bomChecked = false;
    return text;
  }

  #fail() {
    this.#pending = new Uint8Array(0);
    this.#bomChecked = false;
    throw ERR_ENCODING_INVALID_ENCODED_DATA(this.#encoding);
  }

  #decodeUtf8(input, flush) {
    const bytes = concat(this.#pending, input);
    const tail = flush ? 0 : utf8IncompleteTail(bytes);
    this.#pending = tail > 0 ? bytes.slice(bytes.length - tail) : new Uint8Array(0);
    const end = bytes.length - tail;
    if (end === 0) return "";
    const text = native.decodeString(bytes, 0, end, "utf8");
    // U+FFFD in the output may be genuine; only then are the bytes checked.
    if (this.#fatal && text.includes("\ufffd") && !isValidUtf8(bytes.subarray(0, end))) this.#fail();
    return text;
  }

  #decodeUtf16(input, flush, bigEndian) {
    const bytes = concat(this.#pending, input);
    let end = bytes.length;
    let oddByte = false;
    if (end % 2 === 1) {
      end--;
      oddByte = true;
    }
    if (!flush && end >= 2) {
      // Hold back a high surrogate that may pair with the next chunk.
      const high = bigEndian ? bytes[end - 2] : bytes[end - 1];
      if ((high & 0xfc) === 0xd8) end -= 2;
    }
    if (!flush) {
      this.#pending = bytes.slice(end);
    } else {
      this.#pending = new Uint8Array(0);
    }
    let text = "";
    if (end > 0) {
      const units = bigEndian ? swapPairs(bytes, end) : bytes;
      text = native.decodeString(units, 0, end, "utf16le");
    }
    loneSurrogates.lastIndex = 0;
    if (loneSurrogates.test(text)) {
      if (this.#fatal) this.#fail();
      loneSurrogates.lastIndex = 0;
      text = text.replace(loneSurrogates, "\ufffd");
    }
    if (flush && oddByte) {
      if (this.#fatal) this.#fail();
      text += "\ufffd";
    }
    return text;
  }

  [customInspectSymbol](depth, options) {
    if (!(#encoding in this)) throw ERR_INVALID_THIS("TextDecoder");
    if (typeof depth === "number" && depth < 0) return this;
    // As Node: the constructor's name, then the fields inspected with the
    // default options (no colours, whatever `options` asks).
    const constructor = this.constructor ?? TextDecoder;
    const object = { __proto__: { constructor } };
    object.encoding = this.#encoding;
    object.fatal = this.#fatal;
    object.ignoreBOM = this.#ignoreBOM;
    return `${constructor.name} ${inspect(object)}`;
  }
}
markEnumerable(TextDecoder.prototype, ["encoding", "fatal", "ignoreBOM", "decode"]);
Object.defineProperty(TextDecoder.prototype, Symbol.toStringTag, {
  value: "TextDecoder",
  configurable: true,
});
