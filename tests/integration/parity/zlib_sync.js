// node:zlib's one-shot forms on tables: every output is compared with Node
// byte for byte where both zlibs must agree (the stored level 0, the Huffman-
// only and RLE strategies, inputs with nothing to match, brotli; Node carries
// Chromium's zlib, whose matching differs from Debian's otherwise: there the
// round trip and the size class are compared), streams compressed by Node
// decode to the same bytes, and corrupt input fails with Node's errors.
import zlib from "node:zlib";
import * as named from "node:zlib";

// Compressed by Node 20 from text(3000, 7) below.
const fixtures = {
  deflate6: "eJyNlktuwzAMRPc8ha9mo0Zb1EECI6ucvqgoQE8c0s3GkCl+h9RIr+N7W+xjP57r4t/P9XZbl22fl+3jCq8/k8f9fG7n/Wc/l/V4fM3GLqG82bgAlr5nkLi9+qIE6mLJyChBIru41w25tUTbR9NqDiV9xY6SHsITMOu/zRMwocXYM0kbS1gPi7GSytxj7F37Z9YmJpJElyCBAl6gpkiPqWqfwpH0EHNIZF1lYBCriELCbqyTG1ynmQNTpkE7FEcIjfOSTxcsx1CiX3mbHW1oMLF8khCjHwvZNAnJzLnLIomGJJDgLc0W7oisdEUFBWWwtcVQT1UJo1geNOmuq8t4S0qjs5MToSVTL8OUe6hFe0nziZ0Ek3Fy4NCL6oYsLuE7oKmxBcwK8KKzCG3MgzqBFLXf4irCOl2NctqqSw+F55Qt3M9g4kkvl56+BRaFth5TIZviKETo8E8XBRgi5tGRSTWxF8sIYJ5eTkF6zPO75eKOIDGkZ5aMW5QgTZwgwO57/FbcSxJLLveQdP5GkLeI9eIMfCazrS8f6AHkeL5y0K8E8VEquoTYYrVYylPnXyQKVmPtBQvkPVX6rC4UcfULkS0+aQ==",
  gzip9: "H4sIAAAAAAACA42WS27DMAwF9zyFr+agQVs0QYKgq5y+qCRAYw2ZdmPIFL+P1JOel8/TFm/ny/e+9e/7fr3u2+l8XLZPV3j+mtxvj+/T4/Z1fmz75f5xNO4SyptNF8Cy7wUk3d6+KIG6LBkZJShyF4+6IY+WaPs4reZQ6Rs7SkaInkDE+G2egAkt5l4obSxhPS3mSpV1j2vv2j+zDpkoiSFBAgW8QM1Iz6lqn8KReog5JLJdZWKwVrEKCXuwTm5wnWYOTJkG7VAcIQzOSz5dsJxDiX7lbe5oQ4OJ5ZOEGONYaDMUkplzl0USDSWQ4K1miztWVnpFBQVlsLXFUB+qEqNEHjTpblfXeCul2dmDE9FS2Ms05R5qcS9pfmAnYTJPDhz2ooYhi0v4Dmg6tsCsAC86i9DBPKizkKL7LVcrrGGS1zA5bxSeU7a4n8HkyZfLSD8WFoW2j6nIpjgKK3T4p4sCDIl5dDSpIXtZrgDm6eUU5GOe3y0v7ggSQ3pmybhFCWriAQLs/o/fintJsXS5L0nnbwS9RWIUF+AzzbZfPtADyOv5ykF/JVgfpdIlxLFWi6WeOn8iUbAaay9YIO+p6bO6UOTqBzXJ9O+4CwAA",
  raw1: "hZRBbsMwDATveoW/5qBBW9RBgiCnvL7ojgyNxQS9sDS13F1Sap7b92lpH+ftsS7Ez/VyWZfT+bEuSvMN4PnXcrveH6f79ed8X9bt9nVspuJ6eiioE76mCoo2YhZOBVfKmZU1QlEG3ecWS4vRhGorhAJj09H2+3D8wUBrXTFM2ok5xlkrtiWu7tExMhhnPOPNVbv21KyhmOi2ZKBAYCTGU910yiNAUYgCgIezFLwuykBiKYh5xLlIFzwspU/lA+ciDFcCC9Ii7BTy4CASxf4OwBNni+qMwggatlxzupoQaFOQA6UgQg/Mb4BDEyIJsuP5Ewbx9qY3Bl7sO97hogmp8FIQIqnUlEJhnzqkDJ3KftSHqUBK3tsRgdL9drmLRLNAL/y4WRWbdV48UVhGqxXIc2YWQ/qM3gbHshAC2R/f+4RNp1D1f3Q5QKlqsx3JHd4L+GAEgQslSTf7MGY4Tiamft+Fiu6gE/o84IhioVAnTCtloVPVZkjhsJh3lbplyLt95s4mEoR2D04cgwaCmmxSDpVg+TYFsNJXyvCHiWfs8fw833RKQePN9nCWqhrKbNaLJfXluzT7h0GHURom+tt9M0JwnKF3WIFOZWl2I226/9cKMYKAU0gIe2GQE84Ca304HhsRVnmyjHopE2VnMiKecmOlAFmczTsCC4CcF6dplfotxJBsvN4EnJrDgkxNpQBlWir+2SqXYRxjQEL8BQ==",
  brotli: "G7cLIIyUqnF25Da2rvsmOKIkcJYKYmeQyWIpi1AaSiogQRGUQJidbT+5B4fNPeynrbVZX/VAkDsF39tvE24yvU6X/SP1V5pzsToz9c7cKOAe9hJaZTONaax+IJSL4I59WKCvixOFGw0EnaqbWMXLbB4JwUofhF5FMTyR/Ei02Ijqu2eGDAc2mp8dnJxe2qZA4ADexCEhEFQMm7hEtjT+rnxt28ijCHI1yzTAS5ST+SOo1KmVwYNWRGJT4iOLomSjKq002fY38BbxHUySkzp51OH8Iz19huAxATjVihgi5d5varbDXjHW1pGUt/25NrBcVL5bN26wLLyVFRtzc+lnr0yfvac11BMOHhiogdTl5JHWIoMEvlDyQOi6fBgV583mIrajUDjNQQeGQ55GZnk7hoTL9x6x56odyj/WC87C/XJF8F8hhQHMwg/1IhtW9iCCl8xH0DB71sPKI5CNA4cxQmxd7+S766W9JlgbctoKXEFLtY9kYU7oSxz99svtuwbZSl6mGCE9qRcSOMwqOVc44Bl/dbz3MjCU7cnywzoYxX87fyMDPVxvRfrWt3yooN2dsicg",
  dict: "eLuWAwppjZY7bgAxCAV7bplIkVKk2PtXkYwljxnYpFl5Md8Hfvb6j7VMwd78/LqX65MKy+Q5Lj9+nu/bOCWUL5sUwDL3AhJkdvmiBOqyZGSUoMgp3nVDHivRBEXqy6HSN3aU7BCZQMT+XZ6ACS3OXijtpzQSha7/s1Jl6bH2ro7DVfWQxJYggQFeoGakz1Stz+BIPcQcEtlUORjUKqqQsAfr5AbXbebAlGnQDsURwuC89NMFyzOU6Fff5kQbGkysnyTE2MdCm6GQzJy7LJJoKIEGbzVb3FFZ6Y0KBspga4ehvqoSo0QftOluqmu8ldLp7OVEtBT2cky5h1rcS5pf7CRMzsmBwyxqG7K4hu+ApmMLzAnwobMIHcyDOoUU3W+5qrBeV6NO23TpofCessX9DCZPvlx2+lFYFNo+piKb4ShU6PBPFwMYEvPoaFJD9rKsAPbp9RTkY97fLS93BImhPbNk3KEENfGCALv/47fhXlIsXe4l6f6NoLdI7OICfKbZ9ssHegC5nq8e9DdBfZRKlxBHrRZLPXX+RGJgNdY+sEDfU9PndKHI1S+RLT5p",
  rawdict: "jZY7bgAxCAV7bplIkVKk2PtXkYwljxnYpFl5Md8Hfvb6j7VMwd78/LqX65MKy+Q5Lj9+nu/bOCWUL5sUwDL3AhJkdvmiBOqyZGSUoMgp3nVDHivRBEXqy6HSN3aU7BCZQMT+XZ6ACS3OXijtpzQSha7/s1Jl6bH2ro7DVfWQxJYggQFeoGakz1Stz+BIPcQcEtlUORjUKqqQsAfr5AbXbebAlGnQDsURwuC89NMFyzOU6Fff5kQbGkysnyTE2MdCm6GQzJy7LJJoKIEGbzVb3FFZ6Y0KBspga4ehvqoSo0QftOluqmu8ldLp7OVEtBT2cky5h1rcS5pf7CRMzsmBwyxqG7K4hu+ApmMLzAnwobMIHcyDOoUU3W+5qrBeV6NO23TpofCessX9DCZPvlx2+lFYFNo+piKb4ShU6PBPFwMYEvPoaFJD9rKsAPbp9RTkY97fLS93BImhPbNk3KEENfGCALv/47fhXlIsXe4l6f6NoLdI7OICfKbZ9ssHegC5nq8e9DdBfZRKlxBHrRZLPXX+RGJgNdY+sEDfU9PndKHI1S8=",
  // Python's gzip with a file name (FNAME) and a modification time.
  named: "H4sICADxU2UC/2hlbGxvLnR4dADLS8xNTVHITc1NSi1SyBsIDgBNRG2JggAAAA==",
};

function text(n, seed) {
  const words = ["alpha ", "beta ", "gamma ", "delta ", "portbroker ", "zlib ", "\n"];
  let s = "";
  let x = seed;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += words[x % words.length];
  }
  return Buffer.from(s.slice(0, n));
}

function bytes(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}

export function handle(conn) {
  const out = [];
  const attempt = (label, fn) => {
    try {
      out.push(`${label} ${fn()}`);
    } catch (error) {
      out.push(`${label} threw ${error.name} ${error.code} ${error.errno} ${error.message}`);
    }
  };
  const hex = (b) => b.toString("hex");
  const inputs = { empty: Buffer.alloc(0), tiny: Buffer.from("hello"), text: text(3000, 7), random: bytes(2000, 3), zeros: Buffer.alloc(70000) };
  // Byte for byte.
  for (const [name, data] of Object.entries(inputs)) {
    for (const [label, options] of [["level0", { level: 0 }], ["huffman", { strategy: zlib.constants.Z_HUFFMAN_ONLY }],
      ["rle", { strategy: zlib.constants.Z_RLE, level: 9 }], ["level0 small chunks", { level: 0, chunkSize: 64 }]]) {
      attempt(`${name} deflate ${label}`, () => hex(zlib.deflateSync(data, options)).slice(0, 200) + " " + zlib.deflateSync(data, options).length);
      attempt(`${name} gzip ${label}`, () => hex(zlib.gzipSync(data, options)).slice(0, 120));
      attempt(`${name} raw ${label}`, () => zlib.crc32(zlib.deflateRawSync(data, options)));
    }
    for (const quality of [0, 1, 5, 9, 11]) {
      attempt(`${name} brotli q${quality}`, () => zlib.crc32(zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality } })));
    }
    attempt(`${name} brotli text mode lgwin 16`, () => zlib.crc32(zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT, [zlib.constants.BROTLI_PARAM_LGWIN]: 16, [zlib.constants.BROTLI_PARAM_QUALITY]: 7 } })));
  }
  attempt("tiny at every level", () => [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((level) => hex(zlib.deflateSync("hello hello", { level }))).join(" "));
  attempt("tiny memLevel windowBits", () => [1, 9].map((memLevel) => [9, 12, 15].map((windowBits) => hex(zlib.deflateSync("abc", { memLevel, windowBits }))).join(",")).join(" "));
  attempt("raw windowBits 8", () => hex(zlib.deflateRawSync("hello", { windowBits: 8 })));
  // Round trips: every form, every compressor, the same bytes back.
  for (const [name, data] of Object.entries(inputs)) {
    for (const level of [-1, 1, 6, 9]) {
      const d = zlib.deflateSync(data, { level });
      const g = zlib.gzipSync(data, { level });
      const r = zlib.deflateRawSync(data, { level });
      out.push(`${name} level ${level} round trips ${zlib.inflateSync(d).equals(data)} ${zlib.gunzipSync(g).equals(data)} ${zlib.unzipSync(g).equals(data)} ${zlib.unzipSync(d).equals(data)} ${zlib.inflateRawSync(r).equals(data)} sizes<=input+${Math.max(d.length, g.length, r.length) <= data.length + 64}`);
    }
    const b = zlib.brotliCompressSync(data);
    out.push(`${name} brotli round trip ${zlib.brotliDecompressSync(b).equals(data)}`);
  }
  // Node's streams decode to the same bytes.
  const expected = text(3000, 7);
  const fixture = (name) => Buffer.from(fixtures[name], "base64");
  attempt("node deflate6", () => zlib.inflateSync(fixture("deflate6")).equals(expected));
  attempt("node gzip9", () => zlib.gunzipSync(fixture("gzip9")).equals(expected));
  attempt("node gzip9 unzip", () => zlib.unzipSync(fixture("gzip9")).equals(expected));
  attempt("node raw1", () => zlib.inflateRawSync(fixture("raw1")).equals(expected));
  attempt("node brotli", () => zlib.brotliDecompressSync(fixture("brotli")).equals(expected));
  attempt("node dictionary", () => zlib.inflateSync(fixture("dict"), { dictionary: Buffer.from("portbroker zlib gamma delta") }).equals(expected));
  attempt("node raw dictionary", () => zlib.inflateRawSync(fixture("rawdict"), { dictionary: Buffer.from("portbroker zlib gamma delta") }).equals(expected));
  attempt("python named gzip", () => zlib.gunzipSync(fixture("named")).toString());
  attempt("two members", () => zlib.gunzipSync(Buffer.concat([fixture("gzip9"), fixture("named")])).length);
  attempt("two members unzip", () => zlib.unzipSync(Buffer.concat([fixture("named"), fixture("named")])).toString().length);
  attempt("trailing zeros", () => zlib.gunzipSync(Buffer.concat([fixture("named"), Buffer.alloc(9)])).length);
  attempt("zlib then garbage", () => zlib.inflateSync(Buffer.concat([fixture("deflate6"), Buffer.from("garbage")])).length);
  // Corrupt and truncated input.
  const gz = fixture("gzip9");
  for (const [label, fn] of [
    ["gunzip garbage", () => zlib.gunzipSync(Buffer.from("garbage data here"))],
    ["gunzip trailing garbage", () => zlib.gunzipSync(Buffer.concat([gz, Buffer.from("zz")]))],
    ["gunzip truncated", () => zlib.gunzipSync(gz.subarray(0, gz.length - 5))],
    ["gunzip header only", () => zlib.gunzipSync(gz.subarray(0, 10))],
    ["gunzip bad crc", () => { const c = Buffer.from(gz); c[c.length - 6] ^= 1; return zlib.gunzipSync(c); }],
    ["gunzip bad length", () => { const c = Buffer.from(gz); c[c.length - 2] ^= 1; return zlib.gunzipSync(c); }],
    ["inflate garbage", () => zlib.inflateSync(Buffer.from("garbage data here"))],
    ["inflate bad checksum", () => { const c = fixture("deflate6"); c[c.length - 1] ^= 1; return zlib.inflateSync(c); }],
    ["inflate bad block", () => zlib.inflateSync(Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]))],
    ["inflateRaw garbage", () => zlib.inflateRawSync(Buffer.from("garbage data here"))],
    ["unzip garbage", () => zlib.unzipSync(Buffer.from("garbage data here"))],
    ["unzip one magic byte", () => zlib.unzipSync(Buffer.from([0x1f]))],
    ["empty inflate", () => zlib.inflateSync(Buffer.alloc(0))],
    ["empty gunzip", () => zlib.gunzipSync("")],
    ["empty brotli", () => zlib.brotliDecompressSync(Buffer.alloc(0))],
    ["brotli garbage", () => zlib.brotliDecompressSync(Buffer.from("garbage data here"))],
    ["brotli truncated", () => zlib.brotliDecompressSync(fixture("brotli").subarray(0, 20))],
    ["brotli bad window", () => zlib.brotliDecompressSync(Buffer.from([0x11, 0x80, 0x01, 0x02]))],
    ["missing dictionary", () => zlib.inflateSync(fixture("dict"))],
    ["bad dictionary", () => zlib.inflateSync(fixture("dict"), { dictionary: Buffer.from("nope") })],
    ["raw wrong dictionary", () => zlib.inflateRawSync(fixture("rawdict"), { dictionary: Buffer.from("nope") })],
    ["maxOutputLength", () => zlib.inflateSync(zlib.deflateSync(Buffer.alloc(100000)), { maxOutputLength: 1000 })],
    ["maxOutputLength brotli", () => zlib.brotliDecompressSync(zlib.brotliCompressSync(Buffer.alloc(100000)), { maxOutputLength: 99999 })],
    ["maxOutputLength exact", () => zlib.gunzipSync(zlib.gzipSync(Buffer.alloc(5000)), { maxOutputLength: 5000 })],
  ]) {
    attempt(label, () => hex(fn()).slice(0, 40));
  }
  // Arguments and options.
  for (const [label, fn] of [
    ["number input", () => zlib.deflateSync(5)],
    ["object input", () => zlib.gzipSync({})],
    ["arraybuffer input", () => zlib.inflateSync(new Uint8Array(zlib.deflateSync("ab")).buffer)],
    ["dataview input", () => zlib.inflateSync(new DataView(new Uint8Array(zlib.deflateSync("dv")).buffer))],
    ["uint16 input", () => zlib.deflateSync(new Uint16Array([1, 2, 3]), { level: 0 })],
    ["level 10", () => zlib.deflateSync("x", { level: 10 })],
    ["level NaN", () => zlib.deflateSync("x", { level: NaN })],
    ["level string", () => zlib.deflateSync("x", { level: "1" })],
    ["level Infinity", () => zlib.deflateSync("x", { level: Infinity })],
    ["level 1.5", () => zlib.deflateSync("x", { level: 1.5 })],
    ["windowBits 7", () => zlib.deflateSync("x", { windowBits: 7 })],
    ["gzip windowBits 8", () => zlib.gzipSync("x", { windowBits: 8 })],
    ["inflate windowBits 0", () => zlib.inflateSync(zlib.deflateSync("w"), { windowBits: 0 })],
    ["inflateRaw windowBits 0", () => zlib.inflateRawSync(zlib.deflateRawSync("w"), { windowBits: 0 })],
    ["memLevel 0", () => zlib.deflateSync("x", { memLevel: 0 })],
    ["strategy 5", () => zlib.deflateSync("x", { strategy: 5 })],
    ["chunkSize 10", () => zlib.deflateSync("x", { chunkSize: 10 })],
    ["chunkSize string", () => zlib.deflateSync("x", { chunkSize: "big" })],
    ["flush 6", () => zlib.deflateSync("x", { flush: 6 })],
    ["finishFlush sync", () => zlib.deflateSync("x", { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 0 })],
    ["finishFlush partial inflate", () => zlib.inflateSync(zlib.deflateSync("partial").subarray(0, 8), { finishFlush: zlib.constants.Z_SYNC_FLUSH })],
    ["maxOutputLength 0", () => zlib.inflateSync("x", { maxOutputLength: 0 })],
    ["dictionary string", () => zlib.deflateSync("x", { dictionary: "nope" })],
    ["brotli param 99", () => zlib.brotliCompressSync("x", { params: { 99: 1 } })],
    ["brotli param string", () => zlib.brotliCompressSync("x", { params: { 1: "x" } })],
    ["brotli param NaN key", () => zlib.brotliCompressSync("x", { params: { q: 1 } })],
    ["brotli quality 12", () => zlib.brotliCompressSync("x", { params: { 1: 12 } })],
    ["brotli boolean param", () => zlib.brotliCompressSync("xyz", { params: { 4: true } })],
    ["brotli bad lgwin", () => zlib.brotliCompressSync("x", { params: { 2: 5 } })],
    ["brotli flush 4", () => zlib.brotliCompressSync("x", { flush: 4 })],
    ["encoding option", () => zlib.deflateSync("enc", { encoding: "hex", level: 0 })],
  ]) {
    attempt(label, () => { const r = fn(); return `${r.constructor.name} ${hex(r)}`; });
  }
  // The module's shape.
  out.push(`keys ${Object.keys(named).sort().join(",")}`);
  out.push(`default keys ${Object.keys(zlib).join(",")}`);
  const { ZLIB_VERNUM, ...constants } = zlib.constants;
  out.push(`constants ${JSON.stringify(constants)} ${typeof ZLIB_VERNUM}`);
  out.push(`codes ${JSON.stringify(zlib.codes)} frozen ${Object.isFrozen(zlib.codes)}`);
  for (const data of ["", "hello", Buffer.from("hello"), new Uint16Array([1, 2]), text(3000, 7)]) {
    attempt(`crc32 ${data.length}`, () => [zlib.crc32(data), zlib.crc32(data, 12345)].join(" "));
  }
  attempt("crc32 bad", () => zlib.crc32(5));
  attempt("crc32 bad value", () => zlib.crc32("x", -1));
  out.push(`classes ${[zlib.Gzip, zlib.Unzip, zlib.BrotliCompress].map((C) => `${C.name}/${C.length}/${new C() instanceof C}/${C() instanceof C}`).join(" ")}`);
  out.push(`lengths ${zlib.deflate.length} ${zlib.deflateSync.length} ${zlib.createGzip.length}`);
  conn.end(out.join("\n") + "\n");
}
