// worker/js/comparisons.js, util_types.js and the node:util facade against
// Node's util: deep equality (strict and loose, as util.isDeepStrictEqual and
// assert.deepEqual decide) on a table of tricky pairs, the type checks
// (through the test shim, whose engine classes come from V8), and inherits,
// deprecate, callbackify and the smaller helpers.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeAssert from "node:assert";
import util from "node:util";
import { install } from "./native_shim.mjs";

install();
const comparisons = await import("../../worker/js/comparisons.js");
const ourUtil = (await import("../../worker/js/node/util.js")).default;
const { setWarningHandler } = await import("../../worker/js/events.js");

const cycle = (build) => build();
const pairs = [
  ["holes", [1, , 3], [1, undefined, 3]], ["same holes", [1, , 3], [1, , 3]],
  ["f32 NaN", new Float32Array([NaN]), new Float32Array([NaN])], ["f64 -0", new Float64Array([-0]), new Float64Array([0])],
  ["u8 vs Buffer", new Uint8Array([1]), Buffer.from([1])], ["u8 vs i8", new Uint8Array([1]), new Int8Array([1])],
  ["typed array extra key", Object.assign(new Uint8Array([1]), { x: 1 }), new Uint8Array([1])],
  ["error messages", new Error("a"), new Error("b")], ["error names", new TypeError("a"), new Error("a")],
  ["error causes", new Error("a", { cause: 1 }), new Error("a", { cause: 2 })],
  ["undefined cause", new Error("a", { cause: undefined }), new Error("a")],
  ["AggregateError", new AggregateError([1], "m"), new AggregateError([2], "m")],
  ["set 1 '1'", new Set([1]), new Set(["1"])], ["map keys 1 '1'", new Map([[1, "a"]]), new Map([["1", "a"]])],
  ["map values 1 '1'", new Map([[1, 1]]), new Map([[1, "1"]])],
  ["set of objects", new Set([{ a: 1 }, { a: 2 }]), new Set([{ a: 2 }, { a: 1 }])],
  ["Number boxes", new Number(1), new Number(2)], ["equal Number boxes", new Number(1), new Number(1)],
  ["String box keys", Object.assign(new String("a"), { x: 1 }), new String("a")],
  ["symbol keys", { [Symbol.for("a")]: 1 }, { [Symbol.for("a")]: 2 }],
  ["non-enumerable", Object.defineProperty({}, "x", { value: 1 }), {}], ["null prototype", Object.create(null), {}],
  ["dates", new Date(0), new Date(0)], ["date keys", Object.assign(new Date(0), { a: 1 }), new Date(0)],
  ["regexps", /a/g, /a/g], ["regexp flags", /a/g, /a/i], ["lastIndex", Object.assign(/a/g, { lastIndex: 3 }), /a/g],
  ["WeakMaps", new WeakMap(), new WeakMap()], ["promises", Promise.resolve(1), Promise.resolve(2)],
  ["functions", function () {}, function () {}], ["1 '1'", 1, "1"], ["null undefined", null, undefined],
  ["NaN", NaN, NaN], ["0 -0", 0, -0], ["object array", {}, []], ["array keys", Object.assign([1], { x: 1 }), [1]],
  ["cycles", cycle(() => { const a = { x: 1 }; a.self = a; return a; }),
    cycle(() => { const b = { x: 1 }; b.self = b; return b; })],
  ["cycles of other lengths", cycle(() => { const a = {}; a.self = a; return a; }),
    cycle(() => { const b = {}; b.self = { self: b }; return b; })],
  ["arguments", (function () { return arguments; })(1), [1]], ["arguments object", (function () { return arguments; })(1), { 0: 1 }],
  ["ArrayBuffers", new ArrayBuffer(2), new ArrayBuffer(2)], ["ArrayBuffer SAB", new ArrayBuffer(2), new SharedArrayBuffer(2)],
  ["DataViews", new DataView(new ArrayBuffer(2)), new DataView(new ArrayBuffer(2))],
  ["undefined property", { a: undefined }, {}], ["undefined properties", { a: undefined, b: 1 }, { b: 1, c: undefined }],
  ["toStringTag", { [Symbol.toStringTag]: "X" }, {}], ["box and primitive", new Number(1), 1],
  ["nested loose set", new Set([[1]]), new Set([["1"]])], ["object map keys", new Map([[{ a: 1 }, 1]]), new Map([[{ a: 1 }, 1]])],
  ["bigint number", 1n, 1], ["symbols", Symbol("a"), Symbol("a")],
  ["class instance", new (class A { constructor() { this.x = 1; } })(), { x: 1 }], ["Array subclass", new (class A extends Array {})(), []],
  ["error extra property", Object.assign(new Error("a"), { code: 1 }), new Error("a")], ["map sizes", new Map([[1, 1]]), new Map()],
  ["set undefined null", new Set([undefined]), new Set([null])], ["map undefined null", new Map([[undefined, 1]]), new Map([[null, 1]])],
  ["getter", { get a() { return 1; } }, { a: 1 }], ["Symbol boxes", Object(Symbol.iterator), Object(Symbol.iterator)],
  ["String box string", new String("ab"), "ab"],
  ["cycle then difference", cycle(() => { const a = { v: 1 }; a.self = a; return a; }),
    cycle(() => { const c = { v: 2 }; const b = { self: c, v: 1 }; c.self = b; return b; })],
  ["longer cycle difference", cycle(() => { const a = { v: 1 }; a.self = a; return a; }),
    cycle(() => { const c2 = { v: 2 }; const c1 = { self: c2, v: 1 }; const b = { self: c1, v: 1 }; c2.self = b; return b; })],
  ["map cycles", cycle(() => { const m = new Map(); m.set("m", m); return m; }),
    cycle(() => { const m2 = new Map(); const m3 = new Map([["m", m2]]); m2.set("m", m3); return m2; })],
  ["array cycles", cycle(() => { const s = [1]; s.push(s); return s; }), cycle(() => { const s = [1]; s.push([1, s]); return s; })],
  ["nested maps", new Map([["a", new Map([[1, [1, 2]]])]]), new Map([["a", new Map([[1, [1, 2]]])]])],
  ["sets of arrays", new Set([[1, 2], [3]]), new Set([[3], [1, 2]])], ["sets unequal arrays", new Set([[1, 2], [3]]), new Set([[3], [1, 3]])],
];

test("deep equality, strict and loose, both ways round, agrees with Node", () => {
  const failures = [];
  for (const [label, a, b] of pairs) {
    const strict = util.isDeepStrictEqual(a, b);
    let loose = true;
    try {
      nodeAssert.deepEqual(a, b);
    } catch {
      loose = false;
    }
    const ours = [comparisons.isDeepStrictEqual(a, b), comparisons.isDeepEqual(a, b),
      comparisons.isDeepStrictEqual(b, a), comparisons.isDeepEqual(b, a)];
    if (JSON.stringify(ours) !== JSON.stringify([strict, loose, strict, loose])) {
      failures.push(`${label}: ours ${ours} node strict ${strict} loose ${loose}`);
    }
  }
  assert.deepEqual(failures, []);
});

test("util.types gives Node's answers from the engine's classes", () => {
  const values = {
    date: new Date(), args: (function () { return arguments; })(), bigintObj: Object(1n), boolObj: new Boolean(false),
    numObj: new Number(1), strObj: new String("s"), symObj: Object(Symbol("s")), err: new Error("e"),
    typeErr: new TypeError("t"), fakeErr: Object.create(Error.prototype), re: /x/g, reProto: RegExp.prototype,
    asyncFn: async () => {}, asyncGenFn: async function* () {}, genFn: function* () {}, fn: function () {},
    bound: (async () => {}).bind(null), genObj: (function* () {})(), asyncGenObj: (async function* () {})(),
    promise: Promise.resolve(), thenable: { then() {} }, map: new Map(), set: new Set(), mapIter: new Map().keys(),
    setIter: new Set().values(), arrIter: [].values(), weakMap: new WeakMap(), weakSet: new WeakSet(),
    ab: new ArrayBuffer(1), sab: new SharedArrayBuffer(1), dv: new DataView(new ArrayBuffer(1)), proxy: new Proxy({}, {}),
    proxyMap: new Proxy(new Map(), {}), u8: new Uint8Array(1), f64: new Float64Array(1), bi64: new BigInt64Array(1),
    buf: Buffer.alloc(1), fakeDate: Object.create(Date.prototype), tagged: { [Symbol.toStringTag]: "Map" }, plain: {},
    arr: [], nul: null, num: 1, str: "s",
  };
  const answers = (types) => Object.fromEntries(Object.keys(util.types).filter((name) => name in types)
    .map((name) => [name, Object.keys(values).filter((key) => types[name](values[key]))]));
  assert.deepStrictEqual(Object.keys(ourUtil.types), Object.keys(util.types));
  assert.deepStrictEqual(answers(ourUtil.types), answers(util.types));
});

test("inherits, deprecate, callbackify and the small helpers behave as Node's", async () => {
  const shape = (u) => {
    const out = [];
    const attempt = (label, fn) => {
      try {
        out.push([label, fn()]);
      } catch (error) {
        out.push([label, `${error.name} ${error.code} ${error.message}`]);
      }
    };
    attempt("inherits", () => {
      function A() {}
      function B() {}
      B.prototype.hi = () => "hi";
      u.inherits(A, B);
      const descriptor = Object.getOwnPropertyDescriptor(A, "super_");
      return [new A().hi(), descriptor.writable, descriptor.enumerable, descriptor.configurable];
    });
    attempt("inherits null ctor", () => u.inherits(null, Object));
    attempt("inherits null super", () => u.inherits(function () {}, null));
    attempt("inherits no prototype", () => u.inherits(function () {}, {}));
    attempt("deprecate shape", () => {
      const d = u.deprecate(function foo(a, b) { return a + b; }, "old", "DEP_T1");
      return [d.name, d.length, Object.getOwnPropertyNames(d).sort(), d(1, 2)];
    });
    attempt("deprecate construct", () => {
      class K { constructor(x) { this.x = x; } }
      const D = u.deprecate(K, "K is old", "DEP_T2");
      return new D(5).x;
    });
    attempt("deprecate bad code", () => u.deprecate(() => 1, "m", 5));
    attempt("callbackify shape", () => {
      const c = u.callbackify(async function bar(x) { return x; });
      return [c.name, c.length];
    });
    attempt("callbackify bad", () => u.callbackify(5));
    attempt("callbackify bad callback", () => u.callbackify(async () => 1)(1, 2));
    attempt("getSystemErrorName", () => [u.getSystemErrorName(-2), u.getSystemErrorName(-11), u.getSystemErrorName(-99999)]);
    attempt("getSystemErrorName positive", () => u.getSystemErrorName(2));
    attempt("getSystemErrorName string", () => u.getSystemErrorName("x"));
    attempt("toUSVString", () => u.toUSVString("a\ud800b\udc00"));
    attempt("debuglog", () => [typeof u.debuglog("x"), u.debuglog("x").enabled, u.debug === u.debuglog]);
    attempt("legacy checks", () => [u.isArray([]), u.isBoolean(false), u.isNull(null), u.isNullOrUndefined(undefined),
      u.isNumber(1), u.isString(""), u.isSymbol(Symbol()), u.isUndefined(undefined), u.isRegExp(/x/), u.isObject({}),
      u.isDate(new Date()), u.isError(new Error()), u.isFunction(() => {}), u.isPrimitive(1), u.isPrimitive({})]);
    attempt("isDeepStrictEqual", () => u.isDeepStrictEqual({ a: [1] }, { a: [1] }));
    return out;
  };
  const warnings = [];
  setWarningHandler((warning) => warnings.push(`${warning.name} ${warning.code} ${warning.message}`));
  assert.deepStrictEqual(shape(ourUtil), shape(util));
  assert.deepEqual(warnings, ["DeprecationWarning DEP_T1 old", "DeprecationWarning DEP_T2 K is old"]);
  const settle = (u, fn, ...args) => new Promise((resolve) => u.callbackify(fn)(...args, (error, value) =>
    resolve([error && `${error.code} ${error.message} ${error.reason}`, value])));
  for (const u of [ourUtil, util]) {
    assert.deepEqual(await settle(u, async (x) => x * 3, 2), [null, 6]);
    assert.deepEqual(await settle(u, async () => { throw null; }),
      ["ERR_FALSY_VALUE_REJECTION Promise was rejected with falsy value null", undefined]);
  }
});
