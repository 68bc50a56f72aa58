// Outbound connections and lookups, asked of the broker (docs/egress.md).
// The worker has no network: native.egressConnect and native.egressLookup
// send a request over the supervisor channel; the answers come back through
// the egressConnected and egressLookupDone hooks (host.js), matched here by
// request id.
import { native } from "./native.js";
import { makeError, ERR_INVALID_ARG_TYPE } from "./errors.js";
import { isIP } from "./net_addresses.js";

const pendingConnects = new Map();  // request id → socket
const pendingLookups = new Map();   // request id → callback(code, addresses)

// Node's errno for the codes the broker answers with (negative, as libuv).
const kErrno = {
  EACCES: -13,
  EAGAIN: -11,
  EMFILE: -24,
  ENFILE: -23,
  EPERM: -1,
  ECONNREFUSED: -111,
  ECONNRESET: -104,
  ETIMEDOUT: -110,
  ENETUNREACH: -101,
  EHOSTUNREACH: -113,
  EADDRNOTAVAIL: -99,
  ENOTFOUND: -3008,
  EAI_AGAIN: -3001,
};

function nextTick(fn, ...args) {
  native.nextTick(fn, args.length ? args : undefined);
}

// connect ECONNREFUSED 127.0.0.1:6379, as Node words it; a name the
// resolver does not know: getaddrinfo ENOTFOUND db.internal.
export function connectError(code, host, port) {
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return lookupError(code, host);
  const error = new Error(`connect ${code} ${host}:${port}`);
  error.errno = kErrno[code];
  error.code = code;
  error.syscall = "connect";
  error.address = host;
  error.port = port;
  return error;
}

export function lookupError(code, hostname) {
  const error = new Error(`getaddrinfo ${code} ${hostname}`);
  error.errno = kErrno[code];
  error.code = code;
  error.syscall = "getaddrinfo";
  error.hostname = hostname;
  return error;
}

function badPort(port) {
  return makeError(RangeError, "ERR_SOCKET_BAD_PORT",
    `Port should be >= 0 and < 65536. Received ${typeof port === "string" ? `type string ('${port}')` : port}.`);
}

function validatePort(port) {
  if ((typeof port !== "number" && typeof port !== "string") ||
      (typeof port === "string" && port.trim() === "") ||
      +port !== (+port >>> 0) || +port > 0xFFFF) {
    throw badPort(port);
  }
  return +port;
}

// (options[, listener]) or (port[, host][, listener]), as Node's
// normalizeArgs; a path (IPC) is not available.
export function normalizeConnectArgs(args) {
  let options;
  let listener;
  if (args.length === 0) {
    throw makeError(TypeError, "ERR_MISSING_ARGS", 'The "options" or "port" or "path" argument must be specified');
  }
  const first = args[0];
  if (first !== null && typeof first === "object") {
    options = { ...first };
    listener = args[1];
  } else if (typeof first === "string" && !/^\d+$/.test(first)) {
    options = { path: first };
    listener = args[1];
  } else {
    options = { port: first };
    if (typeof args[1] === "string") {
      options.host = args[1];
      listener = args[2];
    } else {
      listener = args[1];
    }
  }
  if (options.path !== undefined) {
    throw makeError(Error, "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM",
      "Unix domain sockets are not available to handlers; connect to a host and port the manifest allows");
  }
  if (options.port === undefined) {
    throw makeError(TypeError, "ERR_MISSING_ARGS", 'The "options.port" property must be specified');
  }
  options.port = validatePort(options.port);
  if (options.host === undefined || options.host === null || options.host === "") options.host = "localhost";
  if (typeof options.host !== "string") throw ERR_INVALID_ARG_TYPE("options.host", ["string"], options.host);
  if (listener !== undefined && typeof listener !== "function") listener = undefined;
  return [options, listener];
}

export function requestConnect(socket, host, port) {
  // IPv6 literals go bracketed, as the broker's policy parses hosts.
  const asked = isIP(host) === 6 ? `[${host}]` : host;
  const id = native.egressConnect(asked, port);
  if (id === 0) {
    nextTick(() => socket._onConnectFailed(connectError("EAGAIN", host, port)));
    return;
  }
  socket._connectRequest = id;
  pendingConnects.set(id, socket);
}

// The egressConnected hook: returns the socket that takes the connection,
// or undefined (the runtime closes it) when nobody wants it any more.
export function onConnected(requestId, connectionId, code, address, port, family) {
  const socket = pendingConnects.get(requestId);
  pendingConnects.delete(requestId);
  if (socket === undefined) return undefined;
  if (socket.destroyed) return undefined;
  if (connectionId === 0) {
    socket._onConnectFailed(connectError(code || "ECONNREFUSED", socket._connectHost, socket._connectPort));
    return undefined;
  }
  socket._onConnected(connectionId, address, port, family);
  return socket;
}

// Asks the broker to resolve `hostname`; callback(code, addresses).
export function requestLookup(hostname, family, callback) {
  const id = native.egressLookup(hostname, family);
  if (id === 0) {
    nextTick(callback, "EAGAIN", []);
    return;
  }
  pendingLookups.set(id, callback);
}

export function onLookupDone(requestId, code, addresses) {
  const callback = pendingLookups.get(requestId);
  pendingLookups.delete(requestId);
  if (callback !== undefined) callback(code, addresses);
}
