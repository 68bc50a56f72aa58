// node:net — the address helpers (sockets are the handler's `conn`).
export { isIP, isIPv4, isIPv6, BlockList, SocketAddress } from "../net_addresses.js";
import { isIP, isIPv4, isIPv6, BlockList, SocketAddress } from "../net_addresses.js";
export default { isIP, isIPv4, isIPv6, BlockList, SocketAddress };
