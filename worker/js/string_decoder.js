// Node's string_decoder: turns a stream of byte chunks into strings without
// splitting a character across chunks. The bookkeeping mirrors Node's native
// decoder byte for byte (which bytes it holds back, when it gives up on an
// incomplete UTF-8 sequence), so output for invalid input matches too.
import { native } from "./native.js";
import { Buffer, normalizeEncoding } from "./buffer.js";
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_THIS, ERR_UNKNOWN_ENCODING } from "./errors.js";

const kIncompleteBytes = 4;

function decodeBytes(bytes, start, end, encoding) {
  return start === end ? "" : native.decodeString(bytes, start, end, encoding);
}

export class StringDecoder {
  #incomplete = new Buffer(kIncompleteBytes);
  #missing = 0;
  #buffered = 0;

  constructor(encoding) {
    const normalized = normalizeEncoding(encoding);
    if (normalized === undefined) throw ERR_UNKNOWN_ENCODING(encoding);
    this.encoding = normalized;
  }

  write(buf) {
    if (typeof buf === "string") return buf;
    if (!ArrayBuffer.isView(buf)) {
      throw ERR_INVALID_ARG_TYPE("buf", ["Buffer", "TypedArray", "DataView"], buf);
    }
    if (!(#missing in this)) throw ERR_INVALID_THIS("StringDecoder");
    return this.#decode(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
  }

  end(buf) {
    let result = "";
    if (buf !== undefined) result = this.write(buf);
    if (this.#buffered > 0) result += this.#flush();
    return result;
  }

  text(buf, offset) {
    this.#missing = 0;
    this.#buffered = 0;
    return this.write(buf.slice(offset));
  }

  get lastChar() {
    return this.#incomplete.subarray(0, kIncompleteBytes);
  }

  get lastNeed() {
    return this.#missing;
  }

  get lastTotal() {
    return this.#buffered + this.#missing;
  }

  #decode(data) {
    const encoding = this.encoding;
    if (encoding !== "utf8" && encoding !== "utf16le" && encoding !== "base64" &&
        encoding !== "base64url") {
      return decodeBytes(data, 0, data.length, encoding);
    }
    let start = 0;
    let end = data.length;
    let prepend = "";
    if (this.#missing > 0) {
      if (encoding === "utf8") {
        // A byte that is not a continuation byte ends the incomplete character
        // early; it starts a new character instead.
        for (let i = 0; i < end && i < this.#missing; ++i) {
          if ((data[i] & 0xc0) !== 0x80) {
            this.#missing = 0;
            this.#incomplete.set(data.subarray(0, i), this.#buffered);
            this.#buffered += i;
            start += i;
            break;
          }
        }
      }
      const found = Math.min(end - start, this.#missing);
      this.#incomplete.set(data.subarray(start, start + found), this.#buffered);
      start += found;
      this.#missing -= found;
      this.#buffered += found;
      if (this.#missing === 0) {
        prepend = decodeBytes(this.#incomplete, 0, this.#buffered, encoding);
        this.#buffered = 0;
      }
    }
    if (start === end) return prepend;

    if (encoding === "utf8" && data[end - 1] & 0x80) {
      // Find where the last character starts and whether it is complete.
      for (let i = end - 1; ; --i) {
        this.#buffered++;
        if ((data[i] & 0xc0) === 0x80) {
          if (this.#buffered >= 4 || i === start) {
            this.#buffered = 0;
            break;
          }
        } else {
          if ((data[i] & 0xe0) === 0xc0) {
            this.#missing = 2;
          } else if ((data[i] & 0xf0) === 0xe0) {
            this.#missing = 3;
          } else if ((data[i] & 0xf8) === 0xf0) {
            this.#missing = 4;
          } else {
            this.#buffered = 0;
            break;
          }
          if (this.#buffered >= this.#missing) {
            this.#missing = 0;
            this.#buffered = 0;
          }
          this.#missing -= this.#buffered;
          break;
        }
      }
    } else if (encoding === "utf16le") {
      if ((end - start) % 2 === 1) {
        this.#buffered = 1;
        this.#missing = 1;
      } else if ((data[end - 1] & 0xfc) === 0xd8) {
        // The high half of a surrogate pair.
        this.#buffered = 2;
        this.#missing = 2;
      }
    } else if (encoding === "base64" || encoding === "base64url") {
      this.#buffered = (end - start) % 3;
      if (this.#buffered > 0) this.#missing = 3 - this.#buffered;
    }
    if (this.#buffered > 0) {
      end -= this.#buffered;
      this.#incomplete.set(data.subarray(end, end + this.#buffered), 0);
    }
    return prepend + decodeBytes(data, start, end, encoding);
  }

  #flush() {
    if (this.encoding === "utf16le" && this.#buffered % 2 === 1) {
      // A lone trailing byte is dropped, as Buffer#toString does.
      this.#missing--;
      this.#buffered--;
    }
    if (this.#buffered === 0) return "";
    const result = decodeBytes(this.#incomplete, 0, this.#buffered, this.encoding);
    this.#missing = 0;
    this.#buffered = 0;
    return result;
  }
}

export default { StringDecoder };
