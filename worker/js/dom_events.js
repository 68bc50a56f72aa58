// The web platform's DOMException, Event, EventTarget, AbortController and
// AbortSignal with Node 20's observable behaviour: its dispatch order (a linked
// list walked while listeners add and remove themselves), its error codes and
// messages, and its choice to report a throwing listener as an uncaught
// exception rather than letting it reach dispatchEvent's caller.
import {
  ERR_EVENT_RECURSION,
  ERR_ILLEGAL_CONSTRUCTOR,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_THIS,
  ERR_MISSING_ARGS,
  ERR_OUT_OF_RANGE,
  makeError,
} from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { setTimeout } from "./timers.js";

// DOMException --------------------------------------------------------------------

const legacyCodes = [
  ["IndexSizeError", "INDEX_SIZE_ERR", 1],
  [null, "DOMSTRING_SIZE_ERR", 2],
  ["HierarchyRequestError", "HIERARCHY_REQUEST_ERR", 3],
  ["WrongDocumentError", "WRONG_DOCUMENT_ERR", 4],
  ["InvalidCharacterError", "INVALID_CHARACTER_ERR", 5],
  [null, "NO_DATA_ALLOWED_ERR", 6],
  ["NoModificationAllowedError", "NO_MODIFICATION_ALLOWED_ERR", 7],
  ["NotFoundError", "NOT_FOUND_ERR", 8],
  ["NotSupportedError", "NOT_SUPPORTED_ERR", 9],
  ["InUseAttributeError", "INUSE_ATTRIBUTE_ERR", 10],
  ["InvalidStateError", "INVALID_STATE_ERR", 11],
  ["SyntaxError", "SYNTAX_ERR", 12],
  ["InvalidModificationError", "INVALID_MODIFICATION_ERR", 13],
  ["NamespaceError", "NAMESPACE_ERR", 14],
  ["InvalidAccessError", "INVALID_ACCESS_ERR", 15],
  [null, "VALIDATION_ERR", 16],
  ["TypeMismatchError", "TYPE_MISMATCH_ERR", 17],
  ["SecurityError", "SECURITY_ERR", 18],
  ["NetworkError", "NETWORK_ERR", 19],
  ["AbortError", "ABORT_ERR", 20],
  ["URLMismatchError", "URL_MISMATCH_ERR", 21],
  ["QuotaExceededError", "QUOTA_EXCEEDED_ERR", 22],
  ["TimeoutError", "TIMEOUT_ERR", 23],
  ["InvalidNodeTypeError", "INVALID_NODE_TYPE_ERR", 24],
  ["DataCloneError", "DATA_CLONE_ERR", 25],
];
const codeByName = new Map(legacyCodes.filter(([name]) => name).map(([name, , code]) => [name, code]));

function invalidDOMExceptionThis() {
  // Node words this one without "type".
  return makeError(TypeError, "ERR_INVALID_THIS", 'Value of "this" must be of DOMException');
}

export class DOMException extends Error {
  #name;
  #message;

  constructor(message = "", options = "Error") {
    if (options && typeof options === "object") {
      const { name } = options;
      super();
      this.#message = `${message}`;
      this.#name = `${name}`;
      if ("cause" in options) {
        Object.defineProperty(this, "cause", {
          value: options.cause,
          configurable: true,
          writable: true,
          enumerable: false,
        });
      }
    } else {
      super();
      this.#message = `${message}`;
      this.#name = `${options}`;
    }
  }

  get name() {
    if (!(#name in this)) throw invalidDOMExceptionThis();
    return this.#name;
  }

  get message() {
    if (!(#name in this)) throw invalidDOMExceptionThis();
    return this.#message;
  }

  get code() {
    if (!(#name in this)) throw invalidDOMExceptionThis();
    return codeByName.get(this.#name) ?? 0;
  }
}
for (const name of ["name", "message", "code"]) {
  Object.defineProperty(DOMException.prototype, name, { enumerable: true });
}
Object.defineProperty(DOMException.prototype, Symbol.toStringTag, {
  value: "DOMException",
  configurable: true,
});
for (const [, constant, code] of legacyCodes) {
  const descriptor = { value: code, writable: false, enumerable: true, configurable: false };
  Object.defineProperty(DOMException, constant, descriptor);
  Object.defineProperty(DOMException.prototype, constant, descriptor);
}

// Event -------------------------------------------------------------------------------

const loadTime = Date.now();
const trustedEvents = new WeakSet();
const kTrusted = Symbol("kTrusted");

// Dispatch state lives in module-private slots so EventTarget can drive it.
let setDispatchState;
let isStopped;
let checkEvent;

export class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #defaultPrevented = false;
  #propagationStopped = false;
  #stopImmediate = false;
  #timestamp = Date.now() - loadTime;
  #target = null;
  #dispatching = false;

  constructor(type, options = undefined) {
    if (arguments.length === 0) throw ERR_MISSING_ARGS("type");
    if (options != null && typeof options !== "object" && typeof options !== "function") {
      throw ERR_INVALID_ARG_TYPE("options", "object", options);
    }
    const { bubbles, cancelable, composed } = { ...options };
    this.#cancelable = !!cancelable;
    this.#bubbles = !!bubbles;
    this.#composed = !!composed;
    this.#type = `${type}`;
    if (options?.[kTrusted] === true) trustedEvents.add(this);
  }

  static {
    setDispatchState = (event, target, dispatching) => {
      if (target !== undefined) event.#target = target;
      event.#dispatching = dispatching;
    };
    isStopped = (event) => event.#stopImmediate;
  }

  static {
    checkEvent = (event) => {
      if (!(#type in event)) throw ERR_INVALID_THIS("Event");
    };
  }

  initEvent(type, bubbles = false, cancelable = false) {
    checkEvent(this);
    if (arguments.length === 0) throw ERR_MISSING_ARGS("type");
    if (this.#dispatching) return;
    this.#type = `${type}`;
    this.#bubbles = !!bubbles;
    this.#cancelable = !!cancelable;
  }

  [customInspectSymbol](depth, options) {
    checkEvent(this);
    const name = this.constructor.name;
    if (depth < 0) return name;
    const opts = Object.assign({}, options, {
      depth: Number.isInteger(options.depth) ? options.depth - 1 : options.depth,
    });
    return `${name} ${inspect({
      type: this.#type,
      defaultPrevented: this.#cancelable && this.#defaultPrevented,
      cancelable: this.#cancelable,
      timeStamp: this.#timestamp,
    }, opts)}`;
  }

  stopImmediatePropagation() {
    checkEvent(this);
    this.#propagationStopped = true;
    this.#stopImmediate = true;
  }

  preventDefault() {
    checkEvent(this);
    this.#defaultPrevented = true;
  }

  get target() {
    checkEvent(this);
    return this.#target;
  }

  get currentTarget() {
    checkEvent(this);
    return this.#dispatching ? this.#target : null;
  }

  get srcElement() {
    checkEvent(this);
    return this.#target;
  }

  get type() {
    checkEvent(this);
    return this.#type;
  }

  get cancelable() {
    checkEvent(this);
    return this.#cancelable;
  }

  get defaultPrevented() {
    checkEvent(this);
    return this.#cancelable && this.#defaultPrevented;
  }

  get timeStamp() {
    checkEvent(this);
    return this.#timestamp;
  }

  composedPath() {
    checkEvent(this);
    return this.#dispatching ? [this.#target] : [];
  }

  get returnValue() {
    checkEvent(this);
    return !(this.#cancelable && this.#defaultPrevented);
  }

  get bubbles() {
    checkEvent(this);
    return this.#bubbles;
  }

  get composed() {
    checkEvent(this);
    return this.#composed;
  }

  get eventPhase() {
    checkEvent(this);
    return this.#dispatching ? Event.AT_TARGET : Event.NONE;
  }

  get cancelBubble() {
    checkEvent(this);
    return this.#propagationStopped;
  }

  set cancelBubble(value) {
    checkEvent(this);
    if (value) this.#propagationStopped = true;
  }

  stopPropagation() {
    checkEvent(this);
    this.#propagationStopped = true;
  }

  get isTrusted() {
    return trustedEvents.has(this);
  }
}
for (const name of Object.getOwnPropertyNames(Event.prototype)) {
  if (name !== "constructor") Object.defineProperty(Event.prototype, name, { enumerable: true });
}
Object.defineProperty(Event.prototype, "isTrusted", { configurable: false });
Object.defineProperty(Event.prototype, Symbol.toStringTag, {
  value: "Event",
  writable: false,
  enumerable: false,
  configurable: true,
});
for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
  Object.defineProperty(Event, name, { value, writable: false, enumerable: true, configurable: false });
}

// CustomEvent: an Event carrying `detail` (a global in Node 20).
export class CustomEvent extends Event {
  #detail;

  constructor(type, options = undefined) {
    if (arguments.length === 0) throw ERR_MISSING_ARGS("type");
    super(type, options);
    this.#detail = options?.detail ?? null;
  }

  get detail() {
    if (!(#detail in this)) throw ERR_INVALID_THIS("CustomEvent");
    return this.#detail;
  }
}
Object.defineProperty(CustomEvent.prototype, "detail", { enumerable: true });
Object.defineProperty(CustomEvent.prototype, Symbol.toStringTag, {
  value: "CustomEvent",
  writable: false,
  enumerable: false,
  configurable: true,
});

// EventTarget ---------------------------------------------------------------------------

let listenerErrorHandler = () => {};

// Node turns an exception thrown by a listener into an uncaught exception,
// reported after dispatch; the bootstrap installs the reporter.
export function setListenerErrorHandler(handler) {
  listenerErrorHandler = handler;
}

function reportListenerError(error) {
  Promise.resolve().then(() => listenerErrorHandler(error));
}

function reportRejections(result) {
  if (result === undefined || result === null) return;
  let then;
  try {
    then = result.then;
  } catch {
    return;
  }
  if (typeof then === "function") Reflect.apply(then, result, [undefined, reportListenerError]);
}

// A listener entry in a doubly linked list; a removed entry keeps its `next`
// so a walk that is standing on it can go on.
class Listener {
  constructor(previous, listener, once, capture, passive) {
    this.next = undefined;
    if (previous !== undefined) previous.next = this;
    this.previous = previous;
    this.listener = listener;
    this.once = once;
    this.capture = capture;
    this.passive = passive;
    this.removed = false;
    if (typeof listener === "function") {
      this.callback = listener;
    } else {
      // handleEvent is looked up at each dispatch, as the DOM requires.
      this.callback = async (...args) => {
        if (listener.handleEvent) await Reflect.apply(listener.handleEvent, listener, args);
      };
    }
  }

  same(listener, capture) {
    return this.listener === listener && this.capture === capture;
  }

  remove() {
    if (this.previous !== undefined) this.previous.next = this.next;
    if (this.next !== undefined) this.next.previous = this.previous;
    this.removed = true;
  }
}

function validateListener(listener) {
  if (typeof listener === "function" || typeof listener?.handleEvent === "function") return true;
  if (listener == null) return false;
  if (typeof listener === "object") return true;
  throw ERR_INVALID_ARG_TYPE("listener", "EventListener", listener);
}

function listenerOptions(options) {
  if (typeof options === "boolean") return { once: false, capture: options, passive: false };
  if (options === null || options === undefined) return { once: false, capture: false, passive: false };
  if (typeof options !== "object" && typeof options !== "function") {
    throw ERR_INVALID_ARG_TYPE("options", "object", options);
  }
  return {
    once: Boolean(options.once),
    capture: Boolean(options.capture),
    passive: Boolean(options.passive),
    signal: options.signal,
  };
}

let getHandlers;
let getEvents;
let isTarget;
// setMaxListeners(n, target) of node:events: kept for getMaxListeners (this
// EventTarget does not warn past it).
const maxListeners = new WeakMap();

// For node:events' getEventListeners, getMaxListeners and setMaxListeners,
// which take EventTargets (an AbortSignal among them) as well as emitters.
export function isEventTarget(value) {
  return value !== null && typeof value === "object" && isTarget(value);
}

export function eventTargetListeners(target, type) {
  const listeners = [];
  for (let handler = getEvents(target).get(type)?.next; handler !== undefined; handler = handler.next) {
    listeners.push(handler.listener);
  }
  return listeners;
}

export function eventTargetMaxListeners(target, defaultMax) {
  return maxListeners.get(target) ?? defaultMax;
}

export function setEventTargetMaxListeners(target, n) {
  maxListeners.set(target, n);
}

export class EventTarget {
  #events = new Map();
  #handlers = new Map();

  static {
    getHandlers = (target) => target.#handlers;
    getEvents = (target) => target.#events;
    isTarget = (value) => #events in value;
  }

  addEventListener(type, listener, options = undefined) {
    if (!(#events in this)) throw ERR_INVALID_THIS("EventTarget");
    if (arguments.length < 2) throw ERR_MISSING_ARGS("type", "listener");
    const { once, capture, passive, signal } = listenerOptions(options);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw ERR_INVALID_ARG_TYPE("options.signal", "AbortSignal", signal);
    }
    if (!validateListener(listener)) return;
    type = typeof type === "symbol" ? type : `${type}`;
    if (signal) {
      if (signal.aborted) return;
      signal.addEventListener("abort", () => {
        this.removeEventListener(type, listener, options);
      }, { once: true });
    }
    let root = this.#events.get(type);
    if (root === undefined) {
      root = { size: 1, next: undefined };
      new Listener(root, listener, once, capture, passive);
      this.#events.set(type, root);
      return;
    }
    let handler = root.next;
    let previous = root;
    while (handler !== undefined && !handler.same(listener, capture)) {
      previous = handler;
      handler = handler.next;
    }
    if (handler !== undefined) return;
    new Listener(previous, listener, once, capture, passive);
    root.size++;
  }

  removeEventListener(type, listener, options = undefined) {
    if (!(#events in this)) throw ERR_INVALID_THIS("EventTarget");
    if (arguments.length < 2) throw ERR_MISSING_ARGS("type", "listener");
    if (!validateListener(listener)) return;
    type = typeof type === "symbol" ? type : `${type}`;
    const capture = options?.capture === true || options === true;
    const root = this.#events.get(type);
    if (root === undefined || root.next === undefined) return;
    let handler = root.next;
    while (handler !== undefined) {
      if (handler.same(listener, capture)) {
        handler.remove();
        root.size--;
        if (root.size === 0) this.#events.delete(type);
        break;
      }
      handler = handler.next;
    }
  }

  dispatchEvent(event) {
    if (!(#events in this)) throw ERR_INVALID_THIS("EventTarget");
    if (arguments.length < 1) throw ERR_MISSING_ARGS("event");
    if (!(event instanceof Event)) throw ERR_INVALID_ARG_TYPE("event", "Event", event);
    if (event.eventPhase !== Event.NONE) throw ERR_EVENT_RECURSION(event.type);
    setDispatchState(event, this, true);
    const root = this.#events.get(event.type);
    let handler = root?.next;
    while (handler !== undefined && !isStopped(event)) {
      const next = handler.next;
      if (!handler.removed) {
        if (handler.once) {
          handler.remove();
          root.size--;
          if (root.size === 0 && this.#events.get(event.type) === root) this.#events.delete(event.type);
        }
        try {
          reportRejections(Reflect.apply(handler.callback, this, [event]));
          // Node marks the event as no longer dispatching after each listener
          // that returns, so later listeners see no currentTarget.
          setDispatchState(event, undefined, false);
        } catch (error) {
          reportListenerError(error);
        }
      }
      handler = next;
    }
    setDispatchState(event, undefined, false);
    return event.defaultPrevented !== true;
  }

  [customInspectSymbol](depth, options) {
    if (!(#events in this)) throw ERR_INVALID_THIS("EventTarget");
    const name = this.constructor.name;
    if (depth < 0) return name;
    const opts = Object.assign({}, options, {
      depth: Number.isInteger(options.depth) ? options.depth - 1 : options.depth,
    });
    return `${name} ${inspect({}, opts)}`;
  }
}
for (const name of ["addEventListener", "removeEventListener", "dispatchEvent"]) {
  Object.defineProperty(EventTarget.prototype, name, { enumerable: true });
}
Object.defineProperty(EventTarget.prototype, Symbol.toStringTag, {
  value: "EventTarget",
  writable: false,
  enumerable: false,
  configurable: true,
});

// `on<event>` attributes: one listener per target and event, registered when
// first set, which calls whatever handler the attribute holds at dispatch.
function defineEventHandler(proto, name) {
  const property = `on${name}`;
  Object.defineProperty(proto, property, {
    enumerable: true,
    configurable: true,
    get() {
      if (!(this instanceof EventTarget)) throw ERR_INVALID_THIS("EventTarget");
      return getHandlers(this).get(name)?.handler ?? null;
    },
    set(value) {
      if (!(this instanceof EventTarget)) throw ERR_INVALID_THIS("EventTarget");
      const handlers = getHandlers(this);
      let wrapped = handlers.get(name);
      if (wrapped) {
        wrapped.handler = value;
      } else {
        wrapped = function eventHandler(...args) {
          if (typeof wrapped.handler !== "function") return undefined;
          return Reflect.apply(wrapped.handler, this, args);
        };
        wrapped.handler = value;
        this.addEventListener(name, wrapped);
      }
      handlers.set(name, wrapped);
    },
  });
}

// AbortSignal / AbortController --------------------------------------------------------

const kCreate = Symbol("kCreate");
let abortSignal;
let checkSignal;

function abortError() {
  return new DOMException("This operation was aborted", "AbortError");
}

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #composite = false;
  #sources = undefined;
  #dependants = undefined;

  constructor(token) {
    if (token !== kCreate) throw ERR_ILLEGAL_CONSTRUCTOR();
    super();
  }

  static {
    checkSignal = (signal) => {
      if (!(#aborted in signal)) throw ERR_INVALID_THIS("AbortSignal");
    };
  }

  get aborted() {
    checkSignal(this);
    return this.#aborted;
  }

  get reason() {
    checkSignal(this);
    return this.#reason;
  }

  throwIfAborted() {
    checkSignal(this);
    if (this.#aborted) throw this.#reason;
  }

  static abort(reason = abortError()) {
    const signal = new AbortSignal(kCreate);
    signal.#aborted = true;
    signal.#reason = reason;
    return signal;
  }

  static timeout(delay) {
    if (typeof delay !== "number") throw ERR_INVALID_ARG_TYPE("delay", "number", delay);
    if (!Number.isInteger(delay)) throw ERR_OUT_OF_RANGE("delay", "an integer", delay);
    if (delay < 0 || delay > 4294967295) {
      throw ERR_OUT_OF_RANGE("delay", ">= 0 && <= 4294967295", delay);
    }
    const signal = new AbortSignal(kCreate);
    setTimeout(() => {
      abortSignal(signal, new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    }, delay);
    return signal;
  }

  static any(signals) {
    if (!Array.isArray(signals)) throw ERR_INVALID_ARG_TYPE("signals", "Array", signals);
    for (let i = 0; i < signals.length; i++) {
      if (!(signals[i] instanceof AbortSignal)) {
        throw ERR_INVALID_ARG_TYPE(`signals[${i}]`, "AbortSignal", signals[i]);
      }
    }
    const result = new AbortSignal(kCreate);
    result.#composite = true;
    if (!signals.length) return result;
    result.#sources = new Set();
    for (const signal of signals) {
      if (signal.#aborted) {
        abortSignal(result, signal.#reason);
        return result;
      }
      signal.#dependants ??= new Set();
      if (!signal.#composite) {
        result.#sources.add(signal);
        signal.#dependants.add(result);
      } else if (signal.#sources) {
        for (const source of signal.#sources) {
          result.#sources.add(source);
          source.#dependants.add(result);
        }
      }
    }
    return result;
  }

  static {
    abortSignal = (signal, reason) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason;
      signal.dispatchEvent(new Event("abort", { [kTrusted]: true }));
      const dependants = signal.#dependants;
      signal.#dependants = undefined;
      dependants?.forEach((dependant) => abortSignal(dependant, reason));
      // An aborted composite no longer needs its sources to reach it.
      if (signal.#sources) {
        for (const source of signal.#sources) source.#dependants?.delete(signal);
        signal.#sources = undefined;
      }
    };
  }

  [customInspectSymbol](depth, options) {
    return customInspect(this, { aborted: this.aborted }, depth, options);
  }
}
defineEventHandler(AbortSignal.prototype, "abort");
for (const name of ["aborted", "reason", "throwIfAborted"]) {
  Object.defineProperty(AbortSignal.prototype, name, { enumerable: true });
}
Object.defineProperty(AbortSignal.prototype, Symbol.toStringTag, {
  value: "AbortSignal",
  writable: false,
  enumerable: false,
  configurable: true,
});

function customInspect(self, object, depth, options) {
  if (depth < 0) return self;
  const opts = Object.assign({}, options, {
    depth: options.depth === null ? null : options.depth - 1,
  });
  return `${self.constructor.name} ${inspect(object, opts)}`;
}

export class AbortController {
  #signal;

  get signal() {
    if (!(#signal in this)) throw ERR_INVALID_THIS("AbortController");
    this.#signal ??= new AbortSignal(kCreate);
    return this.#signal;
  }

  abort(reason = abortError()) {
    if (!(#signal in this)) throw ERR_INVALID_THIS("AbortController");
    this.#signal ??= new AbortSignal(kCreate);
    abortSignal(this.#signal, reason);
  }

  [customInspectSymbol](depth, options) {
    return customInspect(this, { signal: this.signal }, depth, options);
  }
}
for (const name of ["signal", "abort"]) {
  Object.defineProperty(AbortController.prototype, name, { enumerable: true });
}
Object.defineProperty(AbortController.prototype, Symbol.toStringTag, {
  value: "AbortController",
  writable: false,
  enumerable: false,
  configurable: true,
});
