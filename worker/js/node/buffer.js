// node:buffer
export * from "../buffer.js";
export { default } from "../buffer.js";
