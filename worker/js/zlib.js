// node:zlib on Debian's zlib and brotli (worker/api_zlib.cc). The streams are
// Transforms driven as Node drives its binding: each step asks the engine for
// at most the rest of a chunkSize buffer, pushes what came out, and steps
// again while the engine filled the space; a step whose output the readable
// side has no room for waits for _read (so a decompression bomb read through
// a stream is held by its consumer). The *Sync functions step on the worker's
// thread; the callback functions and the streams step on libuv's thread pool.
// The buffer and sync forms stop at maxOutputLength.
import { native } from "./native.js";
import { Buffer, kMaxLength } from "./buffer.js";
import { callInContext } from "./async_context.js";
import { makeError, ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE } from "./errors.js";
import { Transform, finished } from "./stream_more.js";
import { nextTick } from "./stream_core.js";

// --- constants --------------------------------------------------------------------------------

export const constants = {
  Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4, Z_DEFAULT_STRATEGY: 0,
  ZLIB_VERNUM: native.zlibVersionNumber(),
  DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7,
  BROTLI_DECODE: 8, BROTLI_ENCODE: 9,
  Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
  Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16384,
  Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8,
  Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
  BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
  BROTLI_OPERATION_EMIT_METADATA: 3,
  BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0, BROTLI_MODE_TEXT: 1, BROTLI_MODE_FONT: 2, BROTLI_DEFAULT_MODE: 0,
  BROTLI_PARAM_QUALITY: 1, BROTLI_MIN_QUALITY: 0, BROTLI_MAX_QUALITY: 11, BROTLI_DEFAULT_QUALITY: 11,
  BROTLI_PARAM_LGWIN: 2, BROTLI_MIN_WINDOW_BITS: 10, BROTLI_MAX_WINDOW_BITS: 24,
  BROTLI_LARGE_MAX_WINDOW_BITS: 30, BROTLI_DEFAULT_WINDOW: 22,
  BROTLI_PARAM_LGBLOCK: 3, BROTLI_MIN_INPUT_BLOCK_BITS: 16, BROTLI_MAX_INPUT_BLOCK_BITS: 24,
  BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING: 4, BROTLI_PARAM_SIZE_HINT: 5, BROTLI_PARAM_LARGE_WINDOW: 6,
  BROTLI_PARAM_NPOSTFIX: 7, BROTLI_PARAM_NDIRECT: 8,
  BROTLI_DECODER_RESULT_ERROR: 0, BROTLI_DECODER_RESULT_SUCCESS: 1, BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: 2,
  BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: 3,
  BROTLI_DECODER_PARAM_DISABLE_RING_BUFFER_REALLOCATION: 0, BROTLI_DECODER_PARAM_LARGE_WINDOW: 1,
  BROTLI_DECODER_NO_ERROR: 0, BROTLI_DECODER_SUCCESS: 1, BROTLI_DECODER_NEEDS_MORE_INPUT: 2,
  BROTLI_DECODER_NEEDS_MORE_OUTPUT: 3,
  BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_NIBBLE: -1, BROTLI_DECODER_ERROR_FORMAT_RESERVED: -2,
  BROTLI_DECODER_ERROR_FORMAT_EXUBERANT_META_NIBBLE: -3, BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_ALPHABET: -4,
  BROTLI_DECODER_ERROR_FORMAT_SIMPLE_HUFFMAN_SAME: -5, BROTLI_DECODER_ERROR_FORMAT_CL_SPACE: -6,
  BROTLI_DECODER_ERROR_FORMAT_HUFFMAN_SPACE: -7, BROTLI_DECODER_ERROR_FORMAT_CONTEXT_MAP_REPEAT: -8,
  BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_1: -9, BROTLI_DECODER_ERROR_FORMAT_BLOCK_LENGTH_2: -10,
  BROTLI_DECODER_ERROR_FORMAT_TRANSFORM: -11, BROTLI_DECODER_ERROR_FORMAT_DICTIONARY: -12,
  BROTLI_DECODER_ERROR_FORMAT_WINDOW_BITS: -13, BROTLI_DECODER_ERROR_FORMAT_PADDING_1: -14,
  BROTLI_DECODER_ERROR_FORMAT_PADDING_2: -15, BROTLI_DECODER_ERROR_FORMAT_DISTANCE: -16,
  BROTLI_DECODER_ERROR_DICTIONARY_NOT_SET: -19, BROTLI_DECODER_ERROR_INVALID_ARGUMENTS: -20,
  BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES: -21, BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS: -22,
  BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP: -25, BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1: -26,
  BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2: -27, BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES: -30,
  BROTLI_DECODER_ERROR_UNREACHABLE: -31,
};

const {
  Z_NO_FLUSH, Z_BLOCK, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH,
  Z_MIN_CHUNK, Z_MIN_WINDOWBITS, Z_MAX_WINDOWBITS, Z_MIN_LEVEL, Z_MAX_LEVEL, Z_MIN_MEMLEVEL, Z_MAX_MEMLEVEL,
  Z_DEFAULT_CHUNK, Z_DEFAULT_COMPRESSION, Z_DEFAULT_STRATEGY, Z_DEFAULT_WINDOWBITS, Z_DEFAULT_MEMLEVEL, Z_FIXED,
  DEFLATE, INFLATE, GZIP, GUNZIP, DEFLATERAW, INFLATERAW, UNZIP, BROTLI_DECODE, BROTLI_ENCODE,
  BROTLI_OPERATION_PROCESS, BROTLI_OPERATION_FLUSH, BROTLI_OPERATION_FINISH, BROTLI_OPERATION_EMIT_METADATA,
} = constants;

export const codes = {
  Z_OK: constants.Z_OK,
  Z_STREAM_END: constants.Z_STREAM_END,
  Z_NEED_DICT: constants.Z_NEED_DICT,
  Z_ERRNO: constants.Z_ERRNO,
  Z_STREAM_ERROR: constants.Z_STREAM_ERROR,
  Z_DATA_ERROR: constants.Z_DATA_ERROR,
  Z_MEM_ERROR: constants.Z_MEM_ERROR,
  Z_BUF_ERROR: constants.Z_BUF_ERROR,
  Z_VERSION_ERROR: constants.Z_VERSION_ERROR,
};
for (const key of Object.keys(codes)) codes[codes[key]] = key;
Object.freeze(codes);

// How strongly each flush value flushes, for choosing the stronger of two.
const kFlushFlagList = [Z_NO_FLUSH, Z_BLOCK, Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH];
const flushiness = [];
for (let i = 0; i < kFlushFlagList.length; i++) flushiness[kFlushFlagList[i]] = i;
const maxFlush = (a, b) => (flushiness[a] > flushiness[b] ? a : b);

// Zero-length chunks that carry a flush through the writable side.
const kFlushFlag = Symbol("kFlushFlag");
const kFlushBuffers = [];
for (const flag of kFlushFlagList) {
  kFlushBuffers[flag] = Buffer.alloc(0);
  kFlushBuffers[flag][kFlushFlag] = flag;
}

const kError = Symbol("kError");

// --- errors and option checks -------------------------------------------------------------------

function ERR_BUFFER_TOO_LARGE(max) {
  return makeError(RangeError, "ERR_BUFFER_TOO_LARGE", `Cannot create a Buffer larger than ${max} bytes`);
}

function ERR_BROTLI_INVALID_PARAM(param) {
  return makeError(RangeError, "ERR_BROTLI_INVALID_PARAM", `${param} is not a valid Brotli parameter`);
}

function ERR_ZLIB_INITIALIZATION_FAILED() {
  return makeError(Error, "ERR_ZLIB_INITIALIZATION_FAILED", "Initialization failed");
}

// What an engine reports about bad input, as Node builds it.
function engineError([message, code, errno]) {
  const error = new Error(message);
  error.errno = errno;
  error.code = code;
  return error;
}

function checkFiniteNumber(number, name) {
  if (number === undefined) return false;
  if (Number.isFinite(number)) return true;
  if (Number.isNaN(number)) return false;
  if (typeof number !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", number);
  throw ERR_OUT_OF_RANGE(name, "a finite number", number);
}

function checkRangesOrGetDefault(number, name, lower, upper, def) {
  if (!checkFiniteNumber(number, name)) return def;
  if (number < lower || number > upper) throw ERR_OUT_OF_RANGE(name, `>= ${lower} and <= ${upper}`, number);
  return number;
}

function isAnyArrayBuffer(value) {
  return value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer === "function" && value instanceof SharedArrayBuffer);
}

function toInputBuffer(buffer) {
  if (typeof buffer === "string") return Buffer.from(buffer);
  if (ArrayBuffer.isView(buffer)) return buffer;
  if (isAnyArrayBuffer(buffer)) return Buffer.from(buffer);
  throw ERR_INVALID_ARG_TYPE("buffer", ["string", "Buffer", "TypedArray", "DataView", "ArrayBuffer"], buffer);
}

// The engines take bytes: a view of any kind as its bytes.
function bytesOf(view) {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

// --- the buffer forms -----------------------------------------------------------------------------

function zlibBuffer(engine, buffer, callback) {
  if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", "Function", callback);
  buffer = toInputBuffer(buffer);
  engine.buffers = null;
  engine.nread = 0;
  engine.cb = callback;
  engine.on("data", zlibBufferOnData);
  engine.on("error", zlibBufferOnError);
  engine.on("end", zlibBufferOnEnd);
  engine.end(buffer);
}

function zlibBufferOnData(chunk) {
  if (!this.buffers) this.buffers = [chunk];
  else this.buffers.push(chunk);
  this.nread += chunk.length;
  if (this.nread > this._maxOutputLength) {
    this.close();
    this.removeAllListeners("end");
    this.cb(ERR_BUFFER_TOO_LARGE(this._maxOutputLength));
  }
}

function zlibBufferOnError(error) {
  this.removeAllListeners("end");
  this.cb(error);
}

function zlibBufferOnEnd() {
  let buffer;
  if (this.nread === 0) {
    buffer = Buffer.alloc(0);
  } else {
    const buffers = this.buffers;
    buffer = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, this.nread);
  }
  this.close();
  if (this._info) this.cb(null, { buffer, engine: this });
  else this.cb(null, buffer);
}

function zlibBufferSync(engine, buffer) {
  buffer = toInputBuffer(buffer);
  return processChunkSync(engine, buffer, engine._finishFlushFlag);
}

// --- ZlibBase: the Transform over an engine --------------------------------------------------------

const zlibDefaultOpts = { flush: Z_NO_FLUSH, finishFlush: Z_FINISH, fullFlush: Z_FULL_FLUSH };
const brotliDefaultOpts = { flush: BROTLI_OPERATION_PROCESS, finishFlush: BROTLI_OPERATION_FINISH,
  fullFlush: BROTLI_OPERATION_FLUSH };

function ZlibBase(opts, mode, handle, { flush, finishFlush, fullFlush }) {
  let chunkSize = Z_DEFAULT_CHUNK;
  let maxOutputLength = kMaxLength;
  const brotli = mode === BROTLI_ENCODE || mode === BROTLI_DECODE;
  const [flushMin, flushMax] = brotli ? [BROTLI_OPERATION_PROCESS, BROTLI_OPERATION_EMIT_METADATA] : [Z_NO_FLUSH, Z_BLOCK];
  if (opts) {
    chunkSize = opts.chunkSize;
    if (!checkFiniteNumber(chunkSize, "options.chunkSize")) {
      chunkSize = Z_DEFAULT_CHUNK;
    } else if (chunkSize < Z_MIN_CHUNK) {
      throw ERR_OUT_OF_RANGE("options.chunkSize", `>= ${Z_MIN_CHUNK}`, chunkSize);
    }
    flush = checkRangesOrGetDefault(opts.flush, "options.flush", flushMin, flushMax, flush);
    finishFlush = checkRangesOrGetDefault(opts.finishFlush, "options.finishFlush", flushMin, flushMax, finishFlush);
    maxOutputLength = checkRangesOrGetDefault(opts.maxOutputLength, "options.maxOutputLength", 1, kMaxLength, kMaxLength);
    if (opts.encoding || opts.objectMode || opts.writableObjectMode) {
      opts = { ...opts, encoding: null, objectMode: false, writableObjectMode: false };
    }
  }
  Reflect.apply(Transform, this, [{ autoDestroy: true, ...opts }]);
  this[kError] = null;
  this.bytesWritten = 0;
  this._handle = handle;
  this._outOffset = 0;
  this._chunkSize = Math.floor(chunkSize);
  this._defaultFlushFlag = flush;
  this._finishFlushFlag = finishFlush;
  this._defaultFullFlushFlag = fullFlush;
  this._info = opts && opts.info;
  this._maxOutputLength = maxOutputLength;
  this._step = null;
  this._onStep = null;
}
Object.setPrototypeOf(ZlibBase.prototype, Transform.prototype);
Object.setPrototypeOf(ZlibBase, Transform);

Object.defineProperty(ZlibBase.prototype, "_closed", {
  configurable: true,
  enumerable: true,
  get() {
    return !this._handle;
  },
});

// Node's deprecated alias of bytesWritten.
Object.defineProperty(ZlibBase.prototype, "bytesRead", {
  configurable: true,
  enumerable: true,
  get() {
    return this.bytesWritten;
  },
  set(value) {
    this.bytesWritten = value;
  },
});

ZlibBase.prototype.reset = function reset() {
  if (!this._handle) throw makeError(Error, "ERR_INTERNAL_ASSERTION", "zlib binding closed");
  const failure = native.zlibReset(this._handle);
  if (failure !== undefined) onEngineError(this, failure);
};

ZlibBase.prototype._flush = function _flush(callback) {
  this._transform(Buffer.alloc(0), "", callback);
};

ZlibBase.prototype._final = function _final(callback) {
  callback();
};

ZlibBase.prototype.flush = function flush(kind, callback) {
  if (typeof kind === "function" || (kind === undefined && !callback)) {
    callback = kind;
    kind = this._defaultFullFlushFlag;
  }
  if (this.writableFinished) {
    if (callback) nextTick(callback);
  } else if (this.writableEnded) {
    if (callback) this.once("end", callback);
  } else {
    this.write(kFlushBuffers[kind], "", callback);
  }
};

ZlibBase.prototype.close = function close(callback) {
  if (callback) finished(this, callback);
  this.destroy();
};

ZlibBase.prototype._destroy = function _destroy(error, callback) {
  closeEngine(this);
  callback(error);
};

ZlibBase.prototype._transform = function _transform(chunk, encoding, callback) {
  let flushFlag = this._defaultFlushFlag;
  if (typeof chunk[kFlushFlag] === "number") flushFlag = chunk[kFlushFlag];
  // The last chunk also finishes the stream.
  if (this.writableEnded && this.writableLength === chunk.byteLength) {
    flushFlag = maxFlush(flushFlag, this._finishFlushFlag);
  }
  processChunk(this, chunk, flushFlag, callback);
};

ZlibBase.prototype._processChunk = function _processChunk(chunk, flushFlag, callback) {
  if (typeof callback === "function") processChunk(this, chunk, flushFlag, callback);
  else return processChunkSync(this, chunk, flushFlag);
};

function closeEngine(engine) {
  if (!engine._handle) return;
  native.zlibClose(engine._handle);
  engine._handle = null;
}

function onEngineError(engine, failure) {
  const error = engineError(failure);
  engine.destroy(error);
  engine[kError] = error;
  return error;
}

function processChunkSync(self, chunk, flushFlag) {
  let availInBefore = chunk.byteLength;
  let availOutBefore = self._chunkSize - self._outOffset;
  let inOff = 0;
  const buffers = [];
  let nread = 0;
  let inputRead = 0;
  const handle = self._handle;
  const chunkSize = self._chunkSize;
  let offset = self._outOffset;
  const input = bytesOf(chunk);
  // As Node: an error is thrown here, and also emitted.
  self.on("error", function onError() {});
  for (;;) {
    if (!self._handle) throw makeError(Error, "ERR_INTERNAL_ASSERTION", "zlib binding closed");
    const result = native.zlibWriteSync(handle, flushFlag, input, inOff, availInBefore, availOutBefore);
    if (typeof result[0] === "string") throw onEngineError(self, result);
    if (self[kError]) throw self[kError];
    const [availOutAfter, availInAfter, bytes] = result;
    const inDelta = availInBefore - availInAfter;
    inputRead += inDelta;
    const have = availOutBefore - availOutAfter;
    if (have > 0) {
      const out = Buffer.from(bytes);
      offset += have;
      buffers.push(out);
      nread += out.byteLength;
      if (nread > self._maxOutputLength) {
        closeEngine(self);
        throw ERR_BUFFER_TOO_LARGE(self._maxOutputLength);
      }
    }
    // The output space was used up, or this buffer's share of it: a new one.
    if (availOutAfter === 0 || offset >= chunkSize) {
      availOutBefore = chunkSize;
      offset = 0;
    }
    if (availOutAfter === 0) {
      // Not done: step again over what is left of the input.
      inOff += inDelta;
      availInBefore = availInAfter;
    } else {
      break;
    }
  }
  self.bytesWritten = inputRead;
  closeEngine(self);
  if (nread === 0) return Buffer.alloc(0);
  return buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, nread);
}

function processChunk(self, chunk, flushFlag, callback) {
  const handle = self._handle;
  if (!handle) {
    nextTick(callback);
    return;
  }
  const step = {
    chunk: bytesOf(chunk),
    callback,
    availOutBefore: self._chunkSize - self._outOffset,
    availInBefore: chunk.byteLength,
    inOff: 0,
    flushFlag,
  };
  self._step = step;
  self._onStep ??= (result, context) => callInContext(context, afterStep, self, [result]);
  native.zlibWrite(handle, flushFlag, step.chunk, 0, step.availInBefore, step.availOutBefore, self._onStep);
}

function stepAgain(self, step) {
  if (!self._handle) {
    self._step = null;
    step.callback();
    return;
  }
  native.zlibWrite(self._handle, step.flushFlag, step.chunk, step.inOff, step.availInBefore, self._chunkSize,
    self._onStep);
}

// A step on the thread pool finished (`this`: the stream).
function afterStep(result) {
  const step = this._step;
  if (step === null) return;
  if (this.destroyed) {
    this._step = null;
    step.callback();
    return;
  }
  if (typeof result[0] === "string") {
    // As Node: the write's callback is not called; the stream is destroyed.
    this._step = null;
    onEngineError(this, result);
    return;
  }
  const [availOutAfter, availInAfter, bytes] = result;
  const inDelta = step.availInBefore - availInAfter;
  this.bytesWritten += inDelta;
  const have = step.availOutBefore - availOutAfter;
  let full = false;
  if (have > 0) {
    this._outOffset += have;
    full = !this.push(Buffer.from(bytes));
  }
  if (this.destroyed) {
    this._step = null;
    step.callback();
    return;
  }
  if (availOutAfter === 0 || this._outOffset >= this._chunkSize) {
    step.availOutBefore = this._chunkSize;
    this._outOffset = 0;
  }
  if (availOutAfter === 0) {
    // More output is waiting: step again now, or once the reader wants more.
    step.inOff += inDelta;
    step.availInBefore = availInAfter;
    if (!full) {
      stepAgain(this, step);
    } else {
      const oldRead = this._read;
      this._read = (n) => {
        this._read = oldRead;
        stepAgain(this, step);
        this._read(n);
      };
    }
    return;
  }
  if (availInAfter > 0) {
    // Input left with output space to spare: the stream ended before its
    // input did (everything but gunzip and unzip ignores what follows).
    this.push(null);
  }
  this._step = null;
  step.callback();
}

// --- zlib and brotli streams ---------------------------------------------------------------------

function Zlib(opts, mode) {
  let windowBits = Z_DEFAULT_WINDOWBITS;
  let level = Z_DEFAULT_COMPRESSION;
  let memLevel = Z_DEFAULT_MEMLEVEL;
  let strategy = Z_DEFAULT_STRATEGY;
  let dictionary;
  if (opts) {
    // 0 lets the decompressors take the window size from the stream's header.
    if ((opts.windowBits == null || opts.windowBits === 0) && (mode === INFLATE || mode === GUNZIP || mode === UNZIP)) {
      windowBits = 0;
    } else {
      // A window of 256 bytes is valid for deflate, not for gzip.
      const min = Z_MIN_WINDOWBITS + (mode === GZIP ? 1 : 0);
      windowBits = checkRangesOrGetDefault(opts.windowBits, "options.windowBits", min, Z_MAX_WINDOWBITS,
        Z_DEFAULT_WINDOWBITS);
    }
    level = checkRangesOrGetDefault(opts.level, "options.level", Z_MIN_LEVEL, Z_MAX_LEVEL, Z_DEFAULT_COMPRESSION);
    memLevel = checkRangesOrGetDefault(opts.memLevel, "options.memLevel", Z_MIN_MEMLEVEL, Z_MAX_MEMLEVEL,
      Z_DEFAULT_MEMLEVEL);
    strategy = checkRangesOrGetDefault(opts.strategy, "options.strategy", Z_DEFAULT_STRATEGY, Z_FIXED,
      Z_DEFAULT_STRATEGY);
    dictionary = opts.dictionary;
    if (dictionary !== undefined && !ArrayBuffer.isView(dictionary)) {
      if (isAnyArrayBuffer(dictionary)) {
        dictionary = Buffer.from(dictionary);
      } else {
        throw ERR_INVALID_ARG_TYPE("options.dictionary", ["Buffer", "TypedArray", "DataView", "ArrayBuffer"],
          dictionary);
      }
    }
  }
  const handle = native.zlibCreate(mode, Math.trunc(windowBits), Math.trunc(level), Math.trunc(memLevel),
    Math.trunc(strategy), dictionary === undefined ? undefined : bytesOf(dictionary));
  Reflect.apply(ZlibBase, this, [opts, mode, handle, zlibDefaultOpts]);
  this._level = level;
  this._strategy = strategy;
}
Object.setPrototypeOf(Zlib.prototype, ZlibBase.prototype);
Object.setPrototypeOf(Zlib, ZlibBase);

function paramsAfterFlushCallback(level, strategy, callback) {
  if (!this._handle) throw makeError(Error, "ERR_INTERNAL_ASSERTION", "zlib binding closed");
  const failure = native.zlibParams(this._handle, level, strategy);
  if (failure !== undefined) onEngineError(this, failure);
  if (!this.destroyed) {
    this._level = level;
    this._strategy = strategy;
    if (callback) callback();
  }
}

Zlib.prototype.params = function params(level, strategy, callback) {
  checkRangesOrGetDefault(level, "level", Z_MIN_LEVEL, Z_MAX_LEVEL);
  checkRangesOrGetDefault(strategy, "strategy", Z_DEFAULT_STRATEGY, Z_FIXED);
  if (this._level !== level || this._strategy !== strategy) {
    this.flush(Z_SYNC_FLUSH, paramsAfterFlushCallback.bind(this, level, strategy, callback));
  } else {
    nextTick(callback);
  }
};

const kMaxBrotliParam = 8;
const brotliInitParamsArray = new Uint32Array(kMaxBrotliParam + 1);

function Brotli(opts, mode) {
  brotliInitParamsArray.fill(-1);
  if (opts?.params) {
    for (const origKey of Object.keys(opts.params)) {
      const key = +origKey;
      if (Number.isNaN(key) || key < 0 || key > kMaxBrotliParam || (brotliInitParamsArray[key] | 0) !== -1) {
        throw ERR_BROTLI_INVALID_PARAM(origKey);
      }
      const value = opts.params[origKey];
      if (typeof value !== "number" && typeof value !== "boolean") {
        throw ERR_INVALID_ARG_TYPE("options.params[key]", "number", opts.params[origKey]);
      }
      brotliInitParamsArray[key] = value;
    }
  }
  const handle = native.brotliCreate(mode, brotliInitParamsArray);
  if (handle === null) throw ERR_ZLIB_INITIALIZATION_FAILED();
  Reflect.apply(ZlibBase, this, [opts, mode, handle, brotliDefaultOpts]);
}
Object.setPrototypeOf(Brotli.prototype, ZlibBase.prototype);
Object.setPrototypeOf(Brotli, ZlibBase);

function defineStream(name, Base, mode) {
  const Class = {
    [name]: function (opts) {
      if (!(this instanceof Class)) return new Class(opts);
      Reflect.apply(Base, this, [opts, mode]);
    },
  }[name];
  Object.setPrototypeOf(Class.prototype, Base.prototype);
  Object.setPrototypeOf(Class, Base);
  return Class;
}

export const Deflate = defineStream("Deflate", Zlib, DEFLATE);
export const Inflate = defineStream("Inflate", Zlib, INFLATE);
export const Gzip = defineStream("Gzip", Zlib, GZIP);
export const Gunzip = defineStream("Gunzip", Zlib, GUNZIP);
export const DeflateRaw = defineStream("DeflateRaw", Zlib, DEFLATERAW);
export const InflateRaw = defineStream("InflateRaw", Zlib, INFLATERAW);
export const Unzip = defineStream("Unzip", Zlib, UNZIP);
export const BrotliCompress = defineStream("BrotliCompress", Brotli, BROTLI_ENCODE);
export const BrotliDecompress = defineStream("BrotliDecompress", Brotli, BROTLI_DECODE);

function asyncForm(Class) {
  return function asyncBufferWrapper(buffer, opts, callback) {
    if (typeof opts === "function") {
      callback = opts;
      opts = {};
    }
    return zlibBuffer(new Class(opts), buffer, callback);
  };
}

function syncForm(Class) {
  return function syncBufferWrapper(buffer, opts) {
    return zlibBufferSync(new Class(opts), buffer);
  };
}

export const deflate = asyncForm(Deflate);
export const deflateSync = syncForm(Deflate);
export const gzip = asyncForm(Gzip);
export const gzipSync = syncForm(Gzip);
export const deflateRaw = asyncForm(DeflateRaw);
export const deflateRawSync = syncForm(DeflateRaw);
export const unzip = asyncForm(Unzip);
export const unzipSync = syncForm(Unzip);
export const inflate = asyncForm(Inflate);
export const inflateSync = syncForm(Inflate);
export const gunzip = asyncForm(Gunzip);
export const gunzipSync = syncForm(Gunzip);
export const inflateRaw = asyncForm(InflateRaw);
export const inflateRawSync = syncForm(InflateRaw);
export const brotliCompress = asyncForm(BrotliCompress);
export const brotliCompressSync = syncForm(BrotliCompress);
export const brotliDecompress = asyncForm(BrotliDecompress);
export const brotliDecompressSync = syncForm(BrotliDecompress);

export function createDeflate(options) {
  return new Deflate(options);
}
export function createInflate(options) {
  return new Inflate(options);
}
export function createDeflateRaw(options) {
  return new DeflateRaw(options);
}
export function createInflateRaw(options) {
  return new InflateRaw(options);
}
export function createGzip(options) {
  return new Gzip(options);
}
export function createGunzip(options) {
  return new Gunzip(options);
}
export function createUnzip(options) {
  return new Unzip(options);
}
export function createBrotliCompress(options) {
  return new BrotliCompress(options);
}
export function createBrotliDecompress(options) {
  return new BrotliDecompress(options);
}

export function crc32(data, value = 0) {
  if (typeof data !== "string" && !ArrayBuffer.isView(data)) {
    throw ERR_INVALID_ARG_TYPE("data", ["Buffer", "TypedArray", "DataView", "string"], data);
  }
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE("value", "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE("value", "an integer", value);
  if (value < 0 || value > 0xffffffff) throw ERR_OUT_OF_RANGE("value", ">= 0 && <= 4294967295", value);
  const bytes = typeof data === "string" ? Buffer.from(data) : bytesOf(data);
  return native.zlibCrc32(bytes, value);
}
