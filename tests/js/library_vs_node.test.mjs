// Runs the runtime library in worker/js/ under Node (natives from
// native_shim.mjs) and compares it with Node's own implementation on the same
// inputs. Run with: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeBufferModule from "node:buffer";
import { StringDecoder as NodeStringDecoder } from "node:string_decoder";
import NodeEventEmitter from "node:events";
import util from "node:util";
import { install } from "./native_shim.mjs";

install();
const lib = new URL("../../worker/js/", import.meta.url);
const ours = {};
for (const name of ["errors", "inspect", "buffer", "events", "string_decoder", "text_coding", "dom_events"]) {
  ours[name] = await import(new URL(`${name}.js`, lib));
}
const OurBuffer = ours.buffer.Buffer;
const NodeBuffer = nodeBufferModule.Buffer;

// Outcomes -------------------------------------------------------------------------

function describeError(error) {
  if (!(error instanceof Error) && !(error instanceof ours.dom_events.DOMException)) {
    return { thrown: error };
  }
  return {
    name: error.name,
    code: error.code,
    message: error.message,
    string: String(error),
    isTypeError: error instanceof TypeError,
    isRangeError: error instanceof RangeError,
  };
}

// A structure deepStrictEqual can compare across the two implementations.
function normalize(value, seen = new Set()) {
  if (value instanceof Uint8Array) {
    const kind = OurBuffer.isBuffer(value) || NodeBuffer.isBuffer(value) ? "Buffer" : value.constructor.name;
    return { [kind]: Array.from(value) };
  }
  if (ArrayBuffer.isView(value)) return { [value.constructor.name]: Array.from(value) };
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => normalize(v, seen));
  const out = {};
  for (const key of Object.keys(value)) out[key] = normalize(value[key], seen);
  return out;
}

function outcome(fn) {
  try {
    return { value: normalize(fn()) };
  } catch (error) {
    return { error: describeError(error) };
  }
}

function same(label, fn, oursImpl, nodeImpl) {
  const actual = outcome(() => fn(oursImpl));
  const expected = outcome(() => fn(nodeImpl));
  assert.deepStrictEqual(actual, expected, label);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

// Buffer ---------------------------------------------------------------------------

const encodings = ["utf8", "utf-8", "UTF8", "utf16le", "utf-16le", "ucs2", "ucs-2", "UCS2", "latin1",
  "binary", "ascii", "base64", "BASE64", "base64url", "hex", "Hex"];

const sampleStrings = [
  "", "a", "hello world", "héllo wörld", "€uro", "😀 emoji", "\ud800 lone high", "lone low \udc00",
  "\u0000\u007f\u0080\u00ff", "日本語テキスト", "aGVsbG8gd29ybGQ=", "aGVsbG8", "aGVs bG8=\n",
  "_-_-", "+/+/", "abc=def", "deadbeef", "DEADBEEF", "abz", "a", "abc", "0g12", "==",
];

const byteSamples = [
  [], [0], [0x41], [0xff, 0xfe, 0x41, 0x00], [0xe2, 0x82, 0xac], [0xe2, 0x82], [0xf0, 0x9f, 0x98, 0x80],
  [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80, 0x81, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x3d, 0xd8, 0x00, 0xde],
  [0x3d, 0xd8], [0x41, 0x42, 0x43, 0x44, 0x45], Array.from({ length: 64 }, (_, i) => i * 4 & 255),
];

test("Buffer.from(string, encoding), toString and byteLength agree with Node", () => {
  for (const encoding of [...encodings, undefined, "", "bogus", null]) {
    for (const string of sampleStrings) {
      const label = `${JSON.stringify(string)} ${encoding}`;
      same(`from ${label}`, (B) => B.from(string, encoding), OurBuffer, NodeBuffer);
      same(`byteLength ${label}`, (B) => B.byteLength(string, encoding), OurBuffer, NodeBuffer);
      same(`roundtrip ${label}`, (B) => B.from(string, encoding).toString(encoding), OurBuffer, NodeBuffer);
    }
    for (const bytes of byteSamples) {
      const label = `${hex(bytes)} ${encoding}`;
      same(`toString ${label}`, (B) => B.from(bytes).toString(encoding), OurBuffer, NodeBuffer);
      for (const [start, end] of [[1, undefined], [0, 2], [-1, 2], [2, 1], ["1", "3"], [1.5, 3.7],
        [NaN, 2], [0, 100]]) {
        same(`toString ${label} ${start} ${end}`, (B) => B.from(bytes).toString(encoding, start, end),
          OurBuffer, NodeBuffer);
      }
    }
  }
});

test("Buffer.from accepts Node's argument forms", () => {
  const ab = new Uint8Array([1, 2, 3, 4, 5]).buffer;
  const forms = [
    (B) => B.from([1, 2, 256, -1, 1.5, "7", "x", null]),
    (B) => B.from(new Uint16Array([1, 256, 65535])),
    (B) => B.from(new Float64Array([1.9, -1])),
    (B) => B.from(ab),
    (B) => B.from(ab, 1),
    (B) => B.from(ab, 1, 2),
    (B) => B.from(ab, "1", "2"),
    (B) => B.from(ab, NaN),
    (B) => B.from(ab, 6),
    (B) => B.from(ab, 1, 10),
    (B) => B.from(ab, 2, -1),
    (B) => B.from({ length: 3, 0: 9, 1: 8 }),
    (B) => B.from({ length: "3" }),
    (B) => B.from({ type: "Buffer", data: [1, 2, 3] }),
    (B) => B.from(B.from("abc").toJSON()),
    (B) => B.from(new String("str")),
    (B) => B.from({ valueOf: () => "fromValueOf" }),
    (B) => B.from({ [Symbol.toPrimitive]: () => "prim" }, "utf8"),
    (B) => B.from({ [Symbol.toPrimitive]: () => "6869" }, "hex"),
    (B) => B.from(5),
    (B) => B.from(null),
    (B) => B.from(undefined),
    (B) => B.from({}),
    (B) => B.from(Symbol("s")),
    (B) => B.from(() => {}),
    (B) => B.of(1, 2, 300),
    (B) => B.copyBytesFrom(new Uint16Array([1, 2, 3]), 1, 1),
    (B) => B.copyBytesFrom(new Uint16Array([1, 2, 3]), 1),
    (B) => B.copyBytesFrom(new Uint16Array([1, 2, 3]), 5),
    (B) => B.copyBytesFrom([1, 2]),
    (B) => B.copyBytesFrom(new Uint8Array(2), -1),
    (B) => new B(3),
    (B) => B("abc"),
    (B) => B(3, "utf8"),
  ];
  forms.forEach((form, i) => same(`form #${i} ${form}`, form, OurBuffer, NodeBuffer));
});

test("a copied source does not share memory; subarray and slice do", () => {
  for (const B of [OurBuffer, NodeBuffer]) {
    const source = new Uint8Array([1, 2, 3]);
    const copy = B.from(source);
    source[0] = 9;
    assert.equal(copy[0], 1);
    const buf = B.from("abcdef");
    const sub = buf.subarray(1, 3);
    const sliced = buf.slice(2);
    sub[0] = 0x58;
    assert.equal(buf.toString(), "aXcdef");
    assert.equal(sliced.toString(), "cdef");
    assert.ok(B.isBuffer(sub) && B.isBuffer(sliced) && sub instanceof Uint8Array);
    assert.ok(B.isBuffer(buf.map((x) => x)));
    assert.ok(B.isBuffer(buf.filter(() => true)));
  }
  const shared = new Uint8Array(4).buffer;
  const view = OurBuffer.from(shared, 1, 2);
  view[0] = 7;
  assert.equal(new Uint8Array(shared)[1], 7);
});

test("Buffer.alloc, allocUnsafe, concat, compare, isEncoding, isBuffer", () => {
  const cases = [
    (B) => B.alloc(4),
    (B) => B.alloc(0),
    (B) => B.alloc(5, "ab"),
    (B) => B.alloc(5, "abc", "hex"),
    (B) => B.alloc(5, "6162", "hex"),
    (B) => B.alloc(4, "YWJj", "base64"),
    (B) => B.alloc(5, 257),
    (B) => B.alloc(5, B.from([1, 2])),
    (B) => B.alloc(5, new Uint8Array(0)),
    (B) => B.alloc(3, "", "utf8"),
    (B) => B.alloc(3, "x", "bogus"),
    (B) => B.alloc(3, "x", 5),
    (B) => B.alloc(3, true),
    (B) => B.alloc(-1),
    (B) => B.alloc(NaN),
    (B) => B.alloc(2 ** 32 + 1),
    (B) => B.alloc("5"),
    (B) => B.alloc(1.5),
    (B) => B.allocUnsafe(3).length,
    (B) => B.allocUnsafe(-1),
    (B) => B.allocUnsafeSlow("1"),
    (B) => B.concat([B.from("ab"), new Uint8Array([99]), B.from("")]),
    (B) => B.concat([B.from("ab"), B.from("cd")], 3),
    (B) => B.concat([B.from("ab"), B.from("cd")], 6),
    (B) => B.concat([B.from("ab")], 0),
    (B) => B.concat([]),
    (B) => B.concat([B.from("ab"), "cd"]),
    (B) => B.concat([B.from("ab")], -1),
    (B) => B.concat([B.from("ab")], 1.5),
    (B) => B.concat("ab"),
    (B) => B.compare(B.from("a"), B.from("b")),
    (B) => B.compare(B.from("b"), B.from("a")),
    (B) => B.compare(B.from("ab"), B.from("a")),
    (B) => B.compare(B.from("a"), B.from("a")),
    (B) => B.compare(B.from("a"), "a"),
    (B) => B.compare("a", B.from("a")),
    (B) => ["utf8", "UTF-8", "ucs2", "Binary", "hex", "base64url", "", "foo", 5, null, undefined]
      .map((e) => B.isEncoding(e)),
    (B) => [B.from("a"), new Uint8Array(1), "a", null, {}].map((v) => B.isBuffer(v)),
    (B) => B.byteLength(new Uint16Array(3)),
    (B) => B.byteLength(new ArrayBuffer(7)),
    (B) => B.byteLength(new DataView(new ArrayBuffer(5), 1)),
    (B) => B.byteLength(5),
    (B) => B.byteLength({}),
    (B) => B.poolSize,
    (B) => B.name,
    (B) => B.from.length,
  ];
  cases.forEach((c, i) => same(`case #${i} ${c}`, c, OurBuffer, NodeBuffer));
});

test("Buffer prototype: equals, compare, copy, fill, toJSON, swap, subarray, toLocaleString", () => {
  const cases = [
    (B) => B.from("abc").equals(B.from("abc")),
    (B) => B.from("abc").equals(new Uint8Array([97, 98])),
    (B) => B.from("abc").equals("abc"),
    (B) => B.from("abcdef").compare(B.from("bcd"), 0, 3, 1, 4),
    (B) => B.from("abcdef").compare(B.from("bcd")),
    (B) => B.from("abcdef").compare(B.from("bcd"), 1),
    (B) => B.from("abcdef").compare(B.from("bcd"), 5),
    (B) => B.from("abcdef").compare(B.from("bcd"), 0, 5),
    (B) => B.from("abcdef").compare(B.from("bcd"), 0, 2, 3, 3),
    (B) => B.from("abcdef").compare(B.from("bcd"), 2, 2, 3, 4),
    (B) => B.from("abcdef").compare(B.from("bcd"), -1),
    (B) => B.from("abcdef").compare(B.from("bcd"), "1"),
    (B) => B.from("abcdef").compare(B.from("bcd"), 0, 3, 0, 7),
    (B) => B.from("abcdef").compare("x"),
    (B) => { const t = B.alloc(6); return [B.from("abcd").copy(t, 1), t]; },
    (B) => { const t = B.alloc(3); return [B.from("abcdef").copy(t), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, 4, 1, 5), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, 0, 2), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, 10), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, "1", "2", "4"), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, 1.7, 0.5, 3.9), t]; },
    (B) => { const t = B.alloc(6); return [B.from("abcdef").copy(t, NaN, NaN), t]; },
    (B) => B.from("abcdef").copy(B.alloc(6), -1),
    (B) => B.from("abcdef").copy(B.alloc(6), 0, 7),
    (B) => B.from("abcdef").copy(B.alloc(6), 0, 0, -1),
    (B) => B.from("abcdef").copy([]),
    (B) => { const b = B.from("abcdef"); b.copy(b, 2, 0, 4); return b; },
    (B) => B.alloc(5).fill("ab"),
    (B) => B.alloc(5).fill("ab", 1),
    (B) => B.alloc(5).fill("ab", 1, 4),
    (B) => B.alloc(5).fill("ab", "latin1"),
    (B) => B.alloc(5).fill("e9", "hex"),
    (B) => B.alloc(5).fill("e9", 1, "hex"),
    (B) => B.alloc(5).fill("é"),
    (B) => B.alloc(5).fill("é", "latin1"),
    (B) => B.alloc(5).fill("€", 0, 5, "utf8"),
    (B) => B.alloc(5).fill("€", "ucs2"),
    (B) => B.alloc(5).fill("zz", "hex"),
    (B) => B.alloc(5).fill("", 1),
    (B) => B.alloc(5).fill(0x1ff),
    (B) => B.alloc(5).fill(-1, 2),
    (B) => B.alloc(5).fill(1.5),
    (B) => B.alloc(5).fill(1, 3, 2),
    (B) => B.alloc(5).fill(1, -1),
    (B) => B.alloc(5).fill(1, 0, 6),
    (B) => B.alloc(5).fill(1, 1.5),
    (B) => B.alloc(5).fill(1, "1"),
    (B) => B.alloc(5).fill("a", 0, 5, "bogus"),
    (B) => B.alloc(5).fill(new Uint16Array([0x4142])),
    (B) => B.alloc(5).fill(B.from("xyz"), 1),
    (B) => B.alloc(5).fill(null),
    (B) => B.alloc(5).fill({}),
    (B) => B.from("abc").toJSON(),
    (B) => B.alloc(0).toJSON(),
    (B) => JSON.stringify(B.from("hi")),
    (B) => B.from([1, 2, 3, 4]).swap16(),
    (B) => B.from([1, 2, 3, 4, 5, 6, 7, 8]).swap32(),
    (B) => B.from([1, 2, 3, 4, 5, 6, 7, 8]).swap64(),
    (B) => B.from([1, 2, 3]).swap16(),
    (B) => B.from([1, 2, 3]).swap32(),
    (B) => B.from([1, 2, 3]).swap64(),
    (B) => B.from("abcdef").subarray(-2),
    (B) => B.from("abcdef").subarray(2, -1),
    (B) => B.from("abcdef").subarray(4, 2),
    (B) => B.from("abcdef").slice("1", "3"),
    (B) => B.from("abcdef").slice(1.9, 10),
    (B) => B.from("abcdef").slice(NaN, NaN),
    (B) => B.from("abcdef").slice(-100, Infinity),
    (B) => B.from("héllo").toLocaleString(),
    (B) => B.from("héllo").toLocaleString("latin1", 1, 3),
    (B) => [...B.from("ab").entries()],
    (B) => [...B.from("ab").keys()],
    (B) => [...B.from("ab").values()],
    (B) => { const b = B.from("abc"); return [b.parent === b.buffer, b.offset === b.byteOffset]; },
    (B) => B.from("hi").utf8Slice(0, 1),
    (B) => B.from("hi").latin1Slice(-1),
    (B) => B.from("hi").hexSlice(1),
    (B) => B.from("hi").asciiSlice(3),
    (B) => { const b = B.alloc(4); return [b.utf8Write("€", 1), b]; },
    (B) => { const b = B.alloc(4); return [b.hexWrite("abcdef", 1, 1), b]; },
    (B) => B.alloc(4).latin1Write("x", 5),
    (B) => B.alloc(4).ucs2Write(5),
    (B) => Object.keys(B.prototype).join(","),
  ];
  cases.forEach((c, i) => same(`case #${i} ${c}`, c, OurBuffer, NodeBuffer));
});

test("buf.write in all argument forms and encodings", () => {
  const strings = ["hello", "€€€", "😀x", "\ud800", "abcdef", "YWJjZA==", "zz11"];
  const argForms = [
    [], [1], [1, 2], [1, "hex"], [1, 2, "base64"], ["latin1"], ["ucs2"], [0, 3, "utf16le"],
    [7], [8], [-1], [1.5], ["1"], [1, -1], [1, 100], [1, 1.5], [0, 9], [0, undefined, "hex"],
    [undefined, "ascii"], [0, 4, "bogus"], [0, 8, "base64url"],
  ];
  for (const string of strings) {
    for (const args of argForms) {
      same(`write ${JSON.stringify(string)} ${JSON.stringify(args)}`, (B) => {
        const b = B.alloc(8);
        return [b.write(string, ...args), b];
      }, OurBuffer, NodeBuffer);
    }
  }
  same("write non-string", (B) => B.alloc(4).write(5), OurBuffer, NodeBuffer);
  same("write non-string hex", (B) => B.alloc(4).write(5, "hex"), OurBuffer, NodeBuffer);
});

test("indexOf, lastIndexOf and includes with every kind of needle and offset", () => {
  const haystacks = [
    "abcabcabc", "héllo héllo", "", "a", "aaaa", "\u0000b\u0000c", "ab€cd€", "xyzzy",
  ];
  const needles = [
    "abc", "bc", "c", "", "é", "llo", "zz", "€", 0x61, 97 + 256, -159, 0, 99.9, "\u0000",
    "b\u0000", "62", "YmM=", 1000, "not there",
  ];
  const offsets = [undefined, 0, 1, 3, -1, -3, -100, 100, 1.5, "1", "hex", null, NaN, {}, [], [2],
    2 ** 32, -(2 ** 32), Infinity, -Infinity];
  const needleEncodings = [undefined, "utf8", "latin1", "ucs2", "hex", "base64", "ascii", "bogus"];
  for (const hay of haystacks) {
    for (const needle of needles) {
      for (const offset of offsets) {
        for (const enc of needleEncodings) {
          for (const method of ["indexOf", "lastIndexOf", "includes"]) {
            same(`${method} ${JSON.stringify(hay)} ${JSON.stringify(needle)} ${String(offset)} ${enc}`,
              (B) => B.from(hay, enc === "ucs2" ? "ucs2" : "utf8")[method](needle, offset, enc),
              OurBuffer, NodeBuffer);
          }
        }
      }
    }
    for (const needle of [[0x61, 0x62], [0xc3, 0xa9], [], [0x78], [0, 0x62]]) {
      for (const offset of offsets.slice(0, 10)) {
        for (const method of ["indexOf", "lastIndexOf", "includes"]) {
          same(`${method} buffer ${hay} ${needle} ${offset}`,
            (B) => B.from(hay)[method](B.from(needle), offset), OurBuffer, NodeBuffer);
          same(`${method} buffer ucs2 ${hay} ${needle} ${offset}`,
            (B) => B.from(hay, "ucs2")[method](B.from(needle), offset, "ucs2"), OurBuffer, NodeBuffer);
        }
      }
    }
  }
  for (const bad of [{}, null, undefined, true, [1]]) {
    same(`indexOf bad ${String(bad)}`, (B) => B.from("abc").indexOf(bad), OurBuffer, NodeBuffer);
  }
  same("indexOf Uint8Array needle", (B) => B.from("xabc").indexOf(new Uint8Array([97, 98])),
    OurBuffer, NodeBuffer);
});

test("integer, float and bigint reads and writes, including range errors", () => {
  const fixed = [
    ["UInt8", 1], ["UInt16LE", 2], ["UInt16BE", 2], ["UInt32LE", 4], ["UInt32BE", 4],
    ["Int8", 1], ["Int16LE", 2], ["Int16BE", 2], ["Int32LE", 4], ["Int32BE", 4],
    ["FloatLE", 4], ["FloatBE", 4], ["DoubleLE", 8], ["DoubleBE", 8],
  ];
  const bytes = [0x01, 0x82, 0xff, 0x7f, 0x00, 0x80, 0xfe, 0x10, 0xc0, 0x3f];
  const offsets = [undefined, 0, 1, 2, 6, 7, 9, 10, -1, 1.5, "1", NaN, null, Infinity, 2 ** 53];
  const values = [0, 1, -1, 127, 128, 255, 256, -128, -129, 32767, 65535, 65536, -32768, 2 ** 31,
    2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, 1.5, -1.5, NaN, Infinity, "12", null, 2 ** 40,
    3.4e38, 1e-45, -0];
  for (const [name, size] of fixed) {
    for (const offset of offsets) {
      same(`read${name} ${offset}`, (B) => B.from(bytes)[`read${name}`](offset), OurBuffer, NodeBuffer);
      const alias = `read${name.replace("UInt", "Uint")}`;
      same(`${alias} ${offset}`, (B) => B.from(bytes)[alias](offset), OurBuffer, NodeBuffer);
    }
    for (const value of values) {
      for (const offset of [undefined, 0, 1, 10 - size, 11 - size, -1, 0.5, "0"]) {
        same(`write${name} ${value} ${offset}`, (B) => {
          const b = B.alloc(10);
          return [b[`write${name}`](value, offset), b];
        }, OurBuffer, NodeBuffer);
      }
    }
  }
  for (const name of ["UIntLE", "UIntBE", "IntLE", "IntBE"]) {
    for (const byteLength of [1, 2, 3, 4, 5, 6, 0, 7, 1.5, undefined, "2"]) {
      for (const offset of [0, 1, 4, 5, -1, undefined, 1.5]) {
        same(`read${name} ${offset} ${byteLength}`,
          (B) => B.from(bytes)[`read${name}`](offset, byteLength), OurBuffer, NodeBuffer);
      }
      for (const value of [0, 1, -1, 255, 256, -129, 2 ** 23, 2 ** 24, 2 ** 40, -(2 ** 40), 2 ** 47,
        2 ** 48 - 1, 2 ** 48, -(2 ** 47) - 1, 1.5, NaN]) {
        for (const offset of [0, 4, 5, undefined]) {
          same(`write${name} ${value} ${offset} ${byteLength}`, (B) => {
            const b = B.alloc(10);
            return [b[`write${name}`](value, offset, byteLength), b];
          }, OurBuffer, NodeBuffer);
        }
      }
    }
  }
  for (const name of ["BigUInt64LE", "BigUInt64BE", "BigInt64LE", "BigInt64BE", "BigUint64LE"]) {
    for (const offset of [undefined, 0, 2, 3, -1, 1.5, "0"]) {
      same(`read${name} ${offset}`, (B) => B.from(bytes)[`read${name}`](offset), OurBuffer, NodeBuffer);
    }
    for (const value of [0n, 1n, -1n, 2n ** 63n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) - 1n,
      2n ** 64n - 1n, 2n ** 64n, 2n ** 70n]) {
      for (const offset of [undefined, 0, 2, 3]) {
        same(`write${name} ${value} ${offset}`, (B) => {
          const b = B.alloc(10);
          return [b[`write${name}`](value, offset), b];
        }, OurBuffer, NodeBuffer);
      }
    }
  }
  // Floats round-trip through the bytes, NaN payload included.
  same("float bytes", (B) => {
    const b = B.alloc(16);
    b.writeFloatLE(Math.PI, 0);
    b.writeDoubleBE(-Math.E, 4);
    b.writeFloatBE(NaN, 12);
    return [b, b.readFloatLE(0), b.readDoubleBE(4), b.readFloatBE(12)];
  }, OurBuffer, NodeBuffer);
});

test("atob and btoa", () => {
  const inputs = ["", "YQ==", "YWI=", "YWJj", "YQ", "Y", "YQ=", "YQ===", "Y Q = =", "\tYWJj\n", "YW\fJj",
    "YW*", "=YQ", "YQ==YQ==", "_-", "ÿ", "\u0100", "€", 5, null, undefined, "aGVsbG8gd29ybGQ=",
    "//79", "YQ= ="];
  for (const input of inputs) {
    same(`atob ${JSON.stringify(input)}`, (m) => m.atob(input), ours.buffer, nodeBufferModule);
    same(`btoa ${JSON.stringify(input)}`, (m) => m.btoa(input), ours.buffer, nodeBufferModule);
  }
  same("atob()", (m) => m.atob(), ours.buffer, nodeBufferModule);
  same("btoa()", (m) => m.btoa(), ours.buffer, nodeBufferModule);
  for (const m of [ours.buffer, nodeBufferModule]) {
    let error;
    try {
      m.atob("Y");
    } catch (e) {
      error = e;
    }
    assert.equal(error.code, 5);
  }
});

test("buffer module exports", () => {
  assert.equal(ours.buffer.kMaxLength, nodeBufferModule.kMaxLength);
  assert.deepEqual({ ...ours.buffer.constants }, { ...nodeBufferModule.constants });
  for (const input of [[], [0x41], [0xc3, 0xa9], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x80], [0xc0, 0x80], [0xff]]) {
    same(`isUtf8 ${hex(input)}`, (m) => m.isUtf8(new Uint8Array(input)), ours.buffer, nodeBufferModule);
    same(`isAscii ${hex(input)}`, (m) => m.isAscii(new Uint8Array(input)), ours.buffer, nodeBufferModule);
  }
  same("isUtf8 bad", (m) => m.isUtf8("x"), ours.buffer, nodeBufferModule);
});

// StringDecoder ----------------------------------------------------------------------

const decoderInputs = [
  "héllo wörld €uro 😀 日本", "plain ascii", "\u0000\u00ff", "abcdefghij",
].map((s) => Array.from(Buffer.from(s))).concat([
  [0xe2, 0x82], [0xe2, 0x41, 0x82, 0xac], [0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x41], [0xc3],
  [0xff, 0xfe, 0xfd], [0x80, 0x80, 0x80, 0x80, 0x80], [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0x3d, 0xd8, 0x00, 0xde, 0x41], [0x3d, 0xd8, 0x41, 0x00],
  [0x41, 0x00, 0x42], [0xe2, 0x82, 0xe2, 0x82, 0xac], [0xc0, 0xaf, 0xe0, 0x80, 0xaf],
]);

test("StringDecoder matches Node for every split of every input", () => {
  for (const encoding of ["utf8", "utf16le", "ucs2", "base64", "base64url", "hex", "latin1", "ascii",
    "binary", undefined, "UTF-8"]) {
    for (const input of decoderInputs) {
      const run = (Decoder, pieces) => {
        const decoder = new Decoder(encoding);
        const out = pieces.map((p) => decoder.write(Buffer.from(p)));
        out.push(decoder.end());
        return [out, decoder.encoding];
      };
      for (let i = 0; i <= input.length; i++) {
        for (let j = i; j <= input.length; j++) {
          const pieces = [input.slice(0, i), input.slice(i, j), input.slice(j)];
          same(`${encoding} ${hex(input)} split ${i},${j}`, (D) => run(D, pieces),
            ours.string_decoder.StringDecoder, NodeStringDecoder);
        }
      }
      same(`${encoding} ${hex(input)} bytewise`, (D) => run(D, input.map((b) => [b])),
        ours.string_decoder.StringDecoder, NodeStringDecoder);
    }
  }
});

test("StringDecoder API details", () => {
  const cases = [
    (D) => new D("bogus"),
    (D) => new D("hex").encoding,
    (D) => new D("binary").encoding,
    (D) => new D().write("a string"),
    (D) => new D().write(5),
    (D) => new D().write(new Uint16Array([0x4241])),
    (D) => new D().write(new DataView(new Uint8Array([0x41, 0x42]).buffer)),
    (D) => new D().end(Buffer.from([0xe2, 0x82])),
    (D) => { const d = new D(); d.write(Buffer.from([0xe2])); return [d.lastNeed, d.lastTotal, d.lastChar[0]]; },
    (D) => { const d = new D(); d.write(Buffer.from([0xe2])); return d.text(Buffer.from("xyz"), 1); },
    (D) => { const d = new D("utf16le"); return [d.write(Buffer.from([0x41])), d.end()]; },
    (D) => { const d = new D("base64"); return [d.write(Buffer.from("ab")), d.end(), d.end()]; },
  ];
  cases.forEach((c, i) => same(`case #${i} ${c}`, c, ours.string_decoder.StringDecoder, NodeStringDecoder));
});

// TextEncoder / TextDecoder ---------------------------------------------------------

const nodeText = { TextEncoder, TextDecoder };

test("TextDecoder: labels, BOM, fatal, input kinds and streaming match Node", () => {
  const labels = ["utf-8", "utf8", "UTF-8", " utf-8\n", "unicode-1-1-utf-8", "utf-16le", "utf-16",
    "ucs-2", "utf-16be", "latin1", "iso-8859-1", "windows-1252", "ascii", "us-ascii", "bogus", "",
    undefined];
  for (const label of labels) {
    same(`label ${label}`, (m) => {
      const d = new m.TextDecoder(label);
      return [d.encoding, d.fatal, d.ignoreBOM];
    }, ours.text_coding, nodeText);
  }
  const inputs = decoderInputs.concat([
    [0xef, 0xbb, 0xbf, 0x41], [0xff, 0xfe, 0x41, 0x00], [0xfe, 0xff, 0x00, 0x41], [0xef, 0xbb],
    [0x80, 0x9f, 0xe9], [0xef, 0xbf, 0xbd, 0x41],
  ]);
  for (const encoding of ["utf-8", "utf-16le", "utf-16be", "latin1"]) {
    for (const options of [{}, { fatal: true }, { ignoreBOM: true }]) {
      for (const input of inputs) {
        const label = `${encoding} ${JSON.stringify(options)} ${hex(input)}`;
        same(`decode ${label}`, (m) => new m.TextDecoder(encoding, options).decode(new Uint8Array(input)),
          ours.text_coding, nodeText);
        for (let i = 0; i <= input.length; i++) {
          same(`stream ${label} at ${i}`, (m) => {
            const d = new m.TextDecoder(encoding, options);
            const out = [];
            try {
              out.push(d.decode(new Uint8Array(input.slice(0, i)), { stream: true }));
              out.push(d.decode(new Uint8Array(input.slice(i)), { stream: true }));
              out.push(d.decode());
            } catch (e) {
              out.push(`${e.name} ${e.code} ${e.message}`);
            }
            out.push(d.decode(new Uint8Array(input)));
            return out;
          }, ours.text_coding, nodeText);
        }
      }
    }
  }
  const kinds = [
    (m) => new m.TextDecoder().decode(new Uint16Array([0x4241])),
    (m) => new m.TextDecoder().decode(new Uint8Array([0x41, 0x42]).buffer),
    (m) => new m.TextDecoder().decode(new DataView(new Uint8Array([0x41, 0x42, 0x43]).buffer, 1)),
    (m) => new m.TextDecoder().decode(Buffer.from("buf")),
    (m) => new m.TextDecoder().decode(undefined),
    (m) => new m.TextDecoder().decode(),
    (m) => new m.TextDecoder().decode(null),
    (m) => new m.TextDecoder().decode("str"),
    (m) => new m.TextDecoder("utf-16le").decode(5),
    (m) => new m.TextDecoder("latin1").decode({}),
    (m) => new m.TextDecoder("utf-8", 5),
    (m) => new m.TextDecoder("utf-8", null).fatal,
    (m) => new m.TextDecoder("utf-16le").decode(new Uint8Array(2), 5),
    (m) => Object.prototype.toString.call(new m.TextDecoder()),
    (m) => Object.getOwnPropertyDescriptor(m.TextDecoder.prototype, "encoding").get.call({}),
    (m) => util.inspect(new m.TextDecoder("utf-16le", { fatal: true })),
    (m) => util.inspect({ d: new m.TextDecoder() }),
  ];
  kinds.forEach((c, i) => same(`kind #${i} ${c}`, c, ours.text_coding, nodeText));
});

test("TextEncoder matches Node", () => {
  const cases = [
    (m) => new m.TextEncoder().encoding,
    (m) => new m.TextEncoder().encode("héllo \ud800 😀"),
    (m) => new m.TextEncoder().encode(),
    (m) => new m.TextEncoder().encode(12),
    (m) => new m.TextEncoder().encode(null),
    (m) => Object.getPrototypeOf(new m.TextEncoder().encode("a")) === Uint8Array.prototype,
    (m) => util.inspect(new m.TextEncoder()),
    (m) => Object.prototype.toString.call(new m.TextEncoder()),
    (m) => new m.TextEncoder().encodeInto(5, new Uint8Array(2)),
    (m) => new m.TextEncoder().encodeInto("a", []),
    (m) => new m.TextEncoder().encodeInto("a", Buffer.alloc(2)),
  ];
  for (const src of ["", "abc", "é€😀", "\ud800x", "😀😀"]) {
    for (const size of [0, 1, 2, 3, 4, 5, 10]) {
      cases.push((m) => {
        const dest = new Uint8Array(size);
        return [new m.TextEncoder().encodeInto(src, dest), dest];
      });
    }
  }
  cases.forEach((c, i) => same(`case #${i} ${c}`, c, ours.text_coding, nodeText));
});

// EventEmitter -----------------------------------------------------------------------

// Each scenario drives an emitter class and returns a log of what it observed.
const emitterScenarios = {
  ordering(EE) {
    const e = new EE();
    const log = [];
    e.on("x", (a, b) => log.push(["first", a, b]));
    e.prependListener("x", () => log.push("prepended"));
    e.once("x", () => log.push("once"));
    e.prependOnceListener("x", () => log.push("prepended once"));
    log.push(e.emit("x", 1, 2), e.emit("x", 3), e.emit("nothing"), e.listenerCount("x"));
    return log;
  },
  removalDuringEmit(EE) {
    const e = new EE();
    const log = [];
    const b = () => log.push("b");
    e.on("x", () => {
      log.push("a");
      e.removeListener("x", b);
      e.on("x", () => log.push("added"));
    });
    e.on("x", b);
    e.emit("x");
    e.emit("x");
    return log;
  },
  onceRemovedBeforeEmit(EE) {
    const e = new EE();
    const log = [];
    const f = () => log.push("f");
    e.once("x", f);
    log.push(e.listeners("x").length, e.rawListeners("x")[0] === f, e.listeners("x")[0] === f);
    e.removeListener("x", f);
    log.push(e.emit("x"), e.listenerCount("x"));
    return log;
  },
  metaEvents(EE) {
    const e = new EE();
    const log = [];
    e.on("newListener", (type, l) => log.push(["new", String(type), l.name, e.listenerCount(type)]));
    e.on("removeListener", (type, l) => log.push(["removed", String(type), l.name]));
    function one() {}
    function two() {}
    e.on("a", one);
    e.once("a", two);
    e.on(Symbol.for("s"), one);
    e.off("a", two);
    e.removeAllListeners("a");
    e.on("b", one);
    e.removeAllListeners();
    log.push(e.eventNames().map(String), e.listenerCount("newListener"));
    return log;
  },
  errors(EE) {
    const log = [];
    const e = new EE();
    for (const value of [new Error("boom"), "str", 42, { a: 1 }, undefined, null]) {
      try {
        e.emit("error", value);
      } catch (error) {
        log.push([error === value, error.code, error.message, error.context === value, String(error)]);
      }
    }
    const monitored = new EE();
    monitored.on(EE.errorMonitor, (err) => log.push(["monitor", err.message]));
    try {
      monitored.emit("error", new Error("m"));
    } catch (error) {
      log.push(["thrown", error.message]);
    }
    monitored.on("error", (err) => log.push(["handled", err.message]));
    log.push(monitored.emit("error", new Error("n")));
    return log;
  },
  validation(EE) {
    const log = [];
    const e = new EE();
    for (const f of [() => e.on("x", 5), () => e.once("x"), () => e.removeListener("x", null),
      () => e.setMaxListeners(-1), () => e.setMaxListeners("1"), () => e.prependListener("x", {}),
      () => e.listeners(), () => e.rawListeners(), () => e.emit()]) {
      try {
        log.push(["ok", typeof f()]);
      } catch (error) {
        log.push([error.name, error.code, error.message]);
      }
    }
    return log;
  },
  maxListeners(EE) {
    const e = new EE();
    const log = [e.getMaxListeners(), EE.defaultMaxListeners];
    e.setMaxListeners(2);
    log.push(e.getMaxListeners());
    for (let i = 0; i < 4; i++) e.on("x", () => {});
    log.push(e.listenerCount("x"), EE.listenerCount(e, "x"));
    e.setMaxListeners(0);
    return log;
  },
  thisAndArgs(EE) {
    const e = new EE();
    const log = [];
    e.on("x", function (...args) {
      log.push(this === e, args);
    });
    e.once("y", function (...args) {
      log.push(this === e, args.length);
    });
    e.emit("x", 1, 2, 3);
    e.emit("y");
    return log;
  },
  subclassing(EE) {
    function Old() {
      EE.call(this);
    }
    Object.setPrototypeOf(Old.prototype, EE.prototype);
    const o = new Old();
    const log = [];
    o.on("x", (v) => log.push(v));
    o.emit("x", "old-style");
    class New extends EE {}
    const n = new New();
    n.on("x", (v) => log.push(v));
    n.emit("x", "class");
    log.push(Object.keys(n), util.inspect(n), util.inspect(new EE()));
    return log;
  },
  listenerCountWithListener(EE) {
    const e = new EE();
    const f = () => {};
    e.on("x", f);
    e.once("x", f);
    e.on("x", () => {});
    return [e.listenerCount("x"), e.listenerCount("x", f), e.listenerCount("y", f)];
  },
};

test("EventEmitter scenarios match Node", () => {
  for (const [name, scenario] of Object.entries(emitterScenarios)) {
    same(name, scenario, ours.events.EventEmitter, NodeEventEmitter);
  }
});

test("EventEmitter max-listeners warning goes to the warning hook once per event", () => {
  const warnings = [];
  ours.events.setWarningHandler((w) => warnings.push(w));
  try {
    const e = new ours.events.EventEmitter();
    for (let i = 0; i < 12; i++) e.on("foo", () => {});
    const sy = Symbol("sy");
    for (let i = 0; i < 11; i++) e.on(sy, () => {});
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0].name, "MaxListenersExceededWarning");
    assert.equal(warnings[0].message, "Possible EventEmitter memory leak detected. 11 foo listeners " +
      "added to [EventEmitter]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit");
    assert.equal(warnings[0].count, 11);
    assert.equal(warnings[0].type, "foo");
    assert.match(warnings[1].message, /11 Symbol\(sy\) listeners/);
  } finally {
    ours.events.setWarningHandler(() => {});
  }
});

async function settle(promise) {
  try {
    return { value: normalize(await promise) };
  } catch (error) {
    return { error: { ...describeError(error), cause: error.cause } };
  }
}

test("events.once and events.on", async () => {
  const scenarios = {
    async onceValue(m, EE) {
      const e = new EE();
      setTimeout(() => e.emit("x", 1, 2), 1);
      return m.once(e, "x");
    },
    async onceError(m, EE) {
      const e = new EE();
      setTimeout(() => e.emit("error", new Error("bad")), 1);
      return m.once(e, "x");
    },
    async onceAborted(m) {
      const ac = new AbortController();
      ac.abort("why");
      return m.once(new m.EventEmitter(), "x", { signal: ac.signal });
    },
    async onceAbortLater(m) {
      const ac = new AbortController();
      setTimeout(() => ac.abort("later"), 1);
      return m.once(new m.EventEmitter(), "x", { signal: ac.signal });
    },
    async onceBadSignal(m) {
      return m.once(new m.EventEmitter(), "x", { signal: 5 });
    },
    async onceEventTarget(m) {
      const t = new EventTarget();
      setTimeout(() => t.dispatchEvent(new Event("ping")), 1);
      const [event] = await m.once(t, "ping");
      return event.type;
    },
    async onIterator(m, EE) {
      const e = new EE();
      setTimeout(() => {
        e.emit("d", 1);
        e.emit("d", 2, 3);
        e.emit("end");
      }, 1);
      const seen = [];
      for await (const args of m.on(e, "d", { close: ["end"] })) seen.push(args);
      return [seen, e.listenerCount("d"), e.listenerCount("error")];
    },
    async onIteratorError(m, EE) {
      const e = new EE();
      setTimeout(() => {
        e.emit("d", 1);
        e.emit("error", new Error("it failed"));
      }, 1);
      const seen = [];
      try {
        for await (const args of m.on(e, "d")) seen.push(args);
      } catch (error) {
        seen.push(error.message);
      }
      return seen;
    },
    async onIteratorBreak(m, EE) {
      const e = new EE();
      setTimeout(() => e.emit("d", "v"), 1);
      for await (const args of m.on(e, "d")) {
        void args;
        break;
      }
      return e.listenerCount("d");
    },
    async onIteratorAbort(m, EE) {
      const e = new EE();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 1);
      const seen = [];
      try {
        for await (const args of m.on(e, "d", { signal: ac.signal })) seen.push(args);
      } catch (error) {
        seen.push(error.name, error.code);
      }
      return seen;
    },
  };
  for (const [name, scenario] of Object.entries(scenarios)) {
    const actual = await settle(scenario(ours.events, ours.events.EventEmitter));
    const expected = await settle(scenario(NodeEventEmitter, NodeEventEmitter));
    assert.deepStrictEqual(actual, expected, name);
  }
});

// DOM events ------------------------------------------------------------------------

const nodeDom = { DOMException, Event, EventTarget, AbortController, AbortSignal };

const domScenarios = {
  domException(m) {
    const out = [];
    for (const args of [["x", "AbortError"], ["y", "TimeoutError"], ["z", "NotFoundError"], ["w"], [],
      ["v", { name: "DataCloneError", cause: 7 }], ["u", { cause: 1 }], ["t", null], [5, 6]]) {
      const e = new m.DOMException(...args);
      out.push([e.name, e.message, e.code, String(e), e instanceof Error, "cause" in e ? e.cause : "-",
        Object.prototype.toString.call(e), Object.keys(e)]);
    }
    out.push(m.DOMException.ABORT_ERR, m.DOMException.prototype.TIMEOUT_ERR, m.DOMException.DATA_CLONE_ERR,
      m.DOMException.name, Object.getPrototypeOf(m.DOMException.prototype) === Error.prototype);
    try {
      m.DOMException.prototype.code;
    } catch (error) {
      out.push([error.code, error.message]);
    }
    return out;
  },
  eventBasics(m) {
    const e = new m.Event("foo", { cancelable: true, bubbles: true, composed: 1 });
    const out = [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.eventPhase,
      e.target, e.currentTarget, e.srcElement, e.isTrusted, e.returnValue, e.cancelBubble,
      e.composedPath(), typeof e.timeStamp];
    e.preventDefault();
    out.push(e.defaultPrevented, e.returnValue);
    const n = new m.Event("bar");
    n.preventDefault();
    out.push(n.defaultPrevented, n.returnValue, m.Event.NONE, m.Event.AT_TARGET, m.Event.BUBBLING_PHASE,
      m.Event.CAPTURING_PHASE, Object.prototype.toString.call(n), new m.Event(5).type,
      new m.Event("x", null).type);
    for (const f of [() => new m.Event(), () => new m.Event("x", 5),
      () => Object.getOwnPropertyDescriptor(m.Event.prototype, "type").get.call({})]) {
      try {
        f();
      } catch (error) {
        out.push([error.name, error.code, error.message]);
      }
    }
    return out;
  },
  dispatch(m) {
    const t = new m.EventTarget();
    const out = [];
    const once = () => out.push("once");
    function fn(ev) {
      out.push(["fn", this === t, ev.currentTarget === t, ev.target === t, ev.eventPhase,
        ev.composedPath().length]);
    }
    t.addEventListener("x", fn);
    t.addEventListener("x", fn);
    t.addEventListener("x", fn, true);
    t.addEventListener("x", once, { once: true });
    const handler = { handleEvent(ev) { out.push(["handleEvent", this === handler, ev.type]); } };
    t.addEventListener("x", handler);
    t.addEventListener("x", null);
    const ev = new m.Event("x");
    out.push(t.dispatchEvent(ev), ev.currentTarget, ev.eventPhase, ev.target === t);
    t.removeEventListener("x", fn);
    out.push(t.dispatchEvent(new m.Event("x")));
    t.removeEventListener("x", fn, { capture: true });
    t.removeEventListener("x", handler);
    out.push(t.dispatchEvent(new m.Event("x")));
    return out;
  },
  stopAndPrevent(m) {
    const t = new m.EventTarget();
    const out = [];
    t.addEventListener("x", (ev) => {
      out.push("first");
      ev.preventDefault();
      ev.stopImmediatePropagation();
      out.push(ev.cancelBubble);
    });
    t.addEventListener("x", () => out.push("second"));
    out.push(t.dispatchEvent(new m.Event("x", { cancelable: true })));
    out.push(t.dispatchEvent(new m.Event("x")));
    return out;
  },
  mutationDuringDispatch(m) {
    const t = new m.EventTarget();
    const out = [];
    const b = () => out.push("b");
    const c = () => out.push("c");
    t.addEventListener("x", () => {
      out.push("a");
      t.removeEventListener("x", b);
      t.addEventListener("x", () => out.push("late"));
    });
    t.addEventListener("x", b);
    t.addEventListener("x", c);
    t.dispatchEvent(new m.Event("x"));
    t.dispatchEvent(new m.Event("x"));
    return out;
  },
  recursionAndValidation(m) {
    const t = new m.EventTarget();
    const out = [];
    const ev = new m.Event("r");
    t.addEventListener("r", () => {
      try {
        t.dispatchEvent(ev);
      } catch (error) {
        out.push([error.name, error.code, error.message]);
      }
    });
    t.dispatchEvent(ev);
    for (const f of [() => t.addEventListener("x"), () => t.addEventListener("x", 5),
      () => t.addEventListener("x", () => {}, 5), () => t.addEventListener("x", () => {}, { signal: 5 }),
      () => t.dispatchEvent({}), () => t.dispatchEvent(), () => m.EventTarget.prototype.dispatchEvent.call({}, ev),
      () => new m.AbortSignal(), () => m.AbortSignal.timeout(-1), () => m.AbortSignal.timeout("1"),
      () => m.AbortSignal.timeout(1.5), () => m.AbortSignal.any(5), () => m.AbortSignal.any([1]),
      () => m.AbortSignal.prototype.aborted]) {
      try {
        f();
        out.push("ok");
      } catch (error) {
        out.push([error.name, error.code, error.message]);
      }
    }
    return out;
  },
  abortController(m) {
    const out = [];
    const ac = new m.AbortController();
    const s = ac.signal;
    out.push(s.aborted, s.reason, s.onabort, ac.signal === s);
    s.onabort = (ev) => out.push(["onabort", ev.type, ev.isTrusted, ev.target === s]);
    s.addEventListener("abort", () => out.push(["listener", s.aborted, s.reason]));
    ac.abort("reason-1");
    ac.abort("reason-2");
    out.push(s.aborted, s.reason);
    try {
      s.throwIfAborted();
    } catch (error) {
      out.push(["thrown", error]);
    }
    const d = new m.AbortController();
    d.abort();
    out.push([d.signal.reason.name, d.signal.reason.message, d.signal.reason.code,
      d.signal.reason instanceof m.DOMException]);
    const a = m.AbortSignal.abort();
    out.push(a.aborted, a.reason.name, m.AbortSignal.abort(undefined).reason?.name,
      m.AbortSignal.abort(null).reason);
    const h = new m.AbortController();
    const handler = () => out.push("replaced handler never runs");
    h.signal.onabort = handler;
    h.signal.onabort = () => out.push("second handler runs");
    out.push(h.signal.onabort === handler);
    h.abort();
    h.signal.onabort = null;
    out.push(h.signal.onabort, util.inspect(h), util.inspect(new m.AbortController().signal),
      Object.prototype.toString.call(h.signal), Object.prototype.toString.call(h));
    return out;
  },
  signalOption(m) {
    const out = [];
    const t = new m.EventTarget();
    const ac = new m.AbortController();
    t.addEventListener("x", () => out.push("listener"), { signal: ac.signal });
    t.dispatchEvent(new m.Event("x"));
    ac.abort();
    t.dispatchEvent(new m.Event("x"));
    t.addEventListener("x", () => out.push("never"), { signal: ac.signal });
    t.dispatchEvent(new m.Event("x"));
    return out;
  },
  any(m) {
    const out = [];
    const a = new m.AbortController();
    const b = new m.AbortController();
    const any = m.AbortSignal.any([a.signal, b.signal]);
    const any2 = m.AbortSignal.any([any]);
    a.signal.addEventListener("abort", () => out.push(["a", any.aborted, any2.aborted]));
    any.addEventListener("abort", () => out.push(["any", any2.aborted, any.reason]));
    any2.addEventListener("abort", () => out.push(["any2", any2.reason]));
    a.abort("A");
    b.abort("B");
    out.push(any.reason, any2.reason);
    const pre = m.AbortSignal.any([new m.AbortController().signal, m.AbortSignal.abort("pre")]);
    out.push(pre.aborted, pre.reason, m.AbortSignal.any([]).aborted);
    return out;
  },
  inspectOutput(m) {
    return [util.inspect(new m.EventTarget()), util.inspect({ t: new m.EventTarget() }),
      util.inspect(new m.DOMException("msg", "AbortError")).split("\n")[0]];
  },
};

test("DOMException, Event, EventTarget and AbortSignal scenarios match Node", () => {
  for (const [name, scenario] of Object.entries(domScenarios)) {
    same(name, scenario, ours.dom_events, nodeDom);
  }
});

test("AbortSignal.timeout aborts with a TimeoutError", async () => {
  const run = (m) => new Promise((resolve) => {
    const s = m.AbortSignal.timeout(5);
    const out = [s.aborted];
    s.addEventListener("abort", (ev) => {
      out.push(s.aborted, ev.isTrusted, s.reason.name, s.reason.message, s.reason.code,
        s.reason instanceof m.DOMException);
      resolve(out);
    });
  });
  // Node unrefs the timeout's timer; something must keep the loop alive.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    assert.deepStrictEqual(await run(ours.dom_events), await run(nodeDom));
  } finally {
    clearInterval(keepAlive);
  }
});

test("a throwing EventTarget listener is reported through the hook, after dispatch", async () => {
  const reported = [];
  ours.dom_events.setListenerErrorHandler((error) => reported.push(error.message));
  try {
    const t = new ours.dom_events.EventTarget();
    const order = [];
    t.addEventListener("y", () => {
      throw new Error("boom");
    });
    t.addEventListener("y", () => order.push("after throw"));
    t.addEventListener("y", { handleEvent() { throw new Error("from handleEvent"); } });
    t.addEventListener("y", async () => {
      throw new Error("async");
    });
    order.push(t.dispatchEvent(new ours.dom_events.Event("y")));
    order.push(reported.length);
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepStrictEqual(order, ["after throw", true, 0]);
    assert.deepStrictEqual(reported.sort(), ["async", "boom", "from handleEvent"]);
  } finally {
    ours.dom_events.setListenerErrorHandler(() => {});
  }
});

// inspect / format --------------------------------------------------------------------

class Foo {
  constructor() {
    this.x = 1;
  }
}
class Bar extends Foo {}
class WithToString {
  toString() {
    return "custom!";
  }
}
class MyMap extends Map {}
class MyArray extends Array {}

function makeValues() {
  const circular = { name: "c" };
  circular.self = circular;
  circular.list = [circular, { inner: circular }];
  const circularMap = new Map();
  circularMap.set("me", circularMap);
  const sparse = [1, , 3, , , 6]; // eslint-disable-line no-sparse-arrays
  const withExtras = Object.assign([1, 2, 3], { foo: "bar" });
  const getters = {
    get a() { return 1; },
    set b(v) { void v; },
    get c() { return 2; },
    set c(v) { void v; },
  };
  const nullProto = Object.assign(Object.create(null), { a: 1, b: { c: 2 } });
  const long = Array.from({ length: 120 }, (_, i) => i);
  const custom = { [util.inspect.custom]() { return "CUSTOM"; } };
  const customObject = { [util.inspect.custom](depth) { return { depth }; } };
  const customMultiline = { inner: { [util.inspect.custom]() { return "line1\nline2"; } } };
  const fnWithProps = Object.assign(function named() {}, { prop: 1 });
  return {
    primitives: [1, -0, 0, 1.5, NaN, Infinity, -Infinity, 1e21, 1e-7, 10n, -5n, true, false, null,
      undefined, Symbol("sym"), Symbol(), Symbol.iterator, "str"],
    strings: ["it's", 'say "hi"', "both ' and \"", "all ' \" `", "a\nb", "tab\t", "\x01\x7f\x85\x9f",
      "\ud800 lone", "ok 😀", "back\\slash", "x".repeat(100), "line\n".repeat(12) + "end".repeat(30)],
    nested: { a: { b: { c: { d: { e: 1 } } } }, arr: [[[[1]]]], empty: {}, emptyArr: [] },
    deep: { a: { b: { c: {} } } },
    sparse,
    holes: [new Array(5), [, 1], new Array(200)], // eslint-disable-line no-sparse-arrays
    withExtras,
    getters,
    symbolKeys: { [Symbol("s")]: 1, "a-b": 2, "1x": 3, 5: 4, valid_id: 5, "": 6, "it's": 7, "ünï": 8 },
    nullProto,
    classes: [Foo, Bar, class {}, class Named extends Object {}, new Foo(), new Bar(), new (class {})()],
    functions: [function () {}, () => {}, function foo() {}, async function af() {}, function* g() {},
      async function* ag() {}, Math.max, fnWithProps, Object.assign(() => {}, { a: 1 })],
    maps: [new Map(), new Map([[1, 2], ["k", { a: [1, 2] }]]), new Map([[{ a: 1 }, new Set([1])]]),
      new MyMap([[1, 2]])],
    sets: [new Set(), new Set([1, "two", [3]]), new Set(Array.from({ length: 120 }, (_, i) => i))],
    dates: [new Date(0), new Date(86400000), new Date(NaN)],
    regexps: [/a+b/gi, /x/, new RegExp("a/b")],
    typed: [new Uint8Array([1, 2, 3]), new Float32Array([1.5, -0]), new BigInt64Array([1n, -2n]),
      new Int16Array(0), new Uint8Array(120), new Float64Array([0.1, 0.2])],
    buffers: [new ArrayBuffer(3), new Uint8Array([1, 2]).buffer, new ArrayBuffer(0),
      new DataView(new ArrayBuffer(2))],
    arrays: [[1, 2, 3], [1, 2, 3, 4, 5, 6, 7], long, ["a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"],
      Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i).repeat((i % 5) + 1)),
      [1.5, 22, -3, 400, 5, 6, 7000, 8], [{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }, { e: 5 }, { f: 6 },
        { g: 7 }], new MyArray(1, 2, 3), [undefined, null, NaN]],
    breaking: { a: "x".repeat(70), b: 1 },
    breaking2: { key1: "value number one", key2: "value number two", key3: "value three", k: 4 },
    breaking3: [{ alpha: 1, beta: 2, gamma: 3 }, { alpha: 1, beta: 2, gamma: 3 },
      { alpha: 1, beta: 2, gamma: 3 }],
    circular,
    circularMap,
    custom: [custom, customObject, customMultiline],
    boxed: [new Number(3), new String("ab"), new Boolean(false), Object(1n), Object(Symbol("q")),
      new Number(-0), Object.assign(new String("ab"), { x: 1 })],
    misc: [(function () { return arguments; })(1, 2), new WeakMap(), new WeakSet(),
      { [Symbol.toStringTag]: "Tagged", a: 1 }, Object.create({ inherited: 1 }),
      Object.create(Object.create(null)), [1][Symbol.iterator](), Object.freeze({ a: 1 }),
      { __proto__: { constructor: { name: "Fake" } } }, Object.assign(Object.create(null), {
        [Symbol.toStringTag]: "T" })],
    errorsNoStack: (() => {
      const values = [];
      for (const [error, stack] of [[new Error("no frames"), "Error: no frames"], [new TypeError("t"), ""],
        [new RangeError("r"), undefined]]) {
        Object.defineProperty(error, "stack", { value: stack, configurable: true, writable: true });
        values.push(error);
      }
      return values;
    })(),
  };
}

function nodeErrorWithStack(make, stack) {
  const error = make();
  Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true });
  return error;
}

test("inspect matches util.inspect on a broad table of values and options", () => {
  const values = makeValues();
  const optionSets = [undefined, { depth: 0 }, { depth: 1 }, { depth: 5 }, { depth: null },
    { breakLength: 40 }, { breakLength: Infinity }, { compact: false }, { compact: true },
    { compact: 1 }, { sorted: true }, { maxArrayLength: 2 }, { maxStringLength: 5 },
    { getters: true }, { depth: -1 }];
  for (const [name, value] of Object.entries(values)) {
    for (const options of optionSets) {
      assert.equal(ours.inspect.inspect(value, options), util.inspect(value, options),
        `${name} ${JSON.stringify(options)}`);
    }
    assert.equal(ours.inspect.inspect({ wrapped: value, list: [value] }),
      util.inspect({ wrapped: value, list: [value] }), `${name} nested`);
  }
  assert.equal(ours.inspect.inspect({ a: 1 }, true), util.inspect({ a: 1 }, true));
  const numbers = [0, 1, -1, 999, 1000, -1000, 123456789, -(2 ** 53), 2 ** 60, 10n ** 20n, -1234n, 1.5];
  assert.equal(ours.inspect.inspect(numbers, { numericSeparator: true }),
    util.inspect(numbers, { numericSeparator: true }));
  assert.equal(ours.inspect.inspect([1, [2]], { showHidden: true }), util.inspect([1, [2]], { showHidden: true }));
});

test("inspect prints our Buffers as Node prints its own", () => {
  const make = [
    (B) => B.from("hi"), (B) => B.alloc(0), (B) => B.alloc(51), (B) => B.alloc(60, 1),
    (B) => Object.assign(B.from("a"), { x: 1 }), (B) => Object.assign(B.alloc(0), { y: "z" }),
    (B) => ({ nested: B.from([1, 2, 3]) }), (B) => [B.from("x"), B.from("y")],
    (B) => B.from("abc").subarray(1),
  ];
  for (const f of make) {
    assert.equal(ours.inspect.inspect(f(OurBuffer)), util.inspect(f(NodeBuffer)), String(f));
    assert.equal(util.inspect(f(OurBuffer)), util.inspect(f(NodeBuffer)), `util ${f}`);
  }
});

test("inspect of errors: Node's layout for stacks, codes, causes and SpiderMonkey frames", () => {
  const pairs = [];
  const v8 = "Error: boom\n    at f (file.js:1:2)\n    at file.js:3:4";
  const sm = "f@file.js:1:2\n@file.js:3:4\n";
  pairs.push([nodeErrorWithStack(() => new Error("boom"), sm), nodeErrorWithStack(() => new Error("boom"), v8)]);
  const withCode = (stack) => nodeErrorWithStack(() => Object.assign(new Error("boom"), { code: "X" }), stack);
  pairs.push([withCode(sm), withCode(v8)]);
  const withCause = (stack) => nodeErrorWithStack(() => new Error("boom", { cause: "why" }), stack);
  pairs.push([withCause(sm), withCause(v8)]);
  class MyErr extends Error {}
  pairs.push([nodeErrorWithStack(() => new MyErr("boom"), sm), nodeErrorWithStack(() => new MyErr("boom"), v8)]);
  const tv8 = "TypeError: t\n    at outer (a.js:1:1)\n    at async run (b.js:2:2)";
  const tsm = "outer/inner/<@a.js:1:1\nasync*run@b.js:2:2\n";
  pairs.push([nodeErrorWithStack(() => new TypeError("t"), tsm),
    nodeErrorWithStack(() => new TypeError("t"), tv8.replace("outer", "inner").replace("at inner (a.js:1:1)", "at a.js:1:1"))]);
  const causeInner = (stack) => nodeErrorWithStack(() => new Error("inner"), stack);
  const innerV8 = "Error: inner\n    at g (file.js:9:9)";
  const innerSM = "g@file.js:9:9\n";
  pairs.push([
    nodeErrorWithStack(() => new Error("outer", { cause: causeInner(innerSM) }), sm),
    nodeErrorWithStack(() => new Error("outer", { cause: causeInner(innerV8) }), v8.replace("boom", "outer")),
  ]);
  pairs.push([
    nodeErrorWithStack(() => new AggregateError([causeInner(innerSM)], "agg"), sm),
    nodeErrorWithStack(() => new AggregateError([causeInner(innerV8)], "agg"), v8.replace("Error: boom", "AggregateError: agg")),
  ]);
  for (const [ourError, nodeError] of pairs) {
    assert.equal(ours.inspect.inspect(ourError), util.inspect(nodeError));
    assert.equal(ours.inspect.inspect({ e: ourError }), util.inspect({ e: nodeError }));
    assert.equal(ours.inspect.inspect([ourError]), util.inspect([nodeError]));
  }
  for (const error of makeValues().errorsNoStack) {
    assert.equal(ours.inspect.inspect(error), util.inspect(error));
    assert.equal(ours.inspect.inspect({ error }), util.inspect({ error }));
  }
  // Errors built by errors.js look like Node's own.
  const ourError = outcome(() => OurBuffer.alloc("x")).error;
  const nodeError = outcome(() => NodeBuffer.alloc("x")).error;
  assert.deepStrictEqual(ourError, nodeError);
  try {
    OurBuffer.alloc("x");
  } catch (error) {
    const shown = ours.inspect.inspect(error);
    assert.match(shown, /^TypeError \[ERR_INVALID_ARG_TYPE\]: The "size" argument must be of type number\. Received type string \('x'\)\n {4}at /);
    assert.match(shown, /\{\n {2}code: 'ERR_INVALID_ARG_TYPE'\n\}$/);
    assert.doesNotMatch(shown, /makeError|ERR_INVALID_ARG_TYPE \(/);
  }
});

test("format matches util.format", () => {
  const circular = {};
  circular.self = circular;
  const cases = [
    ["%s", "str"], ["%s", 42], ["%s", -0], ["%s", 5n], ["%s", Symbol("x")], ["%s", null], ["%s", undefined],
    ["%s", { a: { b: { c: 1 } } }], ["%s", [1, [2, [3]]]], ["%s", new Map([[1, 2]])], ["%s", new Date(0)],
    ["%s", new Foo()], ["%s", new WithToString()], ["%s", { toString() { return "own"; } }],
    ["%s", function foo() {}], ["%s", Object.create(null)], ["%s", new Uint8Array(2)], ["%s", new Set([1])],
    ["%s", /re/g], ["%s", [1, "a"]], ["%s", {}], ["%s", []],
    ["%d", "42"], ["%d", "0x10"], ["%d", {}], ["%d", 5n], ["%d", Symbol("s")], ["%d", -0], ["%d", "1.5"],
    ["%i", "42.9"], ["%i", 5n], ["%i", Symbol("s")], ["%i", "x"], ["%f", "1.5x"], ["%f", Symbol("s")],
    ["%j", { a: 1 }], ["%j", circular], ["%j", undefined], ["%o", { a: [1] }], ["%O", { a: 1 }],
    ["%O", { a: { b: { c: { d: 1 } } } }], ["%c", "color: red"], ["%%", 1], ["%x", 1], ["a%", 1],
    ["%s %s", 1], ["%s", "a", "b", { c: 1 }], [1, 2, "x"], ["no args"], [], ["%s:%d", "a", 1, "extra"],
    ["100%"], ["%s%%s", "x"], ["%", "x"], [{ a: 1 }, "%s", 2], ["%s", "%s", "x"], [new Error("e").message],
    ["%s", OurBuffer === NodeBuffer ? 1 : 1], ["%o", [1, 2]], ["%c%s", "css", "text"],
  ];
  for (const args of cases) {
    assert.equal(ours.inspect.format(...args), util.format(...args), util.inspect(args));
  }
  assert.equal(ours.inspect.formatWithOptions({ depth: 0 }, "%O", { a: { b: 1 } }),
    util.formatWithOptions({ depth: 0 }, "%O", { a: { b: 1 } }));
  assert.equal(ours.inspect.formatWithOptions({ compact: false }, { a: 1 }, "x"),
    util.formatWithOptions({ compact: false }, { a: 1 }, "x"));
});

test("errors.js builds Node's messages", () => {
  const e = ours.errors;
  assert.equal(e.ERR_INVALID_ARG_TYPE("x", "string", 1).message,
    'The "x" argument must be of type string. Received type number (1)');
  assert.equal(e.ERR_INVALID_ARG_TYPE("x", ["string", "number", "Buffer", "Array-like Object"], null).message,
    'The "x" argument must be one of type string or number or an instance of Buffer or an Array-like Object. Received null');
  assert.equal(e.ERR_INVALID_ARG_TYPE("a.b", ["Function", "Object", "Foo", "Bar", "Baz"], () => {}).message,
    'The "a.b" property must be of type function or an instance of Foo, Bar, Baz, or Object. Received function ');
  assert.equal(e.ERR_INVALID_ARG_TYPE("x", "object", Object.create(null)).message,
    'The "x" argument must be of type object. Received [Object: null prototype] {}');
  assert.equal(e.ERR_INVALID_ARG_VALUE("v", "x".repeat(200)).message.length,
    "The argument 'v' is invalid. Received ".length + 128 + 3);
  assert.equal(e.ERR_MISSING_ARGS("a").message, 'The "a" argument must be specified');
  assert.equal(e.ERR_MISSING_ARGS("a", "b").message, 'The "a" and "b" arguments must be specified');
  assert.equal(e.ERR_MISSING_ARGS("a", ["b", "c"], "d").message,
    'The "a", "b" or "c", and "d" arguments must be specified');
  assert.equal(e.ERR_OUT_OF_RANGE("v", ">= 0", -(2 ** 40)).message,
    'The value of "v" is out of range. It must be >= 0. Received -1_099_511_627_776');
  assert.equal(e.ERR_OUT_OF_RANGE("v", ">= 0", -(2n ** 40n)).message,
    'The value of "v" is out of range. It must be >= 0. Received -1_099_511_627_776n');
  assert.equal(e.ERR_OUT_OF_RANGE("v", ">= 0", 1.5).message,
    'The value of "v" is out of range. It must be >= 0. Received 1.5');
  const unhandled = e.ERR_UNHANDLED_ERROR("'x'");
  assert.equal(String(unhandled), "Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('x')");
  assert.equal(unhandled.name, "Error");
  assert.deepEqual(Object.keys(unhandled), ["code"]);
  assert.equal(String(e.ERR_INVALID_THIS("Foo")), 'TypeError [ERR_INVALID_THIS]: Value of "this" must be of type Foo');
  assert.equal(String(e.ERR_BUFFER_OUT_OF_BOUNDS()), "RangeError [ERR_BUFFER_OUT_OF_BOUNDS]: Attempt to access memory outside buffer bounds");
  assert.equal(String(e.ERR_BUFFER_OUT_OF_BOUNDS("offset")), 'RangeError [ERR_BUFFER_OUT_OF_BOUNDS]: "offset" is outside of buffer bounds');
  assert.equal(String(e.ERR_UNKNOWN_ENCODING("x")), "TypeError [ERR_UNKNOWN_ENCODING]: Unknown encoding: x");
  assert.ok(e.ERR_INVALID_ARG_TYPE("x", "string", 1) instanceof TypeError);
  assert.equal(e.ERR_INVALID_ARG_TYPE("x", "string", 1).constructor, TypeError);
});
