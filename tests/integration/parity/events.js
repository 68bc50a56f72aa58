// Parity scenario: EventEmitter from node:events. Writes a transcript that
// must be byte-identical under Node and under portbroker.
import { EventEmitter, once, errorMonitor } from "node:events";

export async function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const log = (...parts) => lines.push(parts.map(String).join(" "));

  const e = new EventEmitter();
  e.on("newListener", (name, fn) => log("newListener", String(name), fn.name || "anonymous"));
  e.on("removeListener", (name, fn) => log("removeListener", String(name), fn.name || "anonymous"));
  function first(v) { log("first", v); }
  function second(v) { log("second", v); }
  function third(v) { log("third", v); }
  e.on("data", first);
  e.prependListener("data", second);
  e.once("data", third);
  e.prependOnceListener("data", function prependedOnce(v) { log("prependedOnce", v); });
  log("emit returns", e.emit("data", 1));
  log("emit returns", e.emit("data", 2));
  log("emit nothing", e.emit("nobody"));
  log("listenerCount", e.listenerCount("data"), EventEmitter.listenerCount(e, "data"));
  log("listeners", e.listeners("data").map((f) => f.name).join(","));
  log("eventNames", e.eventNames().map(String).join(","));

  // Changes during an emit do not affect that emit.
  const m = new EventEmitter();
  function a() {
    log("a");
    m.removeListener("x", b);
    m.on("x", () => log("added during emit"));
  }
  function b() { log("b"); }
  m.on("x", a);
  m.on("x", b);
  m.emit("x");
  m.emit("x");

  // `this` and arguments.
  const t = new EventEmitter();
  t.on("args", function (...args) { log("this ok", this === t, "args", JSON.stringify(args)); });
  t.emit("args", 1, "two", { three: 3 });

  // once wrappers.
  const o = new EventEmitter();
  const onceFn = () => log("never");
  o.once("y", onceFn);
  log("raw is wrapper", o.rawListeners("y")[0] !== onceFn, "listeners unwrap", o.listeners("y")[0] === onceFn);
  o.off("y", onceFn);
  log("after off", o.emit("y"), o.listenerCount("y"));

  // Errors.
  const errors = new EventEmitter();
  for (const value of [new TypeError("typed"), "a string", 42, { code: "X" }, undefined]) {
    try {
      errors.emit("error", value);
    } catch (error) {
      log("thrown", error === value, error.name, error.code, error.message, String(error.context));
    }
  }
  errors.on(errorMonitor, (err) => log("monitor saw", err.message));
  try {
    errors.emit("error", new Error("monitored"));
  } catch (error) {
    log("still thrown", error.message);
  }
  errors.on("error", (err) => log("handled", err.message));
  log("emit error handled", errors.emit("error", new Error("fine")));

  // Validation.
  for (const fn of [() => e.on("z", "not a function"), () => e.setMaxListeners(-1), () => e.once("z")]) {
    try {
      fn();
    } catch (error) {
      log("validation", error.name, error.code, error.message);
    }
  }

  // Max listeners: the limit is observable, the warning goes to process output only.
  const many = new EventEmitter();
  many.setMaxListeners(1);
  log("max", many.getMaxListeners(), EventEmitter.defaultMaxListeners);
  many.on("w", () => {});

  // removeAllListeners.
  const r = new EventEmitter();
  r.on("removeListener", (name) => log("removed", String(name)));
  r.on("p", () => {});
  r.on("q", () => {});
  r.on("q", () => {});
  r.removeAllListeners("q");
  r.removeAllListeners();
  log("after removeAll", r.eventNames().length);

  // Subclasses, old and new style.
  class Child extends EventEmitter {}
  function Legacy() {
    EventEmitter.call(this);
  }
  Object.setPrototypeOf(Legacy.prototype, EventEmitter.prototype);
  for (const instance of [new Child(), new Legacy()]) {
    instance.on("hi", (who) => log("subclass", who));
    instance.emit("hi", instance.constructor.name);
  }

  // events.once.
  const later = new EventEmitter();
  setTimeout(() => later.emit("ready", "r1", "r2"), 5);
  log("once resolved", JSON.stringify(await once(later, "ready")));
  setTimeout(() => later.emit("error", new Error("failed while waiting")), 5);
  try {
    await once(later, "ready");
  } catch (error) {
    log("once rejected", error.message);
  }
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 5);
  try {
    await once(later, "ready", { signal: ac.signal });
  } catch (error) {
    log("once aborted", error.name, error.code);
  }
  log("listeners left", later.listenerCount("ready"), later.listenerCount("error"));

  conn.write(`${lines.join("\n")}\n`);
  conn.end();
}
