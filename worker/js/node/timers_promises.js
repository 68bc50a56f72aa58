// node:timers/promises
export { setTimeout, setImmediate, setInterval, scheduler } from "../timers_promises.js";
import * as all from "../timers_promises.js";
export default all;
