// node:net — the address helpers, and outbound TCP through the broker
// (docs/egress.md): connect/createConnection and new net.Socket().connect()
// give the same Socket class as a handler's `conn`.
import { isIP, isIPv4, isIPv6, BlockList, SocketAddress } from "../net_addresses.js";
import { Socket } from "../socket.js";

export { isIP, isIPv4, isIPv6, BlockList, SocketAddress, Socket };
export const Stream = Socket;

// connect(options[, listener]), connect(port[, host][, listener]).
export function connect(...args) {
  const first = args[0];
  const socket = new Socket(first !== null && typeof first === "object" ? first : undefined);
  return socket.connect(...args);
}

export const createConnection = connect;

export default { isIP, isIPv4, isIPv6, BlockList, SocketAddress, Socket, Stream, connect, createConnection };
