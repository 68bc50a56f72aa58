// worker/js/events.js against Node's events: once() and on() with abort
// signals, 'error' and close events, EventTarget sources, captureRejections
// (per emitter, as the default, through Symbol.for('nodejs.rejection')) and
// errorMonitor, compared as a log of what each step observed.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeEvents from "node:events";
import { install } from "./native_shim.mjs";

install();
const ours = await import("../../worker/js/events.js");

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function scenario(E) {
  const log = [];
  const record = (label, promise) => promise.then(
    (value) => log.push(`${label} resolved ${JSON.stringify(value)}`),
    (e) => log.push(`${label} rejected ${e.name} ${e.code} ${e.message} cause=${e.cause}`));
  const attempt = async (label, fn) => {
    try {
      await fn();
    } catch (e) {
      log.push(`${label} ${e.name} ${e.code} ${e.message}`);
    }
  };
  const { EventEmitter, once, on } = E;

  {
    const ee = new EventEmitter();
    const ac = new AbortController();
    const pending = record("once aborted", once(ee, "x", { signal: ac.signal }));
    ac.abort("why");
    await pending;
    log.push(`listeners after abort ${ee.listenerCount("x")} ${ee.listenerCount("error")}`);
  }
  await record("once pre-aborted", once(new EventEmitter(), "x", { signal: AbortSignal.abort() }));
  {
    const ee = new EventEmitter();
    const pending = record("once error", once(ee, "x"));
    ee.emit("error", new RangeError("boom"));
    await pending;
  }
  {
    const ee = new EventEmitter();
    const pending = record("once value", once(ee, "x"));
    ee.emit("x", 1, 2);
    await pending;
    log.push(`error listeners left ${ee.listenerCount("error")}`);
  }
  {
    const target = new EventTarget();
    const pending = record("once EventTarget", once(target, "x"));
    target.dispatchEvent(new Event("x"));
    await pending;
  }
  await attempt("once bad signal", () => once(new EventEmitter(), "x", { signal: 5 }));

  {
    const ee = new EventEmitter();
    const ac = new AbortController();
    const iterator = on(ee, "x", { signal: ac.signal });
    ee.emit("x", 1);
    ee.emit("x", 2);
    const seen = [];
    setTimeout(() => ac.abort(), 5);
    await attempt("on aborted", async () => {
      for await (const value of iterator) seen.push(value);
    });
    log.push(`on seen ${JSON.stringify(seen)}, listeners left ${ee.listenerCount("x")}`);
  }
  {
    const ee = new EventEmitter();
    const iterator = on(ee, "x", { close: ["end"] });
    ee.emit("x", "a");
    ee.emit("end");
    const seen = [];
    for await (const value of iterator) seen.push(value);
    log.push(`on closed ${JSON.stringify(seen)}`);
  }
  {
    const ee = new EventEmitter();
    const iterator = on(ee, "x");
    ee.emit("error", new Error("E"));
    await attempt("on error", async () => {
      for await (const value of iterator) void value;
    });
  }
  await attempt("on bad signal", () => on(new EventEmitter(), "x", { signal: "nope" }));
  await attempt("on pre-aborted", () => on(new EventEmitter(), "x", { signal: AbortSignal.abort() }));

  {
    const ee = new EventEmitter({ captureRejections: true });
    ee.on("x", async () => {
      throw new Error("async fail");
    });
    ee.on("error", (e) => log.push(`captured as error: ${e.message}`));
    ee.emit("x");
    await tick();
  }
  {
    const ee = new EventEmitter({ captureRejections: true });
    ee[Symbol.for("nodejs.rejection")] = (error, type, ...args) => log.push(`rejection hook ${error.message} ${type} ${args}`);
    ee.on("x", async () => {
      throw new Error("hooked");
    });
    ee.emit("x", 1, 2);
    await tick();
  }
  await attempt("captureRejections not boolean", () => new EventEmitter({ captureRejections: "yes" }));
  {
    log.push(`default ${EventEmitter.captureRejections}`);
    EventEmitter.captureRejections = true;
    const ee = new EventEmitter();
    EventEmitter.captureRejections = false;
    ee.on("x", async () => {
      throw new Error("default on");
    });
    ee.on("error", (e) => log.push(`captured by default: ${e.message}`));
    ee.emit("x");
    await tick();
  }
  await attempt("default not boolean", () => {
    EventEmitter.captureRejections = 1;
  });

  log.push(`errorMonitor ${typeof E.errorMonitor} ${EventEmitter.errorMonitor === E.errorMonitor} ${String(E.errorMonitor)}`);
  {
    const ee = new EventEmitter();
    ee.on(E.errorMonitor, (e) => log.push(`monitored ${e.message}`));
    await attempt("unhandled", () => ee.emit("error", new Error("mon")));
  }
  return log;
}

test("once, on, captureRejections and errorMonitor behave as Node's", async () => {
  assert.deepStrictEqual(await scenario(ours), await scenario(nodeEvents));
});
