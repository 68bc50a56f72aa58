// A gzip body streamed in by the client, answered through
// pipeline(conn, gunzip, transform, gzip, conn): the text upper-cased and
// compressed again (stored blocks, level 0, the same bytes from any zlib).
// allowHalfOpen lets the answer follow the client's end.
import { pipeline, Transform } from "node:stream";
import zlib from "node:zlib";

export function handle(conn) {
  conn.allowHalfOpen = true;
  const upper = new Transform({
    transform(chunk, encoding, callback) {
      callback(null, chunk.toString("latin1").toUpperCase());
    },
  });
  pipeline(conn, zlib.createGunzip(), upper, zlib.createGzip({ level: 0 }), conn, (error) => {
    if (error) console.error("pipeline failed", error);
  });
}
