// fetch(): HTTP/1.1 and HTTPS through the broker (docs/egress.md). Each
// request, and each redirect hop, asks the broker for a socket to its URL's
// host and port (the handler's `connect` list decides; a hop to a host the
// list does not name fails as a refused connect), then runs over it with
// libcurl in the worker (worker/api_fetch.h). The response body streams
// with backpressure: libcurl holds the socket while the body's stream is full.
// Errors are Node's: TypeError("fetch failed") with the reason in `cause`.
import { native } from "./native.js";
import { URL } from "./url.js";
import { Request, makeResponse, requestParts, makePushStream } from "./fetch_types.js";
import { connectError } from "./egress.js";
import { DOMException } from "./dom_events.js";

const kMaxRedirects = 20;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);
// Sent unless the request sets them, as undici does.
const defaultHeaders = [
  ["accept", "*/*"],
  ["accept-language", "*"],
  ["sec-fetch-mode", "cors"],
  ["user-agent", "node"],
];

const transfers = new Map();  // id → the transfer's listener

function fetchFailed(cause) {
  return new TypeError("fetch failed", { cause });
}

function causeError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

function abortReason(signal) {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function portOf(url) {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

function withDefaults(headerList) {
  const present = new Set(headerList.map(([name]) => name.toLowerCase()));
  const list = headerList.slice();
  for (const [name, value] of defaultHeaders) if (!present.has(name)) list.push([name, value]);
  return list;
}

// One request to one URL: resolves with { status, statusText, headerList,
// body (a ReadableStream or null), cancel() } once the head arrives.
function exchange(url, method, headerList, body, length, signal) {
  return new Promise((resolve, reject) => {
    const request = JSON.stringify({
      url: url.href,
      method,
      headers: withDefaults(headerList),
      hasBody: body !== null,
      bodyLength: length ?? -1,
    });
    // hostname keeps the brackets around an IPv6 literal: the broker's policy parses them.
    const id = native.fetchStart(url.hostname, portOf(url), request);
    if (id === 0) {
      reject(fetchFailed(connectError("EAGAIN", url.hostname, portOf(url))));
      return;
    }
    let reader = null;
    let push = null;
    let settled = false;
    const finish = () => {
      transfers.delete(id);
      if (signal !== null) signal.removeEventListener("abort", onAbort);
      if (reader !== null) reader.releaseLock();
    };
    const onAbort = () => {
      native.fetchAbort(id);
      const reason = abortReason(signal);
      if (!settled) {
        settled = true;
        reject(reason);
      } else if (push !== null) {
        push.error(reason);
      }
      finish();
    };
    if (signal !== null) signal.addEventListener("abort", onAbort, { once: true });
    transfers.set(id, (kind, a, b, c) => {
      if (kind === "connect-failed") {
        settled = true;
        finish();
        reject(fetchFailed(connectError(a, url.hostname, portOf(url))));
      } else if (kind === "pull") {
        if (body.bytes !== undefined) {
          native.fetchWrite(id, body.bytes);
          native.fetchWrite(id, null);
          return;
        }
        if (reader === null) reader = body.stream.getReader();
        reader.read().then(({ value, done }) => {
          if (!transfers.has(id)) return;
          if (done) native.fetchWrite(id, null);
          else native.fetchWrite(id, value instanceof Uint8Array ? value : new Uint8Array(value));
        }, (error) => {
          native.fetchAbort(id);
          transfers.delete(id);
          if (!settled) {
            settled = true;
            reject(fetchFailed(error));
          }
        });
      } else if (kind === "headers") {
        settled = true;
        const headers = [];
        for (let i = 0; i < c.length; i += 2) headers.push([c[i], c[i + 1]]);
        const nullBody = method === "HEAD" || a === 204 || a === 205 || a === 304;
        push = nullBody ? null : makePushStream({
          onPull: () => native.fetchPause(id, false),
          onCancel: () => {
            native.fetchAbort(id);
            finish();
          },
        });
        resolve({
          status: a,
          statusText: b,
          headerList: headers,
          body: push === null ? null : push.stream,
          cancel: () => {
            native.fetchAbort(id);
            finish();
          },
        });
      } else if (kind === "data") {
        if (push !== null && !push.push(new Uint8Array(a))) native.fetchPause(id, true);
      } else if (kind === "done") {
        finish();
        const error = a === "" ? null : causeError(a, b);
        if (!settled) {
          settled = true;
          reject(fetchFailed(error));
        } else if (push !== null) {
          if (error === null) push.close();
          else push.error(fetchFailed(error));
        }
      }
    });
  });
}

function isHttp(url) {
  return url.protocol === "http:" || url.protocol === "https:";
}

function schemeError(url) {
  return fetchFailed(new Error(url.protocol === "file:" ? "not implemented... yet..." : "unknown scheme"));
}

async function follow(parts) {
  const { signal, redirect } = parts;
  let url = new URL(parts.url);
  let method = parts.method;
  let headerList = parts.headerList;
  let body = parts.body;
  let length = parts.length;
  const urlList = [url.href];
  for (let hops = 0; ; hops++) {
    if (!isHttp(url)) throw schemeError(url);
    const answer = await exchange(url, method, headerList, body, length, signal);
    const location = redirectStatuses.has(answer.status)
      ? answer.headerList.find(([name]) => name.toLowerCase() === "location")?.[1]
      : undefined;
    if (location === undefined || redirect === "manual") {
      return makeResponse({ ...answer, url: url.href, urlList, redirected: hops > 0 });
    }
    answer.cancel();
    if (redirect === "error") throw fetchFailed(new Error("unexpected redirect"));
    let next;
    try {
      next = new URL(location, url);
    } catch (error) {
      throw fetchFailed(error);
    }
    if (hops + 1 > kMaxRedirects) throw fetchFailed(new Error("redirect count exceeded"));
    if (!isHttp(next)) throw fetchFailed(new Error("URL scheme must be a HTTP(S) scheme"));
    // A body read from a stream cannot be sent again.
    if (body !== null && body.stream !== undefined && answer.status !== 303) {
      throw fetchFailed(new Error("Cannot follow redirect with a streamed request body"));
    }
    if (((answer.status === 301 || answer.status === 302) && method === "POST") ||
        (answer.status === 303 && method !== "GET" && method !== "HEAD")) {
      method = "GET";
      body = null;
      length = null;
      headerList = headerList.filter(([name]) => !/^content-(type|length|encoding|language|location)$/i.test(name));
    }
    if (next.origin !== url.origin) {
      // Credentials for one origin are not sent to another.
      headerList = headerList.filter(([name]) => !/^(authorization|cookie|proxy-authorization)$/i.test(name));
    }
    url = next;
    urlList.push(url.href);
  }
}

export function fetch(input, init = undefined) {
  let parts;
  try {
    parts = requestParts(new Request(input, init));
  } catch (error) {
    return Promise.reject(error);
  }
  if (parts.signal.aborted) return Promise.reject(abortReason(parts.signal));
  return follow(parts);
}

// The fetchEvent hook.
export function onFetchEvent(id, kind, a, b, c) {
  const listener = transfers.get(id);
  if (listener !== undefined) listener(kind, a, b, c);
}
