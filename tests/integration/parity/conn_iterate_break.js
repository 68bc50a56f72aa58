// Leaving `for await (const chunk of conn)` early destroys the socket with
// an AbortError, as Node does: 'error', then 'close' with hadError true.
// The first connection is reported on the next.
const reports = [];

export async function handle(conn) {
  if (reports.length > 0) {
    conn.end(reports.join("\n") + "\n");
    reports.length = 0;
    return;
  }
  const log = (line) => reports.push(line);
  conn.on("error", (error) => log(`error ${error.name} ${error.code} ${error.message}`));
  conn.on("close", (hadError) => log(`close hadError=${hadError} destroyed=${conn.destroyed} errored=${conn.errored?.name}`));
  conn.setEncoding("utf8");
  for await (const chunk of conn) {
    log(`chunk ${JSON.stringify(chunk)}`);
    if (chunk.includes("stop")) break;
    conn.write(`read ${chunk}\n`);  // the client's cue to send "stop"
  }
  log(`after the loop destroyed=${conn.destroyed} writable=${conn.writable}`);
}
