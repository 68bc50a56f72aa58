// The errors node:stream (and node:zlib) throw or emit, with Node 20's codes
// and messages. Kept apart from errors.js so the stream modules own them.
import { makeError } from "./errors.js";

export { AbortError } from "./errors.js";

export const ERR_STREAM_PUSH_AFTER_EOF = () => makeError(Error, "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF");
export const ERR_STREAM_UNSHIFT_AFTER_END_EVENT = () =>
  makeError(Error, "ERR_STREAM_UNSHIFT_AFTER_END_EVENT", "stream.unshift() after end event");
export const ERR_MULTIPLE_CALLBACK = () => makeError(Error, "ERR_MULTIPLE_CALLBACK", "Callback called multiple times");
export const ERR_STREAM_WRITE_AFTER_END = () => makeError(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end");
export const ERR_STREAM_DESTROYED = (name) =>
  makeError(Error, "ERR_STREAM_DESTROYED", `Cannot call ${name} after a stream was destroyed`);
export const ERR_STREAM_ALREADY_FINISHED = (name) =>
  makeError(Error, "ERR_STREAM_ALREADY_FINISHED", `Cannot call ${name} after a stream was finished`);
export const ERR_STREAM_NULL_VALUES = () =>
  makeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
export const ERR_METHOD_NOT_IMPLEMENTED = (name) =>
  makeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", `The ${name} method is not implemented`);
export const ERR_STREAM_PREMATURE_CLOSE = () => makeError(Error, "ERR_STREAM_PREMATURE_CLOSE", "Premature close");
export const ERR_STREAM_CANNOT_PIPE = () => makeError(Error, "ERR_STREAM_CANNOT_PIPE", "Cannot pipe, not readable");
export const ERR_STREAM_UNABLE_TO_PIPE = () =>
  makeError(Error, "ERR_STREAM_UNABLE_TO_PIPE", "Cannot pipe to a closed or destroyed stream");
export const ERR_INVALID_RETURN_VALUE = (input, name, value) => {
  let type;
  if (value?.constructor?.name) type = `instance of ${value.constructor.name}`;
  else type = `type ${typeof value}`;
  return makeError(TypeError, "ERR_INVALID_RETURN_VALUE",
    `Expected ${input} to be returned from the "${name}" function but got ${type}.`);
};
export const ERR_STREAM_PREMATURE_CLOSE_MESSAGE = "Premature close";
