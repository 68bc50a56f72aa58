// Event order on a connection, reported on the next connection: data while
// flowing, pause/resume, the peer's half-close ending the socket (allowHalfOpen
// false), finish and close(hadError), write callbacks and end callbacks.
const reports = [];

export function handle(conn) {
  if (reports.length > 0) {
    conn.end(reports.join("\n") + "\n");
    reports.length = 0;
    return;
  }
  const log = (line) => reports.push(line);
  for (const event of ["end", "finish", "pause", "resume", "drain", "timeout"]) {
    conn.on(event, () => log(`event ${event}`));
  }
  conn.on("close", (hadError) => log(`event close hadError=${hadError} destroyed=${conn.destroyed}`));
  conn.on("data", (chunk) => {
    log(`event data ${chunk}`);
    conn.write(`read ${chunk}\n`);  // the client's cue to send the next piece
    if (String(chunk) === "first") {
      conn.pause();
      log(`paused ${conn.isPaused()}`);
      setTimeout(() => conn.resume(), 10);
    }
  });
  log(`write returned ${conn.write("ack", () => log("write callback"))}`);
  Promise.resolve().then(() => log("microtask"));
  process.nextTick(() => log("nextTick"));
  setImmediate(() => log("immediate"));
  conn.setTimeout(1000);
  const originalEnd = conn.end.bind(conn);
  conn.end = (...args) => {
    log("end() called");
    return originalEnd(...args, () => log("end callback"));
  };
}
