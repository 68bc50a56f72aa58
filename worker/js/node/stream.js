// node:stream — the legacy Stream constructor is the module itself, as in Node.
import { Stream } from "../stream_more.js";
export {
  Readable, Writable, Duplex, Transform, PassThrough, Stream, pipeline, finished, addAbortSignal, compose,
  duplexPair, destroy, promises, getDefaultHighWaterMark, setDefaultHighWaterMark, isDestroyed, isDisturbed,
  isErrored, isReadable, isWritable,
} from "../stream_more.js";
export const _isUint8Array = Stream._isUint8Array;
export const _isArrayBufferView = Stream._isArrayBufferView;
export const _uint8ArrayToBuffer = Stream._uint8ArrayToBuffer;
export default Stream;
