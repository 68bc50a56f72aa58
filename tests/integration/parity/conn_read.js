// Reading: setEncoding across split multi-byte characters (the client sends
// "héllo 😀!" in three pieces cut inside characters), then the same bytes seen
// through every other encoding, and the counters and addresses a handler reads.
export function handle(conn, ctx) {
  const out = [];
  const chunks = [];
  conn.setEncoding("utf8");
  out.push(`encoding ${conn.readableEncoding} flowing ${conn.readableFlowing}`);
  conn.on("data", (chunk) => {
    out.push(`data ${typeof chunk} ${JSON.stringify(chunk)}`);
    chunks.push(chunk);
    conn.write(`read ${chunks.length}\n`);  // the client's cue to send the next piece
  });
  conn.on("end", () => {
    const bytes = Buffer.from(chunks.join(""));
    for (const encoding of ["hex", "base64", "base64url", "latin1", "ascii", "utf16le"]) {
      out.push(`${encoding} ${JSON.stringify(bytes.toString(encoding))}`);
    }
    out.push(`bytesRead ${conn.bytesRead} readableEnded ${conn.readableEnded}`);
    out.push(`family ${conn.remoteFamily} remote ${conn.remoteAddress} local ${conn.localAddress}`);
    out.push(`ports ${typeof conn.remotePort} ${conn.localPort === ctx.port}`);
    const local = conn.address();
    out.push(`address ${local.address} ${local.family} ${local.port === ctx.port} ${conn.localFamily} ${local === conn.address()}`);
    out.push(`writable ${conn.writable} readyState ${conn.readyState}`);
    conn.end(out.join("\n") + "\n");
  });
}
