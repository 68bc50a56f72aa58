// The peer half-closes before sending anything and the handler never reads:
// as in Node, 'end' still comes (nothing is left unread), the socket ends its
// side, and 'finish' and 'close' follow; the handler reports on the way.
export function handle(conn) {
  conn.on("end", () => conn.write(`end flowing=${conn.readableFlowing}\n`));
  conn.on("finish", () => {});
  conn.write("hello\n");
}
