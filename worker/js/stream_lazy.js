// The parts of node:stream's core that few workers use, compiled when first
// needed (stream_core.js loads this module on first use of pipe(), async
// iteration or a state view; node:stream imports it outright): pipe, async
// iteration, finished (end-of-stream), destroyer, what-is-this-stream
// checks, and the _readableState/_writableState views.
import { ERR_INVALID_ARG_TYPE } from "./errors.js";
import { AbortError, ERR_STREAM_PREMATURE_CLOSE } from "./stream_errors.js";
import {
  Readable, Writable, nextTick, nop, prependListener, errorOrDestroy, aggregateTwoErrors, initReadable,
  initWritable, initCommon,
  S_DESTROYED, S_CLOSED, S_CLOSE_EMITTED, S_ERROR_EMITTED, S_CONSTRUCTED, S_AUTO_DESTROY, S_EMIT_CLOSE,
  R_OBJECT, R_ENDED, R_END_EMITTED, R_READING, R_SYNC, R_NEED_READABLE, R_EMITTED_READABLE, R_READABLE_LISTENING,
  R_RESUME_SCHEDULED, R_MULTI_AWAIT_DRAIN, R_READING_MORE, R_DATA_EMITTED, R_FLOWING_SET, R_FLOWING, R_DISABLED,
  W_OBJECT, W_ENDING, W_ENDED, W_FINISHED, W_NEED_DRAIN, W_WRITING, W_SYNC, W_BUFFER_PROCESSING, W_PREFINISHED,
  W_FINAL_CALLED, W_ALL_BUFFERS, W_ALL_NOOP, W_DECODE_STRINGS, W_DISABLED,
} from "./stream_core.js";

const R_FLOWING_BITS = R_FLOWING_SET | R_FLOWING;

// --- pipe -------------------------------------------------------------------------------------------

export function pipe(src, dest, pipeOptions) {
  const pipes = src._pipes ?? (src._pipes = []);
  if (pipes.length === 1 && !(src._r & R_MULTI_AWAIT_DRAIN)) {
    src._r |= R_MULTI_AWAIT_DRAIN;
    src._awaitDrain = new Set(src._awaitDrain ? [src._awaitDrain] : []);
  }
  pipes.push(dest);
  const doEnd = !pipeOptions || pipeOptions.end !== false;
  const endFn = doEnd ? onend : unpipe;
  if (src._r & R_END_EMITTED) nextTick(endFn);
  else src.once("end", endFn);
  dest.on("unpipe", onunpipe);
  function onunpipe(readable, unpipeInfo) {
    if (readable === src && unpipeInfo && unpipeInfo.hasUnpiped === false) {
      unpipeInfo.hasUnpiped = true;
      cleanup();
    }
  }
  function onend() {
    dest.end();
  }
  let ondrain;
  let cleanedUp = false;
  function cleanup() {
    dest.removeListener("close", onclose);
    dest.removeListener("finish", onfinish);
    if (ondrain) dest.removeListener("drain", ondrain);
    dest.removeListener("error", onerror);
    dest.removeListener("unpipe", onunpipe);
    src.removeListener("end", onend);
    src.removeListener("end", unpipe);
    src.removeListener("data", ondata);
    cleanedUp = true;
    // A drain that will now never be listened for must not leave the source paused.
    if (ondrain && src._awaitDrain && (!isWritableNeedingDrainOrUnknown(dest) || dest.writableNeedDrain)) ondrain();
  }
  function pause() {
    if (!cleanedUp) {
      const current = src._pipes;
      if (current.length === 1 && current[0] === dest) {
        src._awaitDrain = dest;
        src._r &= ~R_MULTI_AWAIT_DRAIN;
      } else if (current.length > 1 && current.includes(dest)) {
        src._awaitDrain.add(dest);
      }
      src.pause();
    }
    if (!ondrain) {
      ondrain = pipeOnDrain(src, dest);
      dest.on("drain", ondrain);
    }
  }
  src.on("data", ondata);
  function ondata(chunk) {
    if (dest.write(chunk) === false) pause();
  }
  function onerror(error) {
    unpipe();
    dest.removeListener("error", onerror);
    if (dest.listenerCount("error") === 0) {
      if (dest._s !== undefined ? !(dest._s & S_ERROR_EMITTED) : !(dest._writableState || dest._readableState)?.errorEmitted) {
        errorOrDestroy(dest, error);
      } else {
        dest.emit("error", error);
      }
    }
  }
  prependListener(dest, "error", onerror);
  function onclose() {
    dest.removeListener("finish", onfinish);
    unpipe();
  }
  dest.once("close", onclose);
  function onfinish() {
    dest.removeListener("close", onclose);
    unpipe();
  }
  dest.once("finish", onfinish);
  function unpipe() {
    src.unpipe(dest);
  }
  dest.emit("pipe", src);
  if (dest.writableNeedDrain === true) pause();
  else if (!(src._r & R_FLOWING)) src.resume();
  return dest;
}

// Node checks `!dest._writableState || dest._writableState.needDrain`.
function isWritableNeedingDrainOrUnknown(dest) {
  return dest._w !== undefined || !!dest._writableState;
}

function pipeOnDrain(src, dest) {
  return function pipeOnDrainFunctionResult() {
    if (src._awaitDrain === dest) src._awaitDrain = null;
    else if (src._r & R_MULTI_AWAIT_DRAIN) src._awaitDrain.delete(dest);
    const waiting = src._awaitDrain;
    if ((!waiting || waiting.size === 0) && src.listenerCount("data")) src.resume();
  };
}

export function iterator(stream, options) {
  if (options !== undefined && (options === null || typeof options !== "object" || Array.isArray(options))) {
    throw ERR_INVALID_ARG_TYPE("options", "Object", options);
  }
  return streamToAsyncIterator(stream, options);
}

export function streamToAsyncIterator(stream, options) {
  // An old-style stream is wrapped first (Readable.wrap comes with node:stream).
  if (typeof stream.read !== "function") stream = Readable.wrap(stream, { objectMode: true });
  const iterator = createAsyncIterator(stream, options);
  iterator.stream = stream;
  return iterator;
}

async function* createAsyncIterator(stream, options) {
  let wake = nop;
  function next(resolve) {
    if (this === stream) {
      wake();
      wake = nop;
    } else {
      wake = resolve;
    }
  }
  stream.on("readable", next);
  let error;
  const cleanup = eos(stream, { writable: false }, (err) => {
    error = err ? aggregateTwoErrors(error, err) : null;
    wake();
    wake = nop;
  });
  try {
    for (;;) {
      const chunk = stream.destroyed ? null : stream.read();
      if (chunk !== null) {
        yield chunk;
      } else if (error) {
        throw error;
      } else if (error === null) {
        return;
      } else {
        await new Promise(next);
      }
    }
  } catch (thrown) {
    error = aggregateTwoErrors(error, thrown);
    throw error;
  } finally {
    // Leaving the loop early (break, return, throw) destroys the stream,
    // with an AbortError when it had not finished.
    if ((error || options?.destroyOnReturn !== false) &&
        (error === undefined || (stream._s !== undefined ? stream._s & S_AUTO_DESTROY : stream._readableState?.autoDestroy))) {
      destroyer(stream, null);
    } else {
      stream.off("readable", next);
      cleanup();
    }
  }
}

// --- state views ------------------------------------------------------------------------------

// Node exposes its state objects and some code reads (or sets) them: these
// objects read and write the stream's own fields.
function flagProperty(field, bit) {
  return {
    get() {
      return (this.stream[field] & bit) !== 0;
    },
    set(value) {
      if (value) this.stream[field] |= bit;
      else this.stream[field] &= ~bit;
    },
    enumerable: true,
  };
}

function fieldProperty(field) {
  return {
    get() {
      return this.stream[field];
    },
    set(value) {
      this.stream[field] = value;
    },
    enumerable: true,
  };
}

const commonViewProperties = {
  destroyed: flagProperty("_s", S_DESTROYED),
  closed: flagProperty("_s", S_CLOSED),
  closeEmitted: flagProperty("_s", S_CLOSE_EMITTED),
  errorEmitted: flagProperty("_s", S_ERROR_EMITTED),
  constructed: flagProperty("_s", S_CONSTRUCTED),
  autoDestroy: flagProperty("_s", S_AUTO_DESTROY),
  emitClose: flagProperty("_s", S_EMIT_CLOSE),
  errored: fieldProperty("_errored"),
};

export function ReadableState(options, stream, isDuplex) {
  viewPrototypes();
  const target = Object.create(null);
  initReadable(target, options, !!isDuplex);
  initCommon(target, options);
  this.stream = target;
}

export function WritableState(options, stream, isDuplex) {
  viewPrototypes();
  const target = Object.create(null);
  initWritable(target, options, !!isDuplex);
  initCommon(target, options);
  this.stream = target;
}

// The views' accessors, defined the first time a view is made: most workers
// never need them.
let viewsDefined = false;
function viewPrototypes() {
  if (viewsDefined) return;
  viewsDefined = true;
  Object.defineProperties(ReadableState.prototype, {
    ...commonViewProperties,
    objectMode: flagProperty("_r", R_OBJECT),
    ended: flagProperty("_r", R_ENDED),
    endEmitted: flagProperty("_r", R_END_EMITTED),
    reading: flagProperty("_r", R_READING),
    sync: flagProperty("_r", R_SYNC),
    needReadable: flagProperty("_r", R_NEED_READABLE),
    emittedReadable: flagProperty("_r", R_EMITTED_READABLE),
    readableListening: flagProperty("_r", R_READABLE_LISTENING),
    resumeScheduled: flagProperty("_r", R_RESUME_SCHEDULED),
    multiAwaitDrain: flagProperty("_r", R_MULTI_AWAIT_DRAIN),
    readingMore: flagProperty("_r", R_READING_MORE),
    dataEmitted: flagProperty("_r", R_DATA_EMITTED),
    highWaterMark: fieldProperty("_rhwm"),
    length: fieldProperty("_rlen"),
    decoder: fieldProperty("_decoder"),
    encoding: fieldProperty("_encoding"),
    defaultEncoding: fieldProperty("_rDefaultEncoding"),
    awaitDrainWriters: fieldProperty("_awaitDrain"),
    buffer: {
      get() {
        return this.stream._rbuf ?? (this.stream._rbuf = []);
      },
      enumerable: true,
    },
    pipes: {
      get() {
        return this.stream._pipes ?? (this.stream._pipes = []);
      },
      enumerable: true,
    },
    flowing: {
      get() {
        const r = this.stream._r;
        return (r & R_FLOWING_SET) ? (r & R_FLOWING) !== 0 : null;
      },
      set(value) {
        const s = this.stream;
        if (value === null || value === undefined) s._r &= ~R_FLOWING_BITS;
        else if (value) s._r |= R_FLOWING_BITS;
        else s._r = (s._r | R_FLOWING_SET) & ~R_FLOWING;
      },
      enumerable: true,
    },
    readable: {
      get() {
        return (this.stream._r & R_DISABLED) ? false : undefined;
      },
      set(value) {
        if (value === false) this.stream._r |= R_DISABLED;
        else this.stream._r &= ~R_DISABLED;
      },
      enumerable: true,
    },
  });

  Object.defineProperties(WritableState.prototype, {
    ...commonViewProperties,
    objectMode: flagProperty("_w", W_OBJECT),
    ending: flagProperty("_w", W_ENDING),
    ended: flagProperty("_w", W_ENDED),
    finished: flagProperty("_w", W_FINISHED),
    needDrain: flagProperty("_w", W_NEED_DRAIN),
    writing: flagProperty("_w", W_WRITING),
    sync: flagProperty("_w", W_SYNC),
    bufferProcessing: flagProperty("_w", W_BUFFER_PROCESSING),
    prefinished: flagProperty("_w", W_PREFINISHED),
    finalCalled: flagProperty("_w", W_FINAL_CALLED),
    allBuffers: flagProperty("_w", W_ALL_BUFFERS),
    allNoop: flagProperty("_w", W_ALL_NOOP),
    decodeStrings: flagProperty("_w", W_DECODE_STRINGS),
    highWaterMark: fieldProperty("_whwm"),
    length: fieldProperty("_wlen"),
    corked: fieldProperty("_corked"),
    pendingcb: fieldProperty("_pendingcb"),
    writelen: fieldProperty("_writelen"),
    writecb: fieldProperty("_writecb"),
    defaultEncoding: fieldProperty("_wDefaultEncoding"),
    bufferedIndex: fieldProperty("_wbufIndex"),
    afterWriteTickInfo: fieldProperty("_afterWriteTick"),
    buffered: {
      get() {
        return this.stream._wbuf ?? (this.stream._wbuf = []);
      },
      enumerable: true,
    },
    bufferedRequestCount: {
      get() {
        return (this.stream._wbuf ?? []).length - this.stream._wbufIndex;
      },
      enumerable: true,
    },
    writable: {
      get() {
        return (this.stream._w & W_DISABLED) ? false : undefined;
      },
      set(value) {
        if (value === false) this.stream._w |= W_DISABLED;
        else this.stream._w &= ~W_DISABLED;
      },
      enumerable: true,
    },
  });
  WritableState.prototype.getBuffer = function getBuffer() {
    return (this.stream._wbuf ?? []).slice(this.stream._wbufIndex);
  };
}

function view(stream, key, State) {
  let state = stream[key];
  if (state === undefined) {
    viewPrototypes();
    state = Object.create(State.prototype);
    state.stream = stream;
    Object.defineProperty(stream, key, { value: state, configurable: true });
  }
  return state;
}

const kReadableView = Symbol("kReadableView");
const kWritableView = Symbol("kWritableView");

export function readableView(stream) {
  return view(stream, kReadableView, ReadableState);
}

export function writableView(stream) {
  return view(stream, kWritableView, WritableState);
}

Readable.ReadableState = ReadableState;
Writable.WritableState = WritableState;

// --- what a stream is, and where it stands (for our streams and userland ones) --------------

export function isReadableNodeStream(obj, strict = false) {
  return !!(obj && typeof obj.pipe === "function" && typeof obj.on === "function" &&
    (!strict || (typeof obj.pause === "function" && typeof obj.resume === "function")) &&
    (!obj._writableState || obj._readableState?.readable !== false) &&
    (!obj._writableState || obj._readableState));
}

export function isWritableNodeStream(obj) {
  return !!(obj && typeof obj.write === "function" && typeof obj.on === "function" &&
    (!obj._readableState || obj._writableState?.writable !== false));
}

export function isNodeStream(obj) {
  return !!obj && (obj._readableState || obj._writableState ||
    (typeof obj.write === "function" && typeof obj.on === "function") ||
    (typeof obj.pipe === "function" && typeof obj.on === "function"));
}

export function isIterable(obj, isAsync) {
  if (obj == null) return false;
  if (isAsync === true) return typeof obj[Symbol.asyncIterator] === "function";
  if (isAsync === false) return typeof obj[Symbol.iterator] === "function";
  return typeof obj[Symbol.asyncIterator] === "function" || typeof obj[Symbol.iterator] === "function";
}

export function isDestroyed(stream) {
  if (!isNodeStream(stream)) return null;
  const w = stream._writableState;
  const r = stream._readableState;
  const state = w || r;
  return !!(stream.destroyed || stream[kIsDestroyed] || state?.destroyed);
}
export const kIsDestroyed = Symbol.for("nodejs.stream.destroyed");
export const kIsErrored = Symbol("kIsErrored");
export const kIsReadable = Symbol("kIsReadable");
export const kIsWritableSym = Symbol("kIsWritable");
export const kIsDisturbed = Symbol("kIsDisturbed");

export function isWritableEnded(stream) {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableEnded === true) return true;
  const w = stream._writableState;
  if (w?.errored) return false;
  if (typeof w?.ended !== "boolean") return null;
  return w.ended;
}

export function isWritableFinished(stream, strict) {
  if (!isWritableNodeStream(stream)) return null;
  if (stream.writableFinished === true) return true;
  const w = stream._writableState;
  if (w?.errored) return false;
  if (typeof w?.finished !== "boolean") return null;
  return !!(w.finished || (strict === false && w.ended === true && w.length === 0));
}

export function isReadableEnded(stream) {
  if (!isReadableNodeStream(stream)) return null;
  if (stream.readableEnded === true) return true;
  const r = stream._readableState;
  if (!r || r.errored) return false;
  if (typeof r?.ended !== "boolean") return null;
  return r.ended;
}

export function isReadableFinished(stream, strict) {
  if (!isReadableNodeStream(stream)) return null;
  const r = stream._readableState;
  if (r?.errored) return false;
  if (typeof r?.endEmitted !== "boolean") return null;
  return !!(r.endEmitted || (strict === false && r.ended === true && r.length === 0));
}

export function isReadable(stream) {
  if (stream && stream[kIsReadable] != null) return stream[kIsReadable];
  if (typeof stream?.readable !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isReadableNodeStream(stream) && stream.readable && !isReadableFinished(stream);
}

export function isWritable(stream) {
  if (stream && stream[kIsWritableSym] != null) return stream[kIsWritableSym];
  if (typeof stream?.writable !== "boolean") return null;
  if (isDestroyed(stream)) return false;
  return isWritableNodeStream(stream) && stream.writable && !isWritableEnded(stream);
}

export function isFinished(stream, options) {
  if (!isNodeStream(stream)) return null;
  if (isDestroyed(stream)) return true;
  if (options?.readable !== false && isReadable(stream)) return false;
  if (options?.writable !== false && isWritable(stream)) return false;
  return true;
}

export function isWritableErrored(stream) {
  if (!isNodeStream(stream)) return null;
  if (stream.writableErrored) return stream.writableErrored;
  return stream._writableState?.errored ?? null;
}

export function isReadableErrored(stream) {
  if (!isNodeStream(stream)) return null;
  if (stream.readableErrored) return stream.readableErrored;
  return stream._readableState?.errored ?? null;
}

export function isClosed(stream) {
  if (!isNodeStream(stream)) return null;
  if (typeof stream.closed === "boolean") return stream.closed;
  const w = stream._writableState;
  const r = stream._readableState;
  if (typeof w?.closed === "boolean" || typeof r?.closed === "boolean") return w?.closed || r?.closed;
  if (typeof stream._closed === "boolean" && isOutgoingMessage(stream)) return stream._closed;
  return null;
}

function isOutgoingMessage(stream) {
  return typeof stream._closed === "boolean" && typeof stream._defaultKeepAlive === "boolean" &&
    typeof stream._removedConnection === "boolean" && typeof stream._removedContLen === "boolean";
}

function isServerResponse(stream) {
  return typeof stream._sent100 === "boolean" && isOutgoingMessage(stream);
}

function isServerRequest(stream) {
  return typeof stream._consuming === "boolean" && typeof stream._dumped === "boolean" &&
    stream.req?.upgradeOrConnect === undefined;
}

export function willEmitClose(stream) {
  if (!isNodeStream(stream)) return null;
  const w = stream._writableState;
  const r = stream._readableState;
  const state = w || r;
  return (!state && isServerResponse(stream)) || !!(state && state.autoDestroy && state.emitClose && state.closed === false);
}

function isRequest(stream) {
  return stream && stream.setHeader && typeof stream.abort === "function";
}

// Destroys any kind of stream, with an AbortError when it had not finished.
export function destroyer(stream, error) {
  if (!stream || isDestroyed(stream)) return;
  if (!error && !isFinished(stream)) error = new AbortError();
  if (isServerRequest(stream)) {
    stream.socket = null;
    stream.destroy(error);
  } else if (isRequest(stream)) {
    stream.abort();
  } else if (isRequest(stream.req)) {
    stream.req.abort();
  } else if (typeof stream.destroy === "function") {
    stream.destroy(error);
  } else if (typeof stream.close === "function") {
    stream.close();
  } else if (error) {
    nextTick((s, e) => s.emit("error", e), stream, error);
  } else {
    nextTick((s) => s.emit("close"), stream);
  }
  if (!stream.destroyed) stream[kIsDestroyed] = true;
}

// --- finished (end of stream) -------------------------------------------------------------------

function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, "AbortSignal", signal);
  }
}

function validateFunction(value, name) {
  if (typeof value !== "function") throw ERR_INVALID_ARG_TYPE(name, "Function", value);
}

export function validateObject(value, name, allowArray = false) {
  if (value === null || typeof value !== "object" || (!allowArray && Array.isArray(value))) {
    throw ERR_INVALID_ARG_TYPE(name, "Object", value);
  }
}

function onceCallback(callback) {
  let called = false;
  return function (...args) {
    if (called) return;
    called = true;
    return Reflect.apply(callback, this, args);
  };
}

export function eos(stream, options, callback) {
  if (arguments.length === 2) {
    callback = options;
    options = {};
  } else if (options == null) {
    options = {};
  } else {
    validateObject(options, "options");
  }
  validateFunction(callback, "callback");
  validateAbortSignal(options.signal, "options.signal");
  callback = onceCallback(callback);
  if (!isNodeStream(stream)) {
    throw ERR_INVALID_ARG_TYPE("stream", ["ReadableStream", "WritableStream", "Stream"], stream);
  }
  const readable = options.readable ?? isReadableNodeStream(stream);
  const writable = options.writable ?? isWritableNodeStream(stream);
  const wState = stream._writableState;
  const rState = stream._readableState;
  const onlegacyfinish = () => {
    if (!stream.writable) onfinish();
  };
  let emitsClose = willEmitClose(stream) && isReadableNodeStream(stream) === readable &&
    isWritableNodeStream(stream) === writable;
  let writableFinished = isWritableFinished(stream, false);
  const onfinish = () => {
    writableFinished = true;
    if (stream.destroyed) emitsClose = false;
    if (emitsClose && (!stream.readable || readable)) return;
    if (!readable || readableFinished) callback.call(stream);
  };
  let readableFinished = isReadableFinished(stream, false);
  const onend = () => {
    readableFinished = true;
    if (stream.destroyed) emitsClose = false;
    if (emitsClose && (!stream.writable || writable)) return;
    if (!writable || writableFinished) callback.call(stream);
  };
  const onerror = (error) => {
    callback.call(stream, error);
  };
  let closed = isClosed(stream);
  const onclose = () => {
    closed = true;
    const errored = isWritableErrored(stream) || isReadableErrored(stream);
    if (errored && typeof errored !== "boolean") return callback.call(stream, errored);
    if (readable && !readableFinished && isReadableNodeStream(stream, true)) {
      if (!isReadableFinished(stream, false)) return callback.call(stream, ERR_STREAM_PREMATURE_CLOSE());
    }
    if (writable && !writableFinished) {
      if (!isWritableFinished(stream, false)) return callback.call(stream, ERR_STREAM_PREMATURE_CLOSE());
    }
    callback.call(stream);
  };
  const onclosed = () => {
    closed = true;
    const errored = isWritableErrored(stream) || isReadableErrored(stream);
    if (errored && typeof errored !== "boolean") return callback.call(stream, errored);
    callback.call(stream);
  };
  const onrequest = () => {
    stream.req.on("finish", onfinish);
  };
  if (isRequest(stream)) {
    stream.on("complete", onfinish);
    if (!emitsClose) stream.on("abort", onclose);
    if (stream.req) onrequest();
    else stream.on("request", onrequest);
  } else if (writable && !wState) {
    stream.on("end", onlegacyfinish);
    stream.on("close", onlegacyfinish);
  }
  if (!emitsClose && typeof stream.aborted === "boolean") stream.on("aborted", onclose);
  stream.on("end", onend);
  stream.on("finish", onfinish);
  if (options.error !== false) stream.on("error", onerror);
  stream.on("close", onclose);
  if (closed) {
    nextTick(onclose);
  } else if (wState?.errorEmitted || rState?.errorEmitted) {
    if (!emitsClose) nextTick(onclosed);
  } else if (!readable && (!emitsClose || isReadable(stream)) && (writableFinished || isWritable(stream) === false)) {
    nextTick(onclosed);
  } else if (!writable && (!emitsClose || isWritable(stream)) && (readableFinished || isReadable(stream) === false)) {
    nextTick(onclosed);
  } else if (rState && stream.req && stream.aborted) {
    nextTick(onclosed);
  }
  const cleanup = () => {
    callback = nop;
    stream.removeListener("aborted", onclose);
    stream.removeListener("complete", onfinish);
    stream.removeListener("abort", onclose);
    stream.removeListener("request", onrequest);
    if (stream.req) stream.req.removeListener("finish", onfinish);
    stream.removeListener("end", onlegacyfinish);
    stream.removeListener("close", onlegacyfinish);
    stream.removeListener("finish", onfinish);
    stream.removeListener("end", onend);
    stream.removeListener("error", onerror);
    stream.removeListener("close", onclose);
  };
  if (options.signal && !closed) {
    const signal = options.signal;
    const abort = () => {
      const endCallback = callback;
      cleanup();
      endCallback.call(stream, new AbortError(undefined, { cause: signal.reason }));
    };
    if (signal.aborted) {
      nextTick(abort);
    } else {
      signal.addEventListener("abort", abort, { once: true });
      const original = callback;
      callback = onceCallback((...args) => {
        signal.removeEventListener("abort", abort);
        Reflect.apply(original, stream, args);
      });
    }
  }
  return cleanup;
}

// --- addAbortSignal -------------------------------------------------------------------------------

export function addAbortSignalNoValidate(signal, stream) {
  if (typeof signal !== "object" || !("aborted" in signal)) return stream;
  const onAbort = () => {
    stream.destroy(new AbortError(undefined, { cause: signal.reason }));
  };
  if (signal.aborted) {
    onAbort();
  } else {
    signal.addEventListener("abort", onAbort, { once: true });
    eos(stream, () => signal.removeEventListener("abort", onAbort));
  }
  return stream;
}

