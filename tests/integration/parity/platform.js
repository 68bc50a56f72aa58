// Parity scenario: performance, crypto, process and the node: built-ins a
// handler imports, plus the socket options that return the socket. Random and
// time values are checked for shape only, so the transcript is deterministic.
import { randomUUID, getRandomValues } from "node:crypto";
import { format, promisify, inspect } from "node:util";
import { setTimeout as sleep, setImmediate as nextImmediate } from "node:timers/promises";
import { StringDecoder } from "node:string_decoder";
import { Buffer as ImportedBuffer } from "node:buffer";
import { EventEmitter, once } from "node:events";

export async function handle(conn) {
  const out = [];
  const attempt = async (label, fn) => {
    try {
      out.push(`${label} ${await fn()}`);
    } catch (error) {
      out.push(`${label} threw ${error.name} ${error.code ?? ""}`.trimEnd());
    }
  };
  const t0 = performance.now();
  await attempt("performance.now", () => typeof t0 === "number" && performance.now() >= t0);
  await attempt("timeOrigin", () => typeof performance.timeOrigin === "number" && performance.timeOrigin > 1.6e12);
  await attempt("getRandomValues", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    return bytes.length === 32 && bytes.some((b) => b !== 0);
  });
  await attempt("getRandomValues returns its argument", () => {
    const array = new Uint32Array(4);
    return crypto.getRandomValues(array) === array;
  });
  await attempt("getRandomValues floats", () => crypto.getRandomValues(new Float64Array(2)));
  await attempt("getRandomValues quota", () => crypto.getRandomValues(new Uint8Array(65537)));
  await attempt("randomUUID", () => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()));
  await attempt("node:crypto", () => typeof randomUUID() === "string" && getRandomValues(new Uint8Array(2)).length);
  await attempt("format", () => format("%s=%d %j %o", "a", 42, { b: [1] }, [1, "x"]));
  await attempt("inspect", () => inspect({ nested: { deep: { deeper: { deepest: 1 } } }, list: [1, 2, 3] }));
  await attempt("promisify", async () => {
    const legacy = (value, callback) => setImmediate(() => callback(null, value * 2));
    return promisify(legacy)(21);
  });
  await attempt("timers/promises", async () => (await sleep(5, "slept")) + " " + (await nextImmediate("next")));
  await attempt("string_decoder", () => {
    const decoder = new StringDecoder("utf8");
    return decoder.write(Buffer.from([0xe2, 0x82])) + "|" + decoder.write(Buffer.from([0xac]));
  });
  await attempt("node:buffer is the global", () => ImportedBuffer === Buffer);
  await attempt("events.once", async () => {
    const emitter = new EventEmitter();
    setImmediate(() => emitter.emit("go", 1, 2));
    return (await once(emitter, "go")).join(",");
  });
  await attempt("nextTick before promise", () => new Promise((resolve) => {
    const order = [];
    Promise.resolve().then(() => order.push("promise"));
    process.nextTick(() => order.push("tick"));
    setImmediate(() => resolve(order.join(",")));
  }));
  await attempt("hrtime", () => {
    const [s, ns] = process.hrtime();
    return Number.isInteger(s) && Number.isInteger(ns) && typeof process.hrtime.bigint() === "bigint";
  });
  await attempt("setNoDelay returns conn", () => conn.setNoDelay(true) === conn);
  await attempt("setKeepAlive returns conn", () => conn.setKeepAlive(true, 1000) === conn);
  await attempt("setTimeout bad", () => conn.setTimeout(-1));
  conn.end(out.join("\n") + "\n");
}
