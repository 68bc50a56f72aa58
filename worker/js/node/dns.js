// node:dns — lookup() and promises.lookup(), answered by the broker and
// filtered by the handler's manifest (docs/egress.md): a name the handler
// may not reach is ENOTFOUND, as a name that does not exist. The other
// resolvers (resolve*, reverse) are not available: the worker sends no DNS
// queries of its own.
import { isIP } from "../net_addresses.js";
import { requestLookup, lookupError } from "../egress.js";
import { native } from "../native.js";
import { makeError, ERR_INVALID_ARG_TYPE } from "../errors.js";

function nextTick(fn, ...args) {
  native.nextTick(fn, args.length ? args : undefined);
}

function readOptions(options) {
  if (typeof options === "number") options = { family: options };
  else if (options === undefined || options === null) options = {};
  else if (typeof options !== "object") throw ERR_INVALID_ARG_TYPE("options", ["integer", "Object"], options);
  let family = options.family ?? 0;
  if (family === "IPv4") family = 4;
  else if (family === "IPv6") family = 6;
  if (family !== 0 && family !== 4 && family !== 6) {
    throw makeError(TypeError, "ERR_INVALID_ARG_VALUE",
      `The property 'options.family' must be one of: 0, 4, 6. Received ${String(options.family)}`);
  }
  return { family, all: options.all === true, order: options.order ?? (options.verbatim === false ? "ipv4first" : "verbatim") };
}

function familyOf(address) {
  return address.includes(":") ? 6 : 4;
}

// callback(error, answers[]) with answers as [{ address, family }].
function resolve(hostname, options, done) {
  const literal = isIP(hostname);
  if (literal !== 0) {
    nextTick(done, null, [{ address: hostname, family: literal }]);
    return;
  }
  if (!hostname) {
    // As Node: an empty name is no address at all.
    nextTick(done, null, [{ address: null, family: options.family === 6 ? 6 : 4 }]);
    return;
  }
  requestLookup(hostname, options.family, (code, addresses) => {
    if (code) {
      done(lookupError(code, hostname));
      return;
    }
    let answers = addresses.map((address) => ({ address, family: familyOf(address) }));
    if (options.order === "ipv4first") answers = [...answers.filter((a) => a.family === 4), ...answers.filter((a) => a.family === 6)];
    else if (options.order === "ipv6first") answers = [...answers.filter((a) => a.family === 6), ...answers.filter((a) => a.family === 4)];
    if (answers.length === 0) {
      done(lookupError("ENOTFOUND", hostname));
      return;
    }
    done(null, answers);
  });
}

export function lookup(hostname, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = undefined;
  }
  if (typeof callback !== "function") throw ERR_INVALID_ARG_TYPE("callback", ["Function"], callback);
  if (hostname !== undefined && hostname !== null && typeof hostname !== "string") {
    throw ERR_INVALID_ARG_TYPE("hostname", ["string"], hostname);
  }
  const settings = readOptions(options);
  resolve(hostname ?? "", settings, (error, answers) => {
    if (error) callback(error);
    else if (settings.all) callback(null, answers);
    else callback(null, answers[0].address, answers[0].family);
  });
  return {};
}

export const promises = {
  lookup(hostname, options) {
    if (hostname !== undefined && hostname !== null && typeof hostname !== "string") {
      throw ERR_INVALID_ARG_TYPE("hostname", ["string"], hostname);
    }
    const settings = readOptions(options);
    return new Promise((resolvePromise, reject) => {
      resolve(hostname ?? "", settings, (error, answers) => {
        if (error) reject(error);
        else resolvePromise(settings.all ? answers : answers[0]);
      });
    });
  },
};

export const ADDRCONFIG = 1024;
export const V4MAPPED = 2048;
export const ALL = 256;
export const NOTFOUND = "ENOTFOUND";

export default { lookup, promises, ADDRCONFIG, V4MAPPED, ALL, NOTFOUND };
