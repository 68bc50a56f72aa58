// Node's `events` module. EventEmitter keeps Node's storage layout (a lone
// listener stored bare, several in an array copied before each emit) because
// handler code observes its consequences: listeners added or removed during an
// emit do not change that emit, `_events` shows up in inspect() output, and
// old-style subclasses call EventEmitter.call(this).
import {
  AbortError,
  ERR_INVALID_ARG_TYPE,
  ERR_OUT_OF_RANGE,
  ERR_UNHANDLED_ERROR,
} from "./errors.js";
import { inspect } from "./inspect.js";
import { eventTargetListeners, eventTargetMaxListeners, isEventTarget, setEventTargetMaxListeners } from "./dom_events.js";
import { process } from "./process.js";

export const errorMonitor = Symbol("events.errorMonitor");
export const captureRejectionSymbol = Symbol.for("nodejs.rejection");
const kShapeMode = Symbol("shapeMode");
const kCapture = Symbol("kCapture");

let warningHandler = () => {};

// Receives the MaxListenersExceededWarning Node would pass to process.emitWarning.
export function setWarningHandler(handler) {
  warningHandler = handler;
}

// For the library's other warnings (util.deprecate's DeprecationWarning).
export function emitWarning(warning) {
  warningHandler(warning);
}

function validateNumber(value, name, min) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (value < min || Number.isNaN(value)) throw ERR_OUT_OF_RANGE(name, `>= ${min}`, value);
}

function checkListener(listener) {
  if (typeof listener !== "function") throw ERR_INVALID_ARG_TYPE("listener", "Function", listener);
}

function validateAbortSignal(signal, name) {
  if (signal !== undefined &&
      (signal === null || typeof signal !== "object" || !("aborted" in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, "AbortSignal", signal);
  }
}

export function EventEmitter(opts) {
  EventEmitter.init.call(this, opts);
}

EventEmitter.prototype._events = undefined;
EventEmitter.prototype._eventsCount = 0;
EventEmitter.prototype._maxListeners = undefined;

let defaultMaxListeners = 10;

function validateBoolean(value, name) {
  if (typeof value !== "boolean") throw ERR_INVALID_ARG_TYPE(name, "boolean", value);
}

// The default for new emitters lives on the prototype, as in Node.
Object.defineProperty(EventEmitter.prototype, kCapture, { value: false, writable: true, enumerable: false });

Object.defineProperties(EventEmitter, {
  captureRejections: {
    enumerable: true,
    get() {
      return EventEmitter.prototype[kCapture];
    },
    set(value) {
      validateBoolean(value, "EventEmitter.captureRejections");
      EventEmitter.prototype[kCapture] = value;
    },
  },
  errorMonitor: { value: errorMonitor, writable: false, configurable: true, enumerable: true },
  captureRejectionSymbol: { value: captureRejectionSymbol, writable: false, enumerable: true },
  defaultMaxListeners: {
    enumerable: true,
    get() {
      return defaultMaxListeners;
    },
    set(arg) {
      validateNumber(arg, "defaultMaxListeners", 0);
      defaultMaxListeners = arg;
    },
  },
});

EventEmitter.init = function init(opts) {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = { __proto__: null };
    this._eventsCount = 0;
    this[kShapeMode] = false;
  } else {
    this[kShapeMode] = true;
  }
  this._maxListeners = this._maxListeners || undefined;
  if (opts?.captureRejections) {
    validateBoolean(opts.captureRejections, "options.captureRejections");
    this[kCapture] = Boolean(opts.captureRejections);
  } else {
    this[kCapture] = EventEmitter.prototype[kCapture];
  }
};

// captureRejections: a listener's rejected promise becomes a call of the
// emitter's Symbol.for('nodejs.rejection') method, else an 'error' event.
function addCatch(emitter, promise, type, args) {
  try {
    const then = promise.then;
    if (typeof then === "function") {
      Reflect.apply(then, promise, [undefined, (error) => {
        process.nextTick(emitRejection, emitter, error, type, args);
      }]);
    }
  } catch (error) {
    emitter.emit("error", error);
  }
}

function emitRejection(emitter, error, type, args) {
  if (typeof emitter[captureRejectionSymbol] === "function") {
    emitter[captureRejectionSymbol](error, type, ...args);
    return;
  }
  // Without capture while the 'error' event goes out: a rejecting 'error'
  // listener would loop.
  const previous = emitter[kCapture];
  try {
    emitter[kCapture] = false;
    emitter.emit("error", error);
  } finally {
    emitter[kCapture] = previous;
  }
}

EventEmitter.prototype.setMaxListeners = function setMaxListeners(n) {
  validateNumber(n, "setMaxListeners", 0);
  this._maxListeners = n;
  return this;
};

function getMaxListenersOf(that) {
  if (that._maxListeners === undefined) return defaultMaxListeners;
  return that._maxListeners;
}

EventEmitter.prototype.getMaxListeners = function getMaxListeners() {
  return getMaxListenersOf(this);
};

EventEmitter.prototype.emit = function emit(type, ...args) {
  let doError = type === "error";
  const events = this._events;
  if (events !== undefined) {
    if (doError && events[errorMonitor] !== undefined) this.emit(errorMonitor, ...args);
    doError = doError && events.error === undefined;
  } else if (!doError) {
    return false;
  }
  if (doError) {
    const er = args.length > 0 ? args[0] : undefined;
    if (er instanceof Error) throw er; // Unhandled 'error' event
    let described;
    try {
      described = inspect(er);
    } catch {
      described = er;
    }
    const error = ERR_UNHANDLED_ERROR(described);
    error.context = er;
    throw error; // Unhandled 'error' event
  }
  const handler = events[type];
  if (handler === undefined) return false;
  if (typeof handler === "function") {
    const result = Reflect.apply(handler, this, args);
    if (result !== undefined && result !== null && this[kCapture]) addCatch(this, result, type, args);
  } else {
    // A copy: listeners added or removed meanwhile do not affect this emit.
    const listeners = handler.slice();
    for (let i = 0; i < listeners.length; ++i) {
      const result = Reflect.apply(listeners[i], this, args);
      if (result !== undefined && result !== null && this[kCapture]) addCatch(this, result, type, args);
    }
  }
  return true;
};

function _addListener(target, type, listener, prepend) {
  checkListener(listener);
  let events = target._events;
  let existing;
  if (events === undefined) {
    events = target._events = { __proto__: null };
    target._eventsCount = 0;
  } else {
    // 'newListener' goes out before the listener is added, so a listener for
    // it does not see itself.
    if (events.newListener !== undefined) {
      target.emit("newListener", type, listener.listener ?? listener);
      events = target._events;
    }
    existing = events[type];
  }
  if (existing === undefined) {
    events[type] = listener;
    ++target._eventsCount;
  } else {
    if (typeof existing === "function") {
      existing = events[type] = prepend ? [listener, existing] : [existing, listener];
    } else if (prepend) {
      existing.unshift(listener);
    } else {
      existing.push(listener);
    }
    const max = getMaxListenersOf(target);
    if (max > 0 && existing.length > max && !existing.warned) {
      existing.warned = true;
      const warning = new Error(
        `Possible EventEmitter memory leak detected. ${existing.length} ${String(type)} listeners ` +
        `added to ${inspect(target, { depth: -1 })}. MaxListeners is ${max}. ` +
        "Use emitter.setMaxListeners() to increase limit");
      warning.name = "MaxListenersExceededWarning";
      warning.emitter = target;
      warning.type = type;
      warning.count = existing.length;
      warningHandler(warning);
    }
  }
  return target;
}

EventEmitter.prototype.addListener = function addListener(type, listener) {
  return _addListener(this, type, listener, false);
};
EventEmitter.prototype.on = EventEmitter.prototype.addListener;

EventEmitter.prototype.prependListener = function prependListener(type, listener) {
  return _addListener(this, type, listener, true);
};

function onceWrapper() {
  if (!this.fired) {
    this.target.removeListener(this.type, this.wrapFn);
    this.fired = true;
    if (arguments.length === 0) return this.listener.call(this.target);
    return this.listener.apply(this.target, arguments);
  }
  return undefined;
}

function onceWrap(target, type, listener) {
  const state = { fired: false, wrapFn: undefined, target, type, listener };
  const wrapped = onceWrapper.bind(state);
  wrapped.listener = listener;
  state.wrapFn = wrapped;
  return wrapped;
}

EventEmitter.prototype.once = function once(type, listener) {
  checkListener(listener);
  this.on(type, onceWrap(this, type, listener));
  return this;
};

EventEmitter.prototype.prependOnceListener = function prependOnceListener(type, listener) {
  checkListener(listener);
  this.prependListener(type, onceWrap(this, type, listener));
  return this;
};

EventEmitter.prototype.removeListener = function removeListener(type, listener) {
  checkListener(listener);
  const events = this._events;
  if (events === undefined) return this;
  const list = events[type];
  if (list === undefined) return this;
  if (list === listener || list.listener === listener) {
    this._eventsCount -= 1;
    if (this[kShapeMode]) {
      events[type] = undefined;
    } else if (this._eventsCount === 0) {
      this._events = { __proto__: null };
    } else {
      delete events[type];
      if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
    }
  } else if (typeof list !== "function") {
    let position = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        position = i;
        break;
      }
    }
    if (position < 0) return this;
    if (position === 0) list.shift();
    else list.splice(position, 1);
    if (list.length === 1) events[type] = list[0];
    if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
  }
  return this;
};
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function removeAllListeners(type) {
  const events = this._events;
  if (events === undefined) return this;
  if (events.removeListener === undefined) {
    if (arguments.length === 0) {
      this._events = { __proto__: null };
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = { __proto__: null };
      else delete events[type];
    }
    this[kShapeMode] = false;
    return this;
  }
  if (arguments.length === 0) {
    for (const key of Reflect.ownKeys(events)) {
      if (key === "removeListener") continue;
      this.removeAllListeners(key);
    }
    this.removeAllListeners("removeListener");
    this._events = { __proto__: null };
    this._eventsCount = 0;
    this[kShapeMode] = false;
    return this;
  }
  const listeners = events[type];
  if (typeof listeners === "function") {
    this.removeListener(type, listeners);
  } else if (listeners !== undefined) {
    // Last in, first out.
    for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
  }
  return this;
};

function listenersOf(target, type, unwrap) {
  const events = target._events;
  if (events === undefined) return [];
  const listener = events[type];
  if (listener === undefined) {
    // Node 20 fails on a missing event name, reading `length` of undefined.
    if (type === undefined) return [(void 0).length];
    return [];
  }
  if (typeof listener === "function") return unwrap ? [listener.listener || listener] : [listener];
  return unwrap ? listener.map((l) => l.listener || l) : listener.slice();
}

EventEmitter.prototype.listeners = function listeners(type) {
  return listenersOf(this, type, true);
};

EventEmitter.prototype.rawListeners = function rawListeners(type) {
  return listenersOf(this, type, false);
};

function countListeners(type, listener) {
  const events = this._events;
  if (events !== undefined) {
    const found = events[type];
    if (typeof found === "function") {
      if (listener != null) return listener === found || listener === found.listener ? 1 : 0;
      return 1;
    }
    if (found !== undefined) {
      if (listener != null) {
        let matching = 0;
        for (const l of found) if (l === listener || l.listener === listener) matching++;
        return matching;
      }
      return found.length;
    }
  }
  return 0;
}
EventEmitter.prototype.listenerCount = countListeners;
Object.defineProperty(countListeners, "name", { value: "listenerCount" });

EventEmitter.listenerCount = function (emitter, type) {
  if (typeof emitter.listenerCount === "function") return emitter.listenerCount(type);
  return countListeners.call(emitter, type);
};

EventEmitter.prototype.eventNames = function eventNames() {
  return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
};

// Static helpers ------------------------------------------------------------------------

function addAgnosticListener(emitter, name, listener, flags) {
  if (typeof emitter.on === "function") {
    if (flags?.once) emitter.once(name, listener);
    else emitter.on(name, listener);
  } else if (typeof emitter.addEventListener === "function") {
    emitter.addEventListener(name, listener, flags);
  } else {
    throw ERR_INVALID_ARG_TYPE("emitter", "EventEmitter", emitter);
  }
}

function removeAgnosticListener(emitter, name, listener, flags) {
  if (typeof emitter.removeListener === "function") {
    emitter.removeListener(name, listener);
  } else if (typeof emitter.removeEventListener === "function") {
    emitter.removeEventListener(name, listener, flags);
  } else {
    throw ERR_INVALID_ARG_TYPE("emitter", "EventEmitter", emitter);
  }
}

export async function once(emitter, name, options = {}) {
  const signal = options?.signal;
  validateAbortSignal(signal, "options.signal");
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal?.reason });
  return new Promise((resolve, reject) => {
    const errorListener = (err) => {
      emitter.removeListener(name, resolver);
      if (signal != null) removeAgnosticListener(signal, "abort", abortListener);
      reject(err);
    };
    const resolver = (...args) => {
      if (typeof emitter.removeListener === "function") emitter.removeListener("error", errorListener);
      if (signal != null) removeAgnosticListener(signal, "abort", abortListener);
      resolve(args);
    };
    addAgnosticListener(emitter, name, resolver, { once: true });
    if (name !== "error" && typeof emitter.once === "function") {
      // Only EventEmitters have 'error' semantics.
      emitter.once("error", errorListener);
    }
    function abortListener() {
      removeAgnosticListener(emitter, name, resolver);
      removeAgnosticListener(emitter, "error", errorListener);
      reject(new AbortError(undefined, { cause: signal?.reason }));
    }
    if (signal != null) addAgnosticListener(signal, "abort", abortListener, { once: true });
  });
}

const AsyncIteratorPrototype = Object.getPrototypeOf(
  Object.getPrototypeOf(async function* () {}).prototype);

function validateInteger(value, name, min) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > Number.MAX_SAFE_INTEGER) {
    throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${Number.MAX_SAFE_INTEGER}`, value);
  }
}

export function on(emitter, event, options = {}) {
  if (options === null || typeof options !== "object") {
    throw ERR_INVALID_ARG_TYPE("options", "Object", options);
  }
  const signal = options.signal;
  validateAbortSignal(signal, "options.signal");
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal?.reason });
  const highWatermark = options.highWaterMark ?? options.highWatermark ?? Number.MAX_SAFE_INTEGER;
  validateInteger(highWatermark, "options.highWaterMark", 1);
  const lowWatermark = options.lowWaterMark ?? options.lowWatermark ?? 1;
  validateInteger(lowWatermark, "options.lowWaterMark", 1);

  const unconsumedEvents = [];
  const unconsumedPromises = [];
  let paused = false;
  let error = null;
  let finished = false;
  const listeners = [];

  const iterator = Object.setPrototypeOf({
    next() {
      if (unconsumedEvents.length) {
        const value = unconsumedEvents.shift();
        if (paused && unconsumedEvents.length < lowWatermark) {
          emitter.resume();
          paused = false;
        }
        return Promise.resolve({ value, done: false });
      }
      if (error) {
        const p = Promise.reject(error);
        error = null;
        return p;
      }
      if (finished) return closeHandler();
      return new Promise((resolve, reject) => unconsumedPromises.push({ resolve, reject }));
    },
    return() {
      return closeHandler();
    },
    throw(err) {
      if (!err || !(err instanceof Error)) {
        throw ERR_INVALID_ARG_TYPE("EventEmitter.AsyncIterator", "Error", err);
      }
      errorHandler(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  }, AsyncIteratorPrototype);

  const listen = (name, listener) => {
    addAgnosticListener(emitter, name, listener);
    listeners.push([name, listener]);
  };
  listen(event, (...args) => eventHandler(args));
  if (event !== "error" && typeof emitter.on === "function") listen("error", errorHandler);
  const closeEvents = options?.close;
  if (closeEvents?.length) for (const name of closeEvents) listen(name, closeHandler);
  if (signal) signal.addEventListener("abort", abortListener, { once: true });
  return iterator;

  function abortListener() {
    errorHandler(new AbortError(undefined, { cause: signal?.reason }));
  }

  function eventHandler(value) {
    if (unconsumedPromises.length === 0) {
      unconsumedEvents.push(value);
      if (!paused && unconsumedEvents.length > highWatermark) {
        paused = true;
        emitter.pause();
      }
    } else {
      unconsumedPromises.shift().resolve({ value, done: false });
    }
  }

  function errorHandler(err) {
    if (unconsumedPromises.length === 0) error = err;
    else unconsumedPromises.shift().reject(err);
    closeHandler();
  }

  function closeHandler() {
    if (signal) signal.removeEventListener("abort", abortListener);
    for (const [name, listener] of listeners.splice(0)) removeAgnosticListener(emitter, name, listener);
    finished = true;
    const done = { value: undefined, done: true };
    while (unconsumedPromises.length) unconsumedPromises.shift().resolve(done);
    return Promise.resolve(done);
  }
}

export function getEventListeners(emitterOrTarget, type) {
  if (typeof emitterOrTarget.listeners === "function") return emitterOrTarget.listeners(type);
  if (isEventTarget(emitterOrTarget)) return eventTargetListeners(emitterOrTarget, type);
  throw ERR_INVALID_ARG_TYPE("emitter", ["EventEmitter", "EventTarget"], emitterOrTarget);
}

export function getMaxListeners(emitterOrTarget) {
  if (typeof emitterOrTarget?.getMaxListeners === "function") return getMaxListenersOf(emitterOrTarget);
  if (isEventTarget(emitterOrTarget)) return eventTargetMaxListeners(emitterOrTarget, defaultMaxListeners);
  throw ERR_INVALID_ARG_TYPE("emitter", ["EventEmitter", "EventTarget"], emitterOrTarget);
}

export function setMaxListeners(n = defaultMaxListeners, ...eventTargets) {
  validateNumber(n, "setMaxListeners", 0);
  if (eventTargets.length === 0) {
    defaultMaxListeners = n;
  } else {
    for (const target of eventTargets) {
      if (isEventTarget(target)) setEventTargetMaxListeners(target, n);
      else if (typeof target?.setMaxListeners === "function") target.setMaxListeners(n);
      else throw ERR_INVALID_ARG_TYPE("eventTargets", ["EventEmitter", "EventTarget"], target);
    }
  }
}

export function addAbortListener(signal, listener) {
  if (signal === undefined) throw ERR_INVALID_ARG_TYPE("signal", "AbortSignal", signal);
  validateAbortSignal(signal, "signal");
  if (typeof listener !== "function") throw ERR_INVALID_ARG_TYPE("listener", "Function", listener);
  let removeEventListener;
  if (signal.aborted) {
    Promise.resolve().then(() => listener());
  } else {
    signal.addEventListener("abort", listener, { once: true });
    removeEventListener = () => signal.removeEventListener("abort", listener);
  }
  return { [Symbol.dispose ?? Symbol.for("nodejs.dispose")]() { removeEventListener?.(); } };
}

export const listenerCount = EventEmitter.listenerCount;

Object.assign(EventEmitter, {
  EventEmitter,
  once,
  on,
  getEventListeners,
  getMaxListeners,
  setMaxListeners,
  addAbortListener,
  usingDomains: false,
});

export default EventEmitter;
