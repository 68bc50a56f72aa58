// node:path — POSIX rules, as Node on Linux.
import path from "../path.js";

export const { resolve, normalize, isAbsolute, join, relative, toNamespacedPath, dirname, basename, extname,
  format, parse, sep, delimiter, posix, win32, _makeLong } = path;
export default path;
