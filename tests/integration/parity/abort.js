// Parity scenario: AbortController, AbortSignal, EventTarget, Event and
// DOMException. Writes a transcript that must be byte-identical under Node and
// under portbroker.
export async function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const log = (...parts) => lines.push(parts.map(String).join(" "));
  const attempt = (label, fn) => {
    try {
      log(label, fn());
    } catch (error) {
      log(label, "threw", error.name, error.code, error.message);
    }
  };

  // DOMException.
  for (const [message, name] of [["m", "AbortError"], ["t", "TimeoutError"], ["x", "NotFoundError"],
    ["y", "CustomName"], [undefined, undefined]]) {
    const d = new DOMException(message, name);
    log("DOMException", d.name, JSON.stringify(d.message), d.code, String(d), d instanceof Error,
      d instanceof DOMException, Object.prototype.toString.call(d));
  }
  log("constants", DOMException.ABORT_ERR, DOMException.TIMEOUT_ERR, DOMException.prototype.DATA_CLONE_ERR);

  // Event.
  const ev = new Event("thing", { cancelable: true, bubbles: true });
  log("event", ev.type, ev.cancelable, ev.bubbles, ev.composed, ev.defaultPrevented, ev.eventPhase, ev.isTrusted,
    ev.target, ev.currentTarget, typeof ev.timeStamp, Event.AT_TARGET);
  ev.preventDefault();
  log("prevented", ev.defaultPrevented, ev.returnValue);
  attempt("new Event()", () => new Event());

  // EventTarget.
  const target = new EventTarget();
  const handler = { handleEvent(event) { log("handleEvent", this === handler, event.type); } };
  function listener(event) {
    log("listener", this === target, event.target === target, event.currentTarget === target, event.eventPhase);
  }
  target.addEventListener("ping", listener);
  target.addEventListener("ping", listener);
  target.addEventListener("ping", handler);
  target.addEventListener("ping", () => log("once listener"), { once: true });
  log("dispatch", target.dispatchEvent(new Event("ping")));
  log("dispatch again", target.dispatchEvent(new Event("ping")));
  target.removeEventListener("ping", listener);
  target.removeEventListener("ping", handler);
  log("dispatch after remove", target.dispatchEvent(new Event("ping")));
  target.addEventListener("stop", (event) => {
    log("first stops");
    event.stopImmediatePropagation();
    event.preventDefault();
  });
  target.addEventListener("stop", () => log("never"));
  log("dispatch cancelable", target.dispatchEvent(new Event("stop", { cancelable: true })));
  attempt("dispatch non-event", () => target.dispatchEvent({ type: "fake" }));
  attempt("missing listener", () => target.addEventListener("x"));

  // AbortController.
  const controller = new AbortController();
  const signal = controller.signal;
  log("fresh", signal.aborted, signal.reason, signal.onabort);
  signal.onabort = (event) => log("onabort", event.type, event.isTrusted, signal.aborted);
  signal.addEventListener("abort", () => log("abort listener", signal.reason), { once: true });
  controller.abort("because");
  controller.abort("twice");
  log("aborted", signal.aborted, signal.reason);
  attempt("throwIfAborted", () => signal.throwIfAborted());
  const defaultReason = new AbortController();
  defaultReason.abort();
  const reason = defaultReason.signal.reason;
  log("default reason", reason.name, reason.message, reason.code, reason instanceof DOMException);
  const pre = AbortSignal.abort();
  log("AbortSignal.abort", pre.aborted, pre.reason.name, AbortSignal.abort(7).reason);
  attempt("new AbortSignal", () => new AbortSignal());

  // Listener removal through a signal.
  const removable = new AbortController();
  target.addEventListener("sig", () => log("signal-bound listener"), { signal: removable.signal });
  target.dispatchEvent(new Event("sig"));
  removable.abort();
  target.dispatchEvent(new Event("sig"));

  // AbortSignal.any.
  const a = new AbortController();
  const b = new AbortController();
  const any = AbortSignal.any([a.signal, b.signal]);
  any.addEventListener("abort", () => log("any aborted", any.reason));
  b.abort("from b");
  a.abort("from a");
  log("any reason", any.reason, AbortSignal.any([]).aborted);
  attempt("any bad", () => AbortSignal.any([1]));

  // AbortSignal.timeout.
  attempt("timeout bad", () => AbortSignal.timeout(-1));
  const timed = AbortSignal.timeout(10);
  log("timeout pending", timed.aborted);
  await new Promise((resolve) => timed.addEventListener("abort", resolve));
  log("timeout fired", timed.aborted, timed.reason.name, timed.reason.message, timed.reason.code);
  const combined = AbortSignal.any([AbortSignal.timeout(5), new AbortController().signal]);
  await new Promise((resolve) => { combined.onabort = resolve; });
  log("any timeout", combined.reason.name);

  conn.write(`${lines.join("\n")}\n`);
  conn.end();
}
