// node:stream, node:stream/promises and node:zlib reached through dynamic
// import(), with and without the node: prefix: the same modules (and the same
// Duplex that conn is) as the static imports, usable end to end.
import * as staticZlib from "node:zlib";
import { Duplex as StaticDuplex } from "stream";

export async function handle(conn) {
  const lines = [];
  const zlib = await import("zlib");
  const prefixed = await import("node:zlib");
  const stream = await import("node:stream");
  const { pipeline } = await import("stream/promises");
  lines.push(`zlib same namespace ${zlib === prefixed} same functions ${zlib.gzipSync === staticZlib.gzipSync}`);
  lines.push(`default export is Stream ${stream.default === stream.Stream} same Duplex ${stream.Duplex === StaticDuplex}`);
  lines.push(`conn is a Duplex ${conn instanceof stream.Duplex} a Readable ${conn instanceof stream.Readable}`);
  const chunks = [];
  await pipeline(stream.Readable.from([Buffer.from("through a dynamic "), Buffer.from("import")]),
    zlib.createDeflate(), zlib.createInflate(),
    new stream.Writable({ write(chunk, encoding, callback) { chunks.push(chunk); callback(); } }));
  lines.push(`round trip ${Buffer.concat(chunks).toString()}`);
  lines.push(`brotli ${zlib.brotliDecompressSync(zlib.brotliCompressSync("bro")).toString()}`);
  try {
    await import("node:zlib/nope");
  } catch (error) {
    lines.push(`unknown ${error.code}`);
  }
  conn.end(lines.join("\n") + "\n");
}
