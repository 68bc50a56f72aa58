// node:events
export { EventEmitter, once, on, errorMonitor, captureRejectionSymbol, getEventListeners, getMaxListeners,
  setMaxListeners, addAbortListener, listenerCount } from "../events.js";
export { default } from "../events.js";
