// Parity scenario: node:path, imported with and without the node: prefix.
// Only absolute paths are resolved (a worker's working directory is "/", the
// reference runner's is wherever it runs). Writes a transcript that must be
// byte-identical under Node and under portbroker.
import path from "path";
import { join, posix, relative, parse as parsePath } from "node:path";
import * as pathPosix from "node:path/posix";

export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      lines.push(`${label} ${JSON.stringify(fn())}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name} ${error.code} ${error.message}`);
    }
  };
  attempt("same module", () => [posix === path, pathPosix.default === path, path.posix.posix === path]);
  attempt("constants", () => [path.sep, path.delimiter]);
  for (const p of ["", ".", "..", "/", "//", "///a//b/", "a/b/../c", "/a/./b/", "../../x", "a/..", "a/../",
    "./a", "/x/y.tar.gz", ".profile", "a.b.", "..a", "/..", "//..", "dir/file.txt/"]) {
    attempt(`normalize ${p}`, () => path.normalize(p));
    attempt(`dirname ${p}`, () => path.dirname(p));
    attempt(`basename ${p}`, () => [path.basename(p), path.basename(p, ".gz"), path.basename(p, "a")]);
    attempt(`extname ${p}`, () => path.extname(p));
    attempt(`parse ${p}`, () => parsePath(p));
    attempt(`isAbsolute ${p}`, () => path.isAbsolute(p));
  }
  attempt("join", () => [join("/a", "b", "../c"), join("a", "", "b/"), join(), join("", "")]);
  attempt("resolve", () => [path.resolve("/a", "b", "../c"), path.resolve("/x", "/y", "z/")]);
  attempt("relative", () => [relative("/a/b/c", "/a/d"), relative("/", "/x"), relative("/x/y", "/"), relative("/a", "/a")]);
  attempt("format", () => [path.format({ dir: "/x", name: "y", ext: "gz" }), path.format({ root: "/", base: "b" }),
    path.format({ name: "n", ext: ".e" })]);
  attempt("join non-string", () => join("a", 1));
  attempt("format null", () => path.format(null));
  attempt("basename suffix", () => path.basename("a", 5));

  conn.end(`${lines.join("\n")}\n`);
}
