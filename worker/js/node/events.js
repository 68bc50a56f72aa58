// node:events
export { EventEmitter, once, on, errorMonitor, captureRejectionSymbol, getEventListeners, getMaxListeners,
  setMaxListeners, addAbortListener, listenerCount } from "../events.js";
export { default } from "../events.js";
import EventEmitter from "../events.js";
// Values when imported, as Node's named exports of a CommonJS module are.
export const { captureRejections, defaultMaxListeners, init, usingDomains } = EventEmitter;
