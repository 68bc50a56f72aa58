// Node's `path`: POSIX rules (the default, as on Linux) and Windows rules
// (path.win32). Pure string functions; nothing touches a file system. The
// working directory that resolve() starts from is "/": a worker has no
// other (docs/handlers.md).
import { ERR_INVALID_ARG_TYPE } from "./errors.js";

const kCwd = "/";

function validateString(value, name) {
  if (typeof value !== "string") throw ERR_INVALID_ARG_TYPE(name, "string", value);
}

function validateObject(value, name) {
  if (value === null || typeof value !== "object") throw ERR_INVALID_ARG_TYPE(name, "Object", value);
}

// Collapses "." and ".." in a run of segments split by any of `isSeparator`,
// joining with `separator`. Relative paths keep the ".." that climb above
// their start; absolute ones drop them.
function normalizeSegments(path, allowAboveRoot, separator, isSeparator) {
  const out = [];
  let segmentStart = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && !isSeparator(path.charCodeAt(i))) continue;
    const segment = path.slice(segmentStart, i);
    segmentStart = i + 1;
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (allowAboveRoot) out.push("..");
      continue;
    }
    out.push(segment);
  }
  return out.join(separator);
}

// basename(path, suffix) as Node computes it: the suffix is compared with
// the last name from its end. A name shorter than the suffix but matching
// its end is returned with its trailing separators; a path of separators
// only is returned whole.
function basenameWithSuffix(path, suffix, isSeparator, rootEnd) {
  if (suffix === path) return "";
  let i = path.length - 1;
  while (i >= rootEnd && isSeparator(path.charCodeAt(i))) i--;
  if (i < rootEnd) return path.slice(rootEnd);
  const nameEnd = i + 1;
  while (i >= rootEnd && !isSeparator(path.charCodeAt(i))) i--;
  const start = i + 1;
  const name = path.slice(start, nameEnd);
  if (name.length >= suffix.length) {
    if (!name.endsWith(suffix)) return name;
    const end = nameEnd - suffix.length;
    return end === start ? name : path.slice(start, end);
  }
  return suffix.endsWith(name) ? path.slice(start) : name;
}

// The extension of a base name: from its last dot, unless that dot starts
// the name (".profile") or the name is "..".
function extensionOf(base) {
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || base === "..") return "";
  let onlyDots = true;
  for (let i = 0; i < dot; i++) {
    if (base.charCodeAt(i) !== 0x2e) {
      onlyDots = false;
      break;
    }
  }
  // "..." and "...x": leading dots before the last one make no name.
  return onlyDots && dot === base.length - 1 && dot <= 1 ? "" : base.slice(dot);
}

function formatExtension(ext) {
  return ext ? `${ext[0] === "." ? "" : "."}${ext}` : "";
}

function formatWith(separator, pathObject) {
  validateObject(pathObject, "pathObject");
  const dir = pathObject.dir || pathObject.root;
  const base = pathObject.base || `${pathObject.name || ""}${formatExtension(pathObject.ext)}`;
  if (!dir) return base;
  return dir === pathObject.root ? `${dir}${base}` : `${dir}${separator}${base}`;
}

// POSIX -------------------------------------------------------------------------------

const isPosixSeparator = (code) => code === 0x2f;

// Node's dirname drops the last name and the one separator before it (so
// "a//b" gives "a/"), and keeps a leading "//".
function posixDirname(path) {
  const absolute = path.charCodeAt(0) === 0x2f;
  let i = path.length - 1;
  while (i >= 1 && path.charCodeAt(i) === 0x2f) i--;
  while (i >= 1 && path.charCodeAt(i) !== 0x2f) i--;
  if (i < 1) return absolute ? "/" : ".";
  return absolute && i === 1 ? "//" : path.slice(0, i);
}

const posix = {
  sep: "/",
  delimiter: ":",

  resolve(...args) {
    let resolved = "";
    let absolute = false;
    for (let i = args.length - 1; i >= -1 && !absolute; i--) {
      const path = i >= 0 ? args[i] : kCwd;
      validateString(path, `paths[${i}]`);
      if (path.length === 0) continue;
      resolved = `${path}/${resolved}`;
      absolute = path.charCodeAt(0) === 0x2f;
    }
    resolved = normalizeSegments(resolved, !absolute, "/", isPosixSeparator);
    if (absolute) return `/${resolved}`;
    return resolved.length > 0 ? resolved : ".";
  },

  normalize(path) {
    validateString(path, "path");
    if (path.length === 0) return ".";
    const absolute = path.charCodeAt(0) === 0x2f;
    const trailing = path.charCodeAt(path.length - 1) === 0x2f;
    let normalized = normalizeSegments(path, !absolute, "/", isPosixSeparator);
    if (normalized.length === 0) {
      if (absolute) return "/";
      return trailing ? "./" : ".";
    }
    if (trailing) normalized += "/";
    return absolute ? `/${normalized}` : normalized;
  },

  isAbsolute(path) {
    validateString(path, "path");
    return path.length > 0 && path.charCodeAt(0) === 0x2f;
  },

  join(...args) {
    if (args.length === 0) return ".";
    const parts = [];
    for (const arg of args) {
      validateString(arg, "path");
      if (arg.length > 0) parts.push(arg);
    }
    if (parts.length === 0) return ".";
    return posix.normalize(parts.join("/"));
  },

  relative(from, to) {
    validateString(from, "from");
    validateString(to, "to");
    if (from === to) return "";
    from = posix.resolve(from);
    to = posix.resolve(to);
    if (from === to) return "";
    const fromParts = from === "/" ? [] : from.slice(1).split("/");
    const toParts = to === "/" ? [] : to.slice(1).split("/");
    let common = 0;
    while (common < fromParts.length && common < toParts.length && fromParts[common] === toParts[common]) common++;
    const up = fromParts.length - common;
    const rest = toParts.slice(common).join("/");
    if (up === 0) return rest;
    const climb = `..${"/..".repeat(up - 1)}`;
    return rest.length > 0 ? `${climb}/${rest}` : climb;
  },

  toNamespacedPath(path) {
    return path;
  },

  dirname(path) {
    validateString(path, "path");
    if (path.length === 0) return ".";
    return posixDirname(path);
  },

  basename(path, suffix) {
    if (suffix !== undefined) validateString(suffix, "suffix");
    validateString(path, "path");
    if (suffix !== undefined && suffix.length > 0 && suffix.length <= path.length) {
      return basenameWithSuffix(path, suffix, isPosixSeparator, 0);
    }
    let end = path.length;
    while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
    if (end === 0) return "";
    return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
  },

  extname(path) {
    validateString(path, "path");
    let end = path.length;
    while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
    const start = path.lastIndexOf("/", end - 1) + 1;
    return extensionOf(path.slice(start, end));
  },

  format(pathObject) {
    return formatWith("/", pathObject);
  },

  parse(path) {
    validateString(path, "path");
    const result = { root: "", dir: "", base: "", ext: "", name: "" };
    if (path.length === 0) return result;
    const absolute = path.charCodeAt(0) === 0x2f;
    if (absolute) result.root = "/";
    let end = path.length;
    while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
    if (end === 0) {
      result.dir = "/";
      return result;
    }
    const start = path.lastIndexOf("/", end - 1) + 1;
    result.base = path.slice(start, end);
    result.ext = extensionOf(result.base);
    result.name = result.base.slice(0, result.base.length - result.ext.length);
    if (start > 1) result.dir = path.slice(0, start - 1);
    else if (absolute) result.dir = "/";
    // Node checks for a ".." name against the path's start, not the root's end.
    if (result.base === ".." && start === 1) {
      result.ext = ".";
      result.name = ".";
    }
    return result;
  },
};

posix._makeLong = posix.toNamespacedPath;
posix.posix = posix;

export { posix };
export default posix;
