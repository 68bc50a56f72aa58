// Node 20's global Blob: immutable bytes with a MIME type. A Blob keeps the
// copies of its parts (a slice shares them, as nothing can change them), so
// building one from other Blobs copies nothing twice.
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_INVALID_THIS } from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { TextDecoder, TextEncoder } from "./text_coding.js";
import { streamFromChunks } from "./web_streams.js";

const encoder = new TextEncoder();
const disallowedTypeCharacters = /[^\u0020-\u007E]/u;

function normalizeType(type) {
  const text = `${type}`;
  return disallowedTypeCharacters.test(text) ? "" : text.toLowerCase();
}

function copyBytes(buffer, offset, length) {
  return new Uint8Array(buffer.slice(offset, offset + length));
}

function isAnyArrayBuffer(value) {
  if (value instanceof ArrayBuffer) return true;
  return typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer;
}

let partsOf;
let createBlob;

export class Blob {
  #parts;
  #size;
  #type;

  constructor(sources = [], options = undefined) {
    if (sources === null || typeof sources[Symbol.iterator] !== "function" || typeof sources === "string") {
      throw ERR_INVALID_ARG_TYPE("sources", "a sequence", sources);
    }
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      throw ERR_INVALID_ARG_TYPE("options", "a dictionary", options);
    }
    const { type = "", endings = "transparent" } = options ?? {};
    const lineEndings = `${endings}`;
    if (lineEndings !== "transparent" && lineEndings !== "native") {
      throw ERR_INVALID_ARG_VALUE("options.endings", lineEndings);
    }
    const parts = [];
    for (const source of sources) {
      if (#parts in Object(source)) {
        parts.push(...source.#parts);
      } else if (isAnyArrayBuffer(source)) {
        parts.push(copyBytes(source, 0, source.byteLength));
      } else if (ArrayBuffer.isView(source)) {
        parts.push(copyBytes(source.buffer, source.byteOffset, source.byteLength));
      } else {
        let text = `${source}`;
        // "native" line endings are the platform's, and the worker runs on Linux.
        if (lineEndings === "native") text = text.replace(/\r?\n/g, "\n");
        parts.push(encoder.encode(text));
      }
    }
    this.#parts = parts.filter((part) => part.byteLength > 0);
    this.#size = parts.reduce((total, part) => total + part.byteLength, 0);
    this.#type = normalizeType(type);
  }

  static {
    partsOf = (blob) => (blob !== null && typeof blob === "object" && #parts in blob ? blob.#parts : undefined);
    createBlob = (parts, type) => {
      const blob = new Blob();
      blob.#parts = parts;
      blob.#size = parts.reduce((total, part) => total + part.byteLength, 0);
      blob.#type = type;
      return blob;
    };
  }

  get type() {
    if (!(#type in Object(this))) throw ERR_INVALID_THIS("Blob");
    return this.#type;
  }

  get size() {
    if (!(#size in Object(this))) throw ERR_INVALID_THIS("Blob");
    return this.#size;
  }

  slice(start = 0, end = undefined, contentType = "") {
    if (!(#size in Object(this))) throw ERR_INVALID_THIS("Blob");
    const size = this.#size;
    start = clampIndex(start, size);
    end = end === undefined ? size : clampIndex(end, size);
    const span = Math.max(end - start, 0);
    const parts = [];
    let position = 0;
    for (const part of this.#parts) {
      const partStart = Math.max(start - position, 0);
      const partEnd = Math.min(start + span - position, part.byteLength);
      if (partStart < partEnd) parts.push(part.subarray(partStart, partEnd));
      position += part.byteLength;
      if (position >= start + span) break;
    }
    return createBlob(parts, normalizeType(contentType));
  }

  async arrayBuffer() {
    if (!(#parts in Object(this))) throw ERR_INVALID_THIS("Blob");
    return concatParts(this.#parts).buffer;
  }

  async text() {
    if (!(#parts in Object(this))) throw ERR_INVALID_THIS("Blob");
    return new TextDecoder().decode(concatParts(this.#parts));
  }

  async bytes() {
    if (!(#parts in Object(this))) throw ERR_INVALID_THIS("Blob");
    return concatParts(this.#parts);
  }

  stream() {
    if (!(#parts in Object(this))) throw ERR_INVALID_THIS("Blob");
    // One chunk per part, each a copy the reader may keep or change.
    return streamFromChunks(this.#parts.map((part) => part.slice()));
  }

  [customInspectSymbol](depth, options) {
    if (depth < 0) return this;
    const opts = Object.assign({}, options, {
      depth: options.depth === null ? null : options.depth - 1,
    });
    return `Blob ${inspect({ size: this.size, type: this.type }, opts)}`;
  }
}
for (const name of ["type", "size", "slice", "arrayBuffer", "text", "bytes", "stream"]) {
  Object.defineProperty(Blob.prototype, name, { enumerable: true });
}
Object.defineProperty(Blob.prototype, Symbol.toStringTag, {
  value: "Blob",
  writable: false,
  enumerable: false,
  configurable: true,
});

function clampIndex(value, size) {
  const number = Math.trunc(Number(value)) || 0;
  return number < 0 ? Math.max(size + number, 0) : Math.min(number, size);
}

function concatParts(parts) {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

export function isBlob(value) {
  return partsOf(value) !== undefined;
}

// A fresh copy of a Blob's bytes, for a body made from it.
export function blobBytes(blob) {
  return concatParts(partsOf(blob));
}

// A Blob over bytes the caller hands over and will not change.
export function blobFromBytes(bytes, type) {
  return createBlob(bytes.byteLength > 0 ? [bytes] : [], normalizeType(type));
}
