// `conn`: a handed-off TCP socket, a stream.Duplex as Node's net.Socket is,
// with the same hooks net.Socket gives the stream machinery: _read starts
// native reading (it stops when push() says the buffer is full), _write and
// _writev hand bytes to the kernel (a write the kernel takes at once completes
// synchronously), _final shuts the socket down, _destroy closes it; 'close'
// (with hadError) comes when the native handle has closed. allowHalfOpen is
// false: the peer's end ends our side too. setEncoding("utf8") lets reads
// arrive as strings decoded natively while the decoder holds nothing.
import { native } from "./native.js";
import { Buffer } from "./buffer.js";
import { setTimeout as startTimer, clearTimeout as stopTimer } from "./timers.js";
import { AbortError, makeError, ERR_INVALID_ARG_TYPE } from "./errors.js";
import {
  Duplex, writeChunk, pushSettled, addChunk, settleReadMore, onwrite, onwriteOf, scheduleAfterWrite, nop,
  S_DESTROYED, S_CONSTRUCTED, S_EMIT_CLOSE, R_SYNC, R_READING, R_NEED_READABLE, R_ENDED, R_END_EMITTED,
  W_DECODE_STRINGS, W_ENDING, W_WRITING, W_SYNC, W_NEED_DRAIN,
} from "./stream_core.js";

// Where each native tcpWrite leaves the number of bytes it took.
const writeLength = new Float64Array(1);
native.tcpWriteLengths(writeLength);

function errnoError(code, syscall) {
  const name = native.errorName(code);
  const error = new Error(`${syscall} ${name}`);
  error.errno = code;
  error.code = name;
  error.syscall = syscall;
  return error;
}

function nativeEncoding(encoding) {
  // The native default is utf8, without parsing a name; bytes need none.
  return encoding === "utf8" || encoding === "buffer" ? undefined : encoding;
}

// Passed by the runtime when it wraps a handed-off connection; handler code
// constructs sockets without it (new net.Socket()), unconnected, and
// connects them through the broker (docs/egress.md).
export const kHandoff = Symbol("portbroker.handoff");

function abortError(signal) {
  return new AbortError(undefined, { cause: signal.reason });
}

// _sk bits.
const SK_READING = 1;  // native reading is on
const SK_HAD_ERROR = 2;  // destroyed with an error: 'close' says so

export class Socket extends Duplex {
  // new Socket(kHandoff, id, brokerConnectionId, remote): a connection the
  // broker accepted; new Socket([options]): an outbound one, connect() next.
  constructor(token, id, brokerConnectionId, remote) {
    super();
    const handedOff = token === kHandoff;
    this.allowHalfOpen = !handedOff && token !== null && typeof token === "object" && token.allowHalfOpen === true;
    this._id = handedOff ? id : 0;
    this.brokerConnectionId = handedOff ? brokerConnectionId : undefined;
    this.remoteAddress = handedOff ? remote.address : undefined;
    this.remotePort = handedOff ? remote.port : undefined;
    this.remoteFamily = handedOff ? remote.family : undefined;
    this.bytesRead = 0;
    this._sk = handedOff ? SK_READING : 0;
    // As net.Socket: 'close' is emitted here, with hadError; strings are
    // written as strings.
    this._s &= ~S_EMIT_CLOSE;
    // W_SYNC marks a write's own call: _writeNow makes that call without it.
    this._w &= ~(W_DECODE_STRINGS | W_SYNC);
    // Where net.Socket's read(0) at creation leaves the readable side.
    this._r = (this._r & ~R_SYNC) | R_READING | R_NEED_READABLE;
    if (handedOff) {
      native.tcpReadStart(id);
    } else {
      this.pending = true;
    }
  }

  // --- outbound (docs/egress.md) ---------------------------------------------------

  // connect(options[, listener]), connect(port[, host][, listener]): the
  // broker checks the destination against the handler's manifest, resolves
  // and connects; 'connect' then 'ready' follow, or 'error' then 'close'.
  // Writes and end() made meanwhile wait for the connection, as in Node.
  connect(...args) {
    // Compiled on the first outbound connection: most handlers make none.
    const { requestConnect, normalizeConnectArgs } = native.loadInternal("egress.js");
    const [options, listener] = normalizeConnectArgs(args);
    if (this._id !== 0 || this.connecting) {
      throw makeError(Error, "ERR_SOCKET_CONNECTION_ALREADY_OPEN", "Socket is already connected");
    }
    if (this.destroyed) throw makeError(Error, "ERR_SOCKET_CLOSED", "Socket is closed");
    if (typeof listener === "function") this.once("connect", listener);
    if (typeof options.timeout === "number") this.setTimeout(options.timeout);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal === null || typeof signal !== "object" || !("aborted" in signal)) {
        throw ERR_INVALID_ARG_TYPE("options.signal", "AbortSignal", signal);
      }
      if (signal.aborted) {
        native.nextTick(() => this.destroy(abortError(signal)), undefined);
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
    this._connectedTo(address, port, family);
    this._open(id);
    this.emit("connect");
    // Writes and end() waiting for the connection go out from here.
    this._flushOpenWaiters();
    this.emit("ready");
  }

  _connectedTo(address, port, family) {
    this.remoteAddress = address;
    this.remotePort = port;
    this.remoteFamily = family;
    this.connecting = false;
    this.pending = false;
    if (this._signalCleanup !== null) this._signalCleanup();
    this._signalCleanup = null;
  }

  // From here data flows through connection `id` (for TLS: once secure).
  _open(id) {
    this._id = id;
    this._sk |= SK_READING;
    native.tcpReadStart(id);
    if (this._decoder !== null) native.tcpUtf8Strings(id, this._canDecodeNatively());
    if (this._timer !== null) this._timer.refresh();
  }

  // Writes, writev and end() made before the socket opened wait here.
  _whenOpen(fn) {
    if (this._openWaiters === null) this._openWaiters = [];
    this._openWaiters.push(fn);
  }

  _flushOpenWaiters() {
    const waiters = this._openWaiters;
    this._openWaiters = null;
    if (waiters !== null) for (const fn of waiters) fn();
  }

  _onConnectFailed(error) {
    this.connecting = false;
    if (this._signalCleanup !== null) this._signalCleanup();
    this._signalCleanup = null;
    this.destroy(error);
  }

  // --- the stream machinery's hooks -------------------------------------------------

  _read() {
    if (this._id === 0) return;  // reading starts once connected
    if (!(this._sk & SK_READING) && !(this._s & S_DESTROYED)) {
      this._sk |= SK_READING;
      const result = native.tcpReadStart(this._id);
      if (result < 0) this.destroy(errnoError(result, "read"));
    }
  }

  // A read from the native side: bytes (an ArrayBuffer), a string decoded
  // natively, null at the peer's end, or a negative error number.
  _onRead(payload, byteCount) {
    if (this._s & S_DESTROYED) return;
    if (payload === null) {
      // As Node: the end, then one more read so that 'end' follows even if
      // nobody consumes the stream.
      this.push(null);
      this.read(0);
      return;
    }
    if (typeof payload === "number") {
      this.destroy(errnoError(payload, "read"));
      return;
    }
    this.bytesRead += byteCount;
    if (this._timer !== null) this._timer.refresh();
    let more;
    if (typeof payload === "string") {
      // Decoded natively: only while the utf8 decoder holds nothing. What
      // push(payload, "utf8") does, without its checks of the chunk.
      const r = this._r;
      if (!(r & R_ENDED) && this._errored === null && this._encoding === "utf8") {
        this._r = r & ~R_READING;
        addChunk(this, payload, false);
        settleReadMore(this);
        more = !(this._r & R_ENDED) && (this._rlen < this._rhwm || this._rlen === 0);
      } else {
        more = pushSettled(this, payload, "utf8");
      }
    } else {
      more = pushSettled(this, Buffer.from(payload));
      if (this._canDecodeNatively()) native.tcpUtf8Strings(this._id, true);
    }
    if (!more && (this._sk & SK_READING) && !(this._s & S_DESTROYED)) {
      this._sk &= ~SK_READING;
      native.tcpReadStop(this._id);
    }
  }

  // Native decoding is exact only when no character is left unfinished here.
  _canDecodeNatively() {
    const decoder = this._decoder;
    return decoder !== null && decoder.encoding === "utf8" && decoder.lastNeed === 0;
  }

  setEncoding(encoding) {
    super.setEncoding(encoding);
    if (this._id !== 0) native.tcpUtf8Strings(this._id, this._canDecodeNatively());
    return this;
  }

  write(chunk, encoding, callback) {
    const w = this._w;
    // Nothing in the way (no write in flight, not corked, ended or failed)
    // and utf8 text or bytes: straight to the kernel.
    if ((w & (W_ENDING | W_WRITING)) === 0 && this._corked === 0 && this._errored === null && this._id !== 0 &&
        (this._s & (S_DESTROYED | S_CONSTRUCTED)) === S_CONSTRUCTED) {
      if (typeof encoding === "function") {
        callback = encoding;
        encoding = undefined;
      }
      if (encoding === undefined || encoding === null) {
        if (chunk instanceof Uint8Array || (typeof chunk === "string" && this._wDefaultEncoding === "utf8")) {
          return this._writeNow(chunk, callback);
        }
      } else if (encoding === "utf8" && typeof chunk === "string") {
        return this._writeNow(chunk, callback);
      }
    } else if ((w & W_ENDING) && (this._r & R_END_EMITTED) && !this.allowHalfOpen) {
      // As net.Socket once the peer has ended and so have we: EPIPE.
      return this._writeAfterFin(encoding, callback);
    }
    return writeChunk(this, chunk, encoding, callback) === true;
  }

  // What write() → _write() → the write's completion do when nothing is
  // buffered: a write the kernel takes at once completes here (its callback
  // on the next tick, none without one), one it queues completes later.
  _writeNow(chunk, callback) {
    const length = chunk.length;
    if (this._timer !== null) this._timer.refresh();
    const result = length === 0 ? 0 : native.tcpWrite(this._id, chunk, undefined);
    if (result === 0) {
      if (length !== 0) this._bytesDispatched += writeLength[0];
      if (typeof callback === "function") {
        this._pendingcb++;
        scheduleAfterWrite(this, callback);
      }
    } else {
      this._pendingcb++;
      this._wlen += length;
      this._writelen = length;
      this._writecb = typeof callback === "function" ? callback : nop;
      if (result > 0) {
        this._bytesDispatched += writeLength[0];
        this._w |= W_WRITING;
        this._inflight = 1;
        this._writeCallback = onwriteOf(this);
      } else {
        this._w |= W_WRITING | W_SYNC;
        onwrite(this, errnoError(result, "write"));
        this._w &= ~W_SYNC;
      }
    }
    const ret = this._wlen < this._whwm;
    if (!ret) this._w |= W_NEED_DRAIN;
    return ret && this._errored === null && !(this._s & S_DESTROYED);
  }

  _writeAfterFin(encoding, callback) {
    if (typeof encoding === "function") callback = encoding;
    const error = new Error("This socket has been ended by the other party");
    error.code = "EPIPE";
    if (typeof callback === "function") native.nextTick(callback, [error]);
    this.destroy(error);
    return false;
  }

  _write(chunk, encoding, callback) {
    if (this._id === 0) {
      this._whenOpen(() => this._write(chunk, encoding, callback));
      return;
    }
    if (this._timer !== null) this._timer.refresh();
    const result = chunk.length === 0 ? 0 : native.tcpWrite(this._id, chunk, nativeEncoding(encoding));
    if (result === 0) {
      if (chunk.length !== 0) this._bytesDispatched += writeLength[0];
      callback();
    } else if (result < 0) {
      callback(errnoError(result, "write"));
    } else {
      this._bytesDispatched += writeLength[0];
      this._inflight = 1;
      this._writeCallback = callback;
    }
  }

  _writev(chunks, callback) {
    if (this._id === 0) {
      this._whenOpen(() => this._writev(chunks, callback));
      return;
    }
    if (this._timer !== null) this._timer.refresh();
    let queued = 0;
    for (const { chunk, encoding } of chunks) {
      if (chunk.length === 0) continue;
      const result = native.tcpWrite(this._id, chunk, nativeEncoding(encoding));
      if (result < 0) {
        // Whatever was queued completes unheard.
        this._inflight = queued;
        this._writeCallback = null;
        callback(errnoError(result, "write"));
        return;
      }
      this._bytesDispatched += writeLength[0];
      if (result > 0) queued++;
    }
    if (queued === 0) {
      callback();
    } else {
      this._inflight = queued;
      this._writeCallback = callback;
    }
  }

  // One native write request finished.
  _onWriteDone(bytes, status) {
    if (status < 0 && this._writeError === null) this._writeError = errnoError(status, "write");
    if (--this._inflight > 0) return;
    const callback = this._writeCallback;
    const error = this._writeError;
    this._writeCallback = null;
    this._writeError = null;
    if (callback === null) return;
    if (this._timer !== null) this._timer.refresh();
    // As Node: a write that completes on a destroyed socket completes without error.
    callback((this._s & S_DESTROYED) ? null : error);
  }

  _final(callback) {
    if (this._id === 0) {
      this._whenOpen(() => this._final(callback));
      return;
    }
    const result = native.tcpShutdown(this._id);
    if (result === 0) {
      this._shutdownCallback = callback;
      return;
    }
    // As Node: a peer that already went away (ENOTCONN), or a handle
    // already closing, means our side is done.
    const name = native.errorName(result);
    if (name === "ENOTCONN" || name === "EBADF") callback();
    else callback(errnoError(result, "shutdown"));
  }

  // Node's afterShutdown ignores the status: a shutdown that fails because
  // the peer reset or closed first still finishes the writable side, and the
  // read side reports whatever happened to the connection.
  _onShutdown() {
    const callback = this._shutdownCallback;
    this._shutdownCallback = null;
    if (callback !== null) callback();
  }

  _destroy(error, callback) {
    this._clearTimer();
    if (error) this._sk |= SK_HAD_ERROR;
    if (this._signalCleanup !== null) this._signalCleanup();
    this._signalCleanup = null;
    if (this._id !== 0) {
      native.tcpClose(this._id);
      callback(error);
      return;
    }
    // Never connected (refused, failed, or destroyed while connecting): no
    // native handle to wait for. An answer that still arrives finds the
    // socket destroyed and its connection is closed unseen.
    this.connecting = false;
    callback(error);
    native.nextTick(() => this._onClose(), undefined);
  }

  // The native handle finished closing (after destroy(), or when the broker
  // closed it).
  _onClose() {
    this._clearTimer();
    if (!(this._s & S_DESTROYED)) this.destroy();
    // As libuv cancelling them for Node: what was in flight completes.
    if (this._writeCallback !== null) {
      const callback = this._writeCallback;
      this._writeCallback = null;
      this._inflight = 0;
      callback(null);
    }
    this._onShutdown();
    this.emit("close", (this._sk & SK_HAD_ERROR) !== 0);
  }

  get bytesWritten() {
    let bytes = this._bytesDispatched;
    const buffered = this._wbuf;
    if (buffered !== null) {
      for (let i = this._wbufIndex; i < buffered.length; i++) {
        const { chunk, encoding } = buffered[i];
        bytes += typeof chunk === "string" ? Buffer.byteLength(chunk, encoding) : chunk.length;
      }
    }
    return bytes;
  }

  get readyState() {
    if (this.connecting) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  destroySoon() {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", this.destroy);
  }

  resetAndDestroy() {
    return this.destroy();
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

  // The deprecated name for writableLength, while connected (Node: while it has a handle).
  get bufferSize() {
    return this._id !== 0 && !this.destroyed ? this.writableLength : undefined;
  }

  setTimeout(msecs, callback) {
    // Node's order: nothing on a destroyed socket; `timeout` is set before msecs is checked.
    if (this.destroyed) return this;
    this.timeout = msecs;
    if (typeof msecs !== "number") throw ERR_INVALID_ARG_TYPE("msecs", ["number"], msecs);
    if (!(msecs >= 0) || !Number.isFinite(msecs)) {
      throw makeError(RangeError, "ERR_OUT_OF_RANGE",
        `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${msecs}`);
    }
    if (callback !== undefined && typeof callback !== "function") {
      throw ERR_INVALID_ARG_TYPE("callback", ["function"], callback);
    }
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

// Defaults of fields most connections never set: on the prototype, so an
// idle connection carries only what it uses.
Object.assign(Socket.prototype, {
  _sockname: null,
  timeout: undefined,
  _timer: null,
  _bytesDispatched: 0,
  _inflight: 0,
  _writeCallback: null,
  _writeError: null,
  _shutdownCallback: null,
  connecting: false,
  pending: false,
  _signalCleanup: null,
  _connectHost: undefined,
  _connectPort: undefined,
  _connectRequest: 0,
  _openWaiters: null,
});
