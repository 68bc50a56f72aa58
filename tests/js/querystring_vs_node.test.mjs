// worker/js/querystring.js against Node's querystring: every short string
// over the characters that matter (separators, "%", "+", hex digits), with
// default and multi-character separators, escape() over every code unit,
// stringify() over value kinds, and Node's replaceable escape/unescape.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeQs from "node:querystring";
import { install } from "./native_shim.mjs";

install();
const ours = (await import("../../worker/js/querystring.js")).default;

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
    const value = fn();
    if (value instanceof Uint8Array) return { bytes: Array.from(value) };
    if (value !== null && typeof value === "object") {
      return { value: JSON.stringify(value), prototype: Object.getPrototypeOf(value) === null ? "null" : "other" };
    }
    return { value };
  } catch (error) {
    return { error: `${error.name} ${error.code} ${error.message}` };
  }
}

function compareAll(cases) {
  const failures = [];
  for (const [label, fn] of cases) {
    const actual = outcome(() => fn(ours));
    const expected = outcome(() => fn(nodeQs));
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      failures.push(`${label}: ours ${JSON.stringify(actual)} node ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(failures.slice(0, 20), []);
}

test("querystring.parse and unescape agree with Node on every short string", () => {
  const cases = [];
  for (const s of strings("a=&%+2F", 5)) {
    cases.push([`parse ${JSON.stringify(s)}`, (q) => q.parse(s)]);
    cases.push([`parse maxKeys ${JSON.stringify(s)}`, (q) => q.parse(s, null, null, { maxKeys: 2 })]);
    cases.push([`unescape ${JSON.stringify(s)}`, (q) => [q.unescape(s), q.unescape(s, true)]]);
    cases.push([`unescapeBuffer ${JSON.stringify(s)}`, (q) => q.unescapeBuffer(s, true)]);
  }
  for (const s of strings("a=&;:", 6)) cases.push([`parse ;; :: ${JSON.stringify(s)}`, (q) => q.parse(s, ";;", "::")]);
  compareAll(cases);
});

test("querystring.escape agrees with Node on every code unit and on surrogate pairs", () => {
  const cases = [];
  for (let c = 0; c < 0x10000; c += 1) cases.push([`escape ${c}`, (q) => q.escape(String.fromCharCode(c))]);
  for (let c = 0xdc00; c < 0xe000; c += 37) cases.push([`escape pair ${c}`, (q) => q.escape(`\ud83d${String.fromCharCode(c)}`)]);
  for (const v of [{ toString: () => "a b" }, 5, true, null, undefined, 1n, [1, 2]]) {
    cases.push([`escape ${String(v)}`, (q) => q.escape(v)]);
  }
  compareAll(cases);
});

test("querystring: decoding, stringify, options and replaced escape/unescape", () => {
  const cases = [];
  for (const s of ["%E2%82%AC", "%E2%82", "%C0%AF", "%F0%9F%98%80", "%ED%A0%80", "%ff%FE", "%", "%%", "%2", "%g0",
    "é€😀", "\ud800", "a=\udc00"]) {
    cases.push([`parse ${JSON.stringify(s)}`, (q) => q.parse(`k=${s}&${s}=v`)]);
    cases.push([`unescape ${JSON.stringify(s)}`, (q) => q.unescape(s)]);
    cases.push([`escape ${JSON.stringify(s)}`, (q) => q.escape(s)]);
  }
  const objects = [{ a: [1, 2], b: "x y", c: true, d: null, e: undefined, f: NaN, g: 1n, h: {}, i: [], j: "é€😀",
    k: Infinity, l: -0, m: Symbol("s"), n: () => 1 }, "x", 5, null, [1, 2], { "a b": ["c d", "e&f"] },
  { "\ud800": 1 }, Object.create({ inherited: 1 })];
  objects.forEach((o, i) => {
    cases.push([`stringify #${i}`, (q) => q.stringify(o)]);
    cases.push([`stringify sep #${i}`, (q) => q.stringify(o, ";", ":")]);
    cases.push([`stringify encoder #${i}`, (q) => q.stringify(o, null, null, { encodeURIComponent: (s) => `[${s}]` })]);
  });
  cases.push(
    ["decoder", (q) => q.parse("a=%41+b&a+b=c&x", null, null, { decodeURIComponent: (s) => `<${s}>` })],
    ["throwing decoder", (q) => q.parse("a=%41+b", null, null, { decodeURIComponent: () => { throw new Error("x"); } })],
    ["not strings", (q) => [q.parse(5), q.parse(null), q.parse({})]],
    ["numeric separators", (q) => q.parse("a1b2c", 1, 2)],
    ["maxKeys 0", (q) => Object.keys(q.parse(Array.from({ length: 1500 }, (_, i) => `k${i}=1`).join("&"), null, null,
      { maxKeys: 0 })).length],
    ["maxKeys default", (q) => Object.keys(q.parse(Array.from({ length: 1500 }, (_, i) => `k${i}=1`).join("&"))).length],
    ["maxKeys -1", (q) => q.parse("a&b&c", null, null, { maxKeys: -1 })],
    ["maxKeys 1.5", (q) => q.parse("a&b&c", null, null, { maxKeys: 1.5 })],
    ["aliases", (q) => [q.decode === q.parse, q.encode === q.stringify]],
    ["replaced escape", (q) => {
      const original = q.escape;
      q.escape = (s) => `X${s}`;
      try {
        return q.stringify({ a: "b" });
      } finally {
        q.escape = original;
      }
    }],
    ["replaced unescape", (q) => {
      const original = q.unescape;
      q.unescape = (s) => `U${s}`;
      try {
        return q.parse("a=%41&b=c");
      } finally {
        q.unescape = original;
      }
    }],
  );
  compareAll(cases);
});
