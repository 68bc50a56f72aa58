// node:url — the WHATWG URL classes and Node's helpers around them. The
// legacy parser (url.parse, url.resolve, url.resolveObject, Url) is not here:
// see NODE_DIFFERENCES.md.
import {
  URL,
  URLSearchParams,
  basicParse,
  copyRecord,
  domainToUnicodeLenient,
  parseHost,
  percentEncodeString,
  recordOf,
  serializeURL,
} from "../url.js";
import { ERR_INVALID_ARG_TYPE, ERR_MISSING_ARGS, makeError } from "../errors.js";

export { URL, URLSearchParams };

export function domainToASCII(domain) {
  if (arguments.length < 1) throw ERR_MISSING_ARGS("domain");
  const host = parseHost(`${domain}`, false);
  return host === null ? "" : host;
}

export function domainToUnicode(domain) {
  if (arguments.length < 1) throw ERR_MISSING_ARGS("domain");
  const host = parseHost(`${domain}`, false);
  if (host === null) return "";
  return host[0] === "[" ? host : domainToUnicodeLenient(host);
}

// Node's duck-typed check: a URL-like object, and not a legacy Url object.
function isURLLike(value) {
  return Boolean(value?.href && value.protocol && value.auth === undefined && value.path === undefined);
}

export function fileURLToPath(path) {
  if (typeof path === "string") path = new URL(path);
  else if (!isURLLike(path)) throw ERR_INVALID_ARG_TYPE("path", ["string", "URL"], path);
  if (path.protocol !== "file:") throw makeError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
  if (path.hostname !== "") {
    throw makeError(TypeError, "ERR_INVALID_FILE_URL_HOST", 'File URL host must be "localhost" or empty on linux');
  }
  const pathname = path.pathname;
  if (/%2f/i.test(pathname)) {
    throw makeError(TypeError, "ERR_INVALID_FILE_URL_PATH", "File URL path must not include encoded / characters");
  }
  return decodeURIComponent(pathname);
}

// A POSIX path made absolute against "/" (a worker has no working directory)
// and normalised, as path.resolve would.
function resolvePosix(path) {
  const segments = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

export function pathToFileURL(filepath) {
  if (typeof filepath !== "string") throw ERR_INVALID_ARG_TYPE("path", "string", filepath);
  let resolved = resolvePosix(filepath);
  if (filepath.endsWith("/") && !resolved.endsWith("/")) resolved += "/";
  const url = new URL("file://");
  // The characters the path setter would otherwise take as syntax, or drop.
  url.pathname = resolved.replace(/[%\\\n\r\t]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return url;
}

export function urlToHttpOptions(url) {
  const options = {
    __proto__: null,
    ...url,
    protocol: url.protocol,
    hostname: typeof url.hostname === "string" && url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ""}${url.search || ""}`,
    href: url.href,
  };
  if (url.port !== "") options.port = Number(url.port);
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  return options;
}

function formatWhatwg(url, options) {
  if (options !== undefined && options !== null && typeof options !== "object") {
    throw ERR_INVALID_ARG_TYPE("options", "object", options);
  }
  const { auth = true, fragment = true, search = true, unicode = false } = options ?? {};
  const record = copyRecord(recordOf(url));
  if (!auth) {
    record.username = "";
    record.password = "";
  }
  if (!fragment) record.fragment = null;
  if (!search) record.query = null;
  if (unicode && record.host !== null && record.host !== "" && record.host[0] !== "[") {
    record.host = domainToUnicodeLenient(record.host);
  }
  return serializeURL(record);
}

// The legacy object form: Node's Url.prototype.format on a plain object.
const slashedProtocols = new Set(["http:", "https:", "ftp:", "gopher:", "file:", "ws:", "wss:"]);
// What auth keeps unescaped, as Node's legacy formatter does.
const authKept = /[A-Za-z0-9\-_.!~*'():&=+$,;]/;

function encodeAuth(auth) {
  let out = "";
  for (const ch of auth) out += authKept.test(ch) ? ch : percentEncodeString(ch, () => true);
  return out;
}

function stringifyQuery(query) {
  const parts = [];
  const encode = (v) => {
    if (typeof v === "string") return encodeURIComponent(v);
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    if (typeof v === "bigint" || typeof v === "boolean") return String(v);
    return "";
  };
  for (const key of Object.keys(query)) {
    const value = query[key];
    const name = `${encode(key)}=`;
    if (Array.isArray(value)) for (const item of value) parts.push(name + encode(item));
    else parts.push(name + encode(value));
  }
  return parts.join("&");
}

function formatLegacy(object) {
  let auth = object.auth ? `${encodeAuth(object.auth)}@` : "";
  let protocol = object.protocol || "";
  let pathname = object.pathname || "";
  let hash = object.hash || "";
  let host = "";
  if (object.host) {
    host = auth + object.host;
  } else if (object.hostname) {
    const name = object.hostname;
    host = auth + (name.includes(":") && !(name.startsWith("[") && name.endsWith("]")) ? `[${name}]` : name);
    if (object.port) host += `:${object.port}`;
  }
  auth = undefined;
  const query = object.query !== null && typeof object.query === "object" ? stringifyQuery(object.query) : "";
  let search = object.search || (query && `?${query}`) || "";
  if (protocol && !protocol.endsWith(":")) protocol += ":";
  pathname = pathname.replace(/[#?]/g, (c) => (c === "#" ? "%23" : "%3F"));
  if (object.slashes || slashedProtocols.has(protocol)) {
    if (object.slashes || host) {
      if (pathname && pathname[0] !== "/") pathname = `/${pathname}`;
      host = `//${host}`;
    } else if (protocol.startsWith("file")) {
      host = "//";
    }
  }
  search = search.replaceAll("#", "%23");
  if (hash && hash[0] !== "#") hash = `#${hash}`;
  if (search && search[0] !== "?") search = `?${search}`;
  return protocol + host + pathname + search + hash;
}

export function format(urlObject, options = undefined) {
  if (typeof urlObject === "string") {
    // Without the legacy parser, a string is taken through the WHATWG one
    // when it parses, and returned as it is otherwise.
    const record = basicParse(urlObject);
    return record === null ? urlObject : serializeURL(record);
  }
  if (typeof urlObject !== "object" || urlObject === null) {
    throw ERR_INVALID_ARG_TYPE("urlObject", ["object", "string"], urlObject);
  }
  if (recordOf(urlObject) !== undefined) return formatWhatwg(urlObject, options);
  return formatLegacy(urlObject);
}

export default {
  URL,
  URLSearchParams,
  domainToASCII,
  domainToUnicode,
  fileURLToPath,
  format,
  pathToFileURL,
  urlToHttpOptions,
};
