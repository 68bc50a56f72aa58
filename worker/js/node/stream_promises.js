// node:stream/promises
import { promises } from "../stream_more.js";
export const { pipeline, finished } = promises;
export default promises;
