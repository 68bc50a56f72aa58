#!/usr/bin/env node
// Serves portbroker handler files under plain Node.js: the alternative an
// operator weighs portbroker against. Tests run a handler here and under
// portbroker and compare what clients see; the benchmark compares the two.
//
//   node bench/node-reference-runner.mjs [--port-override FILE=PORT ...]
//        [--bind ADDRESS] <handler file or handlers folder>
//
// Everything a handler can observe follows portbroker (see
// /work/shared/spec/server-design.txt and worker/js/host.js, shared.js):
// the filename grammar, the export contract, ctx, the shared store, and that
// an error nobody caught destroys the connection it belongs to instead of
// crashing the server. Only "ready" goes to stdout; logs go to stderr.
import { AsyncLocalStorage } from "node:async_hooks";
import { isUtf8 } from "node:buffer";
import dgram from "node:dgram";
import { readdirSync, statSync } from "node:fs";
import { register } from "node:module";
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";

const OPEN_TIMEOUT_MS = 10_000;  // portbroker's default open_timeout_ms
const CLOSE_TIMEOUT_MS = 5_000;  // portbroker's default close_timeout_ms
// After close(ctx), connections get this long to finish on their own before
// they are destroyed. Shorter than portbroker's drain (5 s) so that tests
// stopping the runner do not wait on clients that never hang up.
const DRAIN_MS = 1_000;
const MAX_REPLY_BYTES = 65_507;  // portbroker's limit for one ctx.reply datagram

const USAGE = "usage: node bench/node-reference-runner.mjs [--port-override FILE=PORT ...] [--bind ADDRESS] " +
  "<handler file or handlers folder>";

// ---------------------------------------------------------------------------
// Logging

function log(message) {
  process.stderr.write(`node-reference-runner: ${message}\n`);
}

function label(handler) {
  return `${handler.name} (${handler.file})`;
}

function describe(error) {
  // inspect() prints an Error's stack and any extra properties (code, errno).
  return error instanceof Error ? inspect(error) : `Uncaught ${inspect(error)}`;
}

function fail(message) {
  log(message);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Node-style argument errors, as portbroker's runtime throws them: a TypeError
// with an enumerable `code` whose toString() and stack header read
// `TypeError [ERR_INVALID_ARG_TYPE]: ...`. Handler code may compare them.

const invalidArgTypePrototype = Object.create(TypeError.prototype, {
  toString: {
    value: function toString() {
      return `${this.name} [ERR_INVALID_ARG_TYPE]: ${this.message}`;
    },
    writable: true,
    configurable: true,
  },
});

function describeReceived(value) {
  if (value == null) return String(value);
  if (typeof value === "function") return `function ${value.name}`;
  if (typeof value === "object") {
    let ctorName;
    try {
      ctorName = value.constructor?.name;
    } catch {
      // A throwing getter: fall back to inspect().
    }
    return ctorName ? `an instance of ${ctorName}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

// `expected` is Node's wording after "must be", e.g. "of type string". The
// stack starts at the caller of `hideFrom`, as Node hides its validators.
function invalidArgType(name, expected, actual, hideFrom = invalidArgType) {
  const message = `The "${name}" argument must be ${expected}. Received ${describeReceived(actual)}`;
  const error = new TypeError(message);
  Object.setPrototypeOf(error, invalidArgTypePrototype);
  Object.defineProperty(error, "code", { value: "ERR_INVALID_ARG_TYPE", writable: true, enumerable: true, configurable: true });
  Error.captureStackTrace(error, hideFrom);
  error.stack = error.stack.replace(/^TypeError/, "TypeError [ERR_INVALID_ARG_TYPE]");
  return error;
}

// ---------------------------------------------------------------------------
// Which connection code runs on behalf of. portbroker traces every callback and
// promise job back to its connection, so an uncaught error destroys only that
// connection and the handler keeps serving; plain Node would crash. The scope
// is { handler, socket } (socket null for open/close/UDP work).

const scopes = new AsyncLocalStorage();

function reportUncaught(error, scope, what) {
  log(`${scope ? label(scope.handler) : "(no handler)"}: ${what}: ${describe(error)}`);
  const socket = scope?.socket;
  if (socket && !socket.destroyed) socket.destroy();
}

// Calls fn(...args) in `scope`; a throw or a rejection of the promise it
// returns is reported there, like portbroker's callInContext.
function callInScope(scope, what, fn, thisArg, args) {
  let result;
  try {
    result = scopes.run(scope, Reflect.apply, fn, thisArg, args);
  } catch (error) {
    reportUncaught(error, scope, `${what} threw`);
    return undefined;
  }
  if (result && typeof result.then === "function") {
    result.then(undefined, (error) => reportUncaught(error, scope, `${what} rejected`));
  }
  return result;
}

process.on("uncaughtException", (error) => reportUncaught(error, scopes.getStore(), "uncaught exception"));
process.on("unhandledRejection", (reason) => reportUncaught(reason, scopes.getStore(), "unhandled rejection"));

// ---------------------------------------------------------------------------
// The shared store. portbroker keeps it in a separate store process that every
// handler's worker reaches over two connections (commands, subscriptions);
// here it is one in-process object with the same observable behaviour:
// - values are kept as JSON text, so what comes back is a JSON round trip;
// - an operation takes effect when it is issued and resolves later, from the
//   event loop (setImmediate), as a reply from the store process would;
// - publish() counts subscribed handlers, not callbacks: each worker holds one
//   store subscription per channel, however many callbacks share it;
// - names travel as UTF-8, so lone surrogates become U+FFFD in the store.

const wellFormed = (text) => text.toWellFormed();
const later = (value) => new Promise((resolve) => setImmediate(resolve, value));

const store = {
  values: new Map(),       // key → JSON text
  subscribers: new Map(),  // channel → Set of handler views subscribed to it
};

function checkName(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "of type string", value, checkName);
}

function toJson(value, what) {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`ctx.shared: ${what} must be a value JSON can hold (got ${typeof value})`);
  }
  return text;
}

// One view per handler, as each portbroker worker has its own ctx.shared.
function createSharedView() {
  const subscriptions = new Map();  // channel → Map(callback → scope)
  const view = {
    deliver(channel, text) {
      const callbacks = subscriptions.get(channel);
      if (callbacks === undefined) return;
      const message = JSON.parse(text);
      for (const [callback, scope] of [...callbacks]) {
        callInScope(scope, "subscribe() callback", callback, undefined, [message, channel]);
      }
    },
  };
  const storeSubscribe = (channel) => {
    const key = wellFormed(channel);
    let set = store.subscribers.get(key);
    if (set === undefined) store.subscribers.set(key, (set = new Set()));
    set.add(view);
  };
  const storeUnsubscribe = (channel) => {
    const key = wellFormed(channel);
    const set = store.subscribers.get(key);
    if (set === undefined) return;
    set.delete(view);
    if (set.size === 0) store.subscribers.delete(key);
  };

  return Object.freeze({
    async get(key) {
      checkName(key, "key");
      const text = store.values.get(wellFormed(key));
      return later(text === undefined ? undefined : JSON.parse(text));
    },
    async set(key, value) {
      checkName(key, "key");
      store.values.set(wellFormed(key), toJson(value, "a value"));
      return later(undefined);
    },
    // Resolves to whether the key existed, like Map.prototype.delete.
    async delete(key) {
      checkName(key, "key");
      return later(store.values.delete(wellFormed(key)));
    },
    // Resolves to the number of subscribers that received the message.
    async publish(channel, message) {
      checkName(channel, "channel");
      const text = toJson(message, "a message");
      const key = wellFormed(channel);
      const receivers = [...(store.subscribers.get(key) ?? [])];
      // Deliveries go out before the reply, as the store writes them first.
      setImmediate(() => {
        for (const receiver of receivers) receiver.deliver(key, text);
      });
      return later(receivers.length);
    },
    subscribe(channel, callback) {
      checkName(channel, "channel");
      if (typeof callback !== "function") throw invalidArgType("callback", "of type function", callback);
      let callbacks = subscriptions.get(channel);
      if (callbacks === undefined) {
        callbacks = new Map();
        subscriptions.set(channel, callbacks);
        storeSubscribe(channel);
      }
      // Subscribing the same function twice delivers once, as with addEventListener.
      callbacks.set(callback, scopes.getStore());
      let active = true;
      return function unsubscribe() {
        if (!active) return;
        active = false;
        const current = subscriptions.get(channel);
        if (current === undefined) return;
        current.delete(callback);
        if (current.size === 0) {
          subscriptions.delete(channel);
          storeUnsubscribe(channel);
        }
      };
    },
  });
}

// ---------------------------------------------------------------------------
// Command line

function parseArguments(argv) {
  const overrides = new Map();  // basename → port
  let bind = "::";
  const targets = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const takeValue = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) fail(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === "--help" || arg === "-h") {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg === "--port-override") {
      const spec = takeValue();
      const at = spec.lastIndexOf("=");
      const port = at > 0 ? parsePort(spec.slice(at + 1)) : undefined;
      if (port === undefined) fail(`--port-override ${JSON.stringify(spec)}: expected FILE=PORT with PORT 1-65535`);
      overrides.set(path.basename(spec.slice(0, at)), port);
    } else if (arg === "--bind") {
      bind = takeValue();
      if (net.isIP(bind) === 0) fail(`--bind ${JSON.stringify(bind)}: not an IP address`);
    } else if (arg === "--") {
      targets.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith("-") && arg !== "-") {
      fail(`unknown option ${arg}\n${USAGE}`);
    } else {
      targets.push(arg);
    }
  }
  if (targets.length !== 1) fail(USAGE);
  return { overrides, bind, target: targets[0] };
}

// A canonical port, as in the filename grammar: digits, no leading zero, 1-65535.
function parsePort(token) {
  if (!/^[1-9][0-9]{0,4}$/.test(token)) return undefined;
  const port = Number(token);
  return port <= 65535 ? port : undefined;
}

// ---------------------------------------------------------------------------
// The filename grammar (policy/handler_filename.cc): `<name>.(tcp|udp).<port>.port.js`.
// Returns null for a file that is not an attempt, { error } for one that ends
// in .port.js but breaks the grammar, else { name, protocol, port }.

const SUFFIX = ".port.js";

function classifyFilename(filename) {
  if (filename.length <= SUFFIX.length || !filename.endsWith(SUFFIX)) return null;
  const stem = filename.slice(0, -SUFFIX.length);
  // Tokens are taken from the right, so a name may itself contain dots.
  const portDot = stem.lastIndexOf(".");
  if (portDot === -1) return { error: "expected <name>.<tcp|udp>.<port>.port.js" };
  const portToken = stem.slice(portDot + 1);
  const rest = stem.slice(0, portDot);
  const protocolDot = rest.lastIndexOf(".");
  const protocol = protocolDot === -1 ? rest : rest.slice(protocolDot + 1);
  const name = protocolDot === -1 ? "" : rest.slice(0, protocolDot);
  if (protocol !== "tcp" && protocol !== "udp") {
    if (protocolDot === -1 && (portToken === "tcp" || portToken === "udp")) {
      return { error: `missing port after '${portToken}'` };
    }
    return { error: `transport '${protocol}' is not tcp or udp` };
  }
  if (portToken === "") return { error: "missing port" };
  if (!/^[0-9]+$/.test(portToken)) return { error: `port '${portToken}' is not a decimal integer` };
  if (portToken.length > 1 && portToken[0] === "0") {
    return { error: `port '${portToken}' has a leading zero (write it without)` };
  }
  const port = parsePort(portToken);
  if (port === undefined) return { error: `port ${portToken} is out of range 1-65535` };
  if (name === "") return { error: "empty handler name" };
  if (name.startsWith(".")) return { error: "hidden file (name starts with '.')" };
  // portbroker wants printable UTF-8 (the caller checks the bytes are UTF-8).
  if (/[\u0000-\u001f\u007f]/.test(name)) return { error: "handler name is not printable UTF-8" };
  return { name, protocol, port };
}

function findEntryPoints(target) {
  let stat;
  try {
    stat = statSync(target, { bigint: true });
  } catch (error) {
    fail(`${target}: ${error.code === "ENOENT" ? "no such file or folder" : error.message}`);
  }
  const candidates = [];
  if (stat.isDirectory()) {
    // Only top-level files are entry points; nested files are supporting code.
    // Names are read as bytes: one that is not UTF-8 cannot be a handler name.
    for (const raw of readdirSync(target, { encoding: "buffer" })) {
      const base = raw.toString();
      let verdict = classifyFilename(base);
      if (verdict === null) continue;
      if (!isUtf8(raw)) verdict = { error: "handler name is not printable UTF-8" };
      if (verdict.error) {
        log(`${base}: not served: ${verdict.error}`);
        continue;
      }
      const file = path.join(target, base);
      const fileStat = statSync(file, { bigint: true, throwIfNoEntry: false });
      if (!fileStat?.isFile()) continue;
      candidates.push({ ...verdict, file: base, path: path.resolve(file), mtimeNs: fileStat.mtimeNs });
    }
    if (candidates.length === 0) fail(`${target}: no handler files (<name>.tcp.<port>.port.js or <name>.udp.<port>.port.js)`);
  } else {
    const base = path.basename(target);
    const verdict = classifyFilename(base);
    if (verdict === null) fail(`${base}: not a handler file name (expected <name>.<tcp|udp>.<port>.port.js)`);
    if (verdict.error) fail(`${base}: not a handler file name: ${verdict.error}`);
    candidates.push({ ...verdict, file: base, path: path.resolve(target), mtimeNs: stat.mtimeNs });
  }
  return candidates;
}

// portbroker's claim rule: two handlers may not share a protocol and port; the
// first claimant (older modification time, then file name in byte order)
// keeps it and the later one is refused and logged.
function claimPorts(candidates, overrides) {
  for (const file of overrides.keys()) {
    if (!candidates.some((c) => c.file === file)) fail(`--port-override ${file}: no such handler file`);
  }
  const byPriority = (a, b) =>
    a.mtimeNs < b.mtimeNs ? -1 : a.mtimeNs > b.mtimeNs ? 1 : Buffer.compare(Buffer.from(a.file), Buffer.from(b.file));
  const holders = new Map();
  const granted = [];
  for (const candidate of [...candidates].sort(byPriority)) {
    candidate.port = overrides.get(candidate.file) ?? candidate.port;
    const key = `${candidate.protocol}:${candidate.port}`;
    const holder = holders.get(key);
    if (holder !== undefined) {
      log(`${candidate.file}: not served: ${candidate.protocol} port ${candidate.port} is already claimed by ${holder.file}`);
      continue;
    }
    holders.set(key, candidate);
    granted.push(candidate);
  }
  return granted;
}

// Handler modules are ES modules in portbroker whatever package.json says, and
// Node 20 would load a `.js` file outside a "type": "module" package as
// CommonJS. A load hook marks every .js file under the handler folders as a
// module. It is inlined as a data: URL so the runner stays one file.
const MODULE_HOOKS = `
let roots = [];
export function initialize(data) { roots = data.roots; }
export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) {
    const { pathname } = new URL(url);
    if (pathname.endsWith(".js") && roots.some((root) => url.startsWith(root))) {
      return nextLoad(url, { ...context, format: "module" });
    }
  }
  return nextLoad(url, context);
}
`;

function registerModuleHooks(handlers) {
  const roots = [...new Set(handlers.map((h) => pathToFileURL(path.dirname(h.path) + path.sep).href))];
  register(`data:text/javascript,${encodeURIComponent(MODULE_HOOKS)}`, import.meta.url, { data: { roots } });
}

// ---------------------------------------------------------------------------
// Handlers

// Settles with `promise`, or rejects once `ms` have passed.
function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

function checkExports(namespace, handler) {
  const required = handler.protocol === "tcp" ? "handle" : "message";
  if (typeof namespace[required] !== "function") {
    const found = Object.keys(namespace);
    throw new Error(`${handler.file}: a ${handler.protocol} handler must export a function "${required}"` +
      (found.length ? ` (exports: ${found.join(", ")})` : " (it exports nothing)"));
  }
  for (const optional of ["open", "close"]) {
    if (optional in namespace && typeof namespace[optional] !== "function") {
      throw new Error(`${handler.file}: export "${optional}" must be a function`);
    }
  }
}

// ctx.reply(msg, rinfo): checks its arguments as portbroker does, then sends
// from the handler's own socket, so the peer sees the reply come from the
// port it wrote to.
function makeReply(handler) {
  return function reply(message, rinfo) {
    // Bytes are copied at once, as portbroker queues a copy: Node would send
    // the caller's memory later, after the handler may have reused it.
    let bytes;
    if (typeof message === "string") bytes = Buffer.from(message);
    else if (ArrayBuffer.isView(message)) bytes = Buffer.from(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    else throw invalidArgType("msg", "of type string or an instance of Buffer, TypedArray, or DataView", message);
    if (rinfo === null || typeof rinfo !== "object") throw invalidArgType("rinfo", "of type object", rinfo);
    const address = String(rinfo.address);
    const port = Number(rinfo.port);
    if (!(port >= 1 && port <= 65535)) throw new TypeError("reply port must be 1-65535");
    const family = net.isIP(address);
    if (family === 0) throw new TypeError(`ctx.reply: "${address}" is not an IP address`);
    if (bytes.byteLength > MAX_REPLY_BYTES) {
      throw new TypeError(`reply payload must be a Uint8Array of at most ${MAX_REPLY_BYTES} bytes`);
    }
    handler.socket.send(bytes, Math.trunc(port), socketAddress(handler.socket.type, address, family), (error) => {
      if (error) log(`${label(handler)}: ctx.reply to ${address} port ${port} failed: ${error.message}`);
    });
  };
}

// portbroker sends to IPv4 and IPv6 peers alike from its dual-stack socket; a
// Node udp6 socket needs the IPv4-mapped form, and a udp4 one the plain form.
function socketAddress(type, address, family) {
  if (type === "udp6" && family === 4) return `::ffff:${address}`;
  if (type === "udp4" && family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return mapped[1];
  }
  return address;
}

function makeContext(handler) {
  const fields = {
    name: handler.name,
    port: handler.port,
    protocol: handler.protocol,
    shared: createSharedView(),
    signal: handler.controller.signal,
  };
  if (handler.protocol === "udp") fields.reply = makeReply(handler);
  const ctx = {};
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(ctx, key, { value, enumerable: true, writable: false, configurable: false });
  }
  return ctx;
}

async function load(handler) {
  let namespace;
  try {
    namespace = await import(pathToFileURL(handler.path).href);
  } catch (error) {
    throw new Error(`${handler.file}: failed to load: ${describe(error)}`);
  }
  checkExports(namespace, handler);
  handler.module = namespace;
  handler.controller = new AbortController();
  handler.scope = { handler, socket: null };
  handler.connections = new Set();
  if (handler.protocol === "udp") {
    // Created before ctx so that ctx.reply can use it from open() on.
    handler.socket = dgram.createSocket({ type: net.isIPv6(bind) ? "udp6" : "udp4", ipv6Only: false });
  }
  handler.ctx = makeContext(handler);
  if (typeof namespace.open === "function") {
    try {
      await withDeadline(scopes.run(handler.scope, () => namespace.open(handler.ctx)), OPEN_TIMEOUT_MS, "open(ctx)");
    } catch (error) {
      throw new Error(`${handler.file}: open(ctx) failed: ${describe(error)}`);
    }
  }
}

// portbroker reports an IPv4 peer of its dual-stack sockets as plain IPv4
// (family "IPv4"), where Node listening on "::" says "::ffff:a.b.c.d" and
// "IPv6": the runner shows handlers what portbroker does.
const kMapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
function unmapped(address) {
  const match = typeof address === "string" ? kMapped.exec(address) : null;
  return match ? match[1] : address;
}

function reportPlainIPv4(socket) {
  const prototype = Object.getPrototypeOf(socket);
  for (const [addressKey, familyKey] of [["remoteAddress", "remoteFamily"], ["localAddress", "localFamily"]]) {
    const address = Object.getOwnPropertyDescriptor(net.Socket.prototype, addressKey).get;
    const family = Object.getOwnPropertyDescriptor(net.Socket.prototype, familyKey).get;
    Object.defineProperty(socket, addressKey, { get() { return unmapped(address.call(this)); }, configurable: true });
    Object.defineProperty(socket, familyKey, {
      get() { return kMapped.test(address.call(this) ?? "") ? "IPv4" : family.call(this); },
      configurable: true,
    });
  }
  const nodeAddress = prototype.address;
  let plain;  // Node hands out one object (its cached getsockname): so does this
  Object.defineProperty(socket, "address", {
    value() {
      const local = nodeAddress.call(this);
      if (!local || !kMapped.test(local.address)) return local;
      plain ??= { ...local, address: unmapped(local.address), family: "IPv4" };
      return plain;
    },
    configurable: true,
    writable: true,
  });
}

function serveTcp(handler) {
  const { module, ctx } = handler;
  handler.server = net.createServer((socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    reportPlainIPv4(socket);
    const scope = { handler, socket };
    handler.connections.add(socket);
    socket.once("close", () => handler.connections.delete(socket));
    // Every event the handler's listeners see runs in the connection's scope,
    // and a listener that throws destroys this connection only, as in
    // portbroker. (Node would run socket callbacks in the server's async
    // context and crash on the throw.) Non-enumerable to stay out of sight.
    const emit = socket.emit;
    Object.defineProperty(socket, "emit", {
      value: function emitInScope(...args) {
        try {
          return scopes.run(scope, Reflect.apply, emit, this, args);
        } catch (error) {
          // With no 'error' listener, emit('error', err) throws err itself.
          const unhandled = args[0] === "error" && error === args[1];
          reportUncaught(error, scope, unhandled ? "unhandled 'error' event" : `'${String(args[0])}' listener threw`);
          return true;
        }
      },
      writable: true,
      configurable: true,
    });
    callInScope(scope, "handle(conn, ctx)", module.handle, undefined, [socket, ctx]);
  });
  return listen(handler, (resolve, reject) => {
    handler.server.once("error", reject);
    handler.server.listen({ port: handler.port, host: bind, ipv6Only: false }, resolve);
  }, () => handler.server.on("error", (error) => log(`${label(handler)}: server error: ${error.message}`)));
}

function serveUdp(handler) {
  const { module, ctx, socket } = handler;
  socket.on("message", (message, info) => {
    if (stopping) return;
    const plain = unmapped(info.address);
    const rinfo = { address: plain, family: plain === info.address ? info.family : "IPv4", port: info.port, size: info.size };
    callInScope(handler.scope, "message(msg, rinfo, ctx)", module.message, undefined, [message, rinfo, ctx]);
  });
  return listen(handler, (resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ port: handler.port, address: bind, exclusive: true }, resolve);
  }, () => socket.on("error", (error) => log(`${label(handler)}: socket error: ${error.message}`)));
}

// Runs `start(resolve, reject)`; once listening, swaps the startup error
// handler for `afterwards`, which only logs.
function listen(handler, start, afterwards) {
  const target = handler.server ?? handler.socket;
  return new Promise((resolve, reject) => {
    const onError = (error) => reject(new Error(
      `${handler.file}: cannot listen on ${handler.protocol} [${bind}]:${handler.port}: ${error.message}`));
    start(() => {
      target.off("error", onError);
      afterwards();
      resolve();
    }, onError);
  });
}

// ---------------------------------------------------------------------------
// Shutdown: stop accepting, abort every ctx.signal, await close(ctx) with a
// deadline, give connections a moment, then destroy what is left and exit 0.

let stopping = false;
let handlers = [];

async function shutdown(signal) {
  if (stopping) {
    log(`${signal} again: exiting now`);
    process.exit(0);
  }
  stopping = true;
  log(`${signal}: stopping`);
  for (const handler of handlers) handler.server?.close();
  const loaded = handlers.filter((h) => h.ctx !== undefined);
  for (const handler of loaded) {
    try {
      scopes.run(handler.scope, () => handler.controller.abort());
    } catch (error) {
      reportUncaught(error, handler.scope, "abort listener threw");
    }
  }
  await Promise.all(loaded.map(async (handler) => {
    if (typeof handler.module.close !== "function") return;
    try {
      await withDeadline(scopes.run(handler.scope, () => handler.module.close(handler.ctx)), CLOSE_TIMEOUT_MS, "close(ctx)");
    } catch (error) {
      log(`${label(handler)}: close(ctx) failed: ${describe(error)}`);
    }
  }));
  const open = () => loaded.flatMap((h) => (h.connections ? [...h.connections] : []));
  const deadline = Date.now() + DRAIN_MS;
  while (open().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const left = open();
  if (left.length > 0) log(`destroying ${left.length} open connection(s)`);
  for (const socket of left) socket.destroy();
  for (const handler of loaded) {
    try {
      handler.socket?.close();
    } catch {
      // Already closed.
    }
  }
  process.exit(0);
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

// ---------------------------------------------------------------------------

const { overrides, bind, target } = parseArguments(process.argv.slice(2));
handlers = claimPorts(findEntryPoints(target), overrides);
registerModuleHooks(handlers);

try {
  for (const handler of handlers) {
    if (stopping) break;
    await load(handler);
  }
  for (const handler of handlers) {
    if (stopping) break;
    await (handler.protocol === "tcp" ? serveTcp(handler) : serveUdp(handler));
    log(`serving ${handler.file} on ${handler.protocol} [${bind}]:${handler.port}`);
  }
} catch (error) {
  fail(error.message);
}
if (!stopping) process.stdout.write("ready\n");
