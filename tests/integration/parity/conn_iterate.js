// `for await (const chunk of conn)`: string chunks after setEncoding, written
// back as they come; the loop ends at the peer's half-close and, as in Node,
// leaving the loop destroys the socket (nothing written after it arrives).
export async function handle(conn) {
  conn.setEncoding("utf8");
  let text = "";
  for await (const chunk of conn) {
    text += chunk;
    conn.write(`chunk ${typeof chunk} so far ${JSON.stringify(text)} flowing ${conn.readableFlowing}\n`);
  }
  conn.write("after the loop\n");
}
