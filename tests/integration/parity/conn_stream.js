// conn is a stream.Duplex: the stream utilities work on it. pipeline(conn,
// transform, conn) echoes upper-cased text, stream.finished(conn) and the
// events around the end are reported on the next connection.
import { Duplex, Readable, Writable, Stream, Transform, pipeline, finished } from "node:stream";
import { finished as finishedPromise } from "node:stream/promises";

const reports = [];

export function handle(conn) {
  if (reports.length > 0) {
    conn.end(reports.join("\n") + "\n");
    reports.length = 0;
    return;
  }
  const log = (line) => reports.push(line);
  log(`instanceof Duplex ${conn instanceof Duplex} Readable ${conn instanceof Readable} Writable ${conn instanceof Writable} Stream ${conn instanceof Stream}`);
  log(`allowHalfOpen ${conn.allowHalfOpen} readableHighWaterMark ${conn.readableHighWaterMark} writableHighWaterMark ${conn.writableHighWaterMark} objectMode ${conn.readableObjectMode} ${conn.writableObjectMode}`);
  for (const event of ["end", "finish", "close", "pipe", "unpipe", "pause", "resume", "prefinish"]) {
    conn.on(event, (arg) => log(`event ${event}${typeof arg === "boolean" ? ` ${arg}` : ""}`));
  }
  const upper = new Transform({
    transform(chunk, encoding, callback) {
      log(`transform ${JSON.stringify(String(chunk))}`);
      callback(null, String(chunk).toUpperCase());
    },
    flush(callback) {
      log("flush");
      callback(null, "[done]\n");
    },
  });
  finished(conn, (error) => log(`finished ${error ? error.code : "ok"} readableEnded ${conn.readableEnded} writableFinished ${conn.writableFinished}`));
  finishedPromise(conn, { readable: false }).then(() => log("writable side finished"));
  pipeline(conn, upper, conn, (error) => {
    log(`pipeline done ${error ? error.code : "ok"} destroyed ${conn.destroyed}`);
  });
}
