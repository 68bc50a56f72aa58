// node:querystring
export { unescapeBuffer, unescape, escape, stringify, parse, encode, decode } from "../querystring.js";
export { default } from "../querystring.js";
