// Aborts as Node's own APIs give them (an AbortError with code ABORT_ERR and
// the signal's reason as cause): timers/promises, aborted while waiting and
// before, a running setInterval iterator; util.promisify of the timers;
// node:events' max listeners and listeners of an EventTarget and an
// AbortSignal; CustomEvent.
import { setTimeout as sleep, setImmediate as immediate, setInterval as every, scheduler } from "node:timers/promises";
import { promisify } from "node:util";
import { setMaxListeners, getMaxListeners, getEventListeners } from "node:events";

const describe = (e) => `${e.name} ${e.code} ${e instanceof Error} ${e.constructor.name} ${e.message} cause=${String(e.cause)}`;

async function settle(out, name, start) {
  let promise;
  try {
    promise = start();
  } catch (e) {
    out.push(`${name} threw at once: ${describe(e)}`);
    return;
  }
  try {
    out.push(`${name} resolved ${await promise}`);
  } catch (e) {
    out.push(`${name} rejected: ${describe(e)}`);
  }
}

export async function handle(conn) {
  const out = [];
  const controller = new AbortController();
  const waiting = sleep(1000, "v", { signal: controller.signal });
  controller.abort();
  await settle(out, "sleep aborted while waiting", () => waiting);
  await settle(out, "sleep pre-aborted", () => sleep(10, 1, { signal: AbortSignal.abort("reason") }));
  await settle(out, "immediate pre-aborted", () => immediate(1, { signal: AbortSignal.abort() }));
  await settle(out, "interval pre-aborted", () => every(10, 1, { signal: AbortSignal.abort() }).next());
  await settle(out, "scheduler.wait pre-aborted", () => scheduler.wait(10, { signal: AbortSignal.abort() }));
  const ticks = new AbortController();
  const seen = [];
  try {
    for await (const value of every(5, "tick", { signal: ticks.signal })) {
      seen.push(value);
      if (seen.length === 2) ticks.abort(new Error("enough"));
    }
  } catch (e) {
    seen.push(describe(e));
  }
  out.push(`interval: ${seen.join(", ")}`);
  await settle(out, "sleep not aborted", () => sleep(1, "slept", { signal: new AbortController().signal }));

  out.push(`promisify.custom: ${typeof setTimeout[promisify.custom]} ${typeof setImmediate[promisify.custom]}`);
  await settle(out, "promisify(setTimeout)", () => promisify(setTimeout)(1, "later"));
  await settle(out, "promisify(setImmediate)", () => promisify(setImmediate)("soon"));

  const signalController = new AbortController();
  const target = new EventTarget();
  const listener = () => {};
  target.addEventListener("job", listener);
  target.addEventListener("job", { handleEvent() {} });
  out.push(`getMaxListeners before: ${getMaxListeners(target)} ${getMaxListeners(signalController.signal)}`);
  setMaxListeners(50, signalController.signal, target);
  out.push(`getMaxListeners after: ${getMaxListeners(target)} ${getMaxListeners(signalController.signal)}`);
  const listeners = getEventListeners(target, "job");
  out.push(`getEventListeners: ${listeners.length} ${listeners[0] === listener} ${getEventListeners(target, "none").length}`);
  target.removeEventListener("job", listener);
  out.push(`after removal: ${getEventListeners(target, "job").length}`);
  for (const bad of [{}, null]) {
    try {
      getMaxListeners(bad);
    } catch (e) {
      out.push(`getMaxListeners(${JSON.stringify(bad)}): ${e.code}`);
    }
  }

  out.push(`CustomEvent: ${typeof CustomEvent} ${Object.prototype.toString.call(new CustomEvent("x"))}`);
  target.addEventListener("custom", (e) => out.push(`detail ${JSON.stringify(e.detail)} ${e instanceof Event} ${e.type}`));
  target.dispatchEvent(new CustomEvent("custom", { detail: { id: 7 } }));
  out.push(`no detail: ${new CustomEvent("x").detail}`);
  try {
    new CustomEvent();
  } catch (e) {
    out.push(`no type: ${e.code}`);
  }
  conn.end(out.join("\n") + "\n");
}
