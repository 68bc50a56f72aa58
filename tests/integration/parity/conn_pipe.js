// conn.pipe(conn) without importing node:stream: pipe and the state views
// come from the part of the library loaded on first use.
export function handle(conn) {
  conn.write(`flowing ${conn.readableFlowing} state ${typeof conn._readableState} ${conn._readableState.flowing} ` +
    `${conn._writableState.ended} highWaterMark ${conn._readableState.highWaterMark}\n`);
  conn.on("pipe", (source) => conn.write(`pipe from itself ${source === conn}\n`));
  conn.pipe(conn);
  conn.write(`after pipe flowing ${conn.readableFlowing} ${conn._readableState.flowing}\n`);
}
