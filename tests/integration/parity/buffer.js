// Parity scenario: Buffer. Writes a transcript that must be byte-identical
// under Node and under portbroker.
export function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const out = (label, value) => lines.push(`${label}: ${show(value)}`);
  const attempt = (label, fn) => {
    try {
      out(label, fn());
    } catch (error) {
      lines.push(`${label}: threw ${error.name} ${error.code} ${error.message}`);
    }
  };

  for (const encoding of ["utf8", "utf16le", "latin1", "ascii", "base64", "base64url", "hex"]) {
    for (const text of ["", "hi", "héllo €uro 😀", "\ud800!", "aGk=", "c0ffee", "a_b-c+/"]) {
      attempt(`from(${JSON.stringify(text)}, ${encoding})`, () => {
        const b = Buffer.from(text, encoding);
        return [b.toString("hex"), b.toString(encoding), b.length, Buffer.byteLength(text, encoding)];
      });
    }
  }
  attempt("from array", () => Buffer.from([1, 256, -1, 3.7, "9"]));
  attempt("from arrayBuffer view", () => {
    const ab = new ArrayBuffer(6);
    const view = Buffer.from(ab, 2, 3);
    view[0] = 65;
    return [new Uint8Array(ab)[2], view.length, view.byteOffset];
  });
  attempt("from object", () => Buffer.from({ type: "Buffer", data: [104, 105] }).toString());
  attempt("from number", () => Buffer.from(42));
  attempt("alloc fill", () => [Buffer.alloc(5, "ab"), Buffer.alloc(4, 0x1ff), Buffer.alloc(3, "zz", "hex")]);
  attempt("alloc negative", () => Buffer.alloc(-5));
  attempt("allocUnsafe length", () => Buffer.allocUnsafe(10).length);
  attempt("concat", () => Buffer.concat([Buffer.from("ab"), Buffer.from("cd"), new Uint8Array([101])]));
  attempt("concat total", () => [Buffer.concat([Buffer.from("abc")], 2), Buffer.concat([Buffer.from("a")], 3)]);
  attempt("compare", () => [Buffer.compare(Buffer.from("a"), Buffer.from("b")), Buffer.from("b").compare(Buffer.from("abc"), 1, 2)]);
  attempt("equals", () => [Buffer.from("x").equals(Buffer.from("x")), Buffer.from("x").equals(new Uint8Array([1]))]);
  attempt("isBuffer/isEncoding", () => [Buffer.isBuffer(Buffer.alloc(1)), Buffer.isBuffer(new Uint8Array(1)),
    Buffer.isEncoding("UTF-8"), Buffer.isEncoding("nope")]);
  attempt("slice shares memory", () => {
    const b = Buffer.from("abcdef");
    const s = b.slice(1, 3);
    s[0] = 0x5a;
    return [b.toString(), s.toString(), b.subarray(-2).toString(), Buffer.isBuffer(s)];
  });
  attempt("copy", () => {
    const target = Buffer.alloc(6, ".");
    return [Buffer.from("wxyz").copy(target, 2, 1), target.toString()];
  });
  attempt("fill ranges", () => Buffer.alloc(8).fill("é", 1, 6).toString("hex"));
  attempt("fill bad", () => Buffer.alloc(2).fill("zz", "hex"));
  attempt("write forms", () => {
    const b = Buffer.alloc(10);
    return [b.write("hé"), b.write("ff00", 3, "hex"), b.write("€", 8), b.write("x", 2, 1, "latin1"), b.toString("hex")];
  });
  attempt("write out of range", () => Buffer.alloc(2).write("x", 3));
  const hay = Buffer.from("one two one two é");
  for (const needle of ["one", "two", "é", 0x6f, Buffer.from("wo"), "", "zzz"]) {
    attempt(`indexOf ${show(needle)}`, () => [hay.indexOf(needle), hay.indexOf(needle, 5), hay.lastIndexOf(needle),
      hay.lastIndexOf(needle, -5), hay.includes(needle, -3)]);
  }
  const data = Buffer.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x80, 0x7f]);
  for (const method of ["readUInt8", "readInt8", "readUInt16LE", "readUInt16BE", "readInt16LE", "readInt32BE",
    "readUInt32LE", "readFloatBE", "readDoubleLE", "readBigUInt64BE", "readBigInt64LE"]) {
    attempt(method, () => [data[method](0), data[method](2)]);
  }
  attempt("readUIntBE(1, 6)", () => data.readUIntBE(1, 6));
  attempt("readIntLE(4, 3)", () => data.readIntLE(4, 3));
  attempt("read past end", () => data.readUInt32LE(8));
  attempt("read fractional offset", () => data.readUInt8(1.5));
  attempt("readIntLE bad length", () => data.readIntLE(0, 7));
  attempt("writes", () => {
    const b = Buffer.alloc(16);
    return [b.writeUInt16BE(0xbeef), b.writeInt32LE(-2, 2), b.writeFloatLE(1.5, 6), b.writeBigUInt64BE(2n ** 60n, 8),
      b.toString("hex")];
  });
  attempt("write out of range value", () => Buffer.alloc(4).writeUInt16LE(70000));
  attempt("write int 40 bits", () => Buffer.alloc(8).writeIntBE(2 ** 40, 0, 5));
  attempt("write bigint range", () => Buffer.alloc(8).writeBigInt64LE(2n ** 63n));
  attempt("swap", () => [Buffer.from("abcd").swap16().toString(), Buffer.from("abcdefgh").swap64().toString()]);
  attempt("swap bad", () => Buffer.from("abc").swap32());
  attempt("toJSON", () => JSON.stringify(Buffer.from("hey")));
  attempt("toString ranges", () => [Buffer.from("héllo").toString("utf8", 1, 3), Buffer.from("abc").toString(undefined, -1, 99)]);
  attempt("unknown encoding", () => Buffer.from("abc").toString("klingon"));
  attempt("map keeps Buffer", () => Buffer.isBuffer(Buffer.from("ab").map((x) => x + 1)));
  attempt("iteration", () => [...Buffer.from("hi").entries()]);
  attempt("instanceof", () => [Buffer.from("a") instanceof Uint8Array, Object.prototype.toString.call(Buffer.from("a"))]);
  attempt("poolSize/constants", () => [Buffer.poolSize, typeof Buffer.from, Buffer.name]);
  attempt("atob/btoa", () => [btoa("hello"), atob("aGVsbG8="), atob(" aG V s bG8 ")]);
  attempt("atob invalid", () => atob("a"));
  attempt("btoa invalid", () => btoa("☃"));

  conn.write(`${lines.join("\n")}\n`);
  conn.end();
}

function show(value) {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `<${value.constructor.name} ${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join(" ")}>`;
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  if (Object.is(value, -0)) return "-0";
  return String(value);
}
