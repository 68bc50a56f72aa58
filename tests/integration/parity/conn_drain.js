// Write callbacks and 'drain': as Node's afterWrite, 'drain' comes before
// the callbacks of the writes that emptied the buffer, and a write the
// kernel takes at once calls back on the next tick (write() still reports
// the high-water mark). Reported on the next connection.
const reports = [];

export function handle(conn) {
  if (reports.length > 0) {
    conn.end(reports.join("\n") + "\n");
    reports.length = 0;
    return;
  }
  const log = (line) => reports.push(line);
  conn.on("drain", () => log(`drain writableLength ${conn.writableLength} needDrain ${conn.writableNeedDrain}`));
  log(`small ${conn.write("x", () => log("small callback"))} length ${conn.writableLength}`);
  log(`big-enough ${conn.write(Buffer.alloc(20000, 0x62), () => log("20000 callback"))} needDrain ${conn.writableNeedDrain}`);
  process.nextTick(() => log("tick"));
  setTimeout(() => {
    // Larger than the socket buffers: completes later, with more queued behind it.
    log(`huge ${conn.write(Buffer.alloc(8 * 1024 * 1024, 0x61), () => log("huge callback"))}`);
    log(`behind ${conn.write("y", () => log("behind callback"))} length>0 ${conn.writableLength > 0}`);
    conn.cork();
    conn.write("c1", () => log("corked 1 callback"));
    conn.write("c2", () => log("corked 2 callback"));
    conn.uncork();
    conn.once("drain", () => {
      log("drain (once)");
      conn.end(() => log("end callback"));
    });
  }, 20);
}
