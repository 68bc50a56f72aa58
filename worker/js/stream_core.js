// The core of node:stream: Stream, Readable, Writable and Duplex, with
// construction and destroy. Written from Node 20's documented behaviour and
// checked against it event by event (tests/js/stream_vs_node.test.mjs, and in
// the worker tests/integration/parity/stream_events.js). Always loaded:
// `conn` is a Duplex. pipe(), async iteration, finished() and the state views
// are in stream_lazy.js, loaded on first use; the rest of node:stream is in
// stream_more.js, loaded when a module imports it.
//
// State lives on the stream itself, not in separate state objects: booleans
// are bits of three integers (_s shared by both sides, _r for the readable
// side, _w for the writable side), and fields that are rarely set have their
// default on the prototype. An idle connection then costs a few slots, not two
// objects of thirty fields each. `_readableState` and `_writableState` are
// views onto those fields, made when code (finished(), or a library) asks.
import { native } from "./native.js";
import { EventEmitter } from "./events.js";
import { Buffer } from "./buffer.js";
import { StringDecoder } from "./string_decoder.js";
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, ERR_UNKNOWN_ENCODING } from "./errors.js";
import {
  ERR_METHOD_NOT_IMPLEMENTED,
  ERR_MULTIPLE_CALLBACK,
  ERR_STREAM_ALREADY_FINISHED,
  ERR_STREAM_DESTROYED,
  ERR_STREAM_NULL_VALUES,
  ERR_STREAM_PUSH_AFTER_EOF,
  ERR_STREAM_UNSHIFT_AFTER_END_EVENT,
  ERR_STREAM_WRITE_AFTER_END,
} from "./stream_errors.js";

export function nop() {}

export function nextTick(fn, ...args) {
  native.nextTick(fn, args.length ? args : undefined);
}

// --- state bits ------------------------------------------------------------------

// _s: both sides.
export const S_DESTROYED = 1 << 0;
export const S_CLOSED = 1 << 1;
export const S_CLOSE_EMITTED = 1 << 2;
export const S_ERROR_EMITTED = 1 << 3;
export const S_CONSTRUCTED = 1 << 4;
export const S_AUTO_DESTROY = 1 << 5;
export const S_EMIT_CLOSE = 1 << 6;

// _r: the readable side.
export const R_OBJECT = 1 << 0;
export const R_ENDED = 1 << 1;
export const R_END_EMITTED = 1 << 2;
export const R_READING = 1 << 3;
export const R_SYNC = 1 << 4;
export const R_NEED_READABLE = 1 << 5;
export const R_EMITTED_READABLE = 1 << 6;
export const R_READABLE_LISTENING = 1 << 7;
export const R_RESUME_SCHEDULED = 1 << 8;
export const R_MULTI_AWAIT_DRAIN = 1 << 9;
export const R_READING_MORE = 1 << 10;
export const R_DATA_EMITTED = 1 << 11;
export const R_FLOWING_SET = 1 << 12;  // flowing is true or false, not null
export const R_FLOWING = 1 << 13;
export const R_PAUSED_SET = 1 << 14;  // pause()/resume() was called
export const R_PAUSED = 1 << 15;
export const R_DISABLED = 1 << 16;  // a Duplex with readable: false
const R_FLOWING_BITS = R_FLOWING_SET | R_FLOWING;

// _w: the writable side.
export const W_OBJECT = 1 << 0;
export const W_ENDING = 1 << 1;
export const W_ENDED = 1 << 2;
export const W_FINISHED = 1 << 3;
export const W_NEED_DRAIN = 1 << 4;
export const W_WRITING = 1 << 5;
export const W_SYNC = 1 << 6;
export const W_BUFFER_PROCESSING = 1 << 7;
export const W_PREFINISHED = 1 << 8;
export const W_FINAL_CALLED = 1 << 9;
export const W_ALL_BUFFERS = 1 << 10;
export const W_ALL_NOOP = 1 << 11;
export const W_DECODE_STRINGS = 1 << 12;
export const W_DISABLED = 1 << 13;  // a Duplex with writable: false

const kIsWritable = Symbol("kIsWritable");

let defaultHighWaterMarkBytes = 16 * 1024;
let defaultHighWaterMarkObjects = 16;

export function getDefaultHighWaterMark(objectMode) {
  return objectMode ? defaultHighWaterMarkObjects : defaultHighWaterMarkBytes;
}

export function setDefaultHighWaterMark(objectMode, value) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE("value", "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE("value", "an integer", value);
  if (value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw ERR_OUT_OF_RANGE("value", `>= 0 && <= ${Number.MAX_SAFE_INTEGER}`, value);
  }
  if (objectMode) defaultHighWaterMarkObjects = value;
  else defaultHighWaterMarkBytes = value;
}

function checkedEncoding(encoding) {
  if (!Buffer.isEncoding(encoding)) throw ERR_UNKNOWN_ENCODING(encoding);
  return encoding;
}

function highWaterMarkOption(options, duplexKey, isDuplex, objectMode) {
  const value = options.highWaterMark ?? (isDuplex ? options[duplexKey] : null);
  if (value == null) return getDefaultHighWaterMark(objectMode);
  if (!Number.isInteger(value) || value < 0) {
    throw ERR_INVALID_ARG_VALUE(isDuplex ? `options.${duplexKey}` : "options.highWaterMark", value);
  }
  return Math.floor(value);
}

export function isUint8Array(value) {
  return value instanceof Uint8Array;
}

export function isArrayBufferView(value) {
  return ArrayBuffer.isView(value);
}

export function toBuffer(view) {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

export function aggregateTwoErrors(inner, outer) {
  if (inner && outer && inner !== outer) {
    if (Array.isArray(outer.errors)) {
      outer.errors.push(inner);
      return outer;
    }
    const error = new AggregateError([outer, inner], outer.message);
    error.code = outer.code;
    return error;
  }
  return inner || outer;
}

// --- Stream: the legacy base ------------------------------------------------------------

export function Stream(opts) {
  EventEmitter.call(this, opts);
}
Object.setPrototypeOf(Stream.prototype, EventEmitter.prototype);
Object.setPrototypeOf(Stream, EventEmitter);

export function prependListener(emitter, event, fn) {
  if (typeof emitter.prependListener === "function") return emitter.prependListener(event, fn);
  // Userland emitters without prependListener: put it first by hand.
  if (!emitter._events || !emitter._events[event]) emitter.on(event, fn);
  else if (Array.isArray(emitter._events[event])) emitter._events[event].unshift(fn);
  else emitter._events[event] = [fn, emitter._events[event]];
  return emitter;
}

Stream._isUint8Array = isUint8Array;
Stream._isArrayBufferView = isArrayBufferView;
Stream._uint8ArrayToBuffer = toBuffer;

// --- construction and destruction (both sides) ----------------------------------------------

export function initCommon(stream, options) {
  let s = S_CONSTRUCTED | S_AUTO_DESTROY | S_EMIT_CLOSE;
  if (options) {
    if (options.emitClose === false) s &= ~S_EMIT_CLOSE;
    if (options.autoDestroy === false) s &= ~S_AUTO_DESTROY;
  }
  stream._s = s;
}

function startConstruct(stream) {
  if (typeof stream._construct !== "function") return;
  stream._s &= ~S_CONSTRUCTED;
  nextTick(runConstruct, stream);
}

function runConstruct(stream) {
  let called = false;
  function done(error) {
    if (called) {
      errorOrDestroy(stream, error ?? ERR_MULTIPLE_CALLBACK());
      return;
    }
    called = true;
    stream._s |= S_CONSTRUCTED;
    if (stream._s & S_DESTROYED) {
      const waiting = stream._destroyWaiter;
      if (waiting) {
        stream._destroyWaiter = null;
        waiting(error);
      }
    } else if (error) {
      errorOrDestroy(stream, error, true);
    } else {
      nextTick(afterConstruct, stream);
    }
  }
  try {
    stream._construct((error) => nextTick(done, error));
  } catch (error) {
    nextTick(done, error);
  }
}

function afterConstruct(stream) {
  if (stream._r !== undefined && (stream._r & R_NEED_READABLE)) maybeReadMore(stream);
  if (stream._w !== undefined) {
    if (!(stream._w & W_WRITING)) clearBuffer(stream);
    finishMaybe(stream);
  }
}

function recordError(stream, error) {
  if (error) {
    void error.stack;  // captured now, as Node does
    if (stream._errored === null) stream._errored = error;
  }
}

function destroy(error, callback) {
  if (this._s & S_DESTROYED) {
    if (typeof callback === "function") callback();
    return this;
  }
  recordError(this, error);
  this._s |= S_DESTROYED;
  if (!(this._s & S_CONSTRUCTED)) {
    this._destroyWaiter = (constructError) => runDestroy(this, aggregateTwoErrors(constructError, error), callback);
  } else {
    runDestroy(this, error, callback);
  }
  return this;
}

function runDestroy(stream, error, callback) {
  let called = false;
  function onDestroy(destroyError) {
    if (called) return;
    called = true;
    recordError(stream, destroyError);
    stream._s |= S_CLOSED;
    if (typeof callback === "function") callback(destroyError);
    if (destroyError) nextTick(emitErrorAndClose, stream, destroyError);
    else nextTick(emitClose, stream);
  }
  try {
    stream._destroy(error || null, onDestroy);
  } catch (thrown) {
    onDestroy(thrown);
  }
}

function emitErrorAndClose(stream, error) {
  emitError(stream, error);
  emitClose(stream);
}

function emitClose(stream) {
  stream._s |= S_CLOSE_EMITTED;
  if (stream._s & S_EMIT_CLOSE) stream.emit("close");
}

function emitError(stream, error) {
  if (stream._s & S_ERROR_EMITTED) return;
  stream._s |= S_ERROR_EMITTED;
  stream.emit("error", error);
}

function undestroy() {
  this._s = (this._s & ~(S_DESTROYED | S_CLOSED | S_CLOSE_EMITTED | S_ERROR_EMITTED)) | S_CONSTRUCTED;
  this._errored = null;
  if (this._r !== undefined) {
    this._r &= ~(R_READING | R_ENDED | R_END_EMITTED);
    if (this._r & R_DISABLED) this._r |= R_ENDED | R_END_EMITTED;
  }
  if (this._w !== undefined) {
    this._w &= ~(W_ENDED | W_ENDING | W_FINISHED | W_PREFINISHED | W_FINAL_CALLED);
    this._w |= W_ALL_BUFFERS | W_ALL_NOOP;
    if (this._w & W_DISABLED) this._w |= W_ENDED | W_ENDING | W_FINISHED;
    this._pendingcb = 0;
  }
}

// An error the stream reports about itself: it destroys the stream when
// autoDestroy is on, otherwise it only records and emits it.
export function errorOrDestroy(stream, error, sync) {
  const s = stream._s;
  if (s === undefined) {
    // Not one of ours: what Node does for userland streams.
    const r = stream._readableState;
    const w = stream._writableState;
    if ((w && w.destroyed) || (r && r.destroyed)) return;
    if ((r && r.autoDestroy) || (w && w.autoDestroy)) stream.destroy(error);
    else if (error) {
      if (sync) nextTick(() => stream.emit("error", error));
      else stream.emit("error", error);
    }
    return;
  }
  if (s & S_DESTROYED) return;
  if (s & S_AUTO_DESTROY) {
    stream.destroy(error);
  } else if (error) {
    recordError(stream, error);
    if (sync) nextTick(emitError, stream, error);
    else emitError(stream, error);
  }
}

// --- Readable -----------------------------------------------------------------------------

export function initReadable(stream, options, isDuplex) {
  // sync until the first read(): what is pushed before it is buffered.
  let r = R_SYNC;
  if (options) {
    if (options.objectMode || (isDuplex && options.readableObjectMode)) r |= R_OBJECT;
    const hwm = highWaterMarkOption(options, "readableHighWaterMark", isDuplex, r & R_OBJECT);
    if (hwm !== 16384) stream._rhwm = hwm;
    if (options.defaultEncoding != null) stream._rDefaultEncoding = checkedEncoding(options.defaultEncoding);
    if (options.encoding) {
      stream._decoder = new StringDecoder(options.encoding);
      stream._encoding = options.encoding;
    }
  } else if (defaultHighWaterMarkBytes !== 16384) {
    stream._rhwm = defaultHighWaterMarkBytes;
  }
  stream._r = r;
  stream._rlen = 0;
}

export function Readable(options) {
  if (!(this instanceof Readable)) return new Readable(options);
  const isDuplex = this instanceof Duplex;
  initReadable(this, options, isDuplex);
  if (!isDuplex) initCommon(this, options);
  if (options) {
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal && !isDuplex) addAbortSignalNoValidate(options.signal, this);
  }
  Stream.call(this, options);
  if (!isDuplex) startConstruct(this);
}
Object.setPrototypeOf(Readable.prototype, Stream.prototype);
Object.setPrototypeOf(Readable, Stream);

const RP = Readable.prototype;
RP._rhwm = 16384;
RP._rbuf = null;
RP._decoder = null;
RP._encoding = null;
RP._rDefaultEncoding = "utf8";
RP._errored = null;
RP._pipes = null;
RP._awaitDrain = null;
RP._destroyWaiter = null;

RP.destroy = destroy;
RP._undestroy = undestroy;
RP._destroy = function _destroy(error, callback) {
  callback(error);
};
RP[EventEmitter.captureRejectionSymbol] = function (error) {
  this.destroy(error);
};

RP.push = function push(chunk, encoding) {
  return addReadableChunk(this, chunk, encoding, false);
};

RP.unshift = function unshift(chunk, encoding) {
  return addReadableChunk(this, chunk, encoding, true);
};

// `settled`: the source's own reading is already under way (a socket's native
// reads), so the read(0) that maybeReadMore would run on the next tick could
// only mark a read in progress: mark it now instead of queueing a tick.
function addReadableChunk(stream, chunk, encoding, toFront, settled = false) {
  let r = stream._r;
  if (!(r & R_OBJECT) && chunk !== null) {
    if (typeof chunk === "string") {
      encoding = encoding || stream._rDefaultEncoding;
      if (stream._encoding !== encoding) {
        if (toFront && stream._encoding) {
          chunk = Buffer.from(chunk, encoding).toString(stream._encoding);
        } else {
          chunk = Buffer.from(chunk, encoding);
          encoding = "";
        }
      }
    } else if (chunk instanceof Buffer) {
      encoding = "";
    } else if (isArrayBufferView(chunk)) {
      chunk = toBuffer(chunk);
      encoding = "";
    } else if (chunk !== undefined) {
      errorOrDestroy(stream, ERR_INVALID_ARG_TYPE("chunk", ["string", "Buffer", "TypedArray", "DataView"], chunk));
      return false;
    }
  }
  let more = false;
  if (chunk === null) {
    stream._r &= ~R_READING;
    onEofChunk(stream);
  } else if ((r & R_OBJECT) || (chunk && chunk.length > 0)) {
    if (toFront) {
      if (r & R_END_EMITTED) {
        errorOrDestroy(stream, ERR_STREAM_UNSHIFT_AFTER_END_EVENT());
      } else if ((stream._s & S_DESTROYED) || stream._errored) {
        return false;
      } else {
        addChunk(stream, chunk, true);
        more = true;
      }
    } else if (r & R_ENDED) {
      errorOrDestroy(stream, ERR_STREAM_PUSH_AFTER_EOF());
    } else if ((stream._s & S_DESTROYED) || stream._errored) {
      return false;
    } else {
      stream._r &= ~R_READING;
      if (stream._decoder !== null && !encoding) {
        chunk = stream._decoder.write(chunk);
        if ((r & R_OBJECT) || chunk.length !== 0) addChunk(stream, chunk, false);
      } else {
        addChunk(stream, chunk, false);
      }
      more = true;
    }
  } else if (!toFront) {
    stream._r &= ~R_READING;
    more = true;
  }
  if (more) {
    if (settled) settleReadMore(stream);
    else maybeReadMore(stream);
  }
  r = stream._r;
  return !(r & R_ENDED) && (stream._rlen < stream._rhwm || stream._rlen === 0);
}

// push() for a source that reads on its own (the socket).
export function pushSettled(stream, chunk, encoding) {
  return addReadableChunk(stream, chunk, encoding, false, true);
}

export function addChunk(stream, chunk, toFront) {
  const r = stream._r;
  if ((r & R_FLOWING) && stream._rlen === 0 && !(r & R_SYNC) && stream.listenerCount("data") > 0) {
    clearAwaitDrain(stream);
    stream._r |= R_DATA_EMITTED;
    stream.emit("data", chunk);
  } else {
    stream._rlen += (r & R_OBJECT) ? 1 : chunk.length;
    const buffer = stream._rbuf ?? (stream._rbuf = []);
    if (toFront) buffer.unshift(chunk);
    else buffer.push(chunk);
    if (stream._r & R_NEED_READABLE) emitReadable(stream);
  }
}

function clearAwaitDrain(stream) {
  if (stream._r & R_MULTI_AWAIT_DRAIN) stream._awaitDrain.clear();
  else stream._awaitDrain = null;
}

function onEofChunk(stream) {
  if (stream._r & R_ENDED) return;
  const decoder = stream._decoder;
  if (decoder !== null) {
    const rest = decoder.end();
    if (rest && rest.length) {
      (stream._rbuf ?? (stream._rbuf = [])).push(rest);
      stream._rlen += (stream._r & R_OBJECT) ? 1 : rest.length;
    }
  }
  stream._r |= R_ENDED;
  if (stream._r & R_SYNC) {
    emitReadable(stream);
  } else {
    stream._r = (stream._r & ~R_NEED_READABLE) | R_EMITTED_READABLE;
    emitReadableNow(stream);
  }
}

function emitReadable(stream) {
  stream._r &= ~R_NEED_READABLE;
  if (!(stream._r & R_EMITTED_READABLE)) {
    stream._r |= R_EMITTED_READABLE;
    nextTick(emitReadableNow, stream);
  }
}

function emitReadableNow(stream) {
  let r = stream._r;
  if (!(stream._s & S_DESTROYED) && !stream._errored && (stream._rlen || (r & R_ENDED))) {
    stream.emit("readable");
    stream._r &= ~R_EMITTED_READABLE;
  }
  r = stream._r;
  if (!(r & R_FLOWING) && !(r & R_ENDED) && stream._rlen <= stream._rhwm) stream._r |= R_NEED_READABLE;
  else stream._r &= ~R_NEED_READABLE;
  flow(stream);
}

export function maybeReadMore(stream) {
  if (!(stream._r & R_READING_MORE) && (stream._s & S_CONSTRUCTED)) {
    stream._r |= R_READING_MORE;
    nextTick(readMore, stream);
  }
}

// The effect of readMore's read(0) when _read has nothing to start.
export function settleReadMore(stream) {
  const r = stream._r;
  if ((r & (R_READING_MORE | R_READING | R_ENDED)) || !(stream._s & S_CONSTRUCTED) ||
      !(stream._rlen < stream._rhwm || ((r & R_FLOWING) && stream._rlen === 0))) {
    if ((r & R_READING_MORE) || !(stream._s & S_CONSTRUCTED)) maybeReadMore(stream);
    return;
  }
  if (!(stream._s & S_DESTROYED) && !stream._errored) stream._r |= R_READING;
  stream._r |= R_NEED_READABLE;
}

function readMore(stream) {
  for (;;) {
    const r = stream._r;
    if ((r & (R_READING | R_ENDED)) ||
        !(stream._rlen < stream._rhwm || ((r & R_FLOWING) && stream._rlen === 0))) {
      break;
    }
    const length = stream._rlen;
    stream.read(0);
    if (length === stream._rlen) break;
  }
  stream._r &= ~R_READING_MORE;
}

function flow(stream) {
  while ((stream._r & R_FLOWING) && stream.read() !== null);
}

const kMaxHighWaterMark = 0x40000000;

function raisedHighWaterMark(n) {
  if (n > kMaxHighWaterMark) throw ERR_OUT_OF_RANGE("size", "<= 1GiB", n);
  n--;
  n |= n >>> 1;
  n |= n >>> 2;
  n |= n >>> 4;
  n |= n >>> 8;
  n |= n >>> 16;
  return n + 1;
}

function howMuchToRead(stream, n) {
  const r = stream._r;
  if (n <= 0 || (stream._rlen === 0 && (r & R_ENDED))) return 0;
  if (r & R_OBJECT) return 1;
  if (Number.isNaN(n)) {
    if ((r & R_FLOWING) && stream._rlen) return stream._rbuf[0].length;
    return stream._rlen;
  }
  if (n <= stream._rlen) return n;
  return (r & R_ENDED) ? stream._rlen : 0;
}

RP.read = function read(n) {
  if (n === undefined) n = NaN;
  else if (!Number.isInteger(n)) n = Number.parseInt(n, 10);
  const nOrig = n;
  if (n > this._rhwm) this._rhwm = raisedHighWaterMark(n);
  if (n !== 0) this._r &= ~R_EMITTED_READABLE;
  let r = this._r;
  if (n === 0 && (r & R_NEED_READABLE) &&
      ((this._rhwm !== 0 ? this._rlen >= this._rhwm : this._rlen > 0) || (r & R_ENDED))) {
    if (this._rlen === 0 && (r & R_ENDED)) endReadable(this);
    else emitReadable(this);
    return null;
  }
  n = howMuchToRead(this, n);
  if (n === 0 && (r & R_ENDED)) {
    if (this._rlen === 0) endReadable(this);
    return null;
  }
  let doRead = (r & R_NEED_READABLE) !== 0;
  if (this._rlen === 0 || this._rlen - n < this._rhwm) doRead = true;
  if ((r & (R_ENDED | R_READING)) || (this._s & S_DESTROYED) || this._errored || !(this._s & S_CONSTRUCTED)) {
    doRead = false;
  } else if (doRead) {
    this._r |= R_READING | R_SYNC;
    if (this._rlen === 0) this._r |= R_NEED_READABLE;
    try {
      this._read(this._rhwm);
    } catch (error) {
      errorOrDestroy(this, error);
    }
    this._r &= ~R_SYNC;
    if (!(this._r & R_READING)) n = howMuchToRead(this, nOrig);
  }
  let ret = n > 0 ? fromBuffer(this, n) : null;
  if (ret === null) {
    if (this._rlen <= this._rhwm) this._r |= R_NEED_READABLE;
    else this._r &= ~R_NEED_READABLE;
    n = 0;
  } else {
    this._rlen -= n;
    clearAwaitDrain(this);
  }
  r = this._r;
  if (this._rlen === 0) {
    if (!(r & R_ENDED)) this._r |= R_NEED_READABLE;
    if (nOrig !== n && (r & R_ENDED)) endReadable(this);
  }
  if (ret !== null && !(this._s & (S_ERROR_EMITTED | S_CLOSE_EMITTED))) {
    this._r |= R_DATA_EMITTED;
    this.emit("data", ret);
  }
  return ret;
};

// Takes n units (bytes, characters or one object) from the front of the buffer.
function fromBuffer(stream, n) {
  if (stream._rlen === 0) return null;
  const buffer = stream._rbuf;
  if (stream._r & R_OBJECT) return buffer.shift();
  let ret;
  if (!n || n >= stream._rlen) {
    if (stream._decoder !== null) ret = buffer.length === 1 ? buffer[0] : buffer.join("");
    else if (buffer.length === 1) ret = buffer[0];
    else ret = Buffer.concat(buffer, stream._rlen);
    buffer.length = 0;
    return ret;
  }
  const first = buffer[0];
  if (n < first.length) {
    buffer[0] = first.slice(n);
    return first.slice(0, n);
  }
  if (n === first.length) return buffer.shift();
  if (typeof first === "string") {
    ret = "";
    while (n > 0) {
      const chunk = buffer[0];
      if (n >= chunk.length) {
        ret += chunk;
        n -= chunk.length;
        buffer.shift();
      } else {
        ret += chunk.slice(0, n);
        buffer[0] = chunk.slice(n);
        n = 0;
      }
    }
    return ret;
  }
  ret = Buffer.allocUnsafe(n);
  let offset = 0;
  while (offset < n) {
    const chunk = buffer[0];
    const want = n - offset;
    if (want >= chunk.length) {
      ret.set(chunk, offset);
      offset += chunk.length;
      buffer.shift();
    } else {
      ret.set(chunk.subarray(0, want), offset);
      buffer[0] = chunk.slice(want);
      offset = n;
    }
  }
  return ret;
}

function endReadable(stream) {
  if (!(stream._r & R_END_EMITTED)) {
    stream._r |= R_ENDED;
    nextTick(endReadableNow, stream);
  }
}

function endReadableNow(stream) {
  if (stream._errored || (stream._s & S_CLOSE_EMITTED) || (stream._r & R_END_EMITTED) || stream._rlen !== 0) return;
  stream._r |= R_END_EMITTED;
  stream.emit("end");
  if (stream.writable && stream.allowHalfOpen === false) {
    nextTick(endWritableAfterEnd, stream);
  } else if (stream._s & S_AUTO_DESTROY) {
    const w = stream._w;
    if (w === undefined || (w & (W_FINISHED | W_DISABLED))) stream.destroy();
  }
}

function endWritableAfterEnd(stream) {
  if (stream.writable && !stream.writableEnded && !stream.destroyed) stream.end();
}

RP._read = function _read() {
  throw ERR_METHOD_NOT_IMPLEMENTED("_read()");
};

RP.isPaused = function isPaused() {
  const r = this._r;
  return (r & (R_PAUSED_SET | R_PAUSED)) === (R_PAUSED_SET | R_PAUSED) || (r & R_FLOWING_BITS) === R_FLOWING_SET;
};

RP.setEncoding = function setEncoding(encoding) {
  const decoder = new StringDecoder(encoding);
  this._decoder = decoder;
  this._encoding = decoder.encoding;
  let content = "";
  const buffer = this._rbuf;
  if (buffer !== null) {
    for (const chunk of buffer) content += decoder.write(chunk);
    buffer.length = 0;
    if (content !== "") buffer.push(content);
  }
  this._rlen = content.length;
  return this;
};

RP.on = function on(event, listener) {
  const result = Stream.prototype.on.call(this, event, listener);
  if (event === "data") {
    if (this.listenerCount("readable") > 0) this._r |= R_READABLE_LISTENING;
    else this._r &= ~R_READABLE_LISTENING;
    if ((this._r & R_FLOWING_BITS) !== R_FLOWING_SET) this.resume();
  } else if (event === "readable") {
    const r = this._r;
    if (!(r & (R_END_EMITTED | R_READABLE_LISTENING))) {
      this._r = ((r | R_READABLE_LISTENING | R_NEED_READABLE | R_FLOWING_SET) & ~(R_FLOWING | R_EMITTED_READABLE));
      if (this._rlen) emitReadable(this);
      else if (!(r & R_READING)) nextTick(readZero, this);
    }
  }
  return result;
};
RP.addListener = RP.on;

function readZero(stream) {
  stream.read(0);
}

RP.removeListener = function removeListener(event, listener) {
  const result = Stream.prototype.removeListener.call(this, event, listener);
  if (event === "readable") nextTick(updateReadableListening, this);
  return result;
};
RP.off = RP.removeListener;

RP.removeAllListeners = function removeAllListeners(event) {
  const result = Stream.prototype.removeAllListeners.apply(this, arguments);
  if (event === "readable" || event === undefined) nextTick(updateReadableListening, this);
  return result;
};

function updateReadableListening(stream) {
  if (stream.listenerCount("readable") > 0) stream._r |= R_READABLE_LISTENING;
  else stream._r &= ~R_READABLE_LISTENING;
  const r = stream._r;
  if ((r & R_RESUME_SCHEDULED) && (r & (R_PAUSED_SET | R_PAUSED)) === R_PAUSED_SET) {
    stream._r |= R_FLOWING_BITS;
  } else if (stream.listenerCount("data") > 0) {
    stream.resume();
  } else if (!(r & R_READABLE_LISTENING)) {
    stream._r &= ~R_FLOWING_BITS;
  }
}

RP.resume = function resume() {
  const r = this._r;
  if (!(r & R_FLOWING)) {
    // Flowing unless someone listens for 'readable'.
    this._r = (r & R_READABLE_LISTENING) ? (r | R_FLOWING_SET) & ~R_FLOWING : r | R_FLOWING_BITS;
    if (!(this._r & R_RESUME_SCHEDULED)) {
      this._r |= R_RESUME_SCHEDULED;
      nextTick(resumeNow, this);
    }
  }
  this._r = (this._r | R_PAUSED_SET) & ~R_PAUSED;
  return this;
};

function resumeNow(stream) {
  if (!(stream._r & R_READING)) stream.read(0);
  stream._r &= ~R_RESUME_SCHEDULED;
  stream.emit("resume");
  flow(stream);
  if ((stream._r & R_FLOWING) && !(stream._r & R_READING)) stream.read(0);
}

RP.pause = function pause() {
  if ((this._r & R_FLOWING_BITS) !== R_FLOWING_SET) {
    this._r = (this._r | R_FLOWING_SET) & ~R_FLOWING;
    this.emit("pause");
  }
  this._r |= R_PAUSED_SET | R_PAUSED;
  return this;
};

RP.unpipe = function unpipe(dest) {
  const pipes = this._pipes;
  if (pipes === null || pipes.length === 0) return this;
  if (!dest) {
    const dests = pipes.slice();
    pipes.length = 0;
    this.pause();
    for (const d of dests) d.emit("unpipe", this, { hasUnpiped: false });
    return this;
  }
  const index = pipes.indexOf(dest);
  if (index === -1) return this;
  pipes.splice(index, 1);
  if (pipes.length === 0) this.pause();
  dest.emit("unpipe", this, { hasUnpiped: false });
  return this;
};

function defineGetters(proto, getters) {
  for (const [name, spec] of Object.entries(getters)) {
    const descriptor = typeof spec === "function" ? { get: spec } : spec;
    Object.defineProperty(proto, name, { enumerable: false, configurable: true, ...descriptor });
  }
}

// The state both sides share (a Duplex has one), on Readable.prototype and
// Writable.prototype alike, as in Node.
const stateGetters = {
  closed() {
    return this._s !== undefined ? (this._s & S_CLOSED) !== 0 : false;
  },
  destroyed: {
    get() {
      return this._s !== undefined ? (this._s & S_DESTROYED) !== 0 : false;
    },
    set(value) {
      if (this._s === undefined) return;
      if (value) this._s |= S_DESTROYED;
      else this._s &= ~S_DESTROYED;
    },
  },
};

defineGetters(RP, {
  readable: {
    get() {
      const r = this._r;
      return r !== undefined && !(r & (R_DISABLED | R_END_EMITTED)) && !(this._s & (S_DESTROYED | S_ERROR_EMITTED));
    },
    set(value) {
      if (this._r !== undefined) {
        if (value) this._r &= ~R_DISABLED;
        else this._r |= R_DISABLED;
      }
    },
  },
  readableDidRead() {
    return (this._r & R_DATA_EMITTED) !== 0;
  },
  readableAborted() {
    return !(this._r & R_DISABLED) && ((this._s & S_DESTROYED) !== 0 || !!this._errored) && !(this._r & R_END_EMITTED);
  },
  readableHighWaterMark() {
    return this._r !== undefined ? this._rhwm : undefined;
  },
  readableBuffer() {
    return this._r !== undefined ? (this._rbuf ?? (this._rbuf = [])) : undefined;
  },
  readableFlowing: {
    get() {
      const r = this._r;
      if (r === undefined) return undefined;
      return (r & R_FLOWING_SET) ? (r & R_FLOWING) !== 0 : null;
    },
    set(value) {
      if (this._r === undefined) return;
      if (value === null || value === undefined) this._r &= ~R_FLOWING_BITS;
      else if (value) this._r |= R_FLOWING_BITS;
      else this._r = (this._r | R_FLOWING_SET) & ~R_FLOWING;
    },
  },
  readableLength() {
    return this._r !== undefined ? this._rlen : undefined;
  },
  readableObjectMode() {
    return this._r !== undefined ? (this._r & R_OBJECT) !== 0 : false;
  },
  readableEncoding() {
    return this._r !== undefined ? this._encoding : null;
  },
  errored() {
    return this._s !== undefined ? this._errored : null;
  },
  ...stateGetters,
  readableEnded() {
    return this._r !== undefined ? (this._r & R_END_EMITTED) !== 0 : false;
  },
});

// --- Writable -----------------------------------------------------------------------------

export function initWritable(stream, options, isDuplex) {
  let w = W_DECODE_STRINGS | W_SYNC | W_ALL_BUFFERS | W_ALL_NOOP;
  if (options) {
    if (options.objectMode || (isDuplex && options.writableObjectMode)) w |= W_OBJECT;
    const hwm = highWaterMarkOption(options, "writableHighWaterMark", isDuplex, w & W_OBJECT);
    if (hwm !== 16384) stream._whwm = hwm;
    if (options.decodeStrings === false) w &= ~W_DECODE_STRINGS;
    if (options.defaultEncoding != null) stream._wDefaultEncoding = checkedEncoding(options.defaultEncoding);
  } else if (defaultHighWaterMarkBytes !== 16384) {
    stream._whwm = defaultHighWaterMarkBytes;
  }
  stream._w = w;
  stream._wlen = 0;
  stream._pendingcb = 0;
}

export function Writable(options) {
  const isDuplex = this instanceof Duplex;
  if (!isDuplex && !Function.prototype[Symbol.hasInstance].call(Writable, this)) return new Writable(options);
  initWritable(this, options, isDuplex);
  if (!isDuplex) initCommon(this, options);
  if (options) {
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignalNoValidate(options.signal, this);
  }
  Stream.call(this, options);
  if (!isDuplex) startConstruct(this);
}
Object.setPrototypeOf(Writable.prototype, Stream.prototype);
Object.setPrototypeOf(Writable, Stream);

Object.defineProperty(Writable, Symbol.hasInstance, {
  value: function (object) {
    if (Function.prototype[Symbol.hasInstance].call(this, object)) return true;
    if (this !== Writable) return false;
    return !!object && object[kIsWritable] === true;
  },
});

const WP = Writable.prototype;
WP[kIsWritable] = true;
WP._whwm = 16384;
WP._wDefaultEncoding = "utf8";
WP._corked = 0;
WP._wbuf = null;
WP._wbufIndex = 0;
WP._writecb = null;
WP._writelen = 0;
WP._afterWriteTick = null;
WP._onFinished = null;
WP._onwrite = null;
WP._errored = null;
WP._destroyWaiter = null;
WP._writev = null;

WP.pipe = function pipe() {
  errorOrDestroy(this, makeCannotPipe());
};

function makeCannotPipe() {
  const error = new Error("Cannot pipe, not readable");
  error.code = "ERR_STREAM_CANNOT_PIPE";
  return error;
}

// Validates and normalises a write; returns true, false, or the error that
// refused it (end() needs to know).
export function writeChunk(stream, chunk, encoding, callback) {
  if (typeof encoding === "function") {
    callback = encoding;
    encoding = null;
  }
  if (typeof callback !== "function") callback = nop;
  const w = stream._w;
  if (chunk === null) throw ERR_STREAM_NULL_VALUES();
  if (!(w & W_OBJECT)) {
    // Object mode passes the encoding through as given.
    if (!encoding) encoding = stream._wDefaultEncoding;
    else if (encoding !== "buffer" && !Buffer.isEncoding(encoding)) throw ERR_UNKNOWN_ENCODING(encoding);
    if (typeof chunk === "string") {
      if (w & W_DECODE_STRINGS) {
        chunk = Buffer.from(chunk, encoding);
        encoding = "buffer";
      }
    } else if (chunk instanceof Buffer) {
      encoding = "buffer";
    } else if (isArrayBufferView(chunk)) {
      chunk = toBuffer(chunk);
      encoding = "buffer";
    } else {
      throw ERR_INVALID_ARG_TYPE("chunk", ["string", "Buffer", "TypedArray", "DataView"], chunk);
    }
  }
  let error;
  if (w & W_ENDING) error = ERR_STREAM_WRITE_AFTER_END();
  else if (stream._s & S_DESTROYED) error = ERR_STREAM_DESTROYED("write");
  if (error) {
    nextTick(callback, error);
    errorOrDestroy(stream, error, true);
    return error;
  }
  stream._pendingcb++;
  return writeOrBuffer(stream, chunk, encoding, callback);
}

// write() returns whether the buffer is below the high-water mark once the
// chunk was handed to _write: a chunk written synchronously does not count.
function writeOrBuffer(stream, chunk, encoding, callback) {
  const len = (stream._w & W_OBJECT) ? 1 : chunk.length;
  stream._wlen += len;
  const w = stream._w;
  if ((w & W_WRITING) || stream._corked || stream._errored || !(stream._s & S_CONSTRUCTED)) {
    (stream._wbuf ?? (stream._wbuf = [])).push({ chunk, encoding, callback });
    if (encoding !== "buffer") stream._w &= ~W_ALL_BUFFERS;
    if (callback !== nop) stream._w &= ~W_ALL_NOOP;
  } else {
    stream._writelen = len;
    stream._writecb = callback;
    stream._w |= W_WRITING | W_SYNC;
    stream._write(chunk, encoding, onwriteOf(stream));
    stream._w &= ~W_SYNC;
  }
  const ret = stream._wlen < stream._whwm;
  if (!ret) stream._w |= W_NEED_DRAIN;
  return ret && !stream._errored && !(stream._s & S_DESTROYED);
}

export function onwriteOf(stream) {
  return stream._onwrite ?? (stream._onwrite = (error) => onwrite(stream, error));
}

function doWrite(stream, writev, len, chunk, encoding, callback) {
  stream._writelen = len;
  stream._writecb = callback;
  stream._w |= W_WRITING | W_SYNC;
  if (stream._s & S_DESTROYED) onwrite(stream, ERR_STREAM_DESTROYED("write"));
  else if (writev) stream._writev(chunk, onwriteOf(stream));
  else stream._write(chunk, encoding, onwriteOf(stream));
  stream._w &= ~W_SYNC;
}

// The write in progress finished (sync: during the _write call itself).
export function onwrite(stream, error) {
  const sync = (stream._w & W_SYNC) !== 0;
  const callback = stream._writecb;
  if (typeof callback !== "function") {
    errorOrDestroy(stream, ERR_MULTIPLE_CALLBACK());
    return;
  }
  stream._w &= ~W_WRITING;
  stream._writecb = null;
  stream._wlen -= stream._writelen;
  stream._writelen = 0;
  if (error) {
    void error.stack;
    if (stream._errored === null) stream._errored = error;
    if (sync) nextTick(onwriteError, stream, error, callback);
    else onwriteError(stream, error, callback);
  } else {
    if (stream._wbuf !== null && stream._wbuf.length > stream._wbufIndex) clearBuffer(stream);
    if (!sync) afterWrite(stream, 1, callback);
    else if (callback === nop) stream._pendingcb--;  // nothing to call back: no tick
    else scheduleAfterWrite(stream, callback);
  }
}

// Consecutive synchronous writes with the same callback share one tick.
export function scheduleAfterWrite(stream, callback) {
  const pending = stream._afterWriteTick;
  if (pending !== null && pending.callback === callback) {
    pending.count++;
  } else {
    const info = { count: 1, callback, stream };
    stream._afterWriteTick = info;
    nextTick(afterWriteTick, info);
  }
}

function afterWriteTick(info) {
  info.stream._afterWriteTick = null;
  afterWrite(info.stream, info.count, info.callback);
}

function onwriteError(stream, error, callback) {
  --stream._pendingcb;
  callback(error);
  errorBuffer(stream);
  errorOrDestroy(stream, error);
}

// 'drain' comes before the callbacks of the writes that emptied the buffer.
export function afterWrite(stream, count, callback) {
  if (!(stream._w & W_ENDING) && !(stream._s & S_DESTROYED) && stream._wlen === 0 && (stream._w & W_NEED_DRAIN)) {
    stream._w &= ~W_NEED_DRAIN;
    stream.emit("drain");
  }
  while (count-- > 0) {
    stream._pendingcb--;
    callback(null);
  }
  if (stream._s & S_DESTROYED) errorBuffer(stream);
  finishMaybe(stream);
}

// Fails every buffered write and end() callback of a destroyed stream.
export function errorBuffer(stream) {
  if (stream._w & W_WRITING) return;
  const buffer = stream._wbuf;
  if (buffer !== null) {
    for (let i = stream._wbufIndex; i < buffer.length; i++) {
      const { chunk, callback } = buffer[i];
      stream._wlen -= (stream._w & W_OBJECT) ? 1 : chunk.length;
      callback(stream._errored ?? ERR_STREAM_DESTROYED("write"));
    }
  }
  const finished = stream._onFinished;
  if (finished !== null && finished.length) {
    const callbacks = finished.splice(0);
    for (const callback of callbacks) callback(stream._errored ?? ERR_STREAM_DESTROYED("end"));
  }
  resetBuffer(stream);
}

function resetBuffer(stream) {
  if (stream._wbuf !== null) stream._wbuf = [];
  stream._wbufIndex = 0;
  stream._w |= W_ALL_BUFFERS | W_ALL_NOOP;
}

export function clearBuffer(stream) {
  if (stream._corked || (stream._w & W_BUFFER_PROCESSING) || (stream._s & S_DESTROYED) ||
      !(stream._s & S_CONSTRUCTED)) {
    return;
  }
  const buffer = stream._wbuf;
  if (buffer === null) return;
  const objectMode = (stream._w & W_OBJECT) !== 0;
  const count = buffer.length - stream._wbufIndex;
  if (!count) return;
  let i = stream._wbufIndex;
  stream._w |= W_BUFFER_PROCESSING;
  if (count > 1 && stream._writev) {
    stream._pendingcb -= count - 1;
    const callback = (stream._w & W_ALL_NOOP) ? nop : (error) => {
      for (let n = i; n < buffer.length; ++n) buffer[n].callback(error);
    };
    const chunks = (stream._w & W_ALL_NOOP) && i === 0 ? buffer : buffer.slice(i);
    chunks.allBuffers = (stream._w & W_ALL_BUFFERS) !== 0;
    doWrite(stream, true, stream._wlen, chunks, "", callback);
    resetBuffer(stream);
  } else {
    do {
      const { chunk, encoding, callback } = buffer[i];
      buffer[i++] = null;
      doWrite(stream, false, objectMode ? 1 : chunk.length, chunk, encoding, callback);
    } while (i < buffer.length && !(stream._w & W_WRITING));
    if (i === buffer.length) {
      resetBuffer(stream);
    } else if (i > 256) {
      buffer.splice(0, i);
      stream._wbufIndex = 0;
    } else {
      stream._wbufIndex = i;
    }
  }
  stream._w &= ~W_BUFFER_PROCESSING;
}

WP.write = function write(chunk, encoding, callback) {
  return writeChunk(this, chunk, encoding, callback) === true;
};

WP.cork = function cork() {
  this._corked++;
};

WP.uncork = function uncork() {
  if (this._corked) {
    this._corked--;
    if (!(this._w & W_WRITING)) clearBuffer(this);
  }
};

WP.setDefaultEncoding = function setDefaultEncoding(encoding) {
  if (typeof encoding === "string") encoding = encoding.toLowerCase();
  if (!Buffer.isEncoding(encoding)) throw ERR_UNKNOWN_ENCODING(encoding);
  this._wDefaultEncoding = encoding;
  return this;
};

WP._write = function _write(chunk, encoding, callback) {
  if (this._writev) this._writev([{ chunk, encoding }], callback);
  else throw ERR_METHOD_NOT_IMPLEMENTED("_write()");
};

WP.end = function end(chunk, encoding, callback) {
  if (typeof chunk === "function") {
    callback = chunk;
    chunk = null;
    encoding = null;
  } else if (typeof encoding === "function") {
    callback = encoding;
    encoding = null;
  }
  let error;
  if (chunk !== null && chunk !== undefined) {
    const ret = writeChunk(this, chunk, encoding);
    if (ret instanceof Error) error = ret;
  }
  if (this._corked) {
    this._corked = 1;
    this.uncork();
  }
  if (error) {
    // Already reported by the write.
  } else if (!this._errored && !(this._w & W_ENDING)) {
    this._w |= W_ENDING;
    finishMaybe(this);
    this._w |= W_ENDED;
  } else if (this._w & W_FINISHED) {
    error = ERR_STREAM_ALREADY_FINISHED("end");
  } else if (this._s & S_DESTROYED) {
    error = ERR_STREAM_DESTROYED("end");
  }
  if (typeof callback === "function") {
    if (error || (this._w & W_FINISHED)) nextTick(callback, error);
    else if (this._errored) nextTick(callback, this._errored);
    else (this._onFinished ?? (this._onFinished = [])).push(callback);
  }
  return this;
};

export function needFinish(stream) {
  const w = stream._w;
  return (w & W_ENDING) !== 0 && !(stream._s & (S_DESTROYED | S_ERROR_EMITTED | S_CLOSE_EMITTED)) &&
    (stream._s & S_CONSTRUCTED) !== 0 && stream._wlen === 0 && !stream._errored &&
    (stream._wbuf === null || stream._wbuf.length === 0) && !(w & (W_FINISHED | W_WRITING));
}

function callFinal(stream) {
  let called = false;
  function onFinish(error) {
    if (called) {
      errorOrDestroy(stream, error ?? ERR_MULTIPLE_CALLBACK());
      return;
    }
    called = true;
    stream._pendingcb--;
    if (error) {
      const callbacks = stream._onFinished ? stream._onFinished.splice(0) : [];
      for (const callback of callbacks) callback(error);
      errorOrDestroy(stream, error, (stream._w & W_SYNC) !== 0);
    } else if (needFinish(stream)) {
      stream._w |= W_PREFINISHED;
      stream.emit("prefinish");
      stream._pendingcb++;
      nextTick(finish, stream);
    }
  }
  stream._w |= W_SYNC;
  stream._pendingcb++;
  try {
    stream._final(onFinish);
  } catch (error) {
    onFinish(error);
  }
  stream._w &= ~W_SYNC;
}

function prefinish(stream) {
  const w = stream._w;
  if (!(w & (W_PREFINISHED | W_FINAL_CALLED))) {
    if (typeof stream._final === "function" && !(stream._s & S_DESTROYED)) {
      stream._w |= W_FINAL_CALLED;
      callFinal(stream);
    } else {
      stream._w |= W_PREFINISHED;
      stream.emit("prefinish");
    }
  }
}

// 'finish' always comes on a later tick than what made it due.
export function finishMaybe(stream) {
  if (!needFinish(stream)) return;
  prefinish(stream);
  if (stream._pendingcb === 0) {
    stream._pendingcb++;
    nextTick(finishIfNeeded, stream);
  }
}

function finishIfNeeded(stream) {
  if (needFinish(stream)) finish(stream);
  else stream._pendingcb--;
}

function finish(stream) {
  stream._pendingcb--;
  stream._w |= W_FINISHED;
  const finished = stream._onFinished;
  if (finished !== null && finished.length) {
    const callbacks = finished.splice(0);
    for (const callback of callbacks) callback();
  }
  stream.emit("finish");
  if (stream._s & S_AUTO_DESTROY) {
    const r = stream._r;
    if (r === undefined || (r & (R_END_EMITTED | R_DISABLED))) stream.destroy();
  }
}

WP.destroy = function (error, callback) {
  if (!(this._s & S_DESTROYED) &&
      ((this._wbuf !== null && this._wbufIndex < this._wbuf.length) || (this._onFinished !== null && this._onFinished.length))) {
    nextTick(errorBuffer, this);
  }
  destroy.call(this, error, callback);
  return this;
};
WP._undestroy = undestroy;
WP._destroy = function _destroy(error, callback) {
  callback(error);
};
WP[EventEmitter.captureRejectionSymbol] = function (error) {
  this.destroy(error);
};

const writableGetters = {
  ...stateGetters,
  writable: {
    get() {
      const w = this._w;
      return w !== undefined && !(w & (W_DISABLED | W_ENDING | W_ENDED)) && !(this._s & S_DESTROYED) && !this._errored;
    },
    set(value) {
      if (this._w !== undefined) {
        if (value) this._w &= ~W_DISABLED;
        else this._w |= W_DISABLED;
      }
    },
  },
  writableFinished() {
    return this._w !== undefined ? (this._w & W_FINISHED) !== 0 : false;
  },
  writableObjectMode() {
    return this._w !== undefined ? (this._w & W_OBJECT) !== 0 : false;
  },
  writableBuffer() {
    return this._w !== undefined ? (this._wbuf ?? []).slice(this._wbufIndex) : undefined;
  },
  writableEnded() {
    return this._w !== undefined ? (this._w & W_ENDING) !== 0 : false;
  },
  writableNeedDrain() {
    const w = this._w;
    if (w === undefined) return false;
    return !(this._s & S_DESTROYED) && !(w & W_ENDING) && (w & W_NEED_DRAIN) !== 0;
  },
  writableHighWaterMark() {
    return this._w !== undefined ? this._whwm : undefined;
  },
  writableCorked() {
    return this._w !== undefined ? this._corked : 0;
  },
  writableLength() {
    return this._w !== undefined ? this._wlen : undefined;
  },
  errored() {
    return this._s !== undefined ? this._errored : null;
  },
  writableAborted() {
    const w = this._w;
    return !(w & W_DISABLED) && ((this._s & S_DESTROYED) !== 0 || !!this._errored) && !(w & W_FINISHED);
  },
};
defineGetters(WP, writableGetters);

// --- Duplex ------------------------------------------------------------------------------

export function Duplex(options) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  initReadable(this, options, true);
  initWritable(this, options, true);
  initCommon(this, options);
  if (options) {
    this.allowHalfOpen = options.allowHalfOpen !== false;
    if (options.readable === false) this._r |= R_DISABLED | R_ENDED | R_END_EMITTED;
    if (options.writable === false) this._w |= W_DISABLED | W_ENDING | W_ENDED | W_FINISHED;
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignalNoValidate(options.signal, this);
  } else {
    this.allowHalfOpen = true;
  }
  Stream.call(this, options);
  startConstruct(this);
}
Object.setPrototypeOf(Duplex.prototype, Readable.prototype);
Object.setPrototypeOf(Duplex, Readable);

const DP = Duplex.prototype;
for (const name of ["write", "cork", "uncork", "setDefaultEncoding", "_write", "_writev", "end", "writable",
  "writableHighWaterMark", "writableObjectMode", "writableBuffer", "writableLength", "writableFinished",
  "writableCorked", "writableEnded", "writableNeedDrain"]) {
  Object.defineProperty(DP, name, Object.getOwnPropertyDescriptor(WP, name));
}
// Prototype defaults of the writable side's fields.
for (const name of ["_whwm", "_wDefaultEncoding", "_corked", "_wbuf", "_wbufIndex", "_writecb", "_writelen",
  "_afterWriteTick", "_onFinished", "_onwrite"]) {
  DP[name] = WP[name];
}
DP[kIsWritable] = true;
DP.destroy = WP.destroy;
defineGetters(DP, { destroyed: stateGetters.destroyed });

// --- what few workers use, loaded when first needed -------------------------------------------

// pipe(), async iteration, finished() and the state views live in
// stream_lazy.js: compiled the first time one of them is used (or when a
// module imports node:stream), not at every worker's start.
let lazyParts = null;
export function lazy() {
  return lazyParts ?? (lazyParts = native.loadInternal("stream_lazy.js"));
}

RP.pipe = function pipe(dest, pipeOptions) {
  return lazy().pipe(this, dest, pipeOptions);
};

RP[Symbol.asyncIterator] = function () {
  return lazy().streamToAsyncIterator(this);
};

RP.iterator = function iterator(options) {
  return lazy().iterator(this, options);
};

Object.defineProperty(RP, "_readableState", {
  get() {
    return this._r === undefined ? undefined : lazy().readableView(this);
  },
  set(value) {
    Object.defineProperty(this, "_readableState", { value, writable: true, configurable: true });
  },
  configurable: true,
});
Object.defineProperty(WP, "_writableState", {
  get() {
    return this._w === undefined ? undefined : lazy().writableView(this);
  },
  set(value) {
    Object.defineProperty(this, "_writableState", { value, writable: true, configurable: true });
  },
  configurable: true,
});
Object.defineProperty(DP, "_writableState", Object.getOwnPropertyDescriptor(WP, "_writableState"));

export function addAbortSignalNoValidate(signal, stream) {
  return lazy().addAbortSignalNoValidate(signal, stream);
}
