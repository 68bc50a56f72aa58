// A stream of chunks compressed into conn: first gzip at level 0 (piped
// with end: false), then brotli (which both brotli versions compress
// alike), which ends the connection.
import { Readable, pipeline } from "node:stream";
import zlib from "node:zlib";

const lines = Array.from({ length: 200 }, (_, i) => `line ${i}: portbroker streams zlib output into conn\n`);

export function handle(conn) {
  const gzip = zlib.createGzip({ level: 0, chunkSize: 1024 });
  Readable.from(lines).pipe(gzip).pipe(conn, { end: false });
  gzip.on("end", () => {
    pipeline(Readable.from(lines.map((l) => l.toUpperCase())), zlib.createBrotliCompress(), conn, (error) => {
      if (error) console.error("pipeline failed", error);
    });
  });
}
