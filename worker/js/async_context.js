// Which connection code runs on behalf of. The engine binding keeps the current
// context natively and carries it into promise jobs, so an exception or an
// unhandled rejection can be traced back to the connection it belongs to, which
// is then destroyed while every other connection keeps running.
import { native } from "./native.js";

export function currentContext() {
  return native.getContext();
}

let uncaughtHandler = (error) => {
  throw error;
};

// Installed by the bootstrap: logs the error and destroys the context's connection.
export function setUncaughtHandler(handler) {
  uncaughtHandler = handler;
}

export function reportUncaught(error, context, isRejection = false) {
  uncaughtHandler(error, context, isRejection);
}

// Calls fn(...args) with `context` current; an exception is reported, not rethrown.
export function callInContext(context, fn, thisArg, args) {
  const previous = native.getContext();
  native.setContext(context);
  try {
    return Reflect.apply(fn, thisArg, args);
  } catch (error) {
    reportUncaught(error, context);
    return undefined;
  } finally {
    native.setContext(previous);
  }
}
