// node:net's address helpers: isIP/isIPv4/isIPv6, SocketAddress and
// BlockList. Addresses are parsed and printed here, as Node's libuv does
// (strict dotted quads, RFC 4291 IPv6 text, inet_ntop's canonical form); a
// BlockList matches IPv4 and IPv4-mapped IPv6 addresses against each other
// as Node's does.
import { inspect } from "./inspect.js";
import { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, describeReceived, makeError } from "./errors.js";

function ERR_INVALID_ADDRESS() {
  return makeError(Error, "ERR_INVALID_ADDRESS", "Invalid socket address");
}

// The four bytes of a dotted quad (no leading zeros, each at most 255), or null.
function parseIPv4(text) {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || +part > 255) return null;
    bytes.push(+part);
  }
  return bytes;
}

// The eight 16-bit groups of an IPv6 address without zone, or null. "::"
// stands for one or more zero groups; the last 32 bits may be a dotted quad.
function parseIPv6(text) {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half, allowQuad) => {
    if (half === "") return [];
    const pieces = half.split(":");
    const groups = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (allowQuad && i === pieces.length - 1 && piece.includes(".")) {
        const quad = parseIPv4(piece);
        if (quad === null) return null;
        groups.push(quad[0] * 256 + quad[1], quad[2] * 256 + quad[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = groupsOf(halves[0], true);
    return groups !== null && groups.length === 8 ? groups : null;
  }
  const head = groupsOf(halves[0], false);
  const tail = groupsOf(halves[1], true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

export function isIPv4(input) {
  return parseIPv4(`${input}`) !== null;
}

export function isIPv6(input) {
  const text = `${input}`;
  const zone = text.indexOf("%");
  if (zone !== -1 && !/^[0-9a-zA-Z.:-]+$/.test(text.slice(zone + 1))) return false;
  return parseIPv6(zone === -1 ? text : text.slice(0, zone)) !== null;
}

// inet_pton then inet_ntop, as Node's canonicalizeIP: one spelling per
// address, or undefined for text that is not one.
export function canonicalizeIP(text) {
  const quad = parseIPv4(`${text}`);
  if (quad !== null) return quad.join(".");
  const groups = parseIPv6(`${text}`);
  return groups === null ? undefined : formatIPv6(groups);
}

export function isIP(input) {
  if (isIPv4(input)) return 4;
  if (isIPv6(input)) return 6;
  return 0;
}

// inet_ntop's text: the first longest run of two or more zero groups as
// "::", and the IPv4-compatible and IPv4-mapped forms with a dotted quad.
function formatIPv6(groups) {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  const quad = (hi, lo) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    return `::${bestLength === 5 ? "ffff:" : ""}${quad(groups[6], groups[7])}`;
  }
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += groups[i].toString(16);
  }
  return text;
}

function validateString(value, name) {
  if (typeof value !== "string") throw ERR_INVALID_ARG_TYPE(name, "string", value);
}

function validatePort(port, name) {
  if ((typeof port !== "number" && typeof port !== "string") ||
      (typeof port === "string" && port.trim().length === 0) || +port !== (+port >>> 0) || port > 0xffff) {
    throw makeError(RangeError, "ERR_SOCKET_BAD_PORT",
      `${name} should be >= 0 and < 65536. Received ${describeReceived(port)}.`);
  }
  return port | 0;
}

function validateUint32(value, name) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < 0 || value > 4294967295) throw ERR_OUT_OF_RANGE(name, ">= 0 && <= 4294967295", value);
}

// Set by SocketAddress's static block: the parsed address it holds.
let addressOf;

// A parsed address: its family, its 16 bytes (IPv4 as ::ffff:a.b.c.d), text.
function parseAddress(text, family) {
  if (family === "ipv4") {
    const bytes = parseIPv4(text);
    if (bytes === null) return null;
    return { family, groups: [0, 0, 0, 0, 0, 0xffff, bytes[0] * 256 + bytes[1], bytes[2] * 256 + bytes[3]], text };
  }
  const zone = text.indexOf("%");
  const groups = parseIPv6(zone === -1 ? text : text.slice(0, zone));
  if (groups === null) return null;
  return { family, groups, text: formatIPv6(groups) };
}

export class SocketAddress {
  #address;
  #port;
  #flowlabel;

  static {
    addressOf = (socketAddress) => socketAddress.#address;
  }

  static isSocketAddress(value) {
    return typeof value === "object" && value !== null && #address in value;
  }

  constructor(options = {}) {
    if (options === null || typeof options !== "object") throw ERR_INVALID_ARG_TYPE("options", "Object", options);
    let { family = "ipv4" } = options;
    // As in Node, the default address follows the family as given, before
    // the family is lowercased.
    const { address = family === "ipv4" ? "127.0.0.1" : "::", port = 0, flowlabel = 0 } = options;
    if (typeof family?.toLowerCase === "function") family = family.toLowerCase();
    if (family !== "ipv4" && family !== "ipv6") throw ERR_INVALID_ARG_VALUE("options.family", options.family);
    validateString(address, "options.address");
    const parsedPort = validatePort(port, "options.port");
    validateUint32(flowlabel, "options.flowlabel");
    const parsed = parseAddress(address, family);
    if (parsed === null) throw ERR_INVALID_ADDRESS();
    this.#address = parsed;
    this.#port = parsedPort;
    this.#flowlabel = flowlabel;
  }

  get address() {
    return this.#address.text;
  }

  get port() {
    return this.#port;
  }

  get family() {
    return this.#address.family;
  }

  get flowlabel() {
    return this.#flowlabel;
  }

  toJSON() {
    return { address: this.address, port: this.port, family: this.family, flowlabel: this.flowlabel };
  }

  [inspect.custom](depth, options) {
    if (depth < 0) return this;
    return `SocketAddress ${inspect(this.toJSON(), { ...options, depth: options.depth == null ? null : options.depth - 1 })}`;
  }
}

const isMapped = (groups) => groups.slice(0, 6).every((g, i) => g === (i === 5 ? 0xffff : 0));

// Order of two addresses, or NaN when an IPv6 address that is not IPv4-mapped
// meets an IPv4 one.
function compare(a, b) {
  if (a.family !== b.family && !isMapped(a.family === "ipv6" ? a.groups : b.groups)) return NaN;
  for (let i = 0; i < 8; i++) {
    if (a.groups[i] !== b.groups[i]) return a.groups[i] < b.groups[i] ? -1 : 1;
  }
  return 0;
}

function inNetwork(address, network, prefix) {
  const bits = network.family === "ipv4" ? prefix + 96 : prefix;
  for (let i = 0; i < 8; i++) {
    const take = Math.min(16, Math.max(0, bits - i * 16));
    if (take === 0) break;
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((address.groups[i] & mask) !== (network.groups[i] & mask)) return false;
  }
  return true;
}

const familyName = (family) => (family === "ipv4" ? "IPv4" : "IPv6");

function toAddress(value, family, name) {
  if (SocketAddress.isSocketAddress(value)) return value;
  validateString(value, name);
  validateString(family, "family");
  return new SocketAddress({ address: value, family });
}

export class BlockList {
  #rules = [];

  addAddress(address, family = "ipv4") {
    const parsed = addressOf(toAddress(address, family, "address"));
    this.#rules.unshift({ text: `Address: ${familyName(parsed.family)} ${parsed.text}`,
      matches: (candidate) => compare(candidate, parsed) === 0 });
  }

  addRange(start, end, family = "ipv4") {
    const first = toAddress(start, family, "start");
    const last = addressOf(toAddress(end, family, "end"));
    const from = addressOf(first);
    if (compare(from, last) > 0) throw ERR_INVALID_ARG_VALUE("start", first, "must come before end");
    this.#rules.unshift({ text: `Range: ${familyName(from.family)} ${from.text}-${last.text}`,
      matches: (candidate) => compare(candidate, from) >= 0 && compare(candidate, last) <= 0 });
  }

  addSubnet(network, prefix, family = "ipv4") {
    const parsed = addressOf(toAddress(network, family, "network"));
    const max = parsed.family === "ipv4" ? 32 : 128;
    if (typeof prefix !== "number") throw ERR_INVALID_ARG_TYPE("prefix", "number", prefix);
    if (!Number.isInteger(prefix)) throw ERR_OUT_OF_RANGE("prefix", "an integer", prefix);
    if (prefix < 0 || prefix > max) throw ERR_OUT_OF_RANGE("prefix", `>= 0 && <= ${max}`, prefix);
    this.#rules.unshift({ text: `Subnet: ${familyName(parsed.family)} ${parsed.text}/${prefix}`,
      matches: (candidate) => inNetwork(candidate, parsed, prefix) });
  }

  check(address, family = "ipv4") {
    if (!SocketAddress.isSocketAddress(address)) {
      validateString(address, "address");
      validateString(family, "family");
      try {
        address = new SocketAddress({ address, family });
      } catch {
        return false;
      }
    }
    const candidate = addressOf(address);
    return this.#rules.some((rule) => rule.matches(candidate));
  }

  get rules() {
    return this.#rules.map((rule) => rule.text);
  }

  [inspect.custom](depth, options) {
    if (depth < 0) return this;
    return `BlockList ${inspect({ rules: this.rules }, { ...options, depth: options.depth == null ? null : options.depth - 1 })}`;
  }
}
