// Writing: strings in several encodings, Buffers and typed arrays, write()'s
// return value with a large write, 'drain', writableLength and bytesWritten,
// argument errors, and write after end.
export function handle(conn) {
  const out = [];
  const attempt = (label, fn) => {
    try {
      out.push(`${label} ${fn()}`);
    } catch (error) {
      out.push(`${label} threw ${error.name} ${error.code}`);
    }
  };
  conn.on("error", (error) => out.push(`error event ${error.code}`));
  attempt("utf8", () => conn.write("héllo\n"));
  attempt("hex", () => conn.write("68690a", "hex"));
  attempt("base64", () => conn.write("aGkK", "base64"));
  attempt("latin1", () => conn.write("caf\u00e9\n", "latin1"));
  attempt("buffer", () => conn.write(Buffer.from("buffer\n")));
  attempt("uint8array", () => conn.write(new Uint8Array([0x75, 0x38, 0x0a])));
  attempt("dataview", () => conn.write(new DataView(new Uint8Array([0x64, 0x76, 0x0a]).buffer)));
  attempt("number", () => conn.write(42));
  attempt("null", () => conn.write(null));
  attempt("bad encoding", () => conn.write("x", "nope"));
  attempt("bytesWritten", () => conn.bytesWritten);
  attempt("empty", () => conn.write(""));
  conn.cork();
  attempt("corked", () => conn.write("€ and é\n"));
  attempt("corked utf16le", () => conn.write("é\n", "utf16le"));
  attempt("corked bytesWritten", () => conn.bytesWritten);
  conn.uncork();
  attempt("uncorked bytesWritten", () => conn.bytesWritten);
  // Larger than any socket buffer, so the kernel cannot take it at once.
  const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
  const returned = conn.write(big);
  out.push(`big write returned ${returned} needDrain ${conn.writableNeedDrain} length>0 ${conn.writableLength > 0}`);
  conn.once("drain", () => {
    out.push(`drain writableLength ${conn.writableLength}`);
    conn.write("\n");
    conn.end(out.join("\n") + "\n", () => {
      conn.write("after end", (error) => out.push(`late write callback ${error?.code}`));
    });
  });
}
