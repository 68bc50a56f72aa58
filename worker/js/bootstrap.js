// Runs once per worker before the handler module: installs the public globals,
// registers the host hooks, routes library warnings and listener errors to the
// log, then removes the native slot so handler code can never reach the engine
// binding.
import { native } from "./native.js";
import "./intrinsics.js";
import "./globals.js";
import { handleUncaught } from "./uncaught.js";
import { currentContext } from "./async_context.js";
import { setWarningHandler } from "./events.js";
import { setListenerErrorHandler } from "./dom_events.js";
import "./host.js";

setWarningHandler((warning) =>
  native.log("warn", `${warning.code ? `[${warning.code}] ` : ""}${warning.name}: ${warning.message}`));
setListenerErrorHandler((error) => handleUncaught(error, currentContext(), false));

delete globalThis[Symbol.for("portbroker.native")];
