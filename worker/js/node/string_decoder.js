// node:string_decoder
export { StringDecoder } from "../string_decoder.js";
export { default } from "../string_decoder.js";
