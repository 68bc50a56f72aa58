// node:process
import { process } from "../process.js";
export const { nextTick, hrtime, env, platform } = process;
export default process;
