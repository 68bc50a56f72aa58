// setTimeout/setInterval/setImmediate with Node's semantics: timers fire in order
// of expiry, then of creation; delays outside 1..2^31-1 ms become 1 ms; promise
// jobs and nextTick callbacks run between two timer callbacks; immediates queued
// while immediates run wait for the next loop iteration. One native libuv timer
// is armed for the earliest expiry, as Node does.
import { native } from "./native.js";
import { callInContext, currentContext } from "./async_context.js";

const TIMEOUT_MAX = 2 ** 31 - 1;

// Binary min-heap of { timer, expiry, seq }. A timer has at most one live entry;
// refresh() only moves its start, and a popped entry whose timer now expires
// later is pushed back (Node's lists do the same check).
const heap = [];
let nextSeq = 0;
let armedExpiry = Infinity;
const knownTimersById = new Map();
let nextTimerId = 1;

function before(a, b) {
  return a.expiry < b.expiry || (a.expiry === b.expiry && a.seq < b.seq);
}

function heapPush(entry) {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function heapPop() {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left], heap[smallest])) smallest = left;
      if (right < heap.length && before(heap[right], heap[smallest])) smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
      i = smallest;
    }
  }
  return top;
}

function armForEarliest(now) {
  if (heap.length === 0) {
    if (armedExpiry !== Infinity) native.timerDisarm();
    armedExpiry = Infinity;
    return;
  }
  const expiry = heap[0].expiry;
  if (expiry !== armedExpiry) {
    armedExpiry = expiry;
    native.timerArm(Math.max(0, Math.ceil(expiry - now)));
  }
}

function schedule(timer, start) {
  timer._idleStart = start;
  timer._scheduled = true;
  const expiry = start + timer._idleTimeout;
  heapPush({ timer, expiry, seq: nextSeq++ });
  if (expiry < armedExpiry) {
    armedExpiry = expiry;
    native.timerArm(Math.max(0, Math.ceil(expiry - native.now())));
  }
}

function coerceDelay(after) {
  after *= 1;
  if (!(after >= 1 && after <= TIMEOUT_MAX)) after = 1;
  return after;
}

function invalidCallback(callback) {
  const error = new TypeError(
    `The "callback" argument must be of type function. Received ${describe(callback)}`);
  error.code = "ERR_INVALID_ARG_TYPE";
  return error;
}

function describe(value) {
  if (value == null) return String(value);
  if (typeof value === "function") return `function ${value.name}`;
  if (typeof value === "object") return "an instance of " + (value.constructor?.name ?? "Object");
  let shown = String(value);
  if (shown.length > 28) shown = shown.slice(0, 25) + "...";
  if (typeof value === "string") shown = `'${shown}'`;
  return `type ${typeof value} (${shown})`;
}

export class Timeout {
  constructor(callback, after, args, isRepeat) {
    after = coerceDelay(after);
    this._idleTimeout = after;
    this._onTimeout = callback;
    this._timerArgs = args;
    this._repeat = isRepeat ? after : null;
    this._destroyed = false;
    this._refed = true;
    this._scheduled = false;
    this._context = currentContext();
    this._id = 0;
    schedule(this, native.now());
  }

  // Like Node, refresh() also re-arms a timer that already fired; only
  // clearTimeout() makes a timer final.
  refresh() {
    if (this._idleTimeout < 0) return this;
    if (this._scheduled) {
      this._idleStart = native.now();
    } else {
      this._destroyed = false;
      schedule(this, native.now());
    }
    return this;
  }

  ref() {
    this._refed = true;
    return this;
  }

  unref() {
    this._refed = false;
    return this;
  }

  hasRef() {
    return this._refed;
  }

  close() {
    clearTimeout(this);
    return this;
  }

  [Symbol.toPrimitive]() {
    if (this._id === 0) {
      this._id = nextTimerId++;
      knownTimersById.set(this._id, this);
    }
    return this._id;
  }
}

function retire(timer) {
  timer._destroyed = true;
  timer._scheduled = false;
  if (timer._id !== 0) knownTimersById.delete(timer._id);
}

function unenroll(timer) {
  retire(timer);
  timer._idleTimeout = -1;
}

// Called by the engine binding when the native timer fires.
function processTimers(now) {
  armedExpiry = Infinity;
  let ranOne = false;
  while (heap.length > 0 && heap[0].expiry <= now) {
    const { timer } = heapPop();
    if (!timer._scheduled) continue;
    const expiry = timer._idleStart + timer._idleTimeout;
    if (expiry > now) {
      // Refreshed since it was queued: wait for the new expiry.
      heapPush({ timer, expiry, seq: nextSeq++ });
      continue;
    }
    if (ranOne) native.drainMicrotasks();
    ranOne = true;
    timer._scheduled = false;
    const start = timer._repeat ? native.now() : 0;
    if (!timer._repeat) retire(timer);
    callInContext(timer._context, timer._onTimeout, timer, timer._timerArgs ?? []);
    if (timer._repeat && !timer._destroyed && !timer._scheduled) {
      timer._idleTimeout = timer._repeat;
      schedule(timer, start);
    }
  }
  armForEarliest(now);
}

export function setTimeout(callback, after, ...args) {
  if (typeof callback !== "function") throw invalidCallback(callback);
  return new Timeout(callback, after, args.length ? args : undefined, false);
}

export function setInterval(callback, repeat, ...args) {
  if (typeof callback !== "function") throw invalidCallback(callback);
  return new Timeout(callback, repeat, args.length ? args : undefined, true);
}

export function clearTimeout(timer) {
  if (timer && timer._onTimeout) {
    timer._onTimeout = null;
    unenroll(timer);
    return;
  }
  if (typeof timer === "number" || typeof timer === "string") {
    const known = knownTimersById.get(Number(timer));
    if (known) {
      known._onTimeout = null;
      unenroll(known);
    }
  }
}

export const clearInterval = clearTimeout;

// Immediates: a FIFO drained in the loop's check phase.
let immediateQueue = [];

export class Immediate {
  constructor(callback, args) {
    this._onImmediate = callback;
    this._argv = args;
    this._destroyed = false;
    this._refed = true;
    this._context = currentContext();
    immediateQueue.push(this);
    if (immediateQueue.length === 1) native.setImmediatePending(true);
  }

  ref() {
    this._refed = true;
    return this;
  }

  unref() {
    this._refed = false;
    return this;
  }

  hasRef() {
    return this._refed;
  }
}

function processImmediates() {
  const queue = immediateQueue;
  immediateQueue = [];
  native.setImmediatePending(false);
  let ranOne = false;
  for (const immediate of queue) {
    if (immediate._destroyed) continue;
    if (ranOne) native.drainMicrotasks();
    ranOne = true;
    immediate._destroyed = true;
    callInContext(immediate._context, immediate._onImmediate, immediate, immediate._argv ?? []);
  }
  if (immediateQueue.length > 0) native.setImmediatePending(true);
}

export function setImmediate(callback, ...args) {
  if (typeof callback !== "function") throw invalidCallback(callback);
  return new Immediate(callback, args.length ? args : undefined);
}

export function clearImmediate(immediate) {
  if (!immediate || immediate._destroyed) return;
  immediate._destroyed = true;
  immediate._onImmediate = null;
}

native.setTimerCallback(processTimers);
native.setImmediateCallback(processImmediates);

// util.promisify(setTimeout) and util.promisify(setImmediate) are
// timers/promises' functions, as in Node: an enumerable getter, so that
// module is compiled only when asked for.
for (const fn of [setTimeout, setImmediate]) {
  Object.defineProperty(fn, Symbol.for("nodejs.util.promisify.custom"), {
    get() {
      return native.loadInternal("timers_promises.js")[fn.name];
    },
    enumerable: true,
    configurable: true,
  });
}
