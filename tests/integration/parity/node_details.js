// Details handler code meets, as Node has them: two errors compared by assert
// without their stacks; process.env storing strings; process.hrtime's checks;
// buffer.INSPECT_MAX_BYTES as a live setting; util.aborted resolving with the
// event; getRandomValues' quota message; conn.bufferSize; conn.setTimeout's
// callback check and order; `this` in handle; import.meta.dirname/filename.
import assert from "node:assert";
import buffer from "node:buffer";
import util from "node:util";
import net from "node:net";
const here = function () { return this; };
export async function handle(conn) {
  const out = [];
  try { assert.deepStrictEqual(new Error("a"), new Error("b")); } catch (e) { out.push(e.message); }
  try { assert.strictEqual(new TypeError("a"), new TypeError("a")); } catch (e) { out.push(e.message); }
  process.env.PORT_COUNT = 3; process.env.FLAG = true; process.env.U = undefined;
  out.push(`${typeof process.env.PORT_COUNT} ${process.env.FLAG === "true"} ${JSON.stringify(process.env.U)} ${Object.keys(process.env).filter((k) => ["PORT_COUNT", "FLAG", "U"].includes(k)).join(",")}`);
  delete process.env.FLAG;
  out.push(`deleted ${process.env.FLAG}`);
  for (const a of [[1], [1, 2, 3], "x", null, {}]) {
    try { process.hrtime(a); out.push("hrtime ok"); } catch (e) { out.push(`hrtime ${e.code} ${e.message}`); }
  }
  out.push(`hrtime diff ${process.hrtime([0, 0]).length}`);
  const before = buffer.INSPECT_MAX_BYTES;
  buffer.INSPECT_MAX_BYTES = 4;
  out.push(util.inspect(Buffer.from("abcdefgh")));
  for (const v of [-1, "2"]) { try { buffer.INSPECT_MAX_BYTES = v; } catch (e) { out.push(`${e.code} ${e.message}`); } }
  buffer.INSPECT_MAX_BYTES = before;
  out.push(`${JSON.stringify(Object.getOwnPropertyDescriptor(buffer, "INSPECT_MAX_BYTES") && Object.keys(Object.getOwnPropertyDescriptor(buffer, "INSPECT_MAX_BYTES")))}`);
  const ac = new AbortController();
  const waiting = util.aborted(ac.signal, {});
  ac.abort();
  const event = await waiting;
  out.push(`aborted ${event?.constructor.name} ${event?.type} ${await util.aborted(AbortSignal.abort(), {})}`);
  try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { out.push(`${e.name} ${e.code} ${e.message}`); }
  out.push(`bufferSize ${conn.bufferSize} ${new net.Socket().bufferSize}`);
  for (const cb of ["notfn", null, 5]) {
    try { conn.setTimeout(1000, cb); out.push("setTimeout ok"); } catch (e) { out.push(`${e.code} ${e.message}`); }
  }
  try { conn.setTimeout(-5); } catch (e) { out.push(`${e.code} timeout=${conn.timeout}`); }
  conn.setTimeout(0);
  out.push(`this ${this === undefined} ${here.call(undefined) === undefined}`);
  out.push(`meta ${typeof import.meta.dirname} ${typeof import.meta.filename} ${import.meta.filename.endsWith(".port.js")} ${import.meta.filename.startsWith(import.meta.dirname + "/")} ${import.meta.url === "file://" + import.meta.filename}`);
  conn.end(out.join("\n") + "\n");
}
