// Cases for the ES2023 methods worker/js/intrinsics_es2023.js adds to
// SpiderMonkey 102, run natively by Node and on the engine with the
// polyfills (es2023.test.mjs): each prints a line, and the lines must match
// except where only the engine's own wording of a coercion error differs.
function show(v) {
  if (typeof v === "bigint") return `${v}n`;
  if (Object.is(v, -0)) return "-0";
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v, show).join(",")}]`;
  if (Array.isArray(v)) return `[${Array.from(v, (x, i) => (i in v ? show(x) : "hole")).join(",")}]`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

export function run(P) {
const t = (label, f) => {
  try {
    P(`${label} ${show(f())}`);
  } catch (e) {
    P(`${label} throws ${e.constructor.name}: ${e.message}`);
  }
};
// Records the reads of an array, to check the order the methods make them in.
const log = [];
const proxy = (arr) => new Proxy(arr, {
  get(target, key, receiver) {
    log.push(`get ${String(key)}`);
    return Reflect.get(target, key, receiver);
  },
  has(target, key) {
    log.push(`has ${String(key)}`);
    return Reflect.has(target, key);
  },
});
for (const m of ["findLast", "findLastIndex", "toSorted", "toReversed", "toSpliced", "with"]) {
  const d = Object.getOwnPropertyDescriptor(Array.prototype, m);
  t(`desc ${m}`, () => [d.value.length, d.value.name, d.writable, d.enumerable, d.configurable, "prototype" in d.value, Object.getOwnPropertyNames(d.value).join("/")]);
  t(`new ${m}`, () => new d.value());
  const TAP = Object.getPrototypeOf(Int8Array.prototype);
  const td = Object.getOwnPropertyDescriptor(TAP, m);
  t(`tadesc ${m}`, () => td && [td.value.length, td.value.name, td.writable, td.enumerable, td.configurable]);
}
t("unscopables", () => Reflect.ownKeys(Array.prototype[Symbol.unscopables]));
t("unscopables desc", () => { const d = Object.getOwnPropertyDescriptor(Array.prototype, Symbol.unscopables); return [d.writable, d.enumerable, d.configurable, Object.getPrototypeOf(d.value)]; });
const arr = [5, 1, undefined, 10, , 2, "b", "a"];
t("findLast", () => arr.findLast((x) => typeof x === "number"));
t("findLast args", () => { const seen = []; [1, 2, 3].findLast(function (v, i, o) { seen.push(v, i, o.length, this.x); }, { x: 9 }); return seen; });
t("findLastIndex", () => arr.findLastIndex((x) => x === undefined));
t("findLastIndex none", () => arr.findLastIndex(() => false));
t("findLast holes", () => { const seen = []; [, 1, , 2].findLast((v, i) => { seen.push(i, v); }); return seen; });
t("findLast not callable", () => [].findLast(1));
t("findLast null this", () => Array.prototype.findLast.call(null, () => 1));
t("findLast arraylike", () => Array.prototype.findLast.call({ length: "3", 0: "a", 2: "c" }, () => true));
t("findLast string", () => Array.prototype.findLastIndex.call("abc", (c) => c === "a"));
t("findLast length neg", () => Array.prototype.findLast.call({ length: -5 }, () => true));
t("findLast order then throw", () => { log.length = 0; try { Array.prototype.findLast.call(proxy([1, 2]), 5); } catch {} return log; });
t("toReversed", () => arr.toReversed());
t("toReversed holes", () => [, 1, , 2].toReversed());
t("toReversed arraylike", () => Array.prototype.toReversed.call({ length: 3, 0: "x", 2: "z" }));
t("toReversed big", () => Array.prototype.toReversed.call({ length: 2 ** 32 }));
t("toReversed ignores species", () => { const a = [1, 2]; a.constructor = { [Symbol.species]: function () { return { hi: 1 }; } }; const r = a.toReversed(); return [Array.isArray(r), Object.getPrototypeOf(r) === Array.prototype, r]; });
t("toReversed proxy order", () => { log.length = 0; Array.prototype.toReversed.call(proxy([1, 2, 3])); return log; });
t("toReversed primitive", () => Array.prototype.toReversed.call(5));
t("toSorted", () => arr.toSorted());
t("toSorted cmp", () => [3, 1, 2, undefined, , 10].toSorted((a, b) => b - a));
t("toSorted bad cmp", () => [1].toSorted(null));
t("toSorted bad cmp before this", () => Array.prototype.toSorted.call(null, 1));
t("toSorted stable", () => [{ k: 1, v: "a" }, { k: 0, v: "b" }, { k: 1, v: "c" }].toSorted((x, y) => x.k - y.k).map((x) => x.v));
t("toSorted reads before compare", () => { log.length = 0; Array.prototype.toSorted.call(proxy([2, 1]), (a, b) => { log.push("cmp"); return a - b; }); return log; });
t("toSorted cmp throw", () => [2, 1, 3].toSorted(() => { throw new RangeError("x"); }));
t("toSorted original", () => { const a = [3, 2, 1]; a.toSorted(); return a; });
t("toSorted big", () => Array.prototype.toSorted.call({ length: 2 ** 32 }));
t("toSpliced", () => [1, 2, 3, 4].toSpliced(1, 2, "a", "b", "c"));
t("toSpliced none", () => [1, 2, 3].toSpliced());
t("toSpliced start only", () => [1, 2, 3].toSpliced(1));
t("toSpliced negative", () => [1, 2, 3].toSpliced(-2, 1));
t("toSpliced -Inf", () => [1, 2, 3].toSpliced(-Infinity, 1));
t("toSpliced undefined skip", () => [1, 2, 3].toSpliced(0, undefined));
t("toSpliced big skip", () => [1, 2, 3].toSpliced(1, 100, "x"));
t("toSpliced holes", () => [, 1, , 2].toSpliced(1, 1));
t("toSpliced too long", () => Array.prototype.toSpliced.call({ length: 2 ** 53 - 1 }, 0, 0, 1));
t("toSpliced long", () => Array.prototype.toSpliced.call({ length: 2 ** 32 }, 0, 0));
t("toSpliced strings", () => [1, 2, 3].toSpliced("1", "1.9"));
t("toSpliced symbol", () => [1].toSpliced(Symbol()));
t("toSpliced bigint", () => [1].toSpliced(1n));
t("toSpliced proxy order", () => { log.length = 0; Array.prototype.toSpliced.call(proxy([1, 2, 3, 4]), 1, 2, "x"); return log; });
t("with", () => [1, 2, 3].with(1, "x"));
t("with neg", () => [1, 2, 3].with(-1, "x"));
t("with oob", () => [1, 2, 3].with(3, "x"));
t("with oob neg", () => [1, 2, 3].with(-4, "x"));
t("with holes", () => [, 1, , 2].with(0, 0));
t("with string idx", () => [1, 2].with("1", 9));
t("with frac", () => [1, 2].with(1.9, 9));
t("with NaN", () => [1, 2].with(NaN, 9));
t("with empty", () => [].with(0, 1));
t("with proxy order", () => { log.length = 0; Array.prototype.with.call(proxy([1, 2, 3]), 1, 0); return log; });
t("with arraylike", () => Array.prototype.with.call({ length: 2, 0: "a" }, 1, "b"));
// typed arrays
const ta = new Int16Array([5, -3, 0, 9, -3]);
t("ta findLast", () => ta.findLast((x) => x < 0));
t("ta findLastIndex", () => ta.findLastIndex((x) => x < 0));
t("ta findLastIndex none", () => ta.findLastIndex(() => false));
t("ta findLast args", () => { const s = []; new Uint8Array([7, 8]).findLast(function (v, i, o) { s.push(v, i, o.length, this); }, "t"); return s; });
t("ta findLast not ta", () => Uint8Array.prototype.findLast.call([1], () => true));
t("ta findLast notfn", () => ta.findLast("x"));
t("ta toReversed", () => ta.toReversed());
t("ta toSorted", () => ta.toSorted());
t("ta toSorted floats", () => new Float64Array([3, NaN, -0, 0, -Infinity, 1e-9]).toSorted());
t("ta toSorted cmp", () => ta.toSorted((a, b) => b - a));
t("ta toSorted bad cmp", () => ta.toSorted({}));
t("ta toSorted species ignored", () => { const x = new Uint8Array([3, 1]); x.constructor = Float64Array; return x.toSorted(); });
t("ta with", () => ta.with(-1, 100000));
t("ta with oob", () => ta.with(5, 1));
t("ta with bigint", () => new BigInt64Array([1n, 2n]).with(0, 2n ** 64n + 3n));
t("ta with bigint bad", () => new BigInt64Array([1n, 2n]).with(0, 1));
t("ta with bigint str", () => new BigUint64Array([1n, 2n]).with(1, "-1"));
t("ta with number bad", () => new Uint8Array([1]).with(0, 1n));
t("ta with clamped", () => new Uint8ClampedArray([1, 2]).with(0, 300.7));
t("ta with float32", () => new Float32Array([1]).with(0, 0.1));
t("ta with coercion order", () => { const s = []; try { new Uint8Array(2).with({ valueOf() { s.push("index"); return 5; } }, { valueOf() { s.push("value"); return 1; } }); } catch (e) { s.push(e.constructor.name); } return s; });
t("ta toSpliced", () => Object.getPrototypeOf(Int8Array.prototype).toSpliced);
t("ta subclass", () => { class My extends Uint8Array {} const r = new My([2, 1]).toSorted(); return [r.constructor.name, r]; });
t("ta toReversed null", () => Int8Array.prototype.toReversed.call(null));
t("ta empty", () => new Float32Array(0).toReversed());
// strings
for (const s of ["", "abc", "\ud800", "\udc00", "a\ud800b", "\ud83d\ude00", "\ude00\ud83d", "x\ud800\ud800\udc00y\udc00", "héllo"]) {
  t(`isWellFormed ${escape(s)}`, () => s.isWellFormed());
  t(`toWellFormed ${escape(s)}`, () => escape(s.toWellFormed()));
}
t("isWellFormed null", () => String.prototype.isWellFormed.call(null));
t("toWellFormed number", () => String.prototype.toWellFormed.call(123));
t("toWellFormed obj", () => String.prototype.toWellFormed.call({ toString() { return "\ud800!"; } }));
t("isWellFormed desc", () => { const d = Object.getOwnPropertyDescriptor(String.prototype, "isWellFormed"); return [d.value.length, d.value.name, d.enumerable, d.writable]; });
t("toWellFormed symbol", () => String.prototype.toWellFormed.call(Symbol()));
t("toWellFormed same", () => { const s = "plain"; return s.toWellFormed() === s; });
t("patched sort", () => { const orig = Array.prototype.sort; Array.prototype.sort = () => "patched"; try { return [3, 1, 2].toSorted(); } finally { Array.prototype.sort = orig; } });
}
