// The WHATWG ReadableStream (default streams: no byte streams, no BYOB
// readers) with Node 20's errors. The algorithms follow the Streams standard
// step by step, because the order in which read() promises settle relative to
// enqueue(), close() and the source's pull() is observable and handler code
// written against Node relies on it. Internal state lives in plain records
// behind private fields, so the spec's abstract operations can work on them
// without going through the public (patchable) prototypes.
import {
  ERR_ILLEGAL_CONSTRUCTOR,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_INVALID_STATE,
  ERR_INVALID_THIS,
  makeError,
} from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { native } from "./native.js";
import { withResolvers } from "./promise_resolvers.js";

const kCreate = Symbol("kCreate");

// The spec's [[PromiseIsHandled]]: a rejection nobody asked for must not be
// reported as unhandled.
function markHandled(promise) {
  promise.then(undefined, () => {});
  return promise;
}

function rejectedHandled(reason) {
  return markHandled(Promise.reject(reason));
}

// Calls an optional method of the underlying source as a promise-returning
// algorithm: a throw becomes a rejection.
function promiseCall(fn, thisArg, args) {
  if (fn === undefined) return Promise.resolve();
  try {
    return Promise.resolve(Reflect.apply(fn, thisArg, args));
  } catch (error) {
    return Promise.reject(error);
  }
}

function isObjectLike(value) {
  return value !== null && (typeof value === "object" || typeof value === "function");
}

function defineTag(cls, tag) {
  Object.defineProperty(cls.prototype, Symbol.toStringTag, {
    value: tag,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

// Web IDL makes the members of an interface enumerable.
function enumerableMembers(cls, names) {
  for (const name of names) Object.defineProperty(cls.prototype, name, { enumerable: true });
}

// Queuing strategy ---------------------------------------------------------------------

function extractHighWaterMark(strategy, defaultHWM) {
  const { highWaterMark } = strategy;
  if (highWaterMark === undefined) return defaultHWM;
  const value = Number(highWaterMark);
  if (Number.isNaN(value) || value < 0) {
    throw makeError(RangeError, "ERR_INVALID_ARG_VALUE",
      `The property 'strategy.highWaterMark' is invalid. Received ${inspect(highWaterMark)}`);
  }
  return value;
}

function extractSizeAlgorithm(strategy) {
  const { size } = strategy;
  if (size === undefined) return () => 1;
  if (typeof size !== "function") throw ERR_INVALID_ARG_TYPE("strategy.size", "Function", size);
  return (chunk) => size(chunk);
}

function invalidChunkSize(size) {
  return makeError(RangeError, "ERR_INVALID_ARG_VALUE",
    `The argument 'size' is invalid. Received ${inspect(size)}`);
}

// Records -------------------------------------------------------------------------------

// A stream's state: "readable", "closed" or "errored".
function newStreamRecord(object) {
  return {
    object,
    state: "readable",
    reader: undefined,
    storedError: undefined,
    disturbed: false,
    controller: undefined,
  };
}

let streamRecordOf;
let readerRecordOf;
let controllerRecordOf;
let newReadableStreamObject;
let newControllerObject;

// ReadableStream --------------------------------------------------------------------------

export class ReadableStream {
  #record;

  constructor(source = undefined, strategy = undefined) {
    if (source === kCreate) {
      this.#record = newStreamRecord(this);
      return;
    }
    if (source === undefined) source = {};
    if (source === null || (typeof source !== "object" && typeof source !== "function")) {
      throw ERR_INVALID_ARG_TYPE("source", "object", source);
    }
    if (strategy === undefined || strategy === null) strategy = {};
    if (typeof strategy !== "object" && typeof strategy !== "function") {
      throw ERR_INVALID_ARG_TYPE("strategy", "object", strategy);
    }
    this.#record = newStreamRecord(this);
    const type = source.type;
    if (type !== undefined) {
      const name = `${type}`;
      if (name === "bytes") {
        // Byte streams (and BYOB readers) are not implemented; a default
        // stream in their place would hand out chunks the caller did not
        // expect, so refuse clearly instead.
        throw makeError(TypeError, "ERR_INVALID_ARG_VALUE",
          "The property 'source.type' is invalid. Received 'bytes': byte streams (type: \"bytes\") are not supported by this runtime");
      }
      throw ERR_INVALID_ARG_VALUE("source.type", type);
    }
    const sizeAlgorithm = extractSizeAlgorithm(strategy);
    const highWaterMark = extractHighWaterMark(strategy, 1);
    setUpControllerFromSource(this.#record, source, highWaterMark, sizeAlgorithm);
  }

  static {
    streamRecordOf = (object) => (isObjectLike(object) && #record in object ? object.#record : undefined);
    newReadableStreamObject = () => new ReadableStream(kCreate);
  }

  get locked() {
    return isLocked(checkStream(this));
  }

  cancel(reason = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) return Promise.reject(ERR_INVALID_THIS("ReadableStream"));
    if (isLocked(stream)) return Promise.reject(ERR_INVALID_STATE("ReadableStream is locked"));
    return cancelStream(stream, reason);
  }

  getReader(options = undefined) {
    const stream = checkStream(this);
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      throw ERR_INVALID_ARG_TYPE("options", "object", options);
    }
    const mode = options?.mode;
    if (mode !== undefined) {
      if (`${mode}` === "byob") {
        throw ERR_INVALID_ARG_VALUE("stream", this, "must be a byte stream");
      }
      throw ERR_INVALID_ARG_VALUE("options.mode", mode);
    }
    return acquireReader(stream).object;
  }

  tee() {
    const stream = checkStream(this);
    if (isLocked(stream)) throw ERR_INVALID_STATE("ReadableStream is locked");
    return teeStream(stream).map((branch) => branch.object);
  }

  values(options = undefined) {
    const stream = checkStream(this);
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      throw ERR_INVALID_ARG_TYPE("options", "object", options);
    }
    const preventCancel = Boolean(options?.preventCancel);
    if (isLocked(stream)) throw ERR_INVALID_STATE("ReadableStream is locked");
    return createAsyncIterator(acquireReader(stream), preventCancel);
  }

  [customInspectSymbol](depth, options) {
    const stream = checkStream(this);
    return customInspect(this, {
      locked: isLocked(stream),
      state: stream.state,
      supportsBYOB: false,
    }, depth, options);
  }
}
Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, {
  value: ReadableStream.prototype.values,
  writable: true,
  enumerable: false,
  configurable: true,
});
enumerableMembers(ReadableStream, ["locked", "cancel", "getReader", "tee", "values"]);
defineTag(ReadableStream, "ReadableStream");

function checkStream(object) {
  const stream = streamRecordOf(object);
  if (stream === undefined) throw ERR_INVALID_THIS("ReadableStream");
  return stream;
}

function customInspect(self, fields, depth, options) {
  if (depth < 0) return self;
  const opts = Object.assign({}, options, {
    depth: options.depth === null ? null : options.depth - 1,
  });
  return `${self.constructor.name} ${inspect(fields, opts)}`;
}

function isLocked(stream) {
  return stream.reader !== undefined;
}

export function isReadableStream(value) {
  return streamRecordOf(value) !== undefined;
}

export function isDisturbed(value) {
  return streamRecordOf(value)?.disturbed === true;
}

export function isStreamLocked(value) {
  const stream = streamRecordOf(value);
  return stream !== undefined && isLocked(stream);
}

// Stream abstract operations --------------------------------------------------------------

function cancelStream(stream, reason) {
  stream.disturbed = true;
  if (stream.state === "closed") return Promise.resolve();
  if (stream.state === "errored") return Promise.reject(stream.storedError);
  closeStream(stream);
  const sourceCancelPromise = controllerCancelSteps(stream.controller, reason);
  return sourceCancelPromise.then(() => undefined);
}

function closeStream(stream) {
  stream.state = "closed";
  const reader = stream.reader;
  if (reader === undefined) return;
  reader.closed.resolve();
  const requests = reader.readRequests;
  reader.readRequests = [];
  for (const request of requests) request.close();
}

function errorStream(stream, error) {
  stream.state = "errored";
  stream.storedError = error;
  const reader = stream.reader;
  if (reader === undefined) return;
  reader.closed.reject(error);
  markHandled(reader.closed.promise);
  errorReadRequests(reader, error);
}

function errorReadRequests(reader, error) {
  const requests = reader.readRequests;
  reader.readRequests = [];
  for (const request of requests) request.error(error);
}

function fulfillReadRequest(stream, chunk, done) {
  const request = stream.reader.readRequests.shift();
  if (done) request.close();
  else request.chunk(chunk);
}

function numReadRequests(stream) {
  return stream.reader.readRequests.length;
}

// Reader ------------------------------------------------------------------------------------

function newReaderRecord(object) {
  return { object, stream: undefined, readRequests: [], closed: undefined };
}

export class ReadableStreamDefaultReader {
  #record;

  constructor(stream) {
    const record = newReaderRecord(this);
    if (stream === kCreate) {
      this.#record = record;
      return;
    }
    const streamRecord = streamRecordOf(stream);
    if (streamRecord === undefined) throw ERR_INVALID_ARG_TYPE("stream", "ReadableStream", stream);
    this.#record = record;
    setUpReader(record, streamRecord);
  }

  static {
    readerRecordOf = (object) => (isObjectLike(object) && #record in object ? object.#record : undefined);
  }

  read() {
    const reader = readerRecordOf(this);
    if (reader === undefined) return Promise.reject(ERR_INVALID_THIS("ReadableStreamDefaultReader"));
    if (reader.stream === undefined) {
      return Promise.reject(ERR_INVALID_STATE("The reader is not attached to a stream"));
    }
    const { promise, resolve, reject } = withResolvers();
    readerRead(reader, {
      chunk: (value) => resolve({ value, done: false }),
      close: () => resolve({ value: undefined, done: true }),
      error: reject,
    });
    return promise;
  }

  releaseLock() {
    const reader = checkReader(this);
    if (reader.stream === undefined) return;
    releaseReader(reader);
  }

  get closed() {
    const reader = readerRecordOf(this);
    if (reader === undefined) return Promise.reject(ERR_INVALID_THIS("ReadableStreamDefaultReader"));
    return reader.closed.promise;
  }

  cancel(reason = undefined) {
    const reader = readerRecordOf(this);
    if (reader === undefined) return Promise.reject(ERR_INVALID_THIS("ReadableStreamDefaultReader"));
    if (reader.stream === undefined) {
      return Promise.reject(ERR_INVALID_STATE("The reader is not attached to a stream"));
    }
    return cancelStream(reader.stream, reason);
  }

  [customInspectSymbol](depth, options) {
    const reader = checkReader(this);
    return customInspect(this, {
      stream: reader.stream?.object,
      readRequests: reader.readRequests.length,
      close: reader.closed.promise,
    }, depth, options);
  }
}
enumerableMembers(ReadableStreamDefaultReader, ["read", "releaseLock", "closed", "cancel"]);
defineTag(ReadableStreamDefaultReader, "ReadableStreamDefaultReader");

function checkReader(object) {
  const reader = readerRecordOf(object);
  if (reader === undefined) throw ERR_INVALID_THIS("ReadableStreamDefaultReader");
  return reader;
}

function acquireReader(stream) {
  const reader = readerRecordOf(new ReadableStreamDefaultReader(kCreate));
  setUpReader(reader, stream);
  return reader;
}

function setUpReader(reader, stream) {
  if (isLocked(stream)) throw ERR_INVALID_STATE("ReadableStream is locked");
  reader.stream = stream;
  stream.reader = reader;
  reader.closed = withResolvers();
  if (stream.state === "closed") {
    reader.closed.resolve();
  } else if (stream.state === "errored") {
    reader.closed.reject(stream.storedError);
    markHandled(reader.closed.promise);
  }
  reader.readRequests = [];
}

function readerRead(reader, request) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === "closed") request.close();
  else if (stream.state === "errored") request.error(stream.storedError);
  else controllerPullSteps(stream.controller, request);
}

function releaseReader(reader) {
  const stream = reader.stream;
  const released = ERR_INVALID_STATE("Reader released");
  if (stream.state === "readable") {
    reader.closed.reject(released);
  } else {
    reader.closed = withResolvers();
    reader.closed.reject(released);
  }
  markHandled(reader.closed.promise);
  stream.reader = undefined;
  reader.stream = undefined;
  errorReadRequests(reader, ERR_INVALID_STATE("Releasing reader"));
}

// Controller --------------------------------------------------------------------------------

export class ReadableStreamDefaultController {
  #record;

  constructor(token = undefined) {
    if (token !== kCreate) throw ERR_ILLEGAL_CONSTRUCTOR();
    this.#record = {
      object: this,
      stream: undefined,
      queue: [],
      queueTotalSize: 0,
      started: false,
      closeRequested: false,
      pullAgain: false,
      pulling: false,
      strategySize: undefined,
      highWaterMark: 0,
      pullAlgorithm: undefined,
      cancelAlgorithm: undefined,
    };
  }

  static {
    controllerRecordOf = (object) => (isObjectLike(object) && #record in object ? object.#record : undefined);
    newControllerObject = () => new ReadableStreamDefaultController(kCreate);
  }

  get desiredSize() {
    return desiredSize(checkController(this));
  }

  close() {
    const controller = checkController(this);
    if (!canCloseOrEnqueue(controller)) throw ERR_INVALID_STATE("Controller is already closed");
    controllerClose(controller);
  }

  enqueue(chunk = undefined) {
    const controller = checkController(this);
    if (!canCloseOrEnqueue(controller)) throw ERR_INVALID_STATE("Controller is already closed");
    controllerEnqueue(controller, chunk);
  }

  error(error = undefined) {
    controllerError(checkController(this), error);
  }

  [customInspectSymbol](depth, options) {
    const controller = checkController(this);
    return customInspect(this, { stream: controller.stream?.object }, depth, options);
  }
}
enumerableMembers(ReadableStreamDefaultController, ["desiredSize", "close", "enqueue", "error"]);
defineTag(ReadableStreamDefaultController, "ReadableStreamDefaultController");

function checkController(object) {
  const controller = controllerRecordOf(object);
  if (controller === undefined) throw ERR_INVALID_THIS("ReadableStreamDefaultController");
  return controller;
}

function setUpControllerFromSource(stream, source, highWaterMark, sizeAlgorithm) {
  const controllerObject = newControllerObject();
  const { cancel, pull, start } = source;
  if (cancel !== undefined && typeof cancel !== "function") {
    throw ERR_INVALID_ARG_TYPE("source.cancel", "Function", cancel);
  }
  if (pull !== undefined && typeof pull !== "function") {
    throw ERR_INVALID_ARG_TYPE("source.pull", "Function", pull);
  }
  // Node binds start() up front, so its error for a non-function is the one
  // Function.prototype.bind gives.
  if (start !== undefined && typeof start !== "function") throw new TypeError("Bind must be called on a function");
  setUpController(stream, controllerRecordOf(controllerObject),
    () => (start === undefined ? undefined : Reflect.apply(start, source, [controllerObject])),
    () => promiseCall(pull, source, [controllerObject]),
    (reason) => promiseCall(cancel, source, [reason]),
    highWaterMark, sizeAlgorithm);
}

function setUpController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark,
  sizeAlgorithm) {
  controller.stream = stream;
  controller.queue = [];
  controller.queueTotalSize = 0;
  controller.started = false;
  controller.closeRequested = false;
  controller.pullAgain = false;
  controller.pulling = false;
  controller.strategySize = sizeAlgorithm;
  controller.highWaterMark = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  stream.controller = controller;
  const startResult = startAlgorithm();
  Promise.resolve(startResult).then(() => {
    controller.started = true;
    callPullIfNeeded(controller);
  }, (error) => controllerError(controller, error));
}

function callPullIfNeeded(controller) {
  if (!shouldCallPull(controller)) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  controller.pullAlgorithm().then(() => {
    controller.pulling = false;
    if (controller.pullAgain) {
      controller.pullAgain = false;
      callPullIfNeeded(controller);
    }
  }, (error) => controllerError(controller, error));
}

function shouldCallPull(controller) {
  const stream = controller.stream;
  if (!canCloseOrEnqueue(controller)) return false;
  if (!controller.started) return false;
  if (isLocked(stream) && numReadRequests(stream) > 0) return true;
  return desiredSize(controller) > 0;
}

function clearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
  controller.strategySize = undefined;
}

function canCloseOrEnqueue(controller) {
  return !controller.closeRequested && controller.stream.state === "readable";
}

function desiredSize(controller) {
  const state = controller.stream.state;
  if (state === "errored") return null;
  if (state === "closed") return 0;
  return controller.highWaterMark - controller.queueTotalSize;
}

function controllerClose(controller) {
  if (!canCloseOrEnqueue(controller)) return;
  controller.closeRequested = true;
  if (controller.queue.length === 0) {
    clearAlgorithms(controller);
    closeStream(controller.stream);
  }
}

function controllerEnqueue(controller, chunk) {
  if (!canCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  if (isLocked(stream) && numReadRequests(stream) > 0) {
    fulfillReadRequest(stream, chunk, false);
  } else {
    let size;
    try {
      size = controller.strategySize(chunk);
    } catch (error) {
      controllerError(controller, error);
      throw error;
    }
    const number = Number(size);
    if (typeof size !== "number" || Number.isNaN(number) || number < 0 || number === Infinity) {
      const error = invalidChunkSize(size);
      controllerError(controller, error);
      throw error;
    }
    controller.queue.push({ value: chunk, size: number });
    controller.queueTotalSize += number;
  }
  callPullIfNeeded(controller);
}

function controllerError(controller, error) {
  const stream = controller.stream;
  if (stream.state !== "readable") return;
  controller.queue = [];
  controller.queueTotalSize = 0;
  clearAlgorithms(controller);
  errorStream(stream, error);
}

function controllerCancelSteps(controller, reason) {
  controller.queue = [];
  controller.queueTotalSize = 0;
  const result = controller.cancelAlgorithm(reason);
  clearAlgorithms(controller);
  return result;
}

function controllerPullSteps(controller, request) {
  const stream = controller.stream;
  if (controller.queue.length > 0) {
    const { value, size } = controller.queue.shift();
    controller.queueTotalSize -= size;
    // Rounding can leave a tiny negative total after fractional sizes.
    if (controller.queueTotalSize < 0) controller.queueTotalSize = 0;
    if (controller.closeRequested && controller.queue.length === 0) {
      clearAlgorithms(controller);
      closeStream(stream);
    } else {
      callPullIfNeeded(controller);
    }
    request.chunk(value);
  } else {
    stream.reader.readRequests.push(request);
    callPullIfNeeded(controller);
  }
}

// A stream driven by algorithms of this library rather than a source object.
function createReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark = 1,
  sizeAlgorithm = () => 1) {
  const stream = streamRecordOf(newReadableStreamObject());
  const controller = controllerRecordOf(newControllerObject());
  setUpController(stream, controller, startAlgorithm, pullAlgorithm, cancelAlgorithm, highWaterMark, sizeAlgorithm);
  return stream;
}

// tee -----------------------------------------------------------------------------------------

// Node 20 tees as an earlier edition of the standard did, and code may see
// the difference, so this follows Node: a branch's pull while a read is in
// flight is dropped rather than remembered (no "readAgain"), and the close of
// the source reaches the branches a tick later (process.nextTick), after the
// promise jobs already queued.
function teeStream(stream) {
  const reader = acquireReader(stream);
  let reading = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelPromise = withResolvers();

  function pullAlgorithm() {
    if (reading) return Promise.resolve();
    reading = true;
    readerRead(reader, {
      chunk: (chunk) => {
        // A microtask later, so a read that closes or errors the stream in
        // the same turn is seen first.
        Promise.resolve().then(() => {
          reading = false;
          if (!canceled1) controllerEnqueue(branch1.controller, chunk);
          if (!canceled2) controllerEnqueue(branch2.controller, chunk);
        });
      },
      close: () => {
        native.nextTick(() => {
          reading = false;
          if (!canceled1) controllerClose(branch1.controller);
          if (!canceled2) controllerClose(branch2.controller);
          if (!canceled1 || !canceled2) cancelPromise.resolve();
        });
      },
      error: () => {
        reading = false;
      },
    });
    return Promise.resolve();
  }

  function cancel1(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelPromise.resolve(cancelStream(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  function cancel2(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelPromise.resolve(cancelStream(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  branch1 = createReadableStream(() => undefined, pullAlgorithm, cancel1);
  branch2 = createReadableStream(() => undefined, pullAlgorithm, cancel2);
  reader.closed.promise.then(undefined, (error) => {
    controllerError(branch1.controller, error);
    controllerError(branch2.controller, error);
    if (!canceled1 || !canceled2) cancelPromise.resolve();
  });
  return [branch1, branch2];
}

// Async iteration -------------------------------------------------------------------------------

const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
const iteratorRecords = new WeakMap();

// The Web IDL async iterator: next() and return() are chained on the
// previous call's promise, so calls made without awaiting resolve in order.
const streamIteratorPrototype = Object.create(AsyncIteratorPrototype, {
  next: {
    value: function next() {
      const iterator = iteratorRecords.get(this);
      if (iterator === undefined) {
        return Promise.reject(new TypeError("next() called on an object that is not a ReadableStream async iterator"));
      }
      const nextSteps = () => {
        if (iterator.finished) return Promise.resolve({ done: true, value: undefined });
        return iteratorNext(iterator).then((result) => {
          iterator.ongoing = undefined;
          if (result.done) iterator.finished = true;
          return result;
        }, (error) => {
          iterator.ongoing = undefined;
          iterator.finished = true;
          throw error;
        });
      };
      iterator.ongoing = iterator.ongoing === undefined ? nextSteps() : iterator.ongoing.then(nextSteps, nextSteps);
      return iterator.ongoing;
    },
    writable: true,
    enumerable: true,
    configurable: true,
  },
  return: {
    value: function return_(value = undefined) {
      const iterator = iteratorRecords.get(this);
      if (iterator === undefined) {
        return Promise.reject(new TypeError("return() called on an object that is not a ReadableStream async iterator"));
      }
      const returnSteps = () => {
        if (iterator.finished) return Promise.resolve({ done: true, value });
        iterator.finished = true;
        return iteratorReturn(iterator, value);
      };
      iterator.ongoing = iterator.ongoing === undefined ? returnSteps() : iterator.ongoing.then(returnSteps, returnSteps);
      return iterator.ongoing.then(() => ({ done: true, value }));
    },
    writable: true,
    enumerable: true,
    configurable: true,
  },
});
Object.defineProperty(streamIteratorPrototype.return, "name", { value: "return" });

function createAsyncIterator(reader, preventCancel) {
  const iterator = Object.create(streamIteratorPrototype);
  iteratorRecords.set(iterator, { reader, preventCancel, ongoing: undefined, finished: false });
  return iterator;
}

function iteratorNext(iterator) {
  const reader = iterator.reader;
  if (reader.stream === undefined) {
    return Promise.reject(ERR_INVALID_STATE("The reader is not attached to a stream"));
  }
  const { promise, resolve, reject } = withResolvers();
  readerRead(reader, {
    chunk: (value) => resolve({ value, done: false }),
    close: () => {
      releaseReader(reader);
      resolve({ done: true, value: undefined });
    },
    error: (error) => {
      releaseReader(reader);
      reject(error);
    },
  });
  return promise;
}

function iteratorReturn(iterator, value) {
  const reader = iterator.reader;
  if (reader.stream === undefined) return Promise.resolve();
  if (!iterator.preventCancel) {
    const result = cancelStream(reader.stream, value);
    releaseReader(reader);
    return result;
  }
  releaseReader(reader);
  return Promise.resolve();
}

// Streams made by this library ------------------------------------------------------------------

// A stream over chunks known up front (a body's bytes, a Blob's parts): each
// pull hands out the next one, then the stream closes.
export function streamFromChunks(chunks) {
  let index = 0;
  const stream = createReadableStream(() => undefined, () => {
    const controller = stream.controller;
    if (index < chunks.length) controllerEnqueue(controller, chunks[index++]);
    if (index >= chunks.length) controllerClose(controller);
    return Promise.resolve();
  }, () => {
    index = chunks.length;
    return Promise.resolve();
  }, 0);
  return stream.object;
}

// A byte stream fed from outside (the native fetch reading a socket): the
// feeder pushes chunks and reads desiredSize() to apply backpressure; onPull()
// tells it the stream wants more, onCancel(reason) that the reader gave up.
// highWaterMark counts bytes.
export function makePushStream({ onPull = undefined, onCancel = undefined, highWaterMark = 65536 } = {}) {
  const stream = createReadableStream(() => undefined,
    () => promiseCall(onPull, undefined, []),
    (reason) => promiseCall(onCancel, undefined, [reason]),
    highWaterMark, (chunk) => chunk.byteLength);
  const controller = stream.controller;
  return {
    stream: stream.object,
    push(chunk) {
      if (!(chunk instanceof Uint8Array)) throw ERR_INVALID_ARG_TYPE("chunk", "Uint8Array", chunk);
      if (!canCloseOrEnqueue(controller)) return false;
      controllerEnqueue(controller, chunk);
      return desiredSize(controller) > 0;
    },
    close() {
      controllerClose(controller);
    },
    error(error) {
      controllerError(controller, error);
    },
    desiredSize() {
      return desiredSize(controller);
    },
  };
}

// Reads a stream to its end, for the body mixin: the chunks in order, or a
// rejection with the stream's error. The caller has checked it is unlocked.
export function readAllChunks(streamObject, checkChunk) {
  const reader = acquireReader(streamRecordOf(streamObject));
  const chunks = [];
  return new Promise((resolve, reject) => {
    const step = () => {
      readerRead(reader, {
        chunk: (chunk) => {
          try {
            checkChunk(chunk);
          } catch (error) {
            cancelStream(reader.stream, error).then(undefined, () => {});
            releaseReader(reader);
            reject(error);
            return;
          }
          chunks.push(chunk);
          step();
        },
        close: () => resolve(chunks),
        error: reject,
      });
    };
    step();
  });
}

// The two branches of tee(), for Response.clone() and Request.clone().
export function teeReadableStream(streamObject) {
  return teeStream(streamRecordOf(streamObject)).map((branch) => branch.object);
}

// A stream that reads from another one, which becomes locked and disturbed at
// once: a Request built from another Request takes its body this way.
export function proxyReadableStream(streamObject) {
  const source = streamRecordOf(streamObject);
  const reader = acquireReader(source);
  source.disturbed = true;
  let proxy;
  proxy = createReadableStream(() => undefined, () => {
    const { promise, resolve } = withResolvers();
    readerRead(reader, {
      chunk: (chunk) => {
        controllerEnqueue(proxy.controller, chunk);
        resolve();
      },
      close: () => {
        controllerClose(proxy.controller);
        resolve();
      },
      error: (error) => {
        controllerError(proxy.controller, error);
        resolve();
      },
    });
    return promise;
  }, (reason) => cancelStream(source, reason), 0);
  return proxy.object;
}
