// node:tls — outbound TLS through the broker (docs/egress.md): connect()
// gives a TLSSocket over a connection the broker dialed, with the handshake,
// the chain's verification (the host's CA bundle, or `ca`) and the server's
// identity check in the worker. A handler's own TLS port is the manifest's
// `tls` field, not createServer().
import {
  TLSSocket, connect, checkServerIdentity, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION,
} from "../tls_socket.js";

export { TLSSocket, connect, checkServerIdentity, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION };
export const DEFAULT_ECDH_CURVE = "auto";

export default { TLSSocket, connect, checkServerIdentity, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION, DEFAULT_ECDH_CURVE };
