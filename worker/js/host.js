// The handler host: the hooks the engine binding calls. It loads the handler's
// exports, builds ctx, runs open/handle/message/close with the contract's rules,
// and routes every error to the connection it belongs to.
import { native } from "./native.js";
import { Buffer } from "./buffer.js";
import { Socket, kHandoff } from "./socket.js";
import { AbortController } from "./dom_events.js";
import { setTimeout, clearTimeout } from "./timers.js";
import { callInContext, reportUncaught } from "./async_context.js";
import { failureReason, handleUncaught } from "./uncaught.js";
import { shared, onStoreMessage, storeFailed, storeRestored } from "./shared.js";
import { ERR_INVALID_ARG_TYPE } from "./errors.js";

let handler = null;  // the module namespace, once its exports passed the checks
let ctx = null;
let controller = null;

class ContractError extends Error {}

// Settles with `promise`, or rejects once `ms` have passed.
function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ContractError(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

function checkExports(namespace, info) {
  const required = info.protocol === "tcp" ? "handle" : "message";
  if (typeof namespace[required] !== "function") {
    const found = Object.keys(namespace);
    throw new ContractError(
      `${info.file}: a ${info.protocol} handler must export a function "${required}"` +
      (found.length ? ` (exports: ${found.join(", ")})` : " (it exports nothing)"));
  }
  for (const optional of ["open", "close"]) {
    if (optional in namespace && typeof namespace[optional] !== "function") {
      throw new ContractError(`${info.file}: export "${optional}" must be a function`);
    }
  }
}

// The module's `access` export travels to the supervisor as JSON, which
// checks every field and applies the parts that tighten the manifest.
function accessJson(namespace, info) {
  if (!("access" in namespace) || namespace.access === undefined) return "";
  const access = namespace.access;
  if (access === null || typeof access !== "object" || Array.isArray(access)) {
    throw new ContractError(`${info.file}: export "access" must be an object of manifest fields`);
  }
  return JSON.stringify(access);
}

function reply(message, rinfo) {
  let bytes;
  if (typeof message === "string") bytes = Buffer.from(message);
  else if (message instanceof Uint8Array) bytes = message;
  else if (ArrayBuffer.isView(message)) bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
  else throw ERR_INVALID_ARG_TYPE("msg", ["string", "Buffer", "TypedArray", "DataView"], message);
  if (rinfo === null || typeof rinfo !== "object") throw ERR_INVALID_ARG_TYPE("rinfo", ["object"], rinfo);
  if (!native.udpReply(bytes, String(rinfo.address), Number(rinfo.port))) {
    throw new TypeError(`ctx.reply: "${rinfo.address}" is not an IP address`);
  }
}

function makeContext(info) {
  controller = new AbortController();
  const fields = {
    name: info.name,
    port: info.port,
    protocol: info.protocol,
    shared,
    signal: controller.signal,
  };
  if (info.protocol === "udp") fields.reply = reply;
  const context = {};
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(context, key, { value, enumerable: true, writable: false, configurable: false });
  }
  return context;
}

async function start(namespace, evaluation, info) {
  try {
    await evaluation;  // top-level await in the handler module
    checkExports(namespace, info);
    const access = accessJson(namespace, info);
    ctx = makeContext(info);
    if (typeof namespace.open === "function") {
      await withDeadline(Reflect.apply(namespace.open, undefined, [ctx]), info.openTimeoutMs, "open(ctx)");
    }
    handler = namespace;
    native.reportReady(access);
  } catch (error) {
    native.reportFailed(error instanceof ContractError ? error.message : `open failed: ${failureReason(error)}`);
  }
}

function runHandle(socket) {
  const result = Reflect.apply(handler.handle, undefined, [socket, ctx]);  // `this` undefined, as a plain call
  if (result && typeof result.then === "function") {
    result.then(undefined, (error) => reportUncaught(error, socket, true));
  }
}

function connection(id, brokerId, remoteAddress, remotePort, remoteFamily, tlsJson, proxyJson) {
  const socket = new Socket(kHandoff, id, brokerId, { address: remoteAddress, port: remotePort, family: remoteFamily });
  if (typeof proxyJson === "string") {
    // It came through a trusted balancer: remoteAddress is the client it
    // declared; what else its PROXY header said is here.
    const proxy = JSON.parse(proxyJson);
    if (proxy.uniqueId !== undefined) proxy.uniqueId = Buffer.from(proxy.uniqueId, "hex");
    if (proxy.ssl !== undefined) Object.freeze(proxy.ssl);
    socket.proxy = Object.freeze(proxy);
  }
  if (typeof tlsJson === "string") {
    // TLS was terminated by the runtime: the handler reads and writes
    // plaintext; what was negotiated is here, as on a Node TLSSocket.
    const tls = JSON.parse(tlsJson);
    if (tls.peerCertificate) Object.freeze(tls.peerCertificate);
    socket.tls = Object.freeze(tls);
    socket.encrypted = true;
    socket.authorized = tls.authorized;
    socket.alpnProtocol = tls.alpnProtocol ?? false;
    socket.servername = tls.servername ?? false;
  }
  if (handler === null) {
    socket.destroy();
  } else {
    callInContext(socket, runHandle, undefined, [socket]);
  }
  return socket;
}

function runMessage(message, rinfo) {
  const result = Reflect.apply(handler.message, undefined, [message, rinfo, ctx]);
  if (result && typeof result.then === "function") {
    result.then(undefined, (error) => reportUncaught(error, undefined, true));
  }
}

function datagram(arrayBuffer, address, family, port) {
  if (handler === null) return;
  const message = Buffer.from(arrayBuffer);
  const rinfo = { address, family, port, size: message.length };
  callInContext(undefined, runMessage, undefined, [message, rinfo]);
}

async function stop(closeTimeoutMs) {
  // The deadline passing is the operator's to hear about (a warning naming
  // it), not the handler's exception; close(ctx) throwing is the handler's.
  let deadlinePassed = false;
  try {
    if (controller !== null && !controller.signal.aborted) controller.abort();
    if (handler !== null && typeof handler.close === "function") {
      await withDeadline(Reflect.apply(handler.close, undefined, [ctx]), closeTimeoutMs, "close(ctx)");
    }
  } catch (error) {
    if (error instanceof ContractError) deadlinePassed = true;
    else handleUncaught(error, undefined, false);
  } finally {
    native.stopped(deadlinePassed ? closeTimeoutMs : undefined);
  }
}

native.registerHooks({
  start,
  connection,
  datagram,
  stop,
  tcpRead: (socket, payload, byteCount) => callInContext(socket, socket._onRead, socket, [payload, byteCount]),
  tcpWriteDone: (socket, bytes, status) => callInContext(socket, socket._onWriteDone, socket, [bytes, status]),
  tcpShutdownDone: (socket, status) => callInContext(socket, socket._onShutdown, socket, [status]),
  tcpClose: (socket) => callInContext(socket, socket._onClose, socket, []),
  storeMessage: onStoreMessage,
  storeFailure: storeFailed,
  storeRestored,
  uncaught: handleUncaught,
  // Outbound connections and lookups answered by the broker (egress.js,
  // loaded by then: only its own requests are answered): the socket's own
  // context, as for its reads.
  egressConnected: (requestId, connectionId, code, address, port, family) =>
    callInContext(undefined, native.loadInternal("egress.js").onConnected, undefined,
      [requestId, connectionId, code, address, port, family]),
  egressLookupDone: (requestId, code, addresses) =>
    callInContext(undefined, native.loadInternal("egress.js").onLookupDone, undefined, [requestId, code, addresses]),
  tlsClientSettled: (socket, info, failure, detail) =>
    callInContext(socket, socket._onTlsSettled, socket, [info, failure, detail]),
  // fetch.js is loaded by then: only its own requests have events.
  fetchEvent: (id, kind, a, b, c) =>
    callInContext(undefined, native.loadInternal("fetch.js").onFetchEvent, undefined, [id, kind, a, b, c]),
});
