// Parity scenario: TextEncoder / TextDecoder. Writes a transcript that must be
// byte-identical under Node and under portbroker.
export function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const codes = (text) => Array.from(text, (c) => c.codePointAt(0).toString(16)).join(" ");
  const attempt = (label, fn) => {
    try {
      lines.push(`${label}: ${fn()}`);
    } catch (error) {
      lines.push(`${label}: threw ${error.name} ${error.code} ${error.message}`);
    }
  };

  const encoder = new TextEncoder();
  attempt("encoding", () => encoder.encoding);
  for (const text of ["", "ascii", "héllo", "€", "😀", "\ud800", "a\udc00b", "\u0000"]) {
    attempt(`encode ${JSON.stringify(text)}`, () => hex(encoder.encode(text)));
  }
  attempt("encode() default", () => encoder.encode().length);
  attempt("encode non-string", () => hex(encoder.encode(12.5)));
  for (const size of [0, 1, 3, 4, 5, 8]) {
    attempt(`encodeInto size ${size}`, () => {
      const dest = new Uint8Array(size);
      const { read, written } = encoder.encodeInto("a€😀b", dest);
      return `${read} ${written} ${hex(dest)}`;
    });
  }
  attempt("encodeInto bad dest", () => encoder.encodeInto("x", []));

  for (const label of ["utf-8", "UTF8", " unicode-1-1-utf-8 ", "utf-16le", "utf-16", "latin1", "ascii",
    "windows-1252", "klingon"]) {
    attempt(`label ${JSON.stringify(label)}`, () => {
      const d = new TextDecoder(label);
      return `${d.encoding} ${d.fatal} ${d.ignoreBOM}`;
    });
  }

  const utf8 = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  attempt("utf-8 whole", () => codes(new TextDecoder().decode(utf8)));
  attempt("utf-8 ignoreBOM", () => codes(new TextDecoder("utf-8", { ignoreBOM: true }).decode(utf8)));
  for (let split = 0; split <= utf8.length; split++) {
    attempt(`utf-8 stream split ${split}`, () => {
      const d = new TextDecoder();
      const a = d.decode(utf8.subarray(0, split), { stream: true });
      const b = d.decode(utf8.subarray(split), { stream: true });
      const c = d.decode();
      return `${codes(a)} | ${codes(b)} | ${codes(c)}`;
    });
  }
  attempt("utf-8 bytewise", () => {
    const d = new TextDecoder();
    let text = "";
    for (const byte of utf8) text += d.decode(new Uint8Array([byte]), { stream: true });
    return codes(text + d.decode());
  });
  const invalid = new Uint8Array([0x61, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xed, 0xa0, 0x80, 0xf0, 0x9f]);
  attempt("utf-8 invalid replaced", () => codes(new TextDecoder().decode(invalid)));
  attempt("utf-8 invalid fatal", () => new TextDecoder("utf-8", { fatal: true }).decode(invalid));
  attempt("utf-8 truncated stream then flush", () => {
    const d = new TextDecoder();
    return `${codes(d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }))} | ${codes(d.decode())}`;
  });
  attempt("utf-8 truncated fatal flush", () => {
    const d = new TextDecoder("utf-8", { fatal: true });
    d.decode(new Uint8Array([0xe2, 0x82]), { stream: true });
    return d.decode();
  });

  const utf16 = new Uint8Array([0xff, 0xfe, 0x68, 0x00, 0x3d, 0xd8, 0x00, 0xde, 0xac, 0x20]);
  attempt("utf-16le whole", () => codes(new TextDecoder("utf-16le").decode(utf16)));
  for (let split = 0; split <= utf16.length; split++) {
    attempt(`utf-16le stream split ${split}`, () => {
      const d = new TextDecoder("utf-16le");
      return `${codes(d.decode(utf16.subarray(0, split), { stream: true }))} | ${codes(d.decode(utf16.subarray(split)))}`;
    });
  }
  attempt("utf-16le lone surrogate", () => codes(new TextDecoder("utf-16le").decode(new Uint8Array([0x3d, 0xd8, 0x41, 0x00]))));
  attempt("utf-16le odd byte", () => codes(new TextDecoder("utf-16le").decode(new Uint8Array([0x41, 0x00, 0x42]))));
  attempt("utf-16le fatal", () => new TextDecoder("utf-16le", { fatal: true }).decode(new Uint8Array([0x00, 0xdc])));
  attempt("latin1", () => codes(new TextDecoder("latin1").decode(new Uint8Array([0x41, 0xe9, 0xff, 0x80]))));

  attempt("input kinds", () => [
    new TextDecoder().decode(new Uint8Array([104, 105]).buffer),
    new TextDecoder().decode(new DataView(new Uint8Array([0, 104, 105]).buffer, 1)),
    new TextDecoder().decode(new Uint16Array([0x6968])),
    new TextDecoder().decode(Buffer.from("buf")),
    new TextDecoder().decode(),
    new TextDecoder().decode(undefined),
  ].join(","));
  attempt("decode(string)", () => new TextDecoder("utf-16le").decode("nope"));
  attempt("roundtrip", () => new TextDecoder().decode(new TextEncoder().encode("round 🔁 trip")));
  attempt("toStringTag", () => `${Object.prototype.toString.call(new TextEncoder())} ${Object.prototype.toString.call(new TextDecoder())}`);

  conn.write(`${lines.join("\n")}\n`);
  conn.end();
}
