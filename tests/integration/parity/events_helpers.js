// Parity scenario: node:events' once() and on() with AbortSignal, and
// captureRejections. Writes a transcript that must be byte-identical under
// Node and under portbroker.
import { EventEmitter, once, on, captureRejectionSymbol, captureRejections } from "node:events";

export async function handle(conn) {
  const lines = [];
  const log = (...parts) => lines.push(parts.map(String).join(" "));
  const settle = (label, promise) => promise.then((value) => log(label, "resolved", JSON.stringify(value)),
    (error) => log(label, "rejected", error.name, error.code, error.message, `cause=${error.cause}`));

  const emitter = new EventEmitter();
  const controller = new AbortController();
  const aborted = settle("once aborted", once(emitter, "never", { signal: controller.signal }));
  controller.abort("stop");
  await aborted;
  log("listeners left", emitter.listenerCount("never"), emitter.listenerCount("error"));
  await settle("once already aborted", once(emitter, "x", { signal: AbortSignal.abort() }));
  const fired = settle("once fired", once(emitter, "go"));
  setImmediate(() => emitter.emit("go", 1, "two"));
  await fired;
  const failed = settle("once error", once(emitter, "go"));
  setImmediate(() => emitter.emit("error", new RangeError("bad")));
  await failed;

  const source = new EventEmitter();
  const stop = new AbortController();
  const seen = [];
  setImmediate(() => {
    source.emit("tick", 1);
    source.emit("tick", 2);
    setImmediate(() => stop.abort());
  });
  try {
    for await (const [value] of on(source, "tick", { signal: stop.signal })) seen.push(value);
  } catch (error) {
    log("on ended", error.name, error.code);
  }
  log("on saw", seen.join(","), "listeners left", source.listenerCount("tick"));
  const closing = new EventEmitter();
  setImmediate(() => {
    closing.emit("item", "a");
    closing.emit("item", "b");
    closing.emit("end");
  });
  const items = [];
  for await (const [item] of on(closing, "item", { close: ["end"] })) items.push(item);
  log("on with close", items.join(","));

  log("captureRejections default", captureRejections, EventEmitter.captureRejections);
  const capturing = new EventEmitter({ captureRejections: true });
  capturing.on("job", async () => {
    throw new Error("job failed");
  });
  const captured = new Promise((resolve) => capturing.on("error", (error) => resolve(error.message)));
  capturing.emit("job");
  log("captured", await captured);
  const hooked = new EventEmitter({ captureRejections: true });
  const rejection = new Promise((resolve) => {
    hooked[captureRejectionSymbol] = (error, event, ...args) => resolve(`${error.message} ${event} ${args}`);
  });
  hooked.on("job", async () => {
    throw new Error("hooked");
  });
  hooked.emit("job", 1, 2);
  log("rejection hook", await rejection);
  try {
    new EventEmitter({ captureRejections: 1 });
  } catch (error) {
    log("bad option", error.code, error.message);
  }
  conn.end(`${lines.join("\n")}\n`);
}
