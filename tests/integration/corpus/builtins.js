// The built-ins corpus: ordinary JavaScript, run inside a confined worker and
// under Node 20, line for line. Each case prints "<name>\t<result>"; a case
// that throws prints the error's constructor name (engines word messages
// differently). test_builtins_corpus.py compares the two transcripts.
//
// Nothing here reads the clock: every date is fixed, so the output depends
// only on the time zone (TZ) both runs share.

function show(value, depth = 0) {
  if (depth > 4) return "…";
  switch (typeof value) {
    case "bigint": return `${value}n`;
    case "number": return Object.is(value, -0) ? "-0" : String(value);
    case "string": return JSON.stringify(value);
    case "symbol": return value.toString();
    case "function": return `function ${value.name}`;
    case "undefined": return "undefined";
  }
  if (value === null) return "null";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Date(invalid)" : `Date(${value.toISOString()})`;
  if (value instanceof Error) return `${value.constructor.name}`;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `${value.constructor.name}[${Array.from(value, (x) => show(x, depth + 1)).join(",")}]`;
  }
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (Array.isArray(value)) return `[${value.map((x) => show(x, depth + 1)).join(",")}]`;
  if (value instanceof Map) return `Map{${[...value].map(([k, v]) => `${show(k, depth + 1)}=>${show(v, depth + 1)}`).join(",")}}`;
  if (value instanceof Set) return `Set{${[...value].map((x) => show(x, depth + 1)).join(",")}}`;
  if (value instanceof RegExp) return String(value);
  const keys = Object.keys(value);
  return `{${keys.map((k) => `${k}:${show(value[k], depth + 1)}`).join(",")}}`;
}

const T0 = Date.UTC(2021, 2, 28, 0, 59, 59);  // an hour before Europe's spring change
const SUMMER = Date.UTC(2024, 6, 4, 15, 30, 45, 123);
const WINTER = Date.UTC(2023, 11, 31, 23, 59, 59, 999);
const LOCALES = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "zh-CN", "ar-EG", "hi-IN", "ru-RU", "es-MX"];
const ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"];

const cases = [];
const add = (name, fn) => cases.push([name, fn]);

// --- Date, local and UTC -----------------------------------------------------
for (const [label, t] of [["summer", SUMMER], ["winter", WINTER], ["change", T0], ["epoch", 0], ["old", -2208988800000]]) {
  const d = () => new Date(t);
  add(`date.${label}.toString`, () => d().toString());
  add(`date.${label}.toDateString`, () => d().toDateString());
  add(`date.${label}.toTimeString`, () => d().toTimeString());
  add(`date.${label}.toUTCString`, () => d().toUTCString());
  add(`date.${label}.toISOString`, () => d().toISOString());
  add(`date.${label}.toJSON`, () => d().toJSON());
  add(`date.${label}.offset`, () => d().getTimezoneOffset());
  add(`date.${label}.local-fields`, () => [d().getFullYear(), d().getMonth(), d().getDate(), d().getDay(), d().getHours(), d().getMinutes()]);
  add(`date.${label}.utc-fields`, () => [d().getUTCFullYear(), d().getUTCMonth(), d().getUTCDate(), d().getUTCDay(), d().getUTCHours()]);
  add(`date.${label}.toLocaleString`, () => d().toLocaleString());
  add(`date.${label}.toLocaleDateString`, () => d().toLocaleDateString());
  add(`date.${label}.toLocaleTimeString`, () => d().toLocaleTimeString());
}
add("date.local-constructor", () => new Date(2021, 2, 28, 2, 30).getTime());
add("date.local-constructor-fall", () => new Date(2021, 9, 31, 2, 30).getTime());
add("date.setHours-across-change", () => { const d = new Date(2021, 2, 27, 12); d.setDate(28); d.setHours(3); return d.getTime(); });
for (const text of ["2020-01-01", "2020-01-01T00:00", "2020-01-01T00:00Z", "2020-01-01T00:00:00.000+05:30", "March 7, 2021",
  "2021/03/07 10:00", "Tue, 01 Jan 2030 00:00:00 GMT", "Thu Jan 01 1970 00:00:00 GMT+0100", "not a date", "2021-02-30",
  "+275760-09-13T00:00:00.000Z", "-000001-01-01T00:00:00Z"]) {
  add(`date.parse ${text}`, () => Date.parse(text));
}
add("date.UTC", () => [Date.UTC(2020), Date.UTC(2020, 1, 29, 12), Date.UTC(-1, 0)]);
add("date.invalid", () => [String(new Date(NaN)), new Date(NaN).getTime()]);
add("date.invalid-toISOString", () => new Date(NaN).toISOString());
add("date.max", () => [new Date(8.64e15).toISOString(), new Date(8.64e15 + 1).getTime()]);
add("date.default-zone", () => Intl.DateTimeFormat().resolvedOptions().timeZone);

// --- Intl --------------------------------------------------------------------
for (const locale of LOCALES) {
  add(`intl.dtf.${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long", timeZone: "UTC" }).format(SUMMER));
  add(`intl.dtf-short.${locale}`, () => new Intl.DateTimeFormat(locale).format(WINTER));
  add(`intl.nf.${locale}`, () => new Intl.NumberFormat(locale).format(1234567.891));
  add(`intl.nf-currency.${locale}`, () => new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(-1234.5));
  add(`intl.nf-compact.${locale}`, () => new Intl.NumberFormat(locale, { notation: "compact" }).format(1234567));
  add(`intl.nf-unit.${locale}`, () => new Intl.NumberFormat(locale, { style: "unit", unit: "kilometer-per-hour", unitDisplay: "long" }).format(50));
  add(`intl.plural.${locale}`, () => [0, 1, 2, 5, 11, 21, 101].map((n) => new Intl.PluralRules(locale).select(n)));
  add(`intl.plural-ordinal.${locale}`, () => [1, 2, 3, 4, 11, 22].map((n) => new Intl.PluralRules(locale, { type: "ordinal" }).select(n)));
  add(`intl.rtf.${locale}`, () => [-1, 0, 1, 3].map((n) => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(n, "day")));
  add(`intl.list.${locale}`, () => new Intl.ListFormat(locale, { type: "conjunction" }).format(["a", "b", "c"]));
  add(`intl.list-or.${locale}`, () => new Intl.ListFormat(locale, { type: "disjunction" }).format(["a", "b"]));
  add(`intl.display-region.${locale}`, () => new Intl.DisplayNames(locale, { type: "region" }).of("DE"));
  add(`intl.display-language.${locale}`, () => new Intl.DisplayNames(locale, { type: "language" }).of("fr-CA"));
  add(`intl.display-currency.${locale}`, () => new Intl.DisplayNames(locale, { type: "currency" }).of("JPY"));
  add(`intl.collator.${locale}`, () => ["z", "a", "ä", "Z", "é", "e", "ß", "10", "9"].sort(new Intl.Collator(locale).compare));
  add(`intl.toLocaleString.${locale}`, () => (1234.5).toLocaleString(locale));
  add(`intl.date-toLocaleString.${locale}`, () => new Date(SUMMER).toLocaleString(locale, { timeZone: "UTC" }));
}
for (const zone of ZONES) {
  add(`intl.zone.${zone}`, () => new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "long", hour: "numeric", minute: "numeric" }).format(SUMMER));
  add(`intl.zone-short.${zone}`, () => new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "short", dateStyle: "medium", timeStyle: "medium" }).format(WINTER));
  add(`intl.zone-parts.${zone}`, () => new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" }).formatToParts(T0).map((p) => `${p.type}=${p.value}`).join("|"));
  add(`intl.zone-resolved.${zone}`, () => new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone);
}
add("intl.zone-lowercase", () => new Intl.DateTimeFormat("en", { timeZone: "europe/paris" }).resolvedOptions().timeZone);
add("intl.zone-invalid", () => new Intl.DateTimeFormat("en", { timeZone: "Mars/Olympus" }));
add("intl.dtf-range", () => new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" }).formatRange(WINTER, SUMMER));
add("intl.dtf-calendar-japanese", () => new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long", year: "numeric", timeZone: "UTC" }).format(SUMMER));
add("intl.dtf-calendar-hebrew", () => new Intl.DateTimeFormat("en-u-ca-hebrew", { dateStyle: "long", timeZone: "UTC" }).format(SUMMER));
add("intl.dtf-hour12", () => new Intl.DateTimeFormat("en-US", { hour: "numeric", hour12: false, timeZone: "UTC" }).format(SUMMER));
add("intl.dtf-fractional", () => new Intl.DateTimeFormat("en", { second: "numeric", fractionalSecondDigits: 3, timeZone: "UTC" }).format(SUMMER));
add("intl.dtf-dayPeriod", () => new Intl.DateTimeFormat("en", { hour: "numeric", dayPeriod: "long", timeZone: "UTC" }).format(SUMMER));
add("intl.nf-parts", () => new Intl.NumberFormat("de-DE", { style: "currency", currency: "USD" }).formatToParts(-0.5).map((p) => `${p.type}=${p.value}`).join("|"));
add("intl.nf-percent", () => new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 2 }).format(0.12345));
add("intl.nf-scientific", () => new Intl.NumberFormat("en", { notation: "scientific" }).format(123456));
add("intl.nf-engineering", () => new Intl.NumberFormat("en", { notation: "engineering" }).format(123456));
add("intl.nf-sign", () => [-1, 0, 1].map((n) => new Intl.NumberFormat("en", { signDisplay: "exceptZero" }).format(n)));
add("intl.nf-bigint", () => new Intl.NumberFormat("en").format(12345678901234567890n));
add("intl.nf-significant", () => new Intl.NumberFormat("en", { maximumSignificantDigits: 3 }).format(0.000123456));
add("intl.nf-accounting", () => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", currencySign: "accounting" }).format(-5));
add("intl.nf-invalid-currency", () => new Intl.NumberFormat("en", { style: "currency" }));
add("intl.collator-numeric", () => ["10", "9", "1"].sort(new Intl.Collator("en", { numeric: true }).compare));
add("intl.collator-base", () => new Intl.Collator("en", { sensitivity: "base" }).compare("a", "Á"));
add("intl.collator-sv", () => ["z", "ä", "a", "ö"].sort(new Intl.Collator("sv").compare));
add("intl.locale", () => { const l = new Intl.Locale("en-Latn-US-u-ca-gregory-hc-h12"); return [l.baseName, l.calendar, l.hourCycle, l.language, l.region, l.script]; });
add("intl.locale-maximize", () => [new Intl.Locale("zh").maximize().toString(), new Intl.Locale("en-Latn-US").minimize().toString()]);
add("intl.getCanonicalLocales", () => Intl.getCanonicalLocales(["EN-us", "zh-hant-tw"]));
add("intl.supportedLocalesOf", () => Intl.NumberFormat.supportedLocalesOf(["en-US", "de", "xx-XX"]));
add("intl.invalid-locale", () => new Intl.NumberFormat("not a locale!"));
add("intl.rtf-parts", () => new Intl.RelativeTimeFormat("en").formatToParts(-3.5, "hours").map((p) => `${p.type}=${p.value}`).join("|"));
add("intl.display-script", () => new Intl.DisplayNames("en", { type: "script" }).of("Cyrl"));

// --- Strings, normalisation, comparison ---------------------------------------
for (const form of ["NFC", "NFD", "NFKC", "NFKD"]) {
  add(`string.normalize.${form}`, () => ["é", "e\u0301", "ﬁ", "Å", "①", "한"].map((s) => [...s.normalize(form)].map((c) => c.codePointAt(0).toString(16)).join(" ")));
}
add("string.normalize-invalid", () => "a".normalize("NFX"));
add("string.localeCompare", () => ["a", "b", "ä", "A"].map((x) => x.localeCompare("b")));
add("string.localeCompare-de", () => "ä".localeCompare("z", "de"));
add("string.localeCompare-sv", () => "ä".localeCompare("z", "sv"));
add("string.toLocaleUpperCase-tr", () => "istanbul".toLocaleUpperCase("tr-TR"));
add("string.toLocaleLowerCase-tr", () => "I".toLocaleLowerCase("tr"));
add("string.toUpperCase-special", () => "straße ǆ ﬁ".toUpperCase());
add("string.code-points", () => [..."👍🏽é😀"].map((c) => c.codePointAt(0)));
add("string.at-pad-replace", () => ["abc".at(-1), "5".padStart(3, "0"), "a-b-c".replaceAll("-", "+"), "  x ".trimEnd()]);
add("string.raw", () => String.raw`a\n${1}b`);
add("string.fromCodePoint", () => String.fromCodePoint(0x1f600, 97));
add("string.fromCodePoint-invalid", () => String.fromCodePoint(0x110000));
add("string.lone-surrogate-json", () => JSON.stringify("\ud800x\udc00"));
add("string.split-regex", () => "a1b22c333".split(/\d+/));
add("string.localeCompare-numeric", () => "a10".localeCompare("a9", undefined, { numeric: true }));

// --- Regular expressions -------------------------------------------------------
add("regexp.property-letters", () => "héllo wörld 123 Ωμέγα".match(/\p{L}+/gu));
add("regexp.property-script", () => "alpha αβγ кириллица".match(/\p{Script=Greek}+/u)[0]);
add("regexp.property-emoji", () => "hi 😀 there 👍🏽".match(/\p{Emoji_Presentation}/gu));
add("regexp.property-general", () => /^\p{Lu}\p{Ll}+$/u.test("Ünïcode"));
add("regexp.property-invalid", () => new RegExp("\\p{NotAProperty}", "u"));
add("regexp.named-groups", () => "2024-07-04".match(/(?<y>\d{4})-(?<m>\d\d)-(?<d>\d\d)/).groups);
add("regexp.lookbehind", () => "$10 €20 $30".match(/(?<=\$)\d+/g));
add("regexp.indices", () => /b(c)/d.exec("abcd").indices);
add("regexp.sticky", () => { const r = /a/y; r.lastIndex = 1; return [r.test("ba"), r.lastIndex]; });
add("regexp.matchAll", () => [..."a1b2".matchAll(/[a-z](\d)/g)].map((m) => m[1]));
add("regexp.case-insensitive-unicode", () => /ſ/iu.test("S"));
add("regexp.dotAll", () => /a.b/s.test("a\nb"));
add("regexp.flags", () => /x/dgimsuy.flags);

// --- Typed arrays, ArrayBuffer, DataView ----------------------------------------
add("typed.float32-rounding", () => Array.from(new Float32Array([0.1, 1 / 3, 1e40])));
add("typed.clamped", () => new Uint8ClampedArray([-5, 1.5, 2.5, 300]));
add("typed.bigint64", () => new BigInt64Array([2n ** 63n - 1n, -1n]));
add("typed.biguint64-wrap", () => new BigUint64Array([-1n]));
add("typed.dataview", () => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, Math.PI); return [v.getUint32(0), v.getUint32(4, true), v.getInt16(2, true)]; });
add("typed.subarray-set", () => { const a = new Int16Array([1, 2, 3, 4]); a.subarray(1, 3).set([9, 8]); return a; });
add("typed.sort", () => new Float64Array([3, -0, 0, NaN, -Infinity, 1]).sort());
add("typed.at-includes", () => { const a = new Uint8Array([1, 2, 3]); return [a.at(-1), a.includes(2), a.indexOf(3)]; });
add("typed.from-map", () => Int8Array.from([127, 128, 255], (x) => x));
add("typed.out-of-range", () => new Uint8Array(-1));
add("typed.slice-buffer", () => new Uint8Array(new Uint8Array([1, 2, 3, 4]).buffer.slice(1, 3)));
add("typed.resizable", () => typeof ArrayBuffer.prototype.resize);

// --- BigInt ----------------------------------------------------------------------
add("bigint.arith", () => [2n ** 100n, -7n / 2n, -7n % 2n, 5n * -3n, 1n << 70n, -1n >> 1n]);
add("bigint.asIntN", () => [BigInt.asIntN(8, 255n), BigInt.asUintN(8, -1n), BigInt.asIntN(64, 2n ** 63n)]);
add("bigint.toString", () => [(255n).toString(16), (-255n).toString(36), BigInt("0x1f"), BigInt(" 42 ")]);
add("bigint.mix", () => 1n + 1);
add("bigint.parse-invalid", () => BigInt("1.5"));
add("bigint.compare", () => [1n < 2, 2n == 2, 2n === 2, [3n, 1, 2n].sort()]);
add("bigint.json", () => JSON.stringify({ a: 1n }));

// --- Atomics and shared memory ------------------------------------------------------
add("atomics.basic", () => { const a = new Int32Array(new SharedArrayBuffer(16)); Atomics.add(a, 0, 5); Atomics.sub(a, 0, 2); Atomics.compareExchange(a, 1, 0, 7); return [Atomics.load(a, 0), a[1], Atomics.exchange(a, 2, 9), Atomics.isLockFree(4)]; });
add("atomics.notify", () => Atomics.notify(new Int32Array(new SharedArrayBuffer(4)), 0, 1));
add("atomics.wait-timeout", () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0));
add("atomics.non-shared", () => Atomics.wait(new Int32Array(4), 0, 0, 0));

// --- Proxy and Reflect --------------------------------------------------------------
add("proxy.traps", () => { const log = []; const p = new Proxy({ a: 1 }, { get(t, k, r) { log.push(`get ${String(k)}`); return Reflect.get(t, k, r); }, has(t, k) { log.push(`has ${String(k)}`); return k in t; }, ownKeys(t) { log.push("ownKeys"); return Reflect.ownKeys(t); } }); void p.a; void ("b" in p); Object.keys(p); return log; });
add("proxy.revocable", () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy.x; });
add("proxy.invariant", () => { const t = {}; Object.defineProperty(t, "x", { value: 1 }); return new Proxy(t, { get: () => 2 }).x; });
add("reflect.construct", () => { class A { constructor(x) { this.x = x; } } class B {} const o = Reflect.construct(A, [3], B); return [o.x, o instanceof B]; });
add("reflect.ownKeys-order", () => Reflect.ownKeys({ b: 1, 2: 1, a: 1, 1: 1, [Symbol.iterator]: 1 }).map(String));
add("reflect.apply-defineProperty", () => [Reflect.apply(Math.max, null, [1, 3, 2]), Reflect.defineProperty(Object.freeze({}), "x", { value: 1 })]);

// --- Generators and async iteration ----------------------------------------------------
add("generator.spread", () => { function* g() { yield 1; yield* [2, 3]; return 4; } return [...g()]; });
add("generator.return-throw", () => { function* g() { try { yield 1; yield 2; } finally { yield 3; } } const it = g(); return [it.next(), it.return(9), it.next(), it.next()].map((r) => `${r.value}/${r.done}`); });
add("generator.throw", () => { function* g() { try { yield 1; } catch (e) { yield `caught ${e}`; } } const it = g(); it.next(); return it.throw("x").value; });
add("async.for-await", async () => { async function* g() { for (let i = 0; i < 3; i++) { await null; yield i; } } const out = []; for await (const x of g()) out.push(x); return out; });
add("async.for-await-sync-iterable", async () => { const out = []; for await (const x of [Promise.resolve(1), 2]) out.push(x); return out; });
add("async.order", async () => { const log = []; const p = Promise.resolve().then(() => log.push("then")); queueMicrotask(() => log.push("micro")); await p; await null; return log; });
add("async.allSettled-any", async () => [(await Promise.allSettled([Promise.reject(new Error("x")), 1])).map((r) => r.status), await Promise.any([Promise.reject(1), Promise.resolve(2)])]);
add("async.any-aggregate", async () => { try { await Promise.any([Promise.reject(1)]); } catch (e) { return [e.constructor.name, e.errors]; } });

// --- JSON ---------------------------------------------------------------------------------
add("json.stringify", () => JSON.stringify({ a: [1, { b: undefined, c: () => 1, d: NaN, e: -0 }], f: "é\u2028" }, null, 2));
add("json.replacer-array", () => JSON.stringify({ b: 1, a: 2, c: 3 }, ["a", "b"]));
add("json.reviver", () => JSON.parse('{"a":1,"b":[2,3]}', (k, v) => (typeof v === "number" ? v * 10 : v)));
add("json.parse-errors", () => JSON.parse("{'a':1}"));
add("json.big-number", () => JSON.parse("12345678901234567890"));
add("json.nested-depth", () => JSON.parse("[".repeat(1000) + "]".repeat(1000)).length);
add("json.toJSON", () => JSON.stringify({ toJSON() { return { x: 1 }; } }));
add("json.cycle", () => { const o = {}; o.o = o; return JSON.stringify(o); });

// --- Math and numbers ------------------------------------------------------------------------
add("math.trig", () => [Math.sin(1), Math.cos(1), Math.tan(1), Math.atan2(1, 2), Math.asin(0.5), Math.sinh(1), Math.atanh(0.5)]);
add("math.big-arguments", () => [Math.sin(1e300), Math.cos(1e22), Math.exp(709), Math.exp(710)]);
add("math.exp-log", () => [Math.exp(1), Math.log(10), Math.log2(8), Math.log10(1000), Math.expm1(1e-10), Math.log1p(1e-10), Math.cbrt(27), Math.pow(2, 0.5)]);
add("math.misc", () => [Math.hypot(3, 4, 12), Math.fround(5.5), Math.fround(5.05), Math.round(-0.5), Math.round(2.5), Math.trunc(-4.7), Math.sign(-3), Math.clz32(1), Math.imul(3, -4), Math.max(), Math.min(NaN, 1)]);
add("number.to-string", () => [0.1 + 0.2, 1e21, 1e-7, 123e-20, 2 ** 53 + 1, -0, 5e-324, 1.7976931348623157e308]);
add("number.radix", () => [(255).toString(2), (255).toString(36), (0.5).toString(2), (-17.25).toString(16), (0.1).toString(3)]);
add("number.fixed-precision", () => [(1.005).toFixed(2), (1e21).toFixed(2), (123.456).toPrecision(4), (0.00001).toPrecision(1), (123456).toExponential(2), (0).toExponential()]);
add("number.parse", () => [Number("0x1f"), Number("0b101"), Number(""), Number(" 12 "), Number("1e3"), parseInt("08"), parseFloat("3.14abc"), Number("1_000")]);
add("number.toFixed-range", () => (1).toFixed(101));
add("number.locale", () => [(1234.5678).toLocaleString(), (1234.5678).toLocaleString("de-DE", { maximumFractionDigits: 1 })]);
add("number.statics", () => [Number.isInteger(5.0), Number.isSafeInteger(2 ** 53), Number.EPSILON > 0, Number.MAX_SAFE_INTEGER]);

// --- WebAssembly ----------------------------------------------------------------------------------
// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
//         (memory (export "mem") 1))
const WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1,
  7, 13, 2, 3, 97, 100, 100, 0, 0, 3, 109, 101, 109, 2, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1, 106, 11]);
add("wasm.validate", () => [WebAssembly.validate(WASM), WebAssembly.validate(new Uint8Array([0, 97, 115, 109]))]);
add("wasm.instantiate-sync", () => { const m = new WebAssembly.Module(WASM); const i = new WebAssembly.Instance(m, {}); return [i.exports.add(2, 40), i.exports.add(2 ** 31 - 1, 1), i.exports.mem.buffer.byteLength]; });
add("wasm.instantiate-async", async () => { const { instance, module } = await WebAssembly.instantiate(WASM); return [instance.exports.add(1, 2), WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`)]; });
add("wasm.compile", async () => (await WebAssembly.compile(WASM)) instanceof WebAssembly.Module);
add("wasm.memory-grow", () => { const m = new WebAssembly.Memory({ initial: 1, maximum: 3 }); const before = m.grow(2); return [before, m.buffer.byteLength]; });
add("wasm.compile-error", () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99])));
add("wasm.table-global", () => { const t = new WebAssembly.Table({ initial: 2, element: "anyfunc" }); const g = new WebAssembly.Global({ value: "i32", mutable: true }, 7); g.value = 8; return [t.length, g.value]; });

// --- ES2023 methods and Intl.Segmenter (added to SpiderMonkey 102 by the runtime) -------------------
const PEOPLE = [{ n: "b", a: 30 }, { n: "a", a: 25 }, { n: "c", a: 30 }, { n: "d", a: 20 }];
add("es2023.findLast", () => [PEOPLE.findLast((p) => p.a === 30).n, PEOPLE.findLastIndex((p) => p.a > 99), [1, , 3].findLast((x) => x === undefined)]);
add("es2023.findLast-arraylike", () => Array.prototype.findLastIndex.call({ length: 3, 0: "x", 2: "x" }, (v) => v === "x"));
add("es2023.toSorted", () => [PEOPLE.toSorted((x, y) => x.a - y.a).map((p) => p.n), PEOPLE.map((p) => p.n), [10, 9, 1, undefined, , 2].toSorted()]);
add("es2023.toSorted-bad-comparator", () => [].toSorted("nope"));
add("es2023.toReversed", () => [[1, , 3].toReversed(), Array.prototype.toReversed.call({ length: 2, 0: "a", 1: "b" })]);
add("es2023.toSpliced", () => [[1, 2, 3, 4].toSpliced(1, 2, "x", "y", "z"), [1, 2, 3].toSpliced(-1), [1, 2, 3].toSpliced(), [1, 2].toSpliced(1, 0, 9)]);
add("es2023.toSpliced-too-long", () => Array.prototype.toSpliced.call({ length: 2 ** 53 - 1 }, 0, 0, 1));
add("es2023.with", () => [[1, 2, 3].with(1, "b"), [1, 2, 3].with(-1, "c"), [, 2].with(1, 0)]);
add("es2023.with-range", () => [1, 2, 3].with(3, 0));
add("es2023.array-length-limit", () => Array.prototype.toReversed.call({ length: 2 ** 32 }));
add("es2023.unscopables", () => Object.keys(Array.prototype[Symbol.unscopables]));
add("es2023.descriptors", () => ["findLast", "findLastIndex", "toSorted", "toReversed", "toSpliced", "with"].map((m) => { const d = Object.getOwnPropertyDescriptor(Array.prototype, m); return `${d.value.name}/${d.value.length}/${d.writable}${d.enumerable}${d.configurable}`; }));
add("es2023.typed", () => { const t = new Int16Array([5, -3, 0, 9]); return [t.toSorted(), t.toReversed(), t.with(0, 70000), t.findLast((x) => x < 0), t.findLastIndex((x) => x > 100), t]; });
add("es2023.typed-floats", () => new Float64Array([3, NaN, -0, 0, -Infinity]).toSorted());
add("es2023.typed-bigint", () => [new BigInt64Array([3n, -1n]).toSorted(), new BigUint64Array([1n]).with(0, -1n)]);
add("es2023.typed-with-type", () => new BigInt64Array(1).with(0, 1));
add("es2023.typed-with-range", () => new Uint8Array(2).with(2, 0));
add("es2023.typed-no-toSpliced", () => "toSpliced" in Uint8Array.prototype);
add("es2023.typed-species-ignored", () => { const t = new Uint8Array([2, 1]); t.constructor = Float32Array; return t.toSorted(); });
add("es2023.typed-receiver", () => Uint8Array.prototype.toReversed.call([1]));
add("es2023.wellFormed", () => ["abc", "a\ud800", "\udc00b", "\ud83d\ude00", "x\ud800\ud800\udc00"].map((s) => [s.isWellFormed(), escape(s.toWellFormed())]));
add("es2023.wellFormed-null", () => String.prototype.toWellFormed.call(null));
add("regexp.v-flag", () => new RegExp("[\\p{L}--[a-z]]", "v").test("B"));
const SEGMENT_TEXTS = ["Hello, world 42! How are you?", "e\u0301👨‍👩‍👧🇫🇷\r\n", "今日は良い天気です。", "Mr. Smith arrived at 5 p.m. today. He left!", "", "ab\ud800cd"];
for (const [locale, granularity] of [["en", "grapheme"], ["en", "word"], ["en", "sentence"], ["ja", "word"], ["de", "word"]]) {
  add(`intl.segmenter.${locale}.${granularity}`, () => SEGMENT_TEXTS.map((text) => [...new Intl.Segmenter(locale, { granularity }).segment(text)].map((s) => `${s.index}:${s.segment}${s.isWordLike ? "*" : ""}`)));
}
add("intl.segmenter.containing", () => { const s = new Intl.Segmenter("en", { granularity: "word" }).segment("one two"); return [s.containing(0), s.containing(3), s.containing(6), s.containing(7), s.containing(-1)]; });
add("intl.segmenter.resolved", () => [new Intl.Segmenter("de-CH-u-co-phonebk", { granularity: "sentence" }).resolvedOptions(), Intl.Segmenter.supportedLocalesOf(["de-CH", "zh-Hant-TW"])]);
add("intl.segmenter.bad-granularity", () => new Intl.Segmenter("en", { granularity: "line" }));
add("intl.segmenter.shape", () => [Intl.Segmenter.length, Object.prototype.toString.call(new Intl.Segmenter()), typeof Intl.Segmenter.prototype.segment("x")[Symbol.iterator]]);

// --- Everyday objects --------------------------------------------------------------------------------
add("array.sort-stable", () => [{ k: 1, v: "a" }, { k: 0, v: "b" }, { k: 1, v: "c" }, { k: 0, v: "d" }].sort((x, y) => x.k - y.k).map((x) => x.v).join(""));
add("array.flat-includes", () => [[1, [2, [3]]].flat(Infinity), [NaN].includes(NaN), [NaN].indexOf(NaN), Array.from({ length: 3 }, (_, i) => i * 2)]);
add("array.copyWithin-fill", () => [[1, 2, 3, 4, 5].copyWithin(0, 3), new Array(3).fill(0)]);
add("object.entries-hasOwn", () => [Object.entries({ a: 1, b: 2 }), Object.hasOwn({ x: 1 }, "x"), Object.fromEntries([["a", 1]])]);
add("error.cause", () => new Error("x", { cause: 42 }).cause);
add("class.private-static", () => { class C { #x = 1; static #count = 2; static s() { return C.#count; } get x() { return this.#x; } static has(o) { return #x in o; } } return [new C().x, C.s(), C.has(new C()), C.has({})]; });
add("map-set-weak", () => { const m = new Map([[1, "a"]]); const s = new Set([1, 1, 2]); const w = new WeakMap([[{}, 1]]); return [m.get(1), s.size, w instanceof WeakMap]; });
add("symbol.description", () => [Symbol("d").description, Symbol.for("k") === Symbol.for("k"), Symbol.asyncIterator.toString()]);
add("globalThis.structuredClone", () => { const o = { d: new Date(0), m: new Map([[1, 2]]), r: /x/g }; const c = structuredClone(o); return [c.d.getTime(), c.m.get(1), c.r.flags, c !== o]; });
add("optional-nullish", () => [null ?? "d", undefined?.x, ({ a: { b: 0 } }).a?.b || "f", (() => { let x = null; x ??= 5; return x; })()]);
add("string.template-tag", () => ((s, ...v) => s.raw.join("|") + v.join(","))`a${1}b${2}c`);
add("label-getter-setter", () => { const o = { _v: 1, get v() { return this._v; }, set v(x) { this._v = x * 2; } }; o.v = 4; return o.v; });

// --- URL and Web Crypto globals ------------------------------------------------------------
add("url.parse-components", () => { const u = new URL("HTTPS://User:Pw@EXAMPLE.com:443/a/./b/../c?x=1#y"); return [u.href, u.origin, u.host, u.pathname]; });
add("url.idna", () => [new URL("http://faß.example/").host, new URL("http://münchen.de/").host, new URL("http://0x7f.1/").host]);
add("url.invalid", () => new URL("http://[::1"));
add("url.searchParams-live", () => { const u = new URL("http://a/?b=1"); u.searchParams.append("c", "d e"); return u.href; });
add("url.canParse", () => `${URL.canParse("x")} ${URL.canParse("x", "http://a/")}`);
add("crypto.subtle-digest", async () => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc"))));
add("crypto.subtle-hmac", async () => { const k = await crypto.subtle.importKey("raw", new Uint8Array([1, 2, 3]), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]); return new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array([4]))); });

// --- WeakRef and FinalizationRegistry (what does not depend on when GC runs) ---------------
add("weakref.deref", () => { const o = { a: 1 }; const r = new WeakRef(o); return [r.deref() === o, r.deref().a, Object.prototype.toString.call(r)]; });
add("weakref.primitive", () => new WeakRef(1));
add("weakref.symbol-registered", () => new WeakRef(Symbol.for("x")));
add("weakref.kept-during-job", async () => { const r = new WeakRef({ v: 7 }); await null; return r.deref()?.v; });
add("finreg.register-unregister", () => { const f = new FinalizationRegistry(() => {}); const token = {}; return [f.register({}, "held", token), f.unregister(token), f.unregister(token), Object.prototype.toString.call(f)]; });
add("finreg.target-is-held", () => { const f = new FinalizationRegistry(() => {}); const o = {}; f.register(o, o); });
add("finreg.non-object", () => new FinalizationRegistry(() => {}).register(1, "x"));
add("finreg.no-callback", () => new FinalizationRegistry(5));

export async function handle(conn) {
  for (const [name, fn] of cases) {
    let line;
    try {
      line = show(await fn());
    } catch (error) {
      line = `throws ${error?.constructor?.name ?? typeof error}`;
    }
    conn.write(`${name}\t${line}\n`);
  }
  conn.end(`cases\t${cases.length}\n`);
}
