// The Fetch standard's Headers, Request and Response with Node 20's (undici's)
// observable behaviour and error messages. fetch() itself is native and
// builds on the internal exports below.
//
// Internal API for the native fetch():
//
//   makeResponse({ status, statusText, headerList, url, urlList, redirected, body })
//     -> Response
//     A network response as Node's fetch() returns it: type "basic", headers
//     guarded "immutable". headerList is [[name, value], ...] in wire order
//     (names keep their spelling; iteration lowercases and sorts them), body
//     a ReadableStream (see makePushStream in web_streams.js) or null. url is
//     the final URL (default: the last of urlList); redirected defaults to
//     urlList having more than one entry.
//
//   requestParts(request)
//     -> { method, url, headerList, body, length, signal, redirect }
//     What to send for a Request: headerList [[name, value], ...] in the order
//     set; body null, { bytes: Uint8Array } (string, buffer, Blob,
//     URLSearchParams bodies) or { stream: ReadableStream } (stream bodies,
//     read it with getReader()); length the byte count or null for a stream;
//     signal the request's AbortSignal; redirect "follow", "manual" or
//     "error". The body is consumed (bodyUsed becomes true); a body already
//     used throws TypeError("Body is unusable: Body has already been read").
//
//   makePushStream({ onPull, onCancel, highWaterMark }) from web_streams.js
//     -> { stream, push(chunk), close(), error(err), desiredSize() }
//     re-exported here.
import { ERR_INVALID_THIS, makeNativeError } from "./errors.js";
import { customInspectSymbol, inspect } from "./inspect.js";
import { TextDecoder, TextEncoder } from "./text_coding.js";
import { URL, URLSearchParams } from "./url.js";
import { AbortController, AbortSignal } from "./dom_events.js";
import { Blob, blobBytes, blobFromBytes, isBlob } from "./blob.js";
import {
  ReadableStream,
  isDisturbed,
  isReadableStream,
  isStreamLocked,
  makePushStream,
  proxyReadableStream,
  readAllChunks,
  streamFromChunks,
  teeReadableStream,
} from "./web_streams.js";
import { extractMimeType, serializeMimeType } from "./mime_type.js";

export { makePushStream };

const encoder = new TextEncoder();
const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const httpWhitespace = /^[\t\n\r ]+|[\t\n\r ]+$/g;

// undici's brand check error: a plain TypeError that carries a code.
function illegalInvocation() {
  return makeNativeError(TypeError, "ERR_INVALID_THIS", "Illegal invocation");
}

function argumentCount(context, args, required) {
  if (args.length >= required) return;
  const plural = required === 1 ? "" : "s";
  throw new TypeError(`${context}: ${required} argument${plural} required, but${args.length ? " only" : ""} ${args.length} found.`);
}

function toByteString(value, context = "Headers", name = "value") {
  if (typeof value === "symbol") {
    throw new TypeError(`${context}: ${name} is a symbol, which cannot be converted to a DOMString.`);
  }
  const text = `${value}`;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 255) {
      throw new TypeError("Cannot convert argument to a ByteString because the character at index " +
        `${i} has a value of ${code} which is greater than 255.`);
    }
  }
  return text;
}

function isObjectLike(value) {
  return value !== null && (typeof value === "object" || typeof value === "function");
}

function customInspect(self, name, fields, depth, options) {
  if (depth < 0) return self;
  const opts = Object.assign({}, options, {
    depth: options.depth === null ? null : options.depth - 1,
  });
  return `${name} ${inspect(fields, opts)}`;
}

function defineMembers(cls, tag, names) {
  for (const name of names) Object.defineProperty(cls.prototype, name, { enumerable: true });
  Object.defineProperty(cls.prototype, Symbol.toStringTag, {
    value: tag,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

// Headers ----------------------------------------------------------------------------------

function normalizeValue(value) {
  return value.replace(httpWhitespace, "");
}

function isValidValue(value) {
  return !/[\0\n\r]/.test(value);
}

// A header list: [name, value] entries in the order they were added, names
// as first spelled. sorted() is the "sort and combine" view iteration walks,
// rebuilt after each change.
class HeaderList {
  constructor(entries = []) {
    this.entries = entries;
    this.sortedCache = null;
  }

  contains(lowerName) {
    return this.entries.some(([name]) => name.toLowerCase() === lowerName);
  }

  get(lowerName) {
    const values = this.entries.filter(([name]) => name.toLowerCase() === lowerName).map(([, value]) => value);
    return values.length === 0 ? null : values.join(", ");
  }

  append(name, value) {
    const lower = name.toLowerCase();
    const existing = this.entries.find(([entryName]) => entryName.toLowerCase() === lower);
    this.entries.push([existing === undefined ? name : existing[0], value]);
    this.sortedCache = null;
  }

  delete(lowerName) {
    this.entries = this.entries.filter(([name]) => name.toLowerCase() !== lowerName);
    this.sortedCache = null;
  }

  set(name, value) {
    const lower = name.toLowerCase();
    const index = this.entries.findIndex(([entryName]) => entryName.toLowerCase() === lower);
    if (index === -1) {
      this.entries.push([name, value]);
    } else {
      this.entries[index] = [this.entries[index][0], value];
      this.entries = this.entries.filter(([entryName], i) => i <= index || entryName.toLowerCase() !== lower);
    }
    this.sortedCache = null;
  }

  sorted() {
    if (this.sortedCache !== null) return this.sortedCache;
    const names = [...new Set(this.entries.map(([name]) => name.toLowerCase()))].sort();
    const result = [];
    for (const name of names) {
      if (name === "set-cookie") {
        for (const [entryName, value] of this.entries) {
          if (entryName.toLowerCase() === name) result.push([name, value]);
        }
      } else {
        result.push([name, this.get(name)]);
      }
    }
    this.sortedCache = result;
    return result;
  }

  copy() {
    return new HeaderList(this.entries.map(([name, value]) => [name, value]));
  }
}

let headersListOf;
let headersGuardOf;
let newHeaders;
let isHeaders;

export class Headers {
  #list = new HeaderList();
  #guard = "none";

  constructor(init = undefined) {
    if (init !== undefined) fillHeaders(this, init);
  }

  static {
    headersListOf = (headers) => headers.#list;
    headersGuardOf = (headers) => headers.#guard;
    isHeaders = (value) => isObjectLike(value) && #list in value;
    newHeaders = (list, guard) => {
      const headers = new Headers();
      headers.#list = list;
      headers.#guard = guard;
      return headers;
    };
  }

  append(name, value) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.append", arguments, 2);
    appendHeader(this, name, value);
  }

  delete(name) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.delete", arguments, 1);
    name = toByteString(name, "Headers.delete", "name");
    if (!tokenPattern.test(name)) throw new TypeError(`Headers.delete: "${name}" is an invalid header name.`);
    if (this.#guard === "immutable") throw new TypeError("immutable");
    this.#list.delete(name.toLowerCase());
  }

  get(name) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.get", arguments, 1);
    name = toByteString(name, "Headers.get", "name");
    if (!tokenPattern.test(name)) throw new TypeError(`Headers.get: "${name}" is an invalid header name.`);
    return this.#list.get(name.toLowerCase());
  }

  has(name) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.has", arguments, 1);
    name = toByteString(name, "Headers.has", "name");
    if (!tokenPattern.test(name)) throw new TypeError(`Headers.has: "${name}" is an invalid header name.`);
    return this.#list.contains(name.toLowerCase());
  }

  set(name, value) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.set", arguments, 2);
    name = toByteString(name, "Headers.set", "name");
    value = normalizeValue(toByteString(value, "Headers.set", "value"));
    if (!tokenPattern.test(name)) throw new TypeError(`Headers.set: "${name}" is an invalid header name.`);
    if (!isValidValue(value)) throw new TypeError(`Headers.set: "${value}" is an invalid header value.`);
    if (this.#guard === "immutable") throw new TypeError("immutable");
    this.#list.set(name, value);
  }

  getSetCookie() {
    if (!isHeaders(this)) throw illegalInvocation();
    return this.#list.entries.filter(([name]) => name.toLowerCase() === "set-cookie").map(([, value]) => value);
  }

  keys() {
    if (!isHeaders(this)) throw illegalInvocation();
    return createHeadersIterator(this, "key");
  }

  values() {
    if (!isHeaders(this)) throw illegalInvocation();
    return createHeadersIterator(this, "value");
  }

  entries() {
    if (!isHeaders(this)) throw illegalInvocation();
    return createHeadersIterator(this, "key+value");
  }

  forEach(callback, thisArg = undefined) {
    if (!isHeaders(this)) throw illegalInvocation();
    argumentCount("Headers.forEach", arguments, 1);
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    }
    // Walks the sorted view by index, as the iterator does, so headers set
    // by the callback are seen in order.
    for (let i = 0; i < this.#list.sorted().length; i++) {
      const [name, value] = this.#list.sorted()[i];
      Reflect.apply(callback, thisArg, [value, name, this]);
    }
  }

  [customInspectSymbol](depth, options) {
    if (!isHeaders(this)) throw illegalInvocation();
    const shown = {};
    for (const [name] of this.#list.entries) {
      if (!Object.hasOwn(shown, name)) shown[name] = this.#list.get(name.toLowerCase());
    }
    return customInspect(this, "Headers", shown, depth, options);
  }
}
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: Headers.prototype.entries,
  writable: true,
  enumerable: false,
  configurable: true,
});
defineMembers(Headers, "Headers", ["append", "delete", "get", "has", "set", "getSetCookie", "keys", "values",
  "entries", "forEach"]);

function appendHeader(headers, name, value) {
  name = toByteString(name, "Headers.append", "name");
  value = normalizeValue(toByteString(value, "Headers.append", "value"));
  if (!tokenPattern.test(name)) throw new TypeError(`Headers.append: "${name}" is an invalid header name.`);
  if (!isValidValue(value)) throw new TypeError(`Headers.append: "${value}" is an invalid header value.`);
  if (headersGuardOf(headers) === "immutable") throw new TypeError("immutable");
  headersListOf(headers).append(name, value);
}

// The Headers constructor's init: a sequence of pairs (any iterable, a
// Headers too) or a record of own enumerable properties.
function fillHeaders(headers, init) {
  if (!isObjectLike(init)) {
    throw new TypeError("Headers constructor: Argument 1 could not be converted to one of: " +
      "sequence<sequence<ByteString>>, record<ByteString, ByteString>.");
  }
  if (init[Symbol.iterator] !== undefined && init[Symbol.iterator] !== null) {
    const pairs = [];
    let index = 0;
    for (const item of init) {
      if (!isObjectLike(item) || typeof item[Symbol.iterator] !== "function") {
        throw new TypeError(`Headers contructor: init[${index}] (${typeof item === "symbol" ? "Symbol()" : String(item)}) is not iterable.`);
      }
      pairs.push(Array.from(item, (part) => toByteString(part)));
      index++;
    }
    for (const pair of pairs) {
      if (pair.length !== 2) {
        throw new TypeError(`Headers constructor: expected name/value pair to be length 2, found ${pair.length}.`);
      }
      appendHeader(headers, pair[0], pair[1]);
    }
    return;
  }
  const pairs = [];
  for (const key of Reflect.ownKeys(init)) {
    if (typeof key === "symbol") {
      throw new TypeError("Headers contructor: init is a symbol, which cannot be converted to a DOMString.");
    }
    const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
    if (descriptor === undefined || !descriptor.enumerable) continue;
    pairs.push([toByteString(key), toByteString(init[key])]);
  }
  for (const [name, value] of pairs) appendHeader(headers, name, value);
}

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
const headersIterators = new WeakMap();
const headersIteratorPrototype = Object.create(IteratorPrototype, {
  next: {
    value: function next() {
      const state = headersIterators.get(this);
      if (state === undefined) {
        throw new TypeError("'next' called on an object that does not implement interface Headers Iterator.");
      }
      const list = headersListOf(state.headers).sorted();
      if (state.index >= list.length) return { value: undefined, done: true };
      const [name, value] = list[state.index++];
      if (state.kind === "key") return { value: name, done: false };
      if (state.kind === "value") return { value, done: false };
      return { value: [name, value], done: false };
    },
    writable: true,
    enumerable: true,
    configurable: true,
  },
  [Symbol.toStringTag]: { value: "Headers Iterator", writable: false, enumerable: false, configurable: true },
});

function createHeadersIterator(headers, kind) {
  const iterator = Object.create(headersIteratorPrototype);
  headersIterators.set(iterator, { headers, kind, index: 0 });
  return iterator;
}

// Bodies -------------------------------------------------------------------------------------

// A body: its stream, its source when known up front (bytes, or the Blob it
// came from) and its length in bytes when known.
function bytesBody(bytes) {
  return { stream: streamFromChunks(bytes.byteLength > 0 ? [bytes] : []), source: bytes, length: bytes.byteLength };
}

function viewBytes(view) {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

// A stream over an async iterable's values (Node accepts those as bodies);
// values that are not bytes are sent as their UTF-8 text.
function streamFromAsyncIterable(iterable) {
  let iterator;
  const push = makePushStream({
    onPull: async () => {
      iterator ??= iterable[Symbol.asyncIterator]();
      try {
        const { value, done } = await iterator.next();
        if (done) {
          push.close();
        } else if (value instanceof Uint8Array) {
          push.push(value);
        } else if (ArrayBuffer.isView(value)) {
          push.push(viewBytes(value));
        } else {
          push.push(encoder.encode(`${value}`));
        }
      } catch (error) {
        push.error(error);
      }
    },
    onCancel: async (reason) => {
      if (typeof iterator?.return === "function") await iterator.return(reason);
    },
    highWaterMark: 0,
  });
  return push.stream;
}

// The Fetch standard's "extract a body": [body, Content-Type or null].
function extractBody(object) {
  if (typeof object === "string") {
    return [bytesBody(encoder.encode(object)), "text/plain;charset=UTF-8"];
  }
  if (object instanceof URLSearchParams) {
    return [bytesBody(encoder.encode(URLSearchParams.prototype.toString.call(object))),
      "application/x-www-form-urlencoded;charset=UTF-8"];
  }
  if (object instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && object instanceof SharedArrayBuffer)) {
    return [bytesBody(new Uint8Array(object.slice(0))), null];
  }
  if (ArrayBuffer.isView(object)) return [bytesBody(viewBytes(object)), null];
  if (isBlob(object)) {
    return [{ stream: object.stream(), source: object, length: object.size }, object.type === "" ? null : object.type];
  }
  if (isReadableStream(object)) {
    if (isDisturbed(object) || isStreamLocked(object)) {
      throw new TypeError("Response body object should not be disturbed or locked");
    }
    return [{ stream: object, source: null, length: null }, null];
  }
  if (isObjectLike(object) && typeof object[Symbol.asyncIterator] === "function") {
    return [{ stream: streamFromAsyncIterable(object), source: null, length: null }, null];
  }
  return [bytesBody(encoder.encode(`${object}`)), "text/plain;charset=UTF-8"];
}

function isUnusable(body) {
  return body !== null && (isDisturbed(body.stream) || isStreamLocked(body.stream));
}

function cloneBody(body) {
  const [first, second] = teeReadableStream(body.stream);
  body.stream = first;
  return { stream: second, source: body.source, length: body.length };
}

function checkChunk(chunk) {
  if (!(chunk instanceof Uint8Array)) throw new TypeError("Received non-Uint8Array chunk");
}

function concatChunks(chunks) {
  if (chunks.length === 1) return chunks[0].slice();
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// The body mixin's "consume body": the whole body as bytes, then converted.
function consumeBody(body, convert) {
  if (isUnusable(body)) return Promise.reject(new TypeError("Body is unusable: Body has already been read"));
  if (body === null) {
    try {
      return Promise.resolve(convert(new Uint8Array(0)));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return readAllChunks(body.stream, checkChunk).then((chunks) => convert(concatChunks(chunks)));
}

const decodeUtf8 = (bytes) => new TextDecoder().decode(bytes);

// The body mixin's methods, shared by Request and Response: each reads the
// object's state through `stateOf`, which throws for a foreign `this`.
function defineBodyMixin(cls, stateOf, className) {
  const methods = {
    blob() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return consumeBody(state.body, (bytes) => {
        const mime = extractMimeType(headersListOf(state.headers).get("content-type"));
        return blobFromBytes(bytes, mime === null ? "" : serializeMimeType(mime));
      });
    },
    arrayBuffer() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return consumeBody(state.body, (bytes) => bytes.buffer);
    },
    text() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return consumeBody(state.body, decodeUtf8);
    },
    json() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return consumeBody(state.body, (bytes) => JSON.parse(decodeUtf8(bytes)));
    },
    formData() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return Promise.reject(new TypeError(`${className}.formData: FormData is not supported by this runtime`));
    },
    bytes() {
      const state = stateOf(this);
      if (state === undefined) return Promise.reject(illegalInvocation());
      return consumeBody(state.body, (bytes) => bytes);
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(cls.prototype, name, { value: fn, writable: true, enumerable: true, configurable: true });
  }
}

// Request ------------------------------------------------------------------------------------

const kCreate = Symbol("kCreate");
const normalizedMethods = new Map(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].map((m) => [m, m]));
const forbiddenMethods = new Set(["CONNECT", "TRACE", "TRACK"]);
const requestEnums = {
  referrerPolicy: ["", "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin", "strict-origin",
    "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url"],
  mode: ["navigate", "same-origin", "no-cors", "cors"],
  credentials: ["omit", "same-origin", "include"],
  cache: ["default", "no-store", "reload", "no-cache", "force-cache", "only-if-cached"],
  redirect: ["follow", "manual", "error"],
  duplex: ["half"],
};

function parseURL(input, message) {
  try {
    return new URL(input);
  } catch (cause) {
    throw new TypeError(message, { cause });
  }
}

function followingSignal(signal) {
  return signal === null || signal === undefined ? new AbortController().signal : AbortSignal.any([signal]);
}

function convertInit(context, init) {
  if (init === undefined || init === null) return {};
  if (!isObjectLike(init)) {
    throw new TypeError(`${context}: Expected ${String(init)} to be one of: Null, Undefined, Object.`);
  }
  return init;
}

let requestStateOf;

export class Request {
  #state;

  constructor(input, init = undefined) {
    if (input === kCreate) {
      this.#state = init;
      return;
    }
    argumentCount("Request constructor", arguments, 1);
    init = convertInit("Request constructor", init);
    const options = readRequestInit(init);

    let inputState = null;
    let state;
    if (isObjectLike(input) && #state in input) {
      inputState = input.#state;
      state = { ...inputState, urlList: [...inputState.urlList] };
    } else {
      const text = `${input}`;
      const url = parseURL(text, `Failed to parse URL from ${text}`);
      if (url.username !== "" || url.password !== "") {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${text}`);
      }
      state = {
        method: "GET",
        url: url.href,
        urlList: [url.href],
        headers: null,
        body: null,
        signal: null,
        referrer: "about:client",
        referrerPolicy: "",
        mode: "cors",
        credentials: "same-origin",
        cache: "default",
        redirect: "follow",
        integrity: "",
        keepalive: false,
      };
    }

    if (options.referrer !== undefined) {
      const referrer = options.referrer;
      if (referrer === "") {
        state.referrer = "";
      } else {
        const parsed = parseURL(referrer, `Referrer "${referrer}" is not a valid URL.`);
        state.referrer = parsed.href === "about:client" ? "about:client" : parsed.href;
      }
    }
    if (options.referrerPolicy !== undefined) state.referrerPolicy = options.referrerPolicy;
    if (options.mode === "navigate") throw new TypeError("Request constructor: invalid request mode navigate.");
    if (options.mode !== undefined) state.mode = options.mode;
    if (options.credentials !== undefined) state.credentials = options.credentials;
    if (options.cache !== undefined) state.cache = options.cache;
    if (state.cache === "only-if-cached" && state.mode !== "same-origin") {
      throw new TypeError("'only-if-cached' can be set only with 'same-origin' mode");
    }
    if (options.redirect !== undefined) state.redirect = options.redirect;
    if (options.integrity !== undefined) state.integrity = options.integrity;
    if (options.keepalive !== undefined) state.keepalive = options.keepalive;
    if (options.method !== undefined) {
      const method = options.method;
      if (!tokenPattern.test(method)) throw new TypeError(`'${method}' is not a valid HTTP method.`);
      const upper = method.toUpperCase();
      if (forbiddenMethods.has(upper)) throw new TypeError(`'${method}' HTTP method is unsupported.`);
      state.method = normalizedMethods.get(upper) ?? method;
    }
    state.signalObject = followingSignal("signal" in options ? options.signal : inputState?.signalObject ?? null);

    // Headers: init's when given, else a copy of the input request's.
    const headers = newHeaders(new HeaderList(), "request");
    if (options.headers !== undefined) {
      fillHeaders(headers, options.headers);
    } else if (inputState !== null) {
      headersListOf(headers).entries = headersListOf(inputState.headers).entries.map(([n, v]) => [n, v]);
    }
    state.headers = headers;
    if (state.mode === "no-cors" && !["GET", "HEAD", "POST"].includes(state.method)) {
      throw new TypeError(`'${state.method}' is unsupported in no-cors mode.`);
    }

    const inputBody = inputState === null ? null : inputState.body;
    const initBody = options.body;
    if ((initBody !== undefined && initBody !== null) || inputBody !== null) {
      if (state.method === "GET" || state.method === "HEAD") {
        throw new TypeError("Request with GET/HEAD method cannot have body.");
      }
    }
    let extracted = null;
    if (initBody !== undefined && initBody !== null) {
      const [body, contentType] = extractBody(initBody);
      extracted = body;
      if (contentType !== null && !headersListOf(headers).contains("content-type")) {
        headersListOf(headers).append("content-type", contentType);
      }
    }
    const inputOrInitBody = extracted ?? inputBody;
    if (inputOrInitBody !== null && inputOrInitBody.source === null) {
      if (extracted !== null && options.duplex === undefined) {
        throw new TypeError("RequestInit: duplex option is required when sending a body.");
      }
      if (state.mode !== "same-origin" && state.mode !== "cors") {
        throw new TypeError('If request is made from ReadableStream, mode should be "same-origin" or "cors"');
      }
    }
    let finalBody = inputOrInitBody;
    if (extracted === null && inputBody !== null) {
      if (isUnusable(inputBody)) {
        throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
      }
      // The new request takes the input's body over; the input becomes used.
      finalBody = { stream: proxyReadableStream(inputBody.stream), source: inputBody.source, length: inputBody.length };
    }
    state.body = finalBody;
    this.#state = state;
  }

  static {
    requestStateOf = (object) => (isObjectLike(object) && #state in object ? object.#state : undefined);
  }

  get method() {
    return checkRequest(this).method;
  }

  get url() {
    return checkRequest(this).url;
  }

  get headers() {
    return checkRequest(this).headers;
  }

  get destination() {
    checkRequest(this);
    return "";
  }

  get referrer() {
    return checkRequest(this).referrer;
  }

  get referrerPolicy() {
    return checkRequest(this).referrerPolicy;
  }

  get mode() {
    return checkRequest(this).mode;
  }

  get credentials() {
    return checkRequest(this).credentials;
  }

  get cache() {
    return checkRequest(this).cache;
  }

  get redirect() {
    return checkRequest(this).redirect;
  }

  get integrity() {
    return checkRequest(this).integrity;
  }

  get keepalive() {
    return checkRequest(this).keepalive;
  }

  get isReloadNavigation() {
    checkRequest(this);
    return false;
  }

  get isHistoryNavigation() {
    checkRequest(this);
    return false;
  }

  get signal() {
    return checkRequest(this).signalObject;
  }

  get body() {
    return checkRequest(this).body?.stream ?? null;
  }

  get bodyUsed() {
    const body = checkRequest(this).body;
    return body !== null && isDisturbed(body.stream);
  }

  get duplex() {
    checkRequest(this);
    return "half";
  }

  clone() {
    const state = checkRequest(this);
    if (isUnusable(state.body)) throw new TypeError("unusable");
    const copy = {
      ...state,
      urlList: [...state.urlList],
      headers: newHeaders(headersListOf(state.headers).copy(), headersGuardOf(state.headers)),
      body: state.body === null ? null : cloneBody(state.body),
      signalObject: followingSignal(state.signalObject),
    };
    return new Request(kCreate, copy);
  }

  [customInspectSymbol](depth, options) {
    const state = checkRequest(this);
    return customInspect(this, "Request", {
      method: state.method,
      url: state.url,
      headers: state.headers,
      destination: "",
      referrer: state.referrer,
      referrerPolicy: state.referrerPolicy,
      mode: state.mode,
      credentials: state.credentials,
      cache: state.cache,
      redirect: state.redirect,
      integrity: state.integrity,
      keepalive: state.keepalive,
      isReloadNavigation: false,
      isHistoryNavigation: false,
      signal: state.signalObject,
    }, depth, options);
  }
}
defineBodyMixin(Request, requestStateOf, "Request");
defineMembers(Request, "Request", ["method", "url", "headers", "destination", "referrer", "referrerPolicy", "mode",
  "credentials", "cache", "redirect", "integrity", "keepalive", "isReloadNavigation", "isHistoryNavigation",
  "signal", "body", "bodyUsed", "duplex", "clone"]);

function checkRequest(object) {
  const state = requestStateOf(object);
  if (state === undefined) throw illegalInvocation();
  return state;
}

// RequestInit's members converted as Web IDL would, in its order, before any
// of them is used.
function readRequestInit(init) {
  const options = {};
  if (init.method !== undefined) options.method = toByteString(init.method, "Request constructor", "method");
  if (init.headers !== undefined) options.headers = init.headers;
  if (init.body !== undefined) options.body = init.body;
  if (init.referrer !== undefined) options.referrer = toUSVString(init.referrer);
  for (const name of ["referrerPolicy", "mode", "credentials", "cache", "redirect"]) {
    if (init[name] !== undefined) options[name] = enumValue(name, init[name]);
  }
  if (init.integrity !== undefined) options.integrity = `${init.integrity}`;
  if (init.keepalive !== undefined) options.keepalive = Boolean(init.keepalive);
  if ("signal" in init) {
    const signal = init.signal;
    if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
      throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
    }
    if (signal !== undefined) options.signal = signal;
  }
  if (init.window !== undefined && init.window !== null) {
    throw new TypeError("RequestInit: Expected window to be null");
  }
  if (init.duplex !== undefined) options.duplex = enumValue("duplex", init.duplex);
  return options;
}

function toUSVString(value) {
  return `${value}`.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

function enumValue(name, value) {
  const text = `${value}`;
  if (!requestEnums[name].includes(text)) {
    throw new TypeError(`Request constructor: ${text} is not an accepted type. Expected one of ${requestEnums[name].join(", ")}.`);
  }
  return text;
}

// Response -----------------------------------------------------------------------------------

const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const reasonPhrasePattern = /^[\t\u0020-\u007E\u0080-\u00FF]*$/;

let responseStateOf;

function newResponseState(type, guard) {
  return {
    type,
    status: 200,
    statusText: "",
    headers: newHeaders(new HeaderList(), guard),
    body: null,
    urlList: [],
    redirected: false,
  };
}

// Web IDL's `unsigned short`.
function toUnsignedShort(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const integer = Math.trunc(number);
  return ((integer % 65536) + 65536) % 65536;
}

// The Fetch standard's "initialize a response".
function initializeResponse(state, init, bodyWithType) {
  const status = init.status === undefined ? 200 : toUnsignedShort(init.status);
  const statusText = init.statusText === undefined ? "" : toByteString(init.statusText, "Response constructor", "statusText");
  if (status < 200 || status > 599) {
    throw new RangeError('init["status"] must be in the range of 200 to 599, inclusive.');
  }
  if (!reasonPhrasePattern.test(statusText)) throw new TypeError("Invalid statusText");
  state.status = status;
  state.statusText = statusText;
  if (init.headers !== undefined) fillHeaders(state.headers, init.headers);
  if (bodyWithType !== null) {
    if (nullBodyStatuses.has(status)) {
      throw new TypeError(`Response constructor: Invalid response status code ${status}`);
    }
    const [body, contentType] = bodyWithType;
    state.body = body;
    if (contentType !== null && !headersListOf(state.headers).contains("content-type")) {
      headersListOf(state.headers).append("content-type", contentType);
    }
  }
}

export class Response {
  #state;

  constructor(body = null, init = undefined) {
    if (body === kCreate) {
      this.#state = init;
      return;
    }
    init = convertInit("undefined", init);
    const state = newResponseState("default", "response");
    initializeResponse(state, init, body === null || body === undefined ? null : extractBody(body));
    this.#state = state;
  }

  static {
    responseStateOf = (object) => (isObjectLike(object) && #state in object ? object.#state : undefined);
  }

  static error() {
    const state = newResponseState("error", "immutable");
    state.status = 0;
    return new Response(kCreate, state);
  }

  static json(data = undefined, init = undefined) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Value is not JSON serializable");
    init = convertInit("Response.json", init);
    const state = newResponseState("default", "response");
    initializeResponse(state, init, [bytesBody(encoder.encode(text)), "application/json"]);
    return new Response(kCreate, state);
  }

  static redirect(url, status = 302) {
    const text = `${url}`;
    const parsed = parseURL(text, `Failed to parse URL from ${text}`);
    const code = toUnsignedShort(status);
    if (!redirectStatuses.has(code)) throw new RangeError(`Invalid status code ${code}`);
    const state = newResponseState("default", "immutable");
    state.status = code;
    headersListOf(state.headers).append("location", parsed.href);
    return new Response(kCreate, state);
  }

  get type() {
    return checkResponse(this).type;
  }

  get url() {
    const { urlList } = checkResponse(this);
    if (urlList.length === 0) return "";
    const url = urlList[urlList.length - 1];
    const hash = url.indexOf("#");
    return hash === -1 ? url : url.slice(0, hash);
  }

  get redirected() {
    return checkResponse(this).redirected;
  }

  get status() {
    return checkResponse(this).status;
  }

  get ok() {
    const { status } = checkResponse(this);
    return status >= 200 && status <= 299;
  }

  get statusText() {
    return checkResponse(this).statusText;
  }

  get headers() {
    return checkResponse(this).headers;
  }

  get body() {
    return checkResponse(this).body?.stream ?? null;
  }

  get bodyUsed() {
    const body = checkResponse(this).body;
    return body !== null && isDisturbed(body.stream);
  }

  clone() {
    const state = checkResponse(this);
    if (isUnusable(state.body)) throw new TypeError("Response.clone: Body has already been consumed.");
    // Node's clone keeps the URL but not the redirect history, so its
    // `redirected` is false.
    const copy = {
      ...state,
      headers: newHeaders(headersListOf(state.headers).copy(), headersGuardOf(state.headers)),
      body: state.body === null ? null : cloneBody(state.body),
      urlList: state.urlList.slice(-1),
      redirected: false,
    };
    return new Response(kCreate, copy);
  }

  [customInspectSymbol](depth, options) {
    const state = checkResponse(this);
    return customInspect(this, "Response", {
      status: state.status,
      statusText: state.statusText,
      headers: state.headers,
      body: this.body,
      bodyUsed: this.bodyUsed,
      ok: this.ok,
      redirected: state.redirected,
      type: state.type,
      url: this.url,
    }, depth, options);
  }
}
defineBodyMixin(Response, responseStateOf, "Response");
defineMembers(Response, "Response", ["type", "url", "redirected", "status", "ok", "statusText", "headers", "body",
  "bodyUsed", "clone"]);
for (const name of ["error", "redirect", "json"]) Object.defineProperty(Response, name, { enumerable: true });

function checkResponse(object) {
  const state = responseStateOf(object);
  if (state === undefined) throw illegalInvocation();
  return state;
}

// Internal API for the native fetch() --------------------------------------------------------

export function makeResponse({
  status = 200,
  statusText = "",
  headerList = [],
  url = undefined,
  urlList = undefined,
  redirected = undefined,
  body = null,
} = {}) {
  const state = newResponseState("basic", "immutable");
  state.status = status;
  state.statusText = statusText;
  headersListOf(state.headers).entries = headerList.map(([name, value]) => [`${name}`, `${value}`]);
  const list = urlList === undefined ? [] : urlList.map(String);
  if (url !== undefined && list[list.length - 1] !== url) list.push(String(url));
  state.urlList = list;
  state.redirected = redirected === undefined ? list.length > 1 : Boolean(redirected);
  if (body !== null) {
    if (!isReadableStream(body)) throw new TypeError("makeResponse: body must be a ReadableStream or null");
    state.body = { stream: body, source: null, length: null };
  }
  return new Response(kCreate, state);
}

export function requestParts(request) {
  const state = checkRequest(request);
  const { body } = state;
  if (isUnusable(body)) throw new TypeError("Body is unusable: Body has already been read");
  let sent = null;
  let length = null;
  if (body !== null) {
    length = body.length;
    if (body.source instanceof Uint8Array) {
      sent = { bytes: body.source };
    } else if (body.source !== null && isBlob(body.source)) {
      sent = { bytes: blobBytes(body.source) };
    } else {
      sent = { stream: body.stream };
    }
    // The bytes go out from the source; the stream is spent all the same.
    if (sent.bytes !== undefined) body.stream.cancel().then(undefined, () => {});
  }
  return {
    method: state.method,
    url: state.url,
    headerList: headersListOf(state.headers).entries.map(([name, value]) => [name, value]),
    body: sent,
    length,
    signal: state.signalObject,
    redirect: state.redirect,
  };
}

export { Blob, ReadableStream };
