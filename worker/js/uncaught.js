// What happens to an error nobody caught: Node would crash the process; a
// broker must keep serving. The error is logged with the handler's name (the
// log adds it), a summary, the `file:line` where it was thrown and the stack,
// and the connection it belongs to is destroyed. Every other connection of the
// handler keeps running.
import { native } from "./native.js";
import { setUncaughtHandler } from "./async_context.js";
import { inspect } from "./inspect.js";

// SpiderMonkey frames read "fn@file:line:col"; the first one with a location
// is where the error was thrown.
function firstFrameLocation(stack) {
  for (const line of stack.split("\n")) {
    const at = line.lastIndexOf("@");
    const location = at >= 0 ? line.slice(at + 1) : "";
    if (/:\d+:\d+$/.test(location)) return location;
  }
  return undefined;
}

export function describeError(error) {
  try {
    if (error !== null && typeof error === "object" && typeof error.message === "string") {
      const name = typeof error.name === "string" ? error.name : "Error";
      const stack = typeof error.stack === "string" ? error.stack : "";
      let at = firstFrameLocation(stack);
      if (at === undefined && typeof error.fileName === "string" && error.fileName !== "") {
        at = `${error.fileName}:${error.lineNumber}:${(error.columnNumber ?? 0) + 1}`;
      }
      const code = typeof error.code === "string" ? ` [${error.code}]` : "";
      return { summary: `${name}${code}: ${error.message}`, at, stack: stack || undefined };
    }
    return { summary: `Uncaught ${inspect(error)}`, at: undefined, stack: undefined };
  } catch {
    return { summary: "Uncaught error (not printable)", at: undefined, stack: undefined };
  }
}

// "file:line:col: Name: message" — how a failure reads in status.
export function failureReason(error) {
  const { summary, at } = describeError(error);
  return at ? `${at}: ${summary}` : summary;
}

export function handleUncaught(error, context, isRejection) {
  const { summary, at, stack } = describeError(error);
  const connection = context && typeof context === "object" ? context.brokerConnectionId : undefined;
  native.logUncaught(isRejection ? "unhandled-rejection" : "uncaught-exception", summary, at, stack, connection);
  if (context && typeof context.destroy === "function" && !context.destroyed) {
    try {
      context.destroy();
    } catch (destroyError) {
      native.logUncaught("uncaught-exception", describeError(destroyError).summary, undefined, undefined, connection);
    }
  }
}

setUncaughtHandler(handleUncaught);
