// The rest of node:stream, loaded only when a handler imports node:stream
// (or node:zlib): Transform, PassThrough, pipeline, compose, Readable.from,
// Duplex.from, duplexPair, the Readable helpers (map, filter, toArray, ...)
// and the promise forms. Built on stream_core.js, which conn already uses.
import { Buffer } from "./buffer.js";
import { withResolvers } from "./promise_resolvers.js";
import { EventEmitter } from "./events.js";
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_MISSING_ARGS, ERR_OUT_OF_RANGE } from "./errors.js";
import { makeError } from "./errors.js";
import {
  AbortError,
  ERR_INVALID_RETURN_VALUE,
  ERR_METHOD_NOT_IMPLEMENTED,
  ERR_STREAM_DESTROYED,
  ERR_STREAM_NULL_VALUES,
  ERR_STREAM_PREMATURE_CLOSE,
} from "./stream_errors.js";
import {
  Duplex,
  R_SYNC,
  Readable,
  Stream,
  Writable,
  aggregateTwoErrors,
  errorOrDestroy,
  getDefaultHighWaterMark,
  nextTick,
  nop,
  prependListener,
  setDefaultHighWaterMark,
} from "./stream_core.js";
import {
  addAbortSignalNoValidate,
  destroyer,
  eos,
  isDestroyed,
  isIterable,
  isNodeStream,
  isReadable,
  isReadableFinished,
  isReadableNodeStream,
  isWritable,
  isWritableNodeStream,
  kIsDisturbed,
  kIsErrored,
  validateObject,
} from "./stream_lazy.js";

function validateFunction(value, name) {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, "Function", value);
}

function validateOperatorFunction(value, name) {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, ["Function", "AsyncFunction"], value);
}

function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, "AbortSignal", signal);
  }
}

function validateInteger(value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
}

function once(callback) {
  let called = false;
  return function (...args) {
    if (called) return;
    called = true;
    return Reflect.apply(callback, this, args);
  };
}


// --- what only node:stream needs of the core --------------------------------------------------

// The old pipe, for Stream subclasses that are not Readables.
Stream.prototype.pipe = function pipe(dest, options) {
  const source = this;
  function ondata(chunk) {
    if (dest.writable && dest.write(chunk) === false && source.pause) source.pause();
  }
  source.on("data", ondata);
  function ondrain() {
    if (source.readable && source.resume) source.resume();
  }
  dest.on("drain", ondrain);
  let didOnEnd = false;
  function onend() {
    if (didOnEnd) return;
    didOnEnd = true;
    dest.end();
  }
  function onclose() {
    if (didOnEnd) return;
    didOnEnd = true;
    if (typeof dest.destroy === "function") dest.destroy();
  }
  if (!dest._isStdio && (!options || options.end !== false)) {
    source.on("end", onend);
    source.on("close", onclose);
  }
  function onerror(error) {
    cleanup();
    if (EventEmitter.listenerCount(this, "error") === 0) this.emit("error", error);
  }
  prependListener(source, "error", onerror);
  prependListener(dest, "error", onerror);
  function cleanup() {
    source.removeListener("data", ondata);
    dest.removeListener("drain", ondrain);
    source.removeListener("end", onend);
    source.removeListener("close", onclose);
    source.removeListener("error", onerror);
    dest.removeListener("error", onerror);
    source.removeListener("end", cleanup);
    source.removeListener("close", cleanup);
    dest.removeListener("close", cleanup);
  }
  source.on("end", cleanup);
  source.on("close", cleanup);
  dest.on("close", cleanup);
  dest.emit("pipe", source);
  return dest;
};


// Wraps an old-style stream (data/end events, pause/resume) as a Readable.
Readable.prototype.wrap = function wrap(stream) {
  let paused = false;
  stream.on("data", (chunk) => {
    if (!this.push(chunk) && stream.pause) {
      paused = true;
      stream.pause();
    }
  });
  stream.on("end", () => {
    this.push(null);
  });
  stream.on("error", (error) => {
    errorOrDestroy(this, error);
  });
  stream.on("close", () => {
    this.destroy();
  });
  stream.on("destroy", () => {
    this.destroy();
  });
  this._read = () => {
    if (paused && stream.resume) {
      paused = false;
      stream.resume();
    }
  };
  const methods = Object.keys(stream);
  for (let i = 1; i < methods.length; i++) {
    const name = methods[i];
    if (this[name] === undefined && typeof stream[name] === "function") this[name] = stream[name].bind(stream);
  }
  return this;
};


Readable.wrap = function wrap(src, options) {
  return new Readable({
    objectMode: src.readableObjectMode ?? src.objectMode ?? true,
    ...options,
    destroy(error, callback) {
      destroyer(src, error);
      callback(error);
    },
  }).wrap(src);
};


export function isDuplexNodeStream(obj) {
  return !!(obj && typeof obj.pipe === "function" && obj._readableState && typeof obj.on === "function" &&
    typeof obj.write === "function");
}


export function isReadableStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.pipeThrough === "function" && typeof obj.getReader === "function" &&
    typeof obj.cancel === "function");
}

export function isWritableStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.getWriter === "function" && typeof obj.abort === "function");
}

export function isTransformStream(obj) {
  return !!(obj && !isNodeStream(obj) && typeof obj.readable === "object" && typeof obj.writable === "object");
}

export function isWebStream(obj) {
  return isReadableStream(obj) || isWritableStream(obj) || isTransformStream(obj);
}


export function isDisturbed(stream) {
  return !!(stream && (stream[kIsDisturbed] ?? (stream.readableDidRead || stream.readableAborted)));
}

export function isErrored(stream) {
  return !!(stream && (stream[kIsErrored] ?? stream.readableErrored ?? stream.writableErrored ??
    stream._readableState?.errorEmitted ?? stream._writableState?.errorEmitted ??
    stream._readableState?.errored ?? stream._writableState?.errored));
}


export function finishedPromise(stream, opts) {
  let autoCleanup = false;
  if (opts && opts.cleanup) autoCleanup = true;
  return new Promise((resolve, reject) => {
    const cleanup = eos(stream, opts, (error) => {
      if (autoCleanup) cleanup();
      if (error) reject(error);
      else resolve();
    });
  });
}


export function addAbortSignal(signal, stream) {
  validateAbortSignal(signal, "signal");
  if (!isNodeStream(stream) && !isWebStream(stream)) {
    throw ERR_INVALID_ARG_TYPE("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  }
  return addAbortSignalNoValidate(signal, stream);
}


export function destroyStream(stream, error) {
  destroyer(stream, error);
}

// --- Transform and PassThrough ------------------------------------------------------------------

const kCallback = Symbol("kCallback");

export function Transform(options) {
  if (!(this instanceof Transform)) return new Transform(options);
  const readableHighWaterMark = options ? readableHighWaterMarkOf(options) : null;
  if (readableHighWaterMark === 0) {
    // Buffer on the readable side only, not twice.
    options = {
      ...options,
      highWaterMark: null,
      readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark || 0,
    };
  }
  Duplex.call(this, options);
  this._r &= ~R_SYNC;
  this[kCallback] = null;
  if (options) {
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
  }
  this.on("prefinish", transformPrefinish);
}
Object.setPrototypeOf(Transform.prototype, Duplex.prototype);
Object.setPrototypeOf(Transform, Duplex);

function readableHighWaterMarkOf(options) {
  const value = options.highWaterMark ?? options.readableHighWaterMark;
  if (value == null) return getDefaultHighWaterMark(!!(options.objectMode || options.readableObjectMode));
  if (!Number.isInteger(value) || value < 0) {
    const name = options.highWaterMark != null ? "options.readableHighWaterMark" : "options.readableHighWaterMark";
    throw ERR_INVALID_ARG_VALUE(name, value);
  }
  return Math.floor(value);
}

function transformFinal(callback) {
  if (typeof this._flush === "function" && !this.destroyed) {
    this._flush((error, data) => {
      if (error) {
        if (callback) callback(error);
        else this.destroy(error);
        return;
      }
      if (data != null) this.push(data);
      this.push(null);
      if (callback) callback();
    });
  } else {
    this.push(null);
    if (callback) callback();
  }
}

function transformPrefinish() {
  if (this._final !== transformFinal) transformFinal.call(this);
}

Transform.prototype._final = transformFinal;

Transform.prototype._transform = function _transform() {
  throw ERR_METHOD_NOT_IMPLEMENTED("_transform()");
};

Transform.prototype._write = function _write(chunk, encoding, callback) {
  const length = this._rlen;
  this._transform(chunk, encoding, (error, value) => {
    if (error) {
      callback(error);
      return;
    }
    if (value != null) this.push(value);
    if ((this._w & 4 /* W_ENDED */) || length === this._rlen || this._rlen < this._rhwm) {
      callback();
    } else {
      this[kCallback] = callback;
    }
  });
};

Transform.prototype._read = function _read() {
  if (this[kCallback]) {
    const callback = this[kCallback];
    this[kCallback] = null;
    callback();
  }
};

export function PassThrough(options) {
  if (!(this instanceof PassThrough)) return new PassThrough(options);
  Transform.call(this, options);
}
Object.setPrototypeOf(PassThrough.prototype, Transform.prototype);
Object.setPrototypeOf(PassThrough, Transform);

PassThrough.prototype._transform = function (chunk, encoding, callback) {
  callback(null, chunk);
};

// --- Readable.from ----------------------------------------------------------------------------

export function from(ReadableClass, iterable, options) {
  if (typeof iterable === "string" || iterable instanceof Buffer) {
    return new ReadableClass({
      objectMode: true,
      ...options,
      read() {
        this.push(iterable);
        this.push(null);
      },
    });
  }
  let iterator;
  let isAsync;
  if (iterable && iterable[Symbol.asyncIterator]) {
    isAsync = true;
    iterator = iterable[Symbol.asyncIterator]();
  } else if (iterable && iterable[Symbol.iterator]) {
    isAsync = false;
    iterator = iterable[Symbol.iterator]();
  } else {
    throw ERR_INVALID_ARG_TYPE("iterable", ["Iterable"], iterable);
  }
  const readable = new ReadableClass({ objectMode: true, highWaterMark: 1, ...options });
  let reading = false;
  let closing = false;
  readable._read = function () {
    if (!reading) {
      reading = true;
      if (isAsync) nextAsync();
      else if (closing) readable.push(null);
      else nextSync();
    }
  };
  readable._destroy = function (error, callback) {
    close(error).then(() => nextTick(callback, error), (e) => nextTick(callback, e || error));
  };
  async function close(error) {
    const hadError = error !== undefined && error !== null;
    const hasThrow = typeof iterator.throw === "function";
    if (hadError && hasThrow) {
      const { value, done } = await iterator.throw(error);
      await value;
      if (done) return;
    }
    if (typeof iterator.return === "function") {
      const { value } = await iterator.return();
      await value;
    }
  }
  function nextSync() {
    for (;;) {
      try {
        const { value, done } = iterator.next();
        if (done) {
          readable.push(null);
          return;
        }
        if (value && typeof value.then === "function") {
          return changeToAsync(value);
        }
        if (value === null) {
          reading = false;
          throw ERR_STREAM_NULL_VALUES();
        }
        if (readable.push(value)) continue;
        reading = false;
      } catch (error) {
        readable.destroy(error);
      }
      break;
    }
  }
  async function changeToAsync(promise) {
    try {
      const value = await promise;
      if (value === null) {
        reading = false;
        throw ERR_STREAM_NULL_VALUES();
      }
      if (readable.push(value)) {
        nextSync();
        return;
      }
      reading = false;
    } catch (error) {
      readable.destroy(error);
    }
  }
  async function nextAsync() {
    for (;;) {
      try {
        const { value, done } = await iterator.next();
        if (done) {
          readable.push(null);
          return;
        }
        const result = value && typeof value.then === "function" ? await value : value;
        if (result === null) {
          reading = false;
          throw ERR_STREAM_NULL_VALUES();
        }
        if (readable.push(result)) continue;
        reading = false;
      } catch (error) {
        readable.destroy(error);
      }
      break;
    }
  }
  return readable;
}

Readable.from = function (iterable, options) {
  return from(Readable, iterable, options);
};

// --- pipeline -----------------------------------------------------------------------------------

function popCallback(streams) {
  validateFunction(streams[streams.length - 1], "streams[stream.length - 1]");
  return streams.pop();
}

function makeAsyncIterable(value) {
  if (isIterable(value)) return value;
  if (isReadableNodeStream(value)) return fromReadable(value);
  throw ERR_INVALID_ARG_TYPE("val", ["Readable", "Iterable", "AsyncIterable"], value);
}

async function* fromReadable(value) {
  yield* Readable.prototype[Symbol.asyncIterator].call(value);
}

async function pumpToNode(iterable, writable, finish, { end }) {
  let error;
  let onresolve = null;
  const resume = (err) => {
    if (err) error = err;
    if (onresolve) {
      const callback = onresolve;
      onresolve = null;
      callback();
    }
  };
  const wait = () => new Promise((resolve, reject) => {
    if (error) {
      reject(error);
    } else {
      onresolve = () => {
        if (error) reject(error);
        else resolve();
      };
    }
  });
  writable.on("drain", resume);
  const cleanup = eos(writable, { readable: false }, resume);
  try {
    if (writable.writableNeedDrain) await wait();
    for await (const chunk of iterable) {
      if (!writable.write(chunk)) await wait();
    }
    if (end) {
      writable.end();
      await wait();
    }
    finish();
  } catch (err) {
    finish(error !== err ? aggregateTwoErrors(error, err) : err);
  } finally {
    cleanup();
    writable.off("drain", resume);
  }
}

function pipelineDestroyer(stream, reading, writing) {
  let finished = false;
  stream.on("close", () => {
    finished = true;
  });
  const cleanup = eos(stream, { readable: reading, writable: writing }, (error) => {
    finished = !error;
  });
  return {
    destroy: (error) => {
      if (finished) return;
      finished = true;
      destroyer(stream, error || ERR_STREAM_DESTROYED("pipe"));
    },
    cleanup,
  };
}

export function pipeline(...streams) {
  return pipelineImpl(streams, once(popCallback(streams)));
}

export function pipelineImpl(streams, callback, options) {
  if (streams.length === 1 && Array.isArray(streams[0])) streams = streams[0];
  if (streams.length < 2) throw ERR_MISSING_ARGS("streams");
  const controller = new AbortController();
  const signal = controller.signal;
  const outerSignal = options?.signal;
  const lastStreamCleanup = [];
  validateAbortSignal(outerSignal, "options.signal");
  function abort() {
    finishImpl(new AbortError(undefined, { cause: outerSignal?.reason }));
  }
  if (outerSignal) {
    if (outerSignal.aborted) nextTick(abort);
    else outerSignal.addEventListener("abort", abort, { once: true });
  }
  let error;
  let value;
  const destroys = [];
  let finishCount = 0;
  function finish(err) {
    finishImpl(err, --finishCount === 0);
  }
  function finishImpl(err, final) {
    if (err && (!error || error.code === "ERR_STREAM_PREMATURE_CLOSE")) error = err;
    if (!error && !final) return;
    while (destroys.length) destroys.shift()(error);
    outerSignal?.removeEventListener("abort", abort);
    controller.abort();
    if (final) {
      if (!error) for (const fn of lastStreamCleanup) fn();
      nextTick(callback, error, value);
    }
  }
  let ret;
  for (let i = 0; i < streams.length; i++) {
    const stream = streams[i];
    const reading = i < streams.length - 1;
    const writing = i > 0;
    const end = reading || options?.end !== false;
    const isLastStream = i === streams.length - 1;
    if (isNodeStream(stream)) {
      if (end) {
        const { destroy, cleanup } = pipelineDestroyer(stream, reading, writing);
        destroys.push(destroy);
        if (isReadable(stream) && isLastStream) lastStreamCleanup.push(cleanup);
      }
      // Errors after the data has gone through still fail the pipeline.
      const onError = (err) => {
        if (err && err.name !== "AbortError" && err.code !== "ERR_STREAM_PREMATURE_CLOSE") finish(err);
      };
      stream.on("error", onError);
      if (isReadable(stream) && isLastStream) {
        lastStreamCleanup.push(() => {
          stream.removeListener("error", onError);
        });
      }
    }
    if (i === 0) {
      if (typeof stream === "function") {
        ret = stream({ signal });
        if (!isIterable(ret)) throw ERR_INVALID_RETURN_VALUE("Iterable, AsyncIterable or Stream", "source", ret);
      } else if (isIterable(stream) || isReadableNodeStream(stream) || isTransformStream(stream)) {
        ret = stream;
      } else {
        ret = Duplex.from(stream);
      }
    } else if (typeof stream === "function") {
      ret = makeAsyncIterable(isTransformStream(ret) ? ret?.readable : ret);
      ret = stream(ret, { signal });
      if (reading) {
        if (!isIterable(ret, true)) throw ERR_INVALID_RETURN_VALUE("AsyncIterable", `transform[${i - 1}]`, ret);
      } else {
        // A function at the end still gives pipeline() a stream to return.
        const pt = new PassThrough({ objectMode: true });
        const then = ret?.then;
        if (typeof then === "function") {
          finishCount++;
          then.call(ret, (val) => {
            value = val;
            if (val != null) pt.write(val);
            if (end) pt.end();
            nextTick(finish);
          }, (err) => {
            pt.destroy(err);
            nextTick(finish, err);
          });
        } else if (isIterable(ret, true)) {
          finishCount++;
          pumpToNode(ret, pt, finish, { end });
        } else {
          throw ERR_INVALID_RETURN_VALUE("AsyncIterable or Promise", "destination", ret);
        }
        ret = pt;
        const { destroy, cleanup } = pipelineDestroyer(ret, false, true);
        destroys.push(destroy);
        if (isLastStream) lastStreamCleanup.push(cleanup);
      }
    } else if (isNodeStream(stream)) {
      if (isReadableNodeStream(ret)) {
        finishCount += 2;
        const cleanup = pipeTo(ret, stream, finish, { end });
        if (isReadable(stream) && isLastStream) lastStreamCleanup.push(cleanup);
      } else if (isIterable(ret)) {
        finishCount++;
        pumpToNode(ret, stream, finish, { end });
      } else {
        throw ERR_INVALID_ARG_TYPE("val", ["Readable", "Iterable", "AsyncIterable", "ReadableStream", "TransformStream"], ret);
      }
      ret = stream;
    } else {
      ret = Duplex.from(stream);
    }
  }
  if (signal?.aborted || outerSignal?.aborted) nextTick(abort);
  return ret;
}

function pipeTo(src, dst, finish, { end }) {
  let ended = false;
  dst.on("close", () => {
    if (!ended) finish(ERR_STREAM_PREMATURE_CLOSE());
  });
  src.pipe(dst, { end: false });
  if (end) {
    function endFn() {
      ended = true;
      dst.end();
    }
    if (isReadableFinished(src)) nextTick(endFn);
    else src.once("end", endFn);
  } else {
    finish();
  }
  eos(src, { readable: true, writable: false }, (err) => {
    const rState = src._readableState;
    if (err && err.code === "ERR_STREAM_PREMATURE_CLOSE" && rState && rState.ended && !rState.errored &&
        !rState.errorEmitted) {
      // A source that ended but has not emitted 'end' yet: wait for it.
      src.once("end", finish).once("error", finish);
    } else {
      finish(err);
    }
  });
  return eos(dst, { readable: false, writable: true }, finish);
}

export function pipelinePromise(...streams) {
  return new Promise((resolve, reject) => {
    let signal;
    let end;
    const last = streams[streams.length - 1];
    if (last && typeof last === "object" && !isNodeStream(last) && !isIterable(last) && !isWebStream(last)) {
      const options = streams.pop();
      signal = options.signal;
      end = options.end;
    }
    pipelineImpl(streams, (error, value) => {
      if (error) reject(error);
      else resolve(value);
    }, { signal, end });
  });
}

// --- Duplex.from and compose ------------------------------------------------------------------

class Duplexify extends Duplex {
  constructor(options) {
    super(options);
    if (options?.readable === false) {
      this._readableState.readable = false;
      this._readableState.ended = true;
      this._readableState.endEmitted = true;
    }
    if (options?.writable === false) {
      this._writableState.writable = false;
      this._writableState.ending = true;
      this._writableState.ended = true;
      this._writableState.finished = true;
    }
  }
}

function isBlob(value) {
  return typeof Blob !== "undefined" && value instanceof Blob;
}

export function duplexify(body, name) {
  if (isDuplexNodeStream(body)) return body;
  if (isReadableNodeStream(body)) return makeDuplex({ readable: body });
  if (isWritableNodeStream(body)) return makeDuplex({ writable: body });
  if (isNodeStream(body)) return makeDuplex({ writable: false, readable: false });
  if (typeof body === "function") {
    const { value, write, final, destroy } = fromAsyncGen(body);
    if (isIterable(value)) {
      return from(Duplexify, value, { objectMode: true, write, final, destroy });
    }
    const then = value?.then;
    if (typeof then === "function") {
      let d;
      const promise = then.call(value, (val) => {
        if (val != null) throw ERR_INVALID_RETURN_VALUE("nully", "body", val);
      }, (err) => {
        destroyer(d, err);
      });
      return (d = new Duplexify({
        objectMode: true,
        readable: false,
        write,
        final(callback) {
          final(async () => {
            try {
              await promise;
              nextTick(callback, null);
            } catch (err) {
              nextTick(callback, err);
            }
          });
        },
        destroy,
      }));
    }
    throw ERR_INVALID_RETURN_VALUE("Iterable, AsyncIterable or AsyncFunction", name, value);
  }
  if (isBlob(body)) return duplexify(body.arrayBuffer());
  if (isIterable(body)) return from(Duplexify, body, { objectMode: true, writable: false });
  if (typeof body?.writable === "object" || typeof body?.readable === "object") {
    const readable = body?.readable
      ? (isReadableNodeStream(body?.readable) ? body?.readable : duplexify(body.readable))
      : undefined;
    const writable = body?.writable
      ? (isWritableNodeStream(body?.writable) ? body?.writable : duplexify(body.writable))
      : undefined;
    return makeDuplex({ readable, writable });
  }
  const then = body?.then;
  if (typeof then === "function") {
    let d;
    then.call(body, (val) => {
      if (val != null) d.push(val);
      d.push(null);
    }, (err) => {
      destroyer(d, err);
    });
    return (d = new Duplexify({ objectMode: true, writable: false, read() {} }));
  }
  throw ERR_INVALID_ARG_TYPE(name,
    ["Blob", "ReadableStream", "WritableStream", "Stream", "Iterable", "AsyncIterable", "Function",
      "{ readable, writable } pair", "Promise"], body);
}

function fromAsyncGen(fn) {
  let { promise, resolve } = withResolvers();
  const ac = new AbortController();
  const signal = ac.signal;
  const value = fn((async function* () {
    for (;;) {
      const current = promise;
      promise = null;
      const { chunk, done, cb } = await current;
      nextTick(cb);
      if (done) return;
      if (signal.aborted) throw new AbortError(undefined, { cause: signal.reason });
      ({ promise, resolve } = withResolvers());
      yield chunk;
    }
  })(), { signal });
  return {
    value,
    write(chunk, encoding, cb) {
      const resolver = resolve;
      resolve = null;
      resolver({ chunk, done: false, cb });
    },
    final(cb) {
      const resolver = resolve;
      resolve = null;
      resolver({ done: true, cb });
    },
    destroy(err, cb) {
      ac.abort();
      cb(err);
    },
  };
}

// What a duplex made of other streams (duplexify's pair, compose) holds
// between the calls: the callback of the write waiting for 'drain', of the
// end waiting for 'finish', of the read waiting for 'readable'.
class PendingCallbacks {
  ondrain = null;
  onfinish = null;
  onreadable = null;
  run(which) {
    const cb = this[which];
    if (cb) {
      this[which] = null;
      cb();
    }
  }
  clear() {
    this.ondrain = null;
    this.onfinish = null;
    this.onreadable = null;
  }
}

// d's writes go to `into`, and its end waits for `finishedBy`'s 'finish'.
function relayWrites(d, into, finishedBy, pending) {
  d._write = function (chunk, encoding, callback) {
    if (into.write(chunk, encoding)) callback();
    else pending.ondrain = callback;
  };
  d._final = function (callback) {
    into.end();
    pending.onfinish = callback;
  };
  into.on("drain", () => pending.run("ondrain"));
  finishedBy.on("finish", () => pending.run("onfinish"));
}

// d reads what `from` gives, and ends when it ends.
function relayReads(d, from, pending) {
  from.on("readable", () => pending.run("onreadable"));
  from.on("end", () => {
    d.push(null);
  });
  d._read = function () {
    for (;;) {
      const buf = from.read();
      if (buf === null) {
        pending.onreadable = d._read;
        return;
      }
      if (!d.push(buf)) return;
    }
  };
}

function makeDuplex(pair) {
  const r = pair.readable && typeof pair.readable.read !== "function" ? Readable.wrap(pair.readable) : pair.readable;
  const w = pair.writable;
  let readable = !!isReadable(r);
  let writable = !!isWritable(w);
  const pending = new PendingCallbacks();
  let onclose;
  let d;
  function onfinished(err) {
    const cb = onclose;
    onclose = null;
    if (cb) cb(err);
    else if (err) d.destroy(err);
  }
  d = new Duplexify({
    readableObjectMode: !!r?.readableObjectMode,
    writableObjectMode: !!w?.writableObjectMode,
    readable,
    writable,
  });
  if (writable) {
    eos(w, (err) => {
      writable = false;
      if (err) destroyer(r, err);
      onfinished(err);
    });
    relayWrites(d, w, w, pending);
  }
  if (readable) {
    eos(r, (err) => {
      readable = false;
      if (err) destroyer(r, err);
      onfinished(err);
    });
    relayReads(d, r, pending);
  }
  d._destroy = function (err, callback) {
    if (!err && onclose !== null) err = new AbortError();
    pending.clear();
    if (onclose === null) {
      callback(err);
    } else {
      onclose = callback;
      destroyer(w, err);
      destroyer(r, err);
    }
  };
  return d;
}

Duplex.from = function (body) {
  return duplexify(body, "body");
};

export function compose(...streams) {
  if (streams.length === 0) throw ERR_MISSING_ARGS("streams");
  if (streams.length === 1) return Duplex.from(streams[0]);
  const orgStreams = [...streams];
  if (typeof streams[0] === "function") streams[0] = Duplex.from(streams[0]);
  if (typeof streams[streams.length - 1] === "function") {
    const idx = streams.length - 1;
    streams[idx] = Duplex.from(streams[idx]);
  }
  for (let n = 0; n < streams.length; ++n) {
    if (!isNodeStream(streams[n]) && !isWebStream(streams[n])) continue;
    if (n < streams.length - 1 && !(isReadable(streams[n]) || isReadableStream(streams[n]) || isTransformStream(streams[n]))) {
      throw ERR_INVALID_ARG_VALUE(`streams[${n}]`, orgStreams[n], "must be readable");
    }
    if (n > 0 && !(isWritable(streams[n]) || isWritableStream(streams[n]) || isTransformStream(streams[n]))) {
      throw ERR_INVALID_ARG_VALUE(`streams[${n}]`, orgStreams[n], "must be writable");
    }
  }
  const pending = new PendingCallbacks();
  let onclose;
  let d;
  function onfinished(err) {
    const cb = onclose;
    onclose = null;
    if (cb) cb(err);
    else if (err) d.destroy(err);
    else if (!readable && !writable) d.destroy();
  }
  const head = streams[0];
  const tail = pipeline(streams, onfinished);
  let writable = !!(isWritable(head) || isWritableStream(head) || isTransformStream(head));
  let readable = !!(isReadable(tail) || isReadableStream(tail) || isTransformStream(tail));
  d = new Duplex({
    writableObjectMode: !!head?.writableObjectMode,
    readableObjectMode: !!tail?.readableObjectMode,
    writable,
    readable,
  });
  if (writable) relayWrites(d, head, tail, pending);
  if (readable) relayReads(d, tail, pending);
  d._destroy = function (err, callback) {
    if (!err && onclose !== null) err = new AbortError();
    pending.clear();
    if (onclose === null) {
      callback(err);
    } else {
      onclose = callback;
      destroyer(tail, err);
    }
  };
  return d;
}

// --- duplexPair ---------------------------------------------------------------------------------

class DuplexSide extends Duplex {
  #otherSide = null;
  #callback = null;

  static link(a, b) {
    a.#otherSide = b;
    b.#otherSide = a;
  }

  _read() {
    const callback = this.#callback;
    if (callback) {
      this.#callback = null;
      callback();
    }
  }

  _write(chunk, encoding, callback) {
    if (chunk.length === 0) {
      nextTick(callback);
    } else {
      this.#otherSide.push(chunk);
      this.#otherSide.#callback = callback;
    }
  }

  _final(callback) {
    this.#otherSide.on("end", callback);
    this.#otherSide.push(null);
  }
}

export function duplexPair(options) {
  const a = new DuplexSide(options);
  const b = new DuplexSide(options);
  DuplexSide.link(a, b);
  return [a, b];
}

// --- the Readable helpers (experimental in Node 20) ------------------------------------------------

const kEmpty = Symbol("kEmpty");
const kEof = Symbol("kEof");

function anySignal(signals) {
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

function concurrencyOptions(options) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  let concurrency = 1;
  if (options?.concurrency != null) concurrency = Math.floor(options.concurrency);
  let highWaterMark = concurrency - 1;
  if (options?.highWaterMark != null) highWaterMark = Math.floor(options.highWaterMark);
  validateInteger(concurrency, "options.concurrency", 1);
  validateInteger(highWaterMark, "options.highWaterMark", 0);
  return { concurrency, highWaterMark: highWaterMark + concurrency };
}

function map(fn, options) {
  validateOperatorFunction(fn, "fn");
  const { concurrency, highWaterMark } = concurrencyOptions(options);
  return async function* mapped() {
    const signal = anySignal([options?.signal].filter(Boolean));
    const stream = this;
    const queue = [];
    const signalOption = { signal };
    let wakeConsumer;
    let wakeProducer;
    let done = false;
    let running = 0;
    function onSettled() {
      running -= 1;
      maybeResume();
    }
    function onFailed() {
      done = true;
      onSettled();
    }
    function maybeResume() {
      if (wakeProducer && !done && running < concurrency && queue.length < highWaterMark) {
        wakeProducer();
        wakeProducer = null;
      }
    }
    async function pump() {
      try {
        for await (let value of stream) {
          if (done) return;
          if (signal.aborted) throw new AbortError();
          try {
            value = fn(value, signalOption);
            if (value === kEmpty) continue;
            value = Promise.resolve(value);
          } catch (error) {
            value = Promise.reject(error);
          }
          running += 1;
          value.then(onSettled, onFailed);
          queue.push(value);
          if (wakeConsumer) {
            wakeConsumer();
            wakeConsumer = null;
          }
          if (!done && (queue.length >= highWaterMark || running >= concurrency)) {
            await new Promise((resolve) => {
              wakeProducer = resolve;
            });
          }
        }
        queue.push(kEof);
      } catch (error) {
        const value = Promise.reject(error);
        value.then(onSettled, onFailed);
        queue.push(value);
      } finally {
        done = true;
        if (wakeConsumer) {
          wakeConsumer();
          wakeConsumer = null;
        }
      }
    }
    pump();
    try {
      for (;;) {
        while (queue.length > 0) {
          const value = await queue[0];
          if (value === kEof) return;
          if (signal.aborted) throw new AbortError();
          if (value !== kEmpty) yield value;
          queue.shift();
          maybeResume();
        }
        await new Promise((resolve) => {
          wakeConsumer = resolve;
        });
      }
    } finally {
      done = true;
      if (wakeProducer) {
        wakeProducer();
        wakeProducer = null;
      }
    }
  }.call(this);
}

function asIndexedPairs(options = undefined) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  return async function* indexed() {
    let index = 0;
    for await (const value of this) {
      if (options?.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
      yield [index++, value];
    }
  }.call(this);
}

async function some(fn, options = undefined) {
  for await (const unused of filter.call(this, fn, options)) {
    void unused;
    return true;
  }
  return false;
}

async function every(fn, options = undefined) {
  validateOperatorFunction(fn, "fn");
  return !(await some.call(this, async (...args) => !(await fn(...args)), options));
}

async function find(fn, options) {
  for await (const result of filter.call(this, fn, options)) return result;
  return undefined;
}

async function forEach(fn, options) {
  validateOperatorFunction(fn, "fn");
  async function forEachFn(value, opts) {
    await fn(value, opts);
    return kEmpty;
  }
  for await (const unused of map.call(this, forEachFn, options)) void unused;
}

function filter(fn, options) {
  validateOperatorFunction(fn, "fn");
  async function filterFn(value, opts) {
    if (await fn(value, opts)) return value;
    return kEmpty;
  }
  return map.call(this, filterFn, options);
}

function ReduceAwareErrMissingArgs() {
  const error = ERR_MISSING_ARGS("reduce");
  error.message = "Reduce of an empty stream requires an initial value";
  return error;
}

async function reduce(reducer, initialValue, options) {
  validateOperatorFunction(reducer, "reducer");
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  let hasInitialValue = arguments.length > 1;
  if (options?.signal?.aborted) {
    const error = new AbortError(undefined, { cause: options.signal.reason });
    this.once("error", () => {});
    await finishedPromise(this.destroy(error));
    throw error;
  }
  const controller = new AbortController();
  const signal = controller.signal;
  if (options?.signal) {
    options.signal.addEventListener("abort", () => controller.abort(), { once: true });
  }
  let gotAnyItemFromStream = false;
  try {
    for await (const value of this) {
      gotAnyItemFromStream = true;
      if (options?.signal?.aborted) throw new AbortError();
      if (!hasInitialValue) {
        initialValue = value;
        hasInitialValue = true;
      } else {
        initialValue = await reducer(initialValue, value, { signal });
      }
    }
    if (!gotAnyItemFromStream && !hasInitialValue) throw ReduceAwareErrMissingArgs();
  } finally {
    controller.abort();
  }
  return initialValue;
}

async function toArray(options) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  const result = [];
  for await (const value of this) {
    if (options?.signal?.aborted) throw new AbortError(undefined, { cause: options.signal.reason });
    result.push(value);
  }
  return result;
}

function flatMap(fn, options) {
  const values = map.call(this, fn, options);
  return async function* flattened() {
    for await (const value of values) yield* value;
  }.call(this);
}

function toIntegerOrInfinity(number) {
  number = Number(number);
  if (Number.isNaN(number)) return 0;
  if (number < 0) throw ERR_OUT_OF_RANGE("number", ">= 0", number);
  return number;
}

function drop(number, options = undefined) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  number = toIntegerOrInfinity(number);
  return async function* dropped() {
    if (options?.signal?.aborted) throw new AbortError();
    for await (const value of this) {
      if (options?.signal?.aborted) throw new AbortError();
      if (number-- <= 0) yield value;
    }
  }.call(this);
}

function take(number, options = undefined) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  number = toIntegerOrInfinity(number);
  return async function* taken() {
    if (options?.signal?.aborted) throw new AbortError();
    for await (const value of this) {
      if (options?.signal?.aborted) throw new AbortError();
      if (number-- > 0) yield value;
      if (number <= 0) return;
    }
  }.call(this);
}

function composeOperator(stream, options) {
  if (options != null) validateObject(options, "options");
  if (options?.signal != null) validateAbortSignal(options.signal, "options.signal");
  if (isNodeStream(stream) && !isWritable(stream)) {
    throw ERR_INVALID_ARG_VALUE("stream", stream, "must be writable");
  }
  const composed = compose(this, stream);
  if (options?.signal) addAbortSignal(options.signal, composed);
  return composed;
}

const streamReturning = { asIndexedPairs, drop, filter, flatMap, map, take, compose: composeOperator };
const promiseReturning = { every, forEach, reduce, toArray, some, find };

for (const [name, op] of Object.entries(streamReturning)) {
  function fn(...args) {
    if (new.target) throw makeError(TypeError, "ERR_ILLEGAL_CONSTRUCTOR", "Illegal constructor");
    return Readable.from(Reflect.apply(op, this, args));
  }
  Object.defineProperty(fn, "name", { value: op.name });
  Object.defineProperty(fn, "length", { value: op.length });
  Object.defineProperty(Readable.prototype, name, { value: fn, enumerable: false, configurable: true, writable: true });
}
for (const [name, op] of Object.entries(promiseReturning)) {
  function fn(...args) {
    if (new.target) throw makeError(TypeError, "ERR_ILLEGAL_CONSTRUCTOR", "Illegal constructor");
    return Reflect.apply(op, this, args);
  }
  Object.defineProperty(fn, "name", { value: op.name });
  Object.defineProperty(fn, "length", { value: op.length });
  Object.defineProperty(Readable.prototype, name, { value: fn, enumerable: false, configurable: true, writable: true });
}

// --- the module's shape ------------------------------------------------------------------------

export const promises = { pipeline: pipelinePromise, finished: finishedPromise };

Stream.Readable = Readable;
Stream.Writable = Writable;
Stream.Duplex = Duplex;
Stream.Transform = Transform;
Stream.PassThrough = PassThrough;
Stream.duplexPair = duplexPair;
Stream.pipeline = pipeline;
Stream.addAbortSignal = addAbortSignal;
Stream.finished = eos;
Stream.destroy = destroyStream;
Stream.compose = compose;
Stream.setDefaultHighWaterMark = setDefaultHighWaterMark;
Stream.getDefaultHighWaterMark = getDefaultHighWaterMark;
Stream.isDestroyed = isDestroyed;
Stream.isDisturbed = isDisturbed;
Stream.isErrored = isErrored;
Stream.isReadable = isReadable;
Stream.isWritable = isWritable;
Stream.Stream = Stream;
eos.finished = finishedPromise;
Object.defineProperty(Stream, "promises", { configurable: true, enumerable: true, get: () => promises });
Object.defineProperty(pipeline, Symbol.for("nodejs.util.promisify.custom"), {
  enumerable: true,
  get: () => promises.pipeline,
});
Object.defineProperty(eos, Symbol.for("nodejs.util.promisify.custom"), {
  enumerable: true,
  get: () => promises.finished,
});

export { Readable, Writable, Duplex, Stream, eos as finished, destroyStream as destroy, setDefaultHighWaterMark,
  getDefaultHighWaterMark, isDestroyed, isReadable, isWritable };
