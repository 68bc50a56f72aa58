// Parity scenario: node:path and node:querystring, imported with and without
// the node: prefix. Only absolute paths are resolved (a worker's working
// directory is "/", the reference runner's is wherever it runs). Writes a
// transcript that must be byte-identical under Node and under portbroker.
import path from "path";
import { join, posix, relative, parse as parsePath } from "node:path";
import * as pathPosix from "node:path/posix";
import qs, { parse, stringify, escape, unescape } from "node:querystring";
import qsAgain from "querystring";

export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      lines.push(`${label} ${JSON.stringify(fn())}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name} ${error.code} ${error.message}`);
    }
  };
  attempt("same module", () => [posix === path, pathPosix.default === path, path.posix.posix === path, qs === qsAgain]);
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

  for (const q of ["a=1&b=2&a=3", "a+b=c+d", "%E2%82%AC=%F0%9F%98%80", "x=%zz&y=%E2%82", "=&&a", "k", "a==b",
    "__proto__=1&constructor=2"]) {
    attempt(`parse ${q}`, () => parse(q));
  }
  attempt("parse separators", () => parse("a:1;b:2", ";", ":"));
  attempt("parse maxKeys", () => parse("a=1&b=2&c=3", null, null, { maxKeys: 2 }));
  attempt("parse decoder", () => parse("a=%41", null, null, { decodeURIComponent: (s) => `<${s}>` }));
  attempt("null prototype", () => Object.getPrototypeOf(parse("a=1")));
  attempt("stringify", () => [stringify({ x: [1, 2], y: "z w", n: null, b: true, big: 10n, nan: NaN }),
    stringify({ a: 1 }, ";", ":"), stringify("x")]);
  attempt("escape", () => [escape("é ü/?&="), escape(5), unescape("%zz%41+"), unescape("%41+", true)]);
  attempt("escape lone surrogate", () => escape("\ud800"));
  attempt("aliases", () => [qs.decode === qs.parse, qs.encode === qs.stringify, Buffer.isBuffer(qs.unescapeBuffer("%41"))]);
  conn.end(`${lines.join("\n")}\n`);
}
