// worker/js/assert.js against Node's assert: every assertion kind, passing
// and failing, compared on the error thrown (class, code, message,
// generatedMessage, operator) or the promise's outcome. (assert(value)
// without a message quotes the caller's source, which needs the engine
// binding: tests/integration/parity/assert.js covers it.)
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeAssert from "node:assert";
import { install } from "./native_shim.mjs";

install();
const { assert: ours } = await import("../../worker/js/assert.js");

function describe(error) {
  return {
    name: error?.name, code: error?.code, message: error?.message, generatedMessage: error?.generatedMessage,
    operator: error?.operator, isAssertionError: error?.name === "AssertionError",
    keys: error !== null && typeof error === "object" ? Object.keys(error) : undefined,
  };
}

async function outcome(fn) {
  try {
    const result = fn();
    if (result && typeof result.then === "function") {
      try {
        await result;
        return { resolved: true };
      } catch (error) {
        return { rejected: describe(error) };
      }
    }
    return { passed: true };
  } catch (error) {
    return { threw: describe(error) };
  }
}

const o = { a: 1, b: [1, 2, 3], c: { d: "x".repeat(10) } };
const long = (n, f = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const thrower = (error) => () => { throw error; };

const cases = [
  // equal / notEqual (loose)
  (A) => A.equal(1, 1), (A) => A.equal(1, "1"), (A) => A.equal(1, 2), (A) => A.equal(NaN, NaN), (A) => A.equal({}, {}),
  (A) => A.equal(o, { ...o }), (A) => A.equal("y".repeat(300), "z".repeat(300)), (A) => A.equal(1, 2, "custom"),
  (A) => A.equal(1, 2, new TypeError("own")), (A) => A.equal(1), (A) => A.notEqual(1, 2), (A) => A.notEqual("a", "a"),
  (A) => A.notEqual(NaN, NaN), (A) => A.notEqual(o, o),
  // strictEqual / notStrictEqual
  (A) => A.strictEqual(1, 1), (A) => A.strictEqual(1, 2), (A) => A.strictEqual(1, "1"), (A) => A.strictEqual(0, -0),
  (A) => A.strictEqual(NaN, NaN), (A) => A.strictEqual("abcd", "abce"), (A) => A.strictEqual("abcde", "abcdf"),
  (A) => A.strictEqual("hello world", "hello there"), (A) => A.strictEqual("héllo wörld", "héllo world"),
  (A) => A.strictEqual("a".repeat(50), "b".repeat(50)), (A) => A.strictEqual("a\nb", "a\nc"),
  (A) => A.strictEqual({ a: 1 }, { a: 1 }), (A) => A.strictEqual({ a: 1 }, { a: 2 }), (A) => A.strictEqual({ a: 1 }, 1),
  (A) => A.strictEqual([1, 2], [1, 2]), (A) => A.strictEqual(undefined, null), (A) => A.strictEqual(function f() {},
    function g() {}), (A) => A.strictEqual(Symbol("a"), Symbol("a")), (A) => A.strictEqual(long(60), long(60)),
  (A) => A.strictEqual(1, 2, "my message"), (A) => A.strictEqual([1], [1], "m"), (A) => A.strictEqual("hello world",
    "hello there", "m"), (A) => A.notStrictEqual(1, 2), (A) => A.notStrictEqual(1, 1),
  (A) => A.notStrictEqual("x".repeat(3), "x".repeat(3)), (A) => A.notStrictEqual("x".repeat(4), "x".repeat(4)),
  (A) => A.notStrictEqual("x".repeat(600), "x".repeat(600)), (A) => A.notStrictEqual("a\nb", "a\nb"),
  (A) => A.notStrictEqual(Object, Object), (A) => A.notStrictEqual(null, null), (A) => A.notStrictEqual(1, 1, "m"),
  // deepEqual / notDeepEqual (loose)
  (A) => A.deepEqual({ a: 1 }, { a: "1" }), (A) => A.deepEqual({ a: 1 }, { a: 2 }), (A) => A.deepEqual(1, 2),
  (A) => A.deepEqual([1], [2]), (A) => A.deepEqual({ a: [1, 2, 3], b: "x" }, { a: [1, 2, 4], b: "x" }),
  (A) => A.deepEqual(long(100), long(100, (i) => i + 1)), (A) => A.deepEqual(1, 2, "m"),
  (A) => A.notDeepEqual([1], ["1"]), (A) => A.notDeepEqual([1], [1]), (A) => A.notDeepEqual(1, "1"),
  (A) => A.notDeepEqual({ a: 1 }, { a: 2 }),
  // deepStrictEqual / notDeepStrictEqual
  (A) => A.deepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), (A) => A.deepStrictEqual(1, 2),
  (A) => A.deepStrictEqual("a", "b"), (A) => A.deepStrictEqual(-0, 0), (A) => A.deepStrictEqual([0], [-0]),
  (A) => A.deepStrictEqual([1], { 0: 1 }), (A) => A.deepStrictEqual({ a: 1 }, Object.create(null, { a: { value: 1,
    enumerable: true } })), (A) => A.deepStrictEqual(new Date(0), new Date(1)),
  (A) => A.deepStrictEqual({ a: 1, b: [1, 2] }, { a: 2, b: [1, 2] }),
  (A) => A.deepStrictEqual(long(30), long(30, (i) => (i === 15 ? -1 : i))),
  (A) => A.deepStrictEqual({ a: { b: { c: [1, 2, 3] } }, d: "x" }, { a: { b: { c: [1, 2, 4] } }, d: "x" }),
  (A) => A.deepStrictEqual({ x: 1, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, { x: 2, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }),
  (A) => A.deepStrictEqual({ x: 1, a: 1, b: 2, c: 3 }, { x: 2, a: 1, b: 2, c: 3 }),
  (A) => A.deepStrictEqual([1, 2], [1, 2, 3, 4]), (A) => A.deepStrictEqual([1, 2, 3, 4], [1, 2]),
  (A) => A.deepStrictEqual(long(10, (i) => i + 1), [0, ...long(8, (i) => i + 2), 11]),
  (A) => A.deepStrictEqual(long(100), long(100, (i) => -i)), (A) => A.deepStrictEqual({ a: Symbol("x") },
    { a: Symbol("x") }), (A) => A.deepStrictEqual(new Set([1, 2]), new Set([1, 3])),
  (A) => A.deepStrictEqual(new Map([[1, 2]]), new Map([[1, 3]])), (A) => A.deepStrictEqual({ a: 1 }, { a: 2 }, "m"),
  (A) => A.deepStrictEqual(1, 2, "m"), (A) => A.deepStrictEqual(1),
  (A) => A.deepStrictEqual({ a: { b: { c: 1 } } }, { a: 2 }), (A) => A.notDeepStrictEqual({ a: 1 }, { a: 1 }),
  (A) => A.notDeepStrictEqual(1, 1), (A) => A.notDeepStrictEqual([1], [1]), (A) => A.notDeepStrictEqual(long(100),
    long(100)), (A) => A.notDeepStrictEqual({ a: 1, b: 2, c: [1, 2] }, { a: 1, b: 2, c: [1, 2] }),
  (A) => A.notDeepStrictEqual(1, 1, "m"), (A) => A.notDeepStrictEqual([1], ["1"]),
  // ok, fail, ifError
  (A) => A.ok(true), (A) => A.ok(), (A) => A.ok(0, "custom"), (A) => A.ok(0, new RangeError("r")),
  (A) => A.ok(false, { toString: () => "x" }), (A) => A(1), (A) => A.fail(), (A) => A.fail("boom"),
  (A) => A.fail(new TypeError("tt")), (A) => A.fail(1, 2), (A) => A.fail(1, 2, "msg"), (A) => A.fail(1, 2, undefined, ">"),
  (A) => A.ifError(null), (A) => A.ifError(undefined), (A) => A.ifError(new Error("e")), (A) => A.ifError("str"),
  (A) => A.ifError(0), (A) => A.ifError({ message: "m" }), (A) => A.ifError(new Error("")),
  // throws / doesNotThrow
  (A) => A.throws(thrower(new Error("x"))), (A) => A.throws(() => {}), (A) => A.throws(() => {}, "should throw"),
  (A) => A.throws(() => {}, TypeError), (A) => A.throws(thrower(new Error("x")), /y/),
  (A) => A.throws(thrower(new Error("x")), /x/), (A) => A.throws(thrower(new Error("x")), { message: "y" }),
  (A) => A.throws(thrower(new Error("x")), { message: "x" }), (A) => A.throws(thrower(new Error("x")), TypeError),
  (A) => A.throws(thrower(new TypeError("x")), TypeError), (A) => A.throws(thrower(new Error("x")), () => false),
  (A) => A.throws(thrower(new Error("x")), (e) => e.message === "x"), (A) => A.throws(thrower(5), (e) => 5),
  (A) => A.throws(thrower("str"), /abc/), (A) => A.throws(thrower(Object.assign(new Error("x"), { code: "A" })),
    { code: "B", message: "x" }), (A) => A.throws(thrower(new Error("foo")), "foo"),
  (A) => A.throws(thrower(new Error("foo")), "foo", "bar"), (A) => A.throws(thrower(new Error("foo")), 5),
  (A) => A.throws(thrower(new Error("foo")), {}), (A) => A.throws(thrower(5), { a: 1 }),
  (A) => A.throws(thrower(new TypeError("foo")), new TypeError("bar")),
  (A) => A.throws(thrower(new Error("foo bar")), { message: /baz/ }),
  (A) => A.throws(thrower(new Error("foo bar")), { message: /bar/ }), (A) => A.throws(5),
  (A) => A.throws(thrower(new (class TypeError extends Error {})("x")), TypeError),
  (A) => A.throws(thrower(5), TypeError), (A) => A.throws(thrower(new Error("x")), { message: "y" }, "m"),
  (A) => A.doesNotThrow(() => {}), (A) => A.doesNotThrow(thrower(new Error("x"))),
  (A) => A.doesNotThrow(thrower(new Error("x")), "custom"), (A) => A.doesNotThrow(thrower(new TypeError("x")), TypeError),
  (A) => A.doesNotThrow(thrower(new TypeError("x")), RangeError), (A) => A.doesNotThrow(thrower(new Error("abc")), /b/),
  (A) => A.doesNotThrow(thrower(new Error("abc")), /z/), (A) => A.doesNotThrow(thrower(new Error("abc")), 5),
  (A) => A.doesNotThrow(5),
  // match
  (A) => A.match("abc", /b/), (A) => A.match("abc", /x/), (A) => A.match(5, /5/), (A) => A.match("a", "a"),
  (A) => A.match("abc", /x/, "m"), (A) => A.doesNotMatch("abc", /x/), (A) => A.doesNotMatch("abc", /b/),
  // rejects / doesNotReject
  (A) => A.rejects(Promise.reject(new Error("x"))), (A) => A.rejects(Promise.resolve(1)),
  (A) => A.rejects(Promise.reject(new Error("x")), /y/), (A) => A.rejects(async () => { throw new Error("yes"); }, Error),
  (A) => A.rejects(() => 5), (A) => A.rejects(() => null), (A) => A.rejects(() => ({ a: 1 })), (A) => A.rejects(5),
  (A) => A.doesNotReject(Promise.resolve(1)), (A) => A.doesNotReject(Promise.reject(new Error("x"))),
  (A) => A.doesNotReject(async () => { throw new Error("no"); }, "m"), (A) => A.doesNotReject(() => 5),
  // strict mode
  (A) => A.strict.equal(1, "1"), (A) => A.strict.deepEqual([1], ["1"]), (A) => A.strict.notEqual(1, 1),
  (A) => A.strict.notDeepEqual([1], [1]), (A) => A.strict(0, "m"), (A) => A.strict.strict === A.strict,
  // AssertionError
  (A) => { throw new A.AssertionError({ actual: 1, expected: 2, operator: "strictEqual" }); },
  (A) => { throw new A.AssertionError({ actual: 1, expected: 2, operator: "strictEqual", message: "m" }); },
  (A) => { throw new A.AssertionError({ message: "m" }); }, (A) => new A.AssertionError(5),
];

test("assert: every assertion throws (or rejects) what Node's does", async () => {
  const failures = [];
  for (const fn of cases) {
    const actual = await outcome(() => fn(ours));
    const expected = await outcome(() => fn(nodeAssert));
    try {
      assert.deepStrictEqual(actual, expected);
    } catch {
      failures.push(`${fn}\n  ours ${JSON.stringify(actual)}\n  node ${JSON.stringify(expected)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test("assert: the module's shape and AssertionError's", () => {
  const shape = (A) => ({
    keys: Object.keys(A).sort().filter((k) => k !== "CallTracker"),
    strictKeys: Object.keys(A.strict).sort().filter((k) => k !== "CallTracker"),
    names: Object.keys(A).filter((k) => typeof A[k] === "function").map((k) => `${k}:${A[k].name}:${A[k].length}`),
    assertName: A.name,
    strictName: A.strict.name,
    sameOk: A.strict.ok === A.ok,
    sameStrictEqual: A.strict.equal === A.strictEqual,
  });
  const expected = shape(nodeAssert);
  expected.names = expected.names.filter((entry) => !entry.startsWith("CallTracker:"));
  assert.deepStrictEqual(shape(ours), expected);
  let error;
  try {
    ours.strictEqual(1, 2);
  } catch (e) {
    error = e;
  }
  assert.equal(String(error), "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n");
  assert.ok(error instanceof ours.AssertionError && error instanceof Error);
  assert.deepEqual(Object.keys(error), ["generatedMessage", "code", "actual", "expected", "operator"]);
});
