// Parity scenario: node:util's deep equality, type checks (from the engine's
// own object classes), inherits, deprecate and callbackify, and
// node:util/types. Writes a transcript that must be byte-identical under Node
// and under portbroker.
import util, { types, isDeepStrictEqual, inherits, deprecate, callbackify, getSystemErrorName,
  toUSVString } from "node:util";
import * as ns from "node:util/types";

const P = [];
const t = (label, f) => {
  try {
    P.push(`${label} ${JSON.stringify(f())}`);
  } catch (e) {
    P.push(`${label} throws ${e.constructor.name}: ${e.code} ${e.message}`);
  }
};
const values = {
  date: new Date(), args: (function () { return arguments; })(), bigintObj: Object(1n), boolObj: new Boolean(false),
  numObj: new Number(1), strObj: new String("s"), symObj: Object(Symbol("s")), err: new Error("e"),
  typeErr: new TypeError("t"), aggErr: new AggregateError([]), wasmErr: new WebAssembly.CompileError("c"),
  fakeErr: Object.create(Error.prototype), domExc: new DOMException("x"), re: /x/g, reProto: RegExp.prototype,
  asyncFn: async () => {}, asyncGenFn: async function* () {}, genFn: function* () {}, fn: function () {},
  bound: (async () => {}).bind(null), genObj: (function* () {})(), asyncGenObj: (async function* () {})(),
  promise: Promise.resolve(), thenable: { then() {} }, map: new Map(), set: new Set(), mapIter: new Map().keys(),
  setIter: new Set().values(), mapEntries: new Map().entries(), arrIter: [].values(), weakMap: new WeakMap(),
  weakSet: new WeakSet(), ab: new ArrayBuffer(1), sab: new SharedArrayBuffer(1),
  dv: new DataView(new ArrayBuffer(1)), proxy: new Proxy({}, {}), proxyMap: new Proxy(new Map(), {}),
  proxyFn: new Proxy(function () {}, {}), ns, u8: new Uint8Array(1), u8c: new Uint8ClampedArray(1),
  u16: new Uint16Array(1), u32: new Uint32Array(1), i8: new Int8Array(1), i16: new Int16Array(1),
  i32: new Int32Array(1), f32: new Float32Array(1), f64: new Float64Array(1), bi64: new BigInt64Array(1),
  bu64: new BigUint64Array(1), buf: Buffer.alloc(1), fakeDate: Object.create(Date.prototype),
  tagged: { [Symbol.toStringTag]: "Map" }, plain: {}, arr: [], nul: null, num: 1, str: "s",
};
for (const name of Object.keys(types)) {
  t(`types.${name}`, () => Object.keys(values).filter((k) => types[name](values[k])));
}
t("util/types keys", () => Object.keys(ns).sort());
t("util/types same functions", () => ns.isMap === types.isMap && ns.default === types);
t("util has", () => ["isDeepStrictEqual", "inherits", "deprecate", "types", "callbackify", "getSystemErrorName",
  "toUSVString", "promisify", "inspect", "format", "TextEncoder", "TextDecoder", "isArray", "debuglog"]
  .map((k) => typeof util[k]));
t("isDeepStrictEqual", () => [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }),
  isDeepStrictEqual([1], ["1"]), isDeepStrictEqual(new Set([{}]), new Set([{}])),
  isDeepStrictEqual(new Map([[1, { a: NaN }]]), new Map([[1, { a: NaN }]])), isDeepStrictEqual(-0, 0)]);
t("inherits", () => {
  function A() {}
  function B() {}
  B.prototype.hi = () => "hi";
  inherits(A, B);
  return [new A().hi(), A.super_ === B];
});
t("inherits bad", () => inherits(function () {}, null));
t("deprecate", () => {
  const d = deprecate(function foo(x) { return x * 2; }, "foo is old", "DEP0999");
  return [d(2), d(3), d.name, d.length];
});
t("deprecate new", () => {
  class K {
    constructor(x) {
      this.x = x;
    }
  }
  const D = deprecate(K, "K old");
  return new D(5).x;
});
t("deprecate bad code", () => deprecate(() => 1, "m", 5));
t("getSystemErrorName", () => [getSystemErrorName(-2), getSystemErrorName(-11), getSystemErrorName(-99999)]);
t("getSystemErrorName bad", () => getSystemErrorName(1));
t("toUSVString", () => toUSVString("a\ud800b"));
t("debuglog", () => [typeof util.debuglog("x"), util.debuglog("x").enabled]);

export async function handle(conn) {
  const cb = callbackify(async (x) => x * 3);
  P.push(`callbackified ${cb.name} ${cb.length}`);
  await new Promise((resolve) => cb(2, (e, v) => {
    P.push(`cb ${e} ${v}`);
    resolve();
  }));
  const cb2 = callbackify(async () => {
    throw null;
  });
  await new Promise((resolve) => cb2((e) => {
    P.push(`cb2 ${e.code} ${e.message} ${e.reason}`);
    resolve();
  }));
  conn.end(`${P.join("\n")}\n`);
}
