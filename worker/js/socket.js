// `conn`: a handed-off TCP socket with the parts of Node's net.Socket (a Duplex
// stream) that handlers use, and Node's event order (checked against Node):
//   data* → end → (auto end(), allowHalfOpen is false) → finish → close(hadError)
//   destroy(err) → error → close(true); write after end() → error + close(true).
// Readable side: flowing when a 'data' listener is added (unless explicitly
// paused), buffered otherwise, with native reads stopped at the high-water
// mark; 'end' is emitted once the peer ended and nothing is left unread. Writable side:
// write() returns false while the kernel-side queue holds highWaterMark bytes
// or more, and 'drain' follows when it empties.
import { native } from "./native.js";
import { EventEmitter } from "./events.js";
import { Buffer } from "./buffer.js";
import { StringDecoder } from "./string_decoder.js";
import { setTimeout as startTimer, clearTimeout as stopTimer } from "./timers.js";
import { makeError, ERR_INVALID_ARG_TYPE, ERR_UNKNOWN_ENCODING } from "./errors.js";
import { requestConnect, normalizeConnectArgs } from "./egress.js";

// Passed by the runtime when it wraps a handed-off connection; handler code
// constructs sockets without it (new net.Socket()), unconnected.
export const kHandoff = Symbol("portbroker.handoff");

const kHighWaterMark = 16384;

// Where each native tcpWrite leaves the number of bytes it took.
const writeLength = new Float64Array(1);
native.tcpWriteLengths(writeLength);

function nextTick(fn, ...args) {
  native.nextTick(fn, args.length ? args : undefined);
}

function errnoError(code, syscall) {
  const name = native.errorName(code);
  const error = new Error(`${syscall} ${name}`);
  error.errno = code;
  error.code = name;
  error.syscall = syscall;
  return error;
}

function abortError(signal) {
  const error = new Error("The operation was aborted", { cause: signal.reason });
  error.code = "ABORT_ERR";
  error.name = "AbortError";
  return error;
}

function streamError(code, message) {
  return makeError(Error, code, message);
}

async function* iterate(stream) {
  let wake = () => {};
  let error;  // undefined: running, null: ended cleanly, otherwise the error
  const onReadable = () => {
    wake();
    wake = () => {};
  };
  const onEnd = () => {
    if (error === undefined) error = null;
    onReadable();
  };
  const onError = (err) => {
    error = err;
    onReadable();
  };
  const onClose = () => {
    if (error === undefined && !stream._endEmitted) error = streamError("ERR_STREAM_PREMATURE_CLOSE", "Premature close");
    onReadable();
  };
  stream.on("readable", onReadable);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
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
        await new Promise((resolve) => {
          wake = resolve;
        });
      }
    }
  } finally {
    // As Node: leaving the loop (break, return, throw or the end) destroys the socket.
    stream.off("readable", onReadable);
    stream.off("end", onEnd);
    stream.off("error", onError);
    stream.off("close", onClose);
    stream.destroy();
  }
}

export class Socket extends EventEmitter {
  // new Socket(kHandoff, id, brokerConnectionId, remote): a connection the
  // broker accepted; new Socket([options]): an outbound one, connect() next.
  constructor(token, id, brokerConnectionId, remote) {
    super();
    const handedOff = token === kHandoff;
    this._id = handedOff ? id : 0;
    this.brokerConnectionId = handedOff ? brokerConnectionId : undefined;
    this.remoteAddress = handedOff ? remote.address : undefined;
    this.remotePort = handedOff ? remote.port : undefined;
    this.remoteFamily = handedOff ? remote.family : undefined;
    this._sockname = null;
    this.allowHalfOpen = !handedOff && token !== null && typeof token === "object" && token.allowHalfOpen === true;
    this.connecting = false;
    this.pending = !handedOff;
    this.bytesRead = 0;
    this.timeout = undefined;
    this.destroyed = false;
    // Readable side.
    this._flowing = null;
    this._buffer = [];
    this._bufferedLength = 0;
    this._eof = false;
    this._endScheduled = false;
    this._endEmitted = false;
    this._decoder = null;
    this._readingStopped = false;
    this._readableListening = false;
    this._readableScheduled = false;
    // Writable side.
    this._bytesWritten = 0;
    // As Node counts it: a chunk that could not be written at once counts
    // whole until its write completes.
    this._pendingLength = 0;
    this._pendingWrites = [];
    this._needDrain = false;
    this._ending = false;
    this._shutdownRequested = false;
    this._finished = false;
    this._endCallbacks = [];
    this._corked = 0;
    this._corkedWrites = [];
    this._errored = null;
    this._closed = false;
    this._timer = null;
    this._connectRequest = 0;
    this._signalCleanup = null;
    if (handedOff) native.tcpReadStart(id);
  }

  // --- outbound (docs/egress.md) ---------------------------------------------------

  // connect(options[, listener]), connect(port[, host][, listener]): the
  // broker checks the destination against the handler's manifest, resolves
  // and connects; 'connect' then 'ready' follow, or 'error' then 'close'.
  connect(...args) {
    const [options, listener] = normalizeConnectArgs(args);
    if (this._id !== 0 || this.connecting) {
      throw makeError(Error, "ERR_SOCKET_CONNECTION_ALREADY_OPEN", "Socket is already connected");
    }
    if (this.destroyed) {
      // As Node: a destroyed socket may connect again; this one does not.
      throw makeError(Error, "ERR_SOCKET_CLOSED", "Socket is closed");
    }
    if (typeof listener === "function") this.once("connect", listener);
    if (typeof options.timeout === "number") this.setTimeout(options.timeout);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal === null || typeof signal !== "object" || !("aborted" in signal)) {
        throw ERR_INVALID_ARG_TYPE("options.signal", "AbortSignal", signal);
      }
      if (signal.aborted) {
        nextTick(() => this.destroy(abortError(signal)));
        return this;
      }
      const onAbort = () => this.destroy(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      this._signalCleanup = () => signal.removeEventListener("abort", onAbort);
    }
    this.connecting = true;
    this._connectHost = options.host;
    this._connectPort = options.port;
    requestConnect(this, options.host, options.port);
    return this;
  }

  // The broker connected: `id` is the runtime's connection.
  _onConnected(id, address, port, family) {
    this._id = id;
    this.remoteAddress = address;
    this.remotePort = port;
    this.remoteFamily = family;
    this.connecting = false;
    this.pending = false;
    if (this._signalCleanup) this._signalCleanup();
    native.tcpReadStart(id);
    this._touch();
    this.emit("connect");
    this.emit("ready");
    // Writes made while connecting go out now (unless corked by the handler).
    if (this._corked === 0) {
      const writes = this._corkedWrites;
      this._corkedWrites = [];
      for (const w of writes) {
        if (this.destroyed) break;
        this._dispatch(w.chunk, w.encoding, w.callback, w.length);
      }
    }
    this._maybeShutdown();
  }

  _onConnectFailed(error) {
    this.connecting = false;
    if (this._signalCleanup) this._signalCleanup();
    this.destroy(error);
  }

  // --- EventEmitter hooks, as Node's Readable ---------------------------------

  on(event, listener) {
    const result = super.on(event, listener);
    if (event === "data") {
      if (this._flowing !== false) this.resume();
    } else if (event === "readable" && !this._endEmitted) {
      this._readableListening = true;
      this._flowing = false;
      if (this._bufferedLength > 0 || this._eof) this._scheduleReadable();
    }
    return result;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  // --- readable ---------------------------------------------------------------

  get readable() {
    return !this.destroyed && !this._endEmitted;
  }

  get readableEnded() {
    return this._endEmitted;
  }

  get readableFlowing() {
    return this._flowing;
  }

  get readableLength() {
    return this._bufferedLength;
  }

  get readableHighWaterMark() {
    return kHighWaterMark;
  }

  get readableEncoding() {
    return this._decoder ? this._decoder.encoding : null;
  }

  setEncoding(encoding) {
    const decoder = new StringDecoder(encoding);
    this._decoder = decoder;
    let content = "";
    for (const chunk of this._buffer) content += typeof chunk === "string" ? chunk : decoder.write(chunk);
    this._buffer = content === "" ? [] : [content];
    this._bufferedLength = content.length;
    native.tcpUtf8Strings(this._id, this._canDecodeNatively());
    return this;
  }

  pause() {
    if (this._flowing !== false) {
      this._flowing = false;
      this.emit("pause");
    }
    return this;
  }

  resume() {
    if (!this._flowing) {
      this._flowing = !this._readableListening;
      nextTick(() => {
        this.emit("resume");
        this._flow();
      });
    }
    return this;
  }

  isPaused() {
    return this._flowing === false;
  }

  read(size) {
    if (this._bufferedLength === 0 || this.destroyed) {
      if (this._eof) this._scheduleEnd();
      return null;
    }
    let chunk;
    if (size === undefined || size >= this._bufferedLength) {
      chunk = this._takeAll();
    } else if (size <= 0) {
      return null;
    } else {
      chunk = this._take(size);
    }
    this._restartReading();
    if (this._eof && this._bufferedLength === 0) this._scheduleEnd();
    if (chunk !== null) this.emit("data", chunk);
    return chunk;
  }

  _takeAll() {
    const chunks = this._buffer;
    this._buffer = [];
    this._bufferedLength = 0;
    if (chunks.length === 1) return chunks[0];
    return typeof chunks[0] === "string" ? chunks.join("") : Buffer.concat(chunks);
  }

  _take(size) {
    let taken = this._takeAll();
    const rest = taken.slice(size);
    taken = taken.slice(0, size);
    if (rest.length > 0) {
      this._buffer = [rest];
      this._bufferedLength = rest.length;
    }
    return taken;
  }

  _onRead(payload, byteCount) {
    if (this.destroyed) return;
    if (payload === null) {
      this._onEof();
      return;
    }
    if (typeof payload === "number") {
      this.destroy(errnoError(payload, "read"));
      return;
    }
    this.bytesRead += byteCount;
    this._touch();
    if (typeof payload === "string") {
      // Decoded natively: only while the utf8 decoder holds nothing.
      this._push(payload);
      return;
    }
    const chunk = Buffer.from(payload);
    const value = this._decoder ? this._decoder.write(chunk) : chunk;
    if (this._canDecodeNatively()) native.tcpUtf8Strings(this._id, true);
    if (value.length > 0) this._push(value);
  }

  // Native decoding is exact only when no character is left unfinished here.
  _canDecodeNatively() {
    const decoder = this._decoder;
    return decoder !== null && decoder.encoding === "utf8" && decoder.lastNeed === 0;
  }

  _push(value) {
    if (this._flowing === true && this._bufferedLength === 0 && this.listenerCount("data") > 0) {
      this.emit("data", value);
      return;
    }
    this._buffer.push(value);
    this._bufferedLength += value.length;
    if (this._readableListening) this._scheduleReadable();
    if (this._flowing === true) this._flow();
    if (this._bufferedLength >= kHighWaterMark && !this._readingStopped) {
      this._readingStopped = true;
      native.tcpReadStop(this._id);
    }
  }

  _flow() {
    while (this._flowing === true && this._buffer.length > 0 && !this.destroyed) {
      const chunk = this._buffer.shift();
      this._bufferedLength -= chunk.length;
      this.emit("data", chunk);
    }
    this._restartReading();
    if (this._flowing === true && this._eof && this._bufferedLength === 0) this._scheduleEnd();
  }

  _restartReading() {
    if (this._readingStopped && !this._eof && !this.destroyed && this._bufferedLength < kHighWaterMark) {
      this._readingStopped = false;
      native.tcpReadStart(this._id);
    }
  }

  _onEof() {
    this._eof = true;
    if (this._decoder) {
      const rest = this._decoder.end();
      if (rest) {
        this._buffer.push(rest);
        this._bufferedLength += rest.length;
      }
    }
    if (this._readableListening) this._scheduleReadable();
    if (this._flowing === true) this._flow();
    // Node reads once more at EOF (read(0)): with nothing buffered, 'end'
    // follows even if nobody consumes the stream; unread data holds it back.
    if (this._bufferedLength === 0) this._scheduleEnd();
  }

  _scheduleReadable() {
    if (this._readableScheduled) return;
    this._readableScheduled = true;
    nextTick(() => {
      this._readableScheduled = false;
      if (!this.destroyed) this.emit("readable");
    });
  }

  _scheduleEnd() {
    if (this._endScheduled || this._endEmitted) return;
    this._endScheduled = true;
    nextTick(() => {
      if (this._endEmitted || this.destroyed || this._bufferedLength > 0) {
        this._endScheduled = false;
        return;
      }
      this._endEmitted = true;
      this.emit("end");
      // allowHalfOpen is false: the peer ended, so do we.
      nextTick(() => {
        if (!this.destroyed) this.end();
      });
      this._destroyWhenBothEnded();
    });
  }

  [Symbol.asyncIterator]() {
    return iterate(this);
  }

  pipe(destination, options = {}) {
    const onData = (chunk) => {
      if (destination.write(chunk) === false) this.pause();
    };
    const onDrain = () => this.resume();
    this.on("data", onData);
    destination.on("drain", onDrain);
    if (options.end !== false) this.once("end", () => destination.end());
    this.once("close", () => {
      this.off("data", onData);
      destination.off("drain", onDrain);
    });
    destination.emit("pipe", this);
    if (this._flowing !== true) this.resume();
    return destination;
  }

  // --- writable ---------------------------------------------------------------

  get writable() {
    return !this.destroyed && !this._ending;
  }

  get writableEnded() {
    return this._ending;
  }

  get writableFinished() {
    return this._finished;
  }

  get writableLength() {
    let corked = 0;
    for (const w of this._corkedWrites) corked += w.length;
    return this._pendingLength + corked;
  }

  get writableHighWaterMark() {
    return kHighWaterMark;
  }

  get writableNeedDrain() {
    return this._needDrain;
  }

  get writableCorked() {
    return this._corked;
  }

  get bytesWritten() {
    return this._bytesWritten;
  }

  get closed() {
    return this._closed;
  }

  get errored() {
    return this._errored;
  }

  get readyState() {
    if (this.connecting) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  write(chunk, encoding, callback) {
    if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (chunk === null) throw makeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
    let length;  // in bytes; -1: a string the native write measures as it encodes it
    if (typeof chunk === "string") {
      if (encoding === undefined || encoding === null || encoding === "utf8") {
        encoding = undefined;  // the native default, without parsing a name
      } else if (!Buffer.isEncoding(encoding)) {
        throw ERR_UNKNOWN_ENCODING(encoding);
      }
      length = -1;
    } else if (chunk instanceof Uint8Array) {
      length = chunk.byteLength;
    } else if (ArrayBuffer.isView(chunk)) {
      chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      length = chunk.byteLength;
    } else {
      throw ERR_INVALID_ARG_TYPE("chunk", ["string", "Buffer", "TypedArray", "DataView"], chunk);
    }
    let error = null;
    if (this._ending) {
      error = streamError("ERR_STREAM_WRITE_AFTER_END", "write after end");
    } else if (this.destroyed) {
      error = streamError("ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed");
    }
    if (error) {
      if (typeof callback === "function") nextTick(callback, error);
      if (!this.destroyed) this.destroy(error);
      return false;
    }
    this._touch();
    if (this._corked > 0 || this._id === 0) {
      if (length < 0) length = Buffer.byteLength(chunk, encoding ?? "utf8");
      this._bytesWritten += length;
      this._corkedWrites.push({ chunk, encoding, callback, length });
      const ret = this.writableLength < kHighWaterMark;
      if (!ret) this._needDrain = true;
      return ret;
    }
    this._bytesWritten += this._dispatch(chunk, encoding, callback, length);
    const ret = this._pendingLength < kHighWaterMark;
    if (!ret) this._needDrain = true;
    return ret;
  }

  // Writes one chunk; returns its length in bytes.
  _dispatch(chunk, encoding, callback, length) {
    let result = 0;
    if (length !== 0 && chunk.length !== 0) {
      result = native.tcpWrite(this._id, chunk, encoding);
      length = writeLength[0];
    } else {
      length = 0;
    }
    if (result < 0) {
      const error = errnoError(result, "write");
      if (typeof callback === "function") nextTick(callback, error);
      this.destroy(error);
      return length;
    }
    if (result === 0) {
      // The kernel took it all: the callback follows on the next tick, as in
      // Node. Without a callback or a waiting 'drain' that tick has nothing
      // to do (end() starts the shutdown itself).
      if (typeof callback === "function" || this._needDrain) nextTick(() => this._afterWrite(callback));
      return length;
    }
    this._pendingWrites.push({ length, callback });
    this._pendingLength += length;
    return length;
  }

  _afterWrite(callback) {
    if (typeof callback === "function") callback(null);
    if (this._needDrain && this._pendingLength === 0 && !this.destroyed) {
      this._needDrain = false;
      this.emit("drain");
    }
    this._maybeShutdown();
  }

  // One native write request finished: the oldest pending write.
  _onWriteDone(bytes, status) {
    const write = this._pendingWrites.shift();
    if (write) this._pendingLength -= write.length;
    if (status < 0) {
      const error = errnoError(status, "write");
      if (write && typeof write.callback === "function") write.callback(error);
      this.destroy(error);
      return;
    }
    this._afterWrite(write ? write.callback : undefined);
  }

  cork() {
    this._corked++;
  }

  uncork() {
    if (this._corked === 0) return;
    if (--this._corked > 0 || this._id === 0) return;
    const writes = this._corkedWrites;
    this._corkedWrites = [];
    for (const w of writes) {
      if (this.destroyed) break;
      this._dispatch(w.chunk, w.encoding, w.callback, w.length);
    }
    this._maybeShutdown();
  }

  end(data, encoding, callback) {
    if (typeof data === "function") {
      callback = data;
      data = undefined;
    } else if (typeof encoding === "function") {
      callback = encoding;
      encoding = undefined;
    }
    if (data !== undefined && data !== null) this.write(data, encoding);
    if (typeof callback === "function") {
      if (this._finished) nextTick(callback, null);
      else if (this.destroyed) nextTick(callback, streamError("ERR_STREAM_DESTROYED", "Cannot call end after a stream was destroyed"));
      else this._endCallbacks.push(callback);
    }
    if (this._ending || this.destroyed) return this;
    this._ending = true;
    this._corked = Math.min(this._corked, 1);
    this.uncork();
    this._maybeShutdown();
    return this;
  }

  _maybeShutdown() {
    if (!this._ending || this._shutdownRequested || this.destroyed || this._pendingWrites.length > 0 ||
        this._corkedWrites.length > 0 || this._id === 0) {
      return;
    }
    this._shutdownRequested = true;
    const result = native.tcpShutdown(this._id);
    // As Node: a peer that already went away (ENOTCONN) means our side is done.
    if (result < 0 && native.errorName(result) === "ENOTCONN") nextTick(() => this._onShutdown());
    else if (result < 0) this.destroy(errnoError(result, "shutdown"));
  }

  // Node's afterShutdown ignores the status: a shutdown that fails because
  // the peer reset or closed first still finishes the writable side, and the
  // read side reports whatever happened to the connection.
  _onShutdown() {
    if (this.destroyed) return;
    this._finished = true;
    const callbacks = this._endCallbacks;
    this._endCallbacks = [];
    for (const callback of callbacks) callback(null);
    this.emit("finish");
    this._destroyWhenBothEnded();
  }

  _destroyWhenBothEnded() {
    if (this._finished && this._endEmitted && !this.destroyed) this.destroy();
  }

  destroySoon() {
    if (this._finished) this.destroy();
    else {
      this.once("finish", () => this.destroy());
      this.end();
    }
  }

  destroy(error) {
    if (this.destroyed) return this;
    this.destroyed = true;
    this._clearTimer();
    if (error) this._errored = error;
    if (this._signalCleanup) this._signalCleanup();
    if (error) nextTick(() => this.emit("error", error));
    if (this._id !== 0) {
      native.tcpClose(this._id);
    } else {
      // Never connected (refused, failed, or destroyed while connecting):
      // no native handle to wait for. An answer that still arrives finds
      // the socket destroyed and closes its connection unseen.
      this.connecting = false;
      nextTick(() => this._onClose());
    }
    return this;
  }

  resetAndDestroy() {
    return this.destroy();
  }

  // The native handle finished closing.
  _onClose() {
    this._closed = true;
    this.destroyed = true;
    this._clearTimer();
    // Errors (and their stacks) only for callbacks that will receive them:
    // the common close has none waiting.
    if (this._pendingWrites.length > 0 || this._corkedWrites.length > 0) {
      let destroyedError;
      for (const write of [...this._pendingWrites.splice(0), ...this._corkedWrites.splice(0)]) {
        if (typeof write.callback !== "function") continue;
        destroyedError ??= streamError("ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed");
        write.callback(destroyedError);
      }
    }
    if (!this._finished && this._endCallbacks.length > 0) {
      const premature = streamError("ERR_STREAM_PREMATURE_CLOSE", "Premature close");
      for (const callback of this._endCallbacks.splice(0)) callback(premature);
    }
    this.emit("close", this._errored !== null);
  }

  // --- options and timeouts -------------------------------------------------------

  setNoDelay(noDelay = true) {
    if (!this.destroyed) native.tcpSetNoDelay(this._id, Boolean(noDelay));
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0) {
    if (!this.destroyed) native.tcpSetKeepAlive(this._id, Boolean(enable), Number(initialDelay) || 0);
    return this;
  }

  setTimeout(msecs, callback) {
    if (typeof msecs !== "number") throw ERR_INVALID_ARG_TYPE("msecs", ["number"], msecs);
    if (!(msecs >= 0) || !Number.isFinite(msecs)) {
      throw makeError(RangeError, "ERR_OUT_OF_RANGE",
        `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${msecs}`);
    }
    this.timeout = msecs;
    this._clearTimer();
    if (msecs === 0) {
      if (typeof callback === "function") this.removeListener("timeout", callback);
    } else {
      this._timer = startTimer(() => {
        if (!this.destroyed) this.emit("timeout");
      }, msecs);
      if (typeof callback === "function") this.once("timeout", callback);
    }
    return this;
  }

  _touch() {
    if (this._timer) this._timer.refresh();
  }

  _clearTimer() {
    if (this._timer) {
      stopTimer(this._timer);
      this._timer = null;
    }
  }

  // The local side is asked of the kernel the first time it is read, and
  // kept, as in Node; a socket closed before that has none ({}).
  _getsockname() {
    if (this._sockname === null) {
      const local = native.tcpLocalAddress(this._id);  // undefined once closing
      if (!local) return {};
      this._sockname = { address: local[0], family: local[0].includes(":") ? "IPv6" : "IPv4", port: local[1] };
    }
    return this._sockname;
  }

  get localAddress() {
    return this._getsockname().address;
  }

  get localPort() {
    return this._getsockname().port;
  }

  get localFamily() {
    return this._getsockname().family;
  }

  address() {
    return this._getsockname();
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }
}
