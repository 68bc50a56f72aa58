// node:timers
import { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate } from "../timers.js";
import * as promises from "../timers_promises.js";
export { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, promises };
export default { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, promises };
