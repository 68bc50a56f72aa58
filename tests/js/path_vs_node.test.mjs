// worker/js/path.js against Node's own path module: every path over a small
// alphabet up to a length (so every edge of the separator, dot and dot-dot
// rules is reached), pairs of shorter ones for join/relative/resolve, and the
// argument checks. resolve() starts from "/" in a worker, so Node runs from
// "/" here too.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodePath from "node:path";
import { install } from "./native_shim.mjs";

install();
const ours = (await import("../../worker/js/path.js")).default;
process.chdir("/");

function strings(alphabet, maxLength) {
  const all = [""];
  let frontier = [""];
  for (let length = 1; length <= maxLength; length++) {
    frontier = frontier.flatMap((s) => [...alphabet].map((c) => s + c));
    all.push(...frontier);
  }
  return all;
}

function outcome(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: `${error.name} ${error.code} ${error.message}` };
  }
}

function compare(label, fn, failures) {
  const actual = outcome(() => fn(ours));
  const expected = outcome(() => fn(nodePath));
  try {
    assert.deepStrictEqual(actual, expected);
  } catch {
    failures.push(`${label}: ours ${JSON.stringify(actual)} node ${JSON.stringify(expected)}`);
  }
}

test("path: one-argument functions agree with Node on every short path", () => {
  const failures = [];
  for (const path of [...strings("/.a", 7), ...strings("/.ab", 4)]) {
    for (const method of ["normalize", "dirname", "extname", "parse", "isAbsolute", "basename", "resolve",
      "toNamespacedPath"]) {
      compare(`${method} ${JSON.stringify(path)}`, (p) => p[method](path), failures);
    }
    for (const suffix of ["a", ".a", "a.", "/a", "aa", "", ".", "b"]) {
      compare(`basename ${JSON.stringify(path)} ${suffix}`, (p) => p.basename(path, suffix), failures);
    }
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test("path: join, relative and resolve agree with Node on pairs", () => {
  const failures = [];
  const short = strings("/.a", 4);
  for (const a of short) {
    for (const b of short) {
      compare(`join ${JSON.stringify([a, b])}`, (p) => p.join(a, b), failures);
      compare(`relative ${JSON.stringify([a, b])}`, (p) => p.relative(a, b), failures);
      compare(`resolve ${JSON.stringify([a, b])}`, (p) => p.resolve(a, b), failures);
    }
  }
  assert.deepEqual(failures.slice(0, 20), []);
});

test("path: several arguments, format, the constants and argument checks", () => {
  const failures = [];
  const cases = [
    (p) => p.join(), (p) => p.join(""), (p) => p.join("a", "", "b"), (p) => p.join("/a", "b", "../../..", "c"),
    (p) => p.resolve("a", "/b", "c", "..", "d"), (p) => p.resolve(), (p) => p.resolve(""),
    (p) => p.relative("/a/b/c", "/a/d"), (p) => p.relative("/", "/x"), (p) => p.relative("/x/y", "/"),
    (p) => p.format({ root: "/", dir: "/x", base: "b" }), (p) => p.format({ name: "a", ext: "js" }),
    (p) => p.format({ name: "a", ext: ".js" }), (p) => p.format({ root: "/", name: "a" }),
    (p) => p.format({ dir: "x", name: "a", ext: "" }), (p) => p.format({ root: "/x/", dir: "/x/" }),
    (p) => p.format({ base: "b", name: "ignored", ext: ".x" }), (p) => p.format({}),
    (p) => p.format(null), (p) => p.format("x"), (p) => p.join("a", 1), (p) => p.join(null),
    (p) => p.resolve("a", {}), (p) => p.normalize(5), (p) => p.basename("a", 1), (p) => p.basename(1),
    (p) => p.relative(1, "a"), (p) => p.relative("a", 1), (p) => p.dirname(undefined), (p) => p.extname([]),
    (p) => p.parse(true), (p) => p.isAbsolute(0),
    (p) => [p.sep, p.delimiter, p.posix === p, p.posix.posix === p, p._makeLong("x"), p.toNamespacedPath(5)],
    (p) => [p.join.length, p.resolve.length, p.basename.length, p.relative.length, p.format.length],
  ];
  cases.forEach((fn, i) => compare(`case ${i} ${fn}`, fn, failures));
  assert.deepEqual(failures, []);
});
