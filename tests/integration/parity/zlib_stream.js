// node:zlib streams in the worker: event order, the size of each output
// chunk, flush(), params(), backpressure with a small highWaterMark (the
// engine steps again only when the reader wants more), pipeline, unzip fed
// one byte at a time, the callback forms and their errors, close().
import zlib from "node:zlib";
import { Readable, pipeline, Writable } from "node:stream";
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
function trace(log, s, name) {
  for (const ev of ["end", "finish", "close", "error", "prefinish", "drain", "pause", "resume"]) s.on(ev, (e) => log(`${name}:${ev}${e instanceof Error ? " " + e.code + " " + e.message : ""}`));
}
export async function handle(conn) {
  const out = [];
  const log = (...a) => out.push(a.join(" "));
  // gunzip stream of a gzip made by Node (here: level 0 is the same everywhere)
  const data = Buffer.from("streamed text ".repeat(5000));
  const gz = zlib.gzipSync(data, { level: 0 });
  const g = zlib.createGunzip();
  trace(log, g, "gunzip");
  let sizes = [];
  g.on("data", (c) => sizes.push(c.length));
  for (let i = 0; i < gz.length; i += 10000) g.write(gz.subarray(i, i + 10000));
  g.end();
  await new Promise((r) => g.on("close", r));
  log("chunk sizes", sizes.join(","), "bytesWritten", g.bytesWritten);
  // corrupt stream
  const bad = zlib.createInflate();
  trace(log, bad, "bad");
  // Waited for by its events, not a pause: the engine's work runs on the
  // thread pool, late on a loaded machine.
  // (Node never calls this write's callback: the error comes first.)
  const badClosed = new Promise((r) => bad.on("close", r));
  bad.write(Buffer.from("not zlib at all"), (e) => log("write cb", e?.code));
  await badClosed;
  await wait(20);  // time for a callback, were one to come
  // flush and params
  const d = zlib.createDeflate({ level: 0 });
  const parts = [];
  d.on("data", (c) => parts.push(c.toString("hex")));
  trace(log, d, "deflate");
  d.write("abc");
  d.flush(() => log("flushed", parts.join("|")));
  await wait(10);
  d.params(9, 0, () => log("params done"));
  await wait(10);
  d.end("xyz");
  await new Promise((r) => d.on("close", r));
  log("deflate parts", parts.join("|"));
  // backpressure: tiny highWaterMark, nobody reading for a while
  const inf = zlib.createInflate({ highWaterMark: 1024, chunkSize: 1024 });
  trace(log, inf, "inf");
  inf.end(zlib.deflateSync(Buffer.alloc(50000, 0x61), { level: 0 }));
  while (inf.readableLength < 1024) await wait(5);
  await wait(20);  // time to go past the highWaterMark, were it not respected
  log("buffered", inf.readableLength, "bytesWritten", inf.bytesWritten);
  let total = 0;
  inf.on("data", (c) => { total += c.length; });
  await new Promise((r) => inf.on("end", r));
  log("total", total);
  // pipeline with gzip/gunzip
  const got = [];
  await new Promise((resolve) => pipeline(Readable.from(["a", "b", "c"]), zlib.createGzip(), zlib.createGunzip(), new Writable({ write(c, e, cb) { got.push(String(c)); cb(); } }), (err) => { log("pipeline", err, got.join("")); resolve(); }));
  // info option and callback errors
  await new Promise((resolve) => zlib.deflate("info", { info: true }, (err, res) => { log("info", err, Object.keys(res).join(","), res.engine.constructor.name, res.engine._closed); resolve(); }));
  await new Promise((resolve) => zlib.gunzip(Buffer.from([0x1f, 0x8b, 8, 0]), (err) => { log("cb error", err.code, err.errno, err.message); resolve(); }));
  await new Promise((resolve) => zlib.inflate(zlib.deflateSync(Buffer.alloc(100000)), { maxOutputLength: 100 }, (err) => { log("cb max", err.code, err.message); resolve(); }));
  try { zlib.gzip("x"); } catch (e) { log("no callback", e.code, e.message); }
  try { zlib.createGzip({ chunkSize: 10 }); } catch (e) { log("chunk", e.code, e.message); }
  const u = zlib.createUnzip();
  trace(log, u, "unzip");
  const uparts = [];
  u.on("data", (c) => uparts.push(String(c)));
  const two = Buffer.concat([zlib.gzipSync("first ", { level: 0 }), zlib.gzipSync("second", { level: 0 })]);
  u.write(two.subarray(0, 1)); u.write(two.subarray(1, 2)); u.end(two.subarray(2));
  await new Promise((r) => u.on("close", r));
  log("unzip", uparts.join(""));
  const br = zlib.createBrotliCompress();
  const bparts = [];
  br.on("data", (c) => bparts.push(c.toString("hex")));
  trace(log, br, "br");
  br.end("brotli streaming text ".repeat(20));
  await new Promise((r) => br.on("close", r));
  log("brotli", bparts.join("|"));
  const closed = zlib.createGzip();
  trace(log, closed, "closed");
  closed.close(() => log("close cb"));
  log("closed?", closed._closed);
  await wait(10);
  conn.end(out.join("\n") + "\n");
}
