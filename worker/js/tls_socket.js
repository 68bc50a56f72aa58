// tls.connect's socket: a Socket (the same class as `conn`) whose outbound
// connection the broker dialed (docs/egress.md), with TLS run natively in the
// worker (worker/tls_client.h). As Node's TLSSocket: 'connect' and 'ready'
// when TCP connects, then the handshake; 'secure' when it is done, whose
// first listener checks the chain and the server's identity and either
// destroys the socket (rejectUnauthorized) or emits 'secureConnect'. Data
// flows only from then on; writes made before wait for it.
import { native } from "./native.js";
import { Buffer } from "./buffer.js";
import { Socket } from "./socket.js";
import { isIP, canonicalizeIP } from "./net_addresses.js";
import { makeError, ERR_INVALID_ARG_TYPE } from "./errors.js";

export const DEFAULT_MIN_VERSION = "TLSv1.2";
export const DEFAULT_MAX_VERSION = "TLSv1.3";

function pemList(value, name) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, index) => {
    if (typeof item === "string") return item;
    if (item instanceof Uint8Array) return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString("latin1");
    throw ERR_INVALID_ARG_TYPE(Array.isArray(value) ? `${name}[${index}]` : name,
      ["string", "Buffer", "TypedArray", "DataView"], item);
  });
}

function pem(value, name) {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    throw makeError(Error, "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM", `options.${name} as an array is not supported; pass one PEM`);
  }
  return pemList(value, `options.${name}`)[0];
}

function alpnList(value) {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw ERR_INVALID_ARG_TYPE("options.ALPNProtocols", ["Array", "Buffer", "TypedArray", "DataView"], value);
  }
  return value.map((protocol) => (typeof protocol === "string" ? protocol : Buffer.from(protocol).toString("latin1")));
}

// What worker/tls_client.h reads (TlsClientOptions::parse).
function nativeOptions(options) {
  return JSON.stringify({
    servername: typeof options.servername === "string" && options.servername !== "" ? options.servername : undefined,
    ca: options.ca === undefined || options.ca === null ? undefined : pemList(options.ca, "options.ca"),
    cert: pem(options.cert, "cert"),
    key: pem(options.key, "key"),
    ALPNProtocols: alpnList(options.ALPNProtocols),
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
  });
}

function unfqdn(host) {
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

function labels(host) {
  return unfqdn(host).replace(/[A-Z]/g, (c) => c.toLowerCase()).split(".");
}

// RFC 6125 as Node applies it: the wildcard only in the leftmost label, at
// most one, never across a dot, never in an IDNA label, and not for names of
// two labels or fewer.
function nameMatches(hostLabels, pattern) {
  if (!pattern) return false;
  const patternLabels = labels(pattern);
  if (hostLabels.length !== patternLabels.length || patternLabels.includes("")) return false;
  if (patternLabels.some((label) => /[^\u0021-\u007F]/u.test(label))) return false;
  for (let i = hostLabels.length - 1; i > 0; i--) {
    if (hostLabels[i] !== patternLabels[i]) return false;
  }
  const first = hostLabels[0];
  const pieces = patternLabels[0].split("*");
  if (pieces.length === 1 || patternLabels[0].includes("xn--")) return first === patternLabels[0];
  if (pieces.length > 2 || patternLabels.length <= 2) return false;
  const [prefix, suffix] = pieces;
  return prefix.length + suffix.length <= first.length && first.startsWith(prefix) && first.endsWith(suffix);
}

function altnameError(reason, host, cert) {
  const error = makeError(Error, "ERR_TLS_CERT_ALTNAME_INVALID",
    `Hostname/IP does not match certificate's altnames: ${reason}`);
  error.reason = reason;
  error.host = host;
  error.cert = cert;
  return error;
}

// tls.checkServerIdentity(hostname, cert): undefined, or the error.
export function checkServerIdentity(hostname, cert) {
  const subject = cert.subject;
  const altNames = cert.subjectaltname;
  const dnsNames = [];
  const ips = [];
  hostname = `${hostname}`;
  if (altNames) {
    for (const name of altNames.split(", ")) {
      if (name.startsWith("DNS:")) dnsNames.push(name.slice(4));
      else if (name.startsWith("IP Address:")) ips.push(canonicalizeIP(name.slice(11)));
    }
  }
  hostname = unfqdn(hostname);
  if (isIP(hostname)) {
    if (ips.includes(canonicalizeIP(hostname))) return undefined;
    return altnameError(`IP: ${hostname} is not in the cert's list: ${ips.join(", ")}`, hostname, cert);
  }
  if (dnsNames.length > 0 || subject?.CN) {
    const hostLabels = labels(hostname);
    if (dnsNames.length > 0) {
      if (dnsNames.some((name) => nameMatches(hostLabels, name))) return undefined;
      return altnameError(`Host: ${hostname}. is not in the cert's altnames: ${altNames}`, hostname, cert);
    }
    const cn = subject.CN;
    if (Array.isArray(cn) ? cn.some((name) => nameMatches(hostLabels, name)) : nameMatches(hostLabels, cn)) {
      return undefined;
    }
    return altnameError(`Host: ${hostname}. is not cert's CN: ${cn}`, hostname, cert);
  }
  return altnameError("Cert does not contain a DNS name", hostname, cert);
}

function nullPrototype(fields) {
  return Object.assign(Object.create(null), fields);
}

function peerCertificate(raw) {
  if (raw === null) return null;
  const cert = { ...raw, subject: nullPrototype(raw.subject), issuer: nullPrototype(raw.issuer) };
  if (raw.raw !== undefined) cert.raw = Buffer.from(raw.raw, "base64");
  return cert;
}

function verifyError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

// Why a handshake failed, as Node reports it.
function handshakeError(failure, detail) {
  if (failure === "closed-during-handshake") {
    const error = new Error("Client network socket disconnected before secure TLS connection was established");
    error.code = "ECONNRESET";
    return error;
  }
  const error = new Error(detail || `TLS handshake failed (${failure})`);
  error.code = "EPROTO";
  error.errno = -71;
  error.syscall = "write";
  return error;
}

function onConnectSecure() {
  const options = this._tlsOptions;
  const info = this._tlsInfo;
  let error = info.verifyError === null ? undefined : verifyError(info.verifyError, info.verifyMessage);
  if (error === undefined) {
    const hostname = options.servername || options.host || "localhost";
    const cert = this.getPeerCertificate(true);
    error = options.checkServerIdentity(hostname, cert);
  }
  if (error) {
    this.authorized = false;
    this.authorizationError = error.code || error.message;
    if (options.rejectUnauthorized !== false) {
      this.destroy(error);
      return;
    }
  } else {
    this.authorized = true;
  }
  this.emit("secureConnect");
  this._flushOpenWaiters();
}

export class TLSSocket extends Socket {
  constructor(socket, options) {
    if (socket !== undefined && socket !== null) {
      throw makeError(Error, "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM",
        "TLS over an existing socket is not available to handlers; use tls.connect({ host, port })");
    }
    super(options);
    this._tlsOptions = { checkServerIdentity, rejectUnauthorized: true, ...options };
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = null;
    this.servername = null;
    // First: the check runs before handler code hears 'secure'.
    this.on("secure", onConnectSecure);
  }

  // TCP is up: 'connect' and 'ready' now, the handshake next.
  _onConnected(id, address, port, family) {
    this._connectedTo(address, port, family);
    const problem = native.tlsConnect(id, nativeOptions(this._tlsOptions));
    if (problem !== "") {
      native.tcpClose(id);
      this.destroy(makeError(Error, "ERR_TLS_INVALID_OPTION", problem));
      return;
    }
    this._tlsConnection = id;
    this.emit("connect");
    this.emit("ready");
  }

  // The tlsClientSettled hook: the handshake is done (info) or failed.
  _onTlsSettled(infoJson, failure, detail) {
    if (this.destroyed) return;
    if (infoJson === "") {
      this.destroy(handshakeError(failure, detail));
      return;
    }
    const info = JSON.parse(infoJson);
    this._tlsInfo = info;
    this.alpnProtocol = info.alpnProtocol;
    this.servername = this._tlsOptions.servername || null;
    this._open(this._tlsConnection);
    this.emit("secure");
  }

  _onClose() {
    this._tlsInfo = null;
    super._onClose();
  }

  getPeerCertificate(detailed) {
    if (this._tlsInfo === null) return null;
    const cert = peerCertificate(this._tlsInfo.peerCertificate);
    return cert === null ? {} : cert;
  }

  getProtocol() {
    return this._tlsInfo === null ? null : this._tlsInfo.protocol;
  }

  getCipher() {
    return this._tlsInfo === null ? undefined : { ...this._tlsInfo.cipher };
  }

  isSessionReused() {
    return false;
  }

  setServername(name) {
    if (typeof name !== "string") throw ERR_INVALID_ARG_TYPE("name", ["string"], name);
    this._tlsOptions.servername = name;
  }
}

Object.assign(TLSSocket.prototype, {
  _tlsInfo: null,
  _tlsConnection: 0,
});

// (options[, callback]) or (port[, host][, options][, callback]).
function normalizeArgs(args) {
  let options = {};
  let i = 0;
  if (args[0] !== null && typeof args[0] === "object") {
    options = { ...args[0] };
    i = 1;
  } else {
    options.port = args[i++];
    if (typeof args[i] === "string") options.host = args[i++];
    if (args[i] !== null && typeof args[i] === "object") options = { ...args[i++], ...options };
  }
  const callback = typeof args[i] === "function" ? args[i] : undefined;
  return [options, callback];
}

export function connect(...args) {
  const [options, callback] = normalizeArgs(args);
  if (options.socket !== undefined && options.socket !== null) {
    throw makeError(Error, "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM",
      "TLS over an existing socket is not available to handlers; use tls.connect({ host, port })");
  }
  if (options.host === undefined || options.host === null || options.host === "") options.host = "localhost";
  const socket = new TLSSocket(undefined, options);
  if (callback !== undefined) socket.once("secureConnect", callback);
  const { port, host, timeout, signal, allowHalfOpen } = options;
  return socket.connect({ port, host, timeout, signal, allowHalfOpen });
}
