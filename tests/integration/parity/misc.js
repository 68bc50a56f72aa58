// Parity scenario: structuredClone, queueMicrotask, atob/btoa and which web
// globals exist. Writes a transcript that must be byte-identical under Node
// and under portbroker.
export async function handle(conn, ctx) {
  void ctx;
  const lines = [];
  const log = (...parts) => lines.push(parts.map(String).join(" "));
  const attempt = (label, fn) => {
    try {
      log(label, fn());
    } catch (error) {
      log(label, "threw", error.name, error instanceof DOMException ? error.code : error.code);
    }
  };

  for (const name of ["Buffer", "TextEncoder", "TextDecoder", "AbortController", "AbortSignal", "EventTarget",
    "Event", "DOMException", "atob", "btoa", "structuredClone", "queueMicrotask", "setTimeout", "clearTimeout",
    "setInterval", "clearInterval", "setImmediate", "clearImmediate"]) {
    log("global", name, typeof globalThis[name]);
  }

  // structuredClone.
  const source = {
    number: 1, negativeZero: -0, big: 10n, text: "héllo", bool: true, nothing: null, missing: undefined,
    date: new Date(0), regexp: /ab+c/gi, map: new Map([["k", { v: 1 }]]), set: new Set([1, "two"]),
    array: [1, [2, [3]]], bytes: new Uint8Array([1, 2, 3]), nested: { deep: { deeper: "yes" } },
  };
  source.self = source;
  const copy = structuredClone(source);
  log("clone distinct", copy !== source, copy.nested !== source.nested, copy.self === copy);
  log("clone values", copy.number, Object.is(copy.negativeZero, -0), typeof copy.big, copy.big, copy.text, copy.bool,
    copy.nothing, "missing" in copy, copy.missing);
  log("clone date", copy.date instanceof Date, copy.date.toISOString());
  log("clone regexp", copy.regexp instanceof RegExp, copy.regexp.source, copy.regexp.flags);
  log("clone map/set", copy.map instanceof Map, copy.map.get("k").v, copy.set instanceof Set, [...copy.set].join(","));
  log("clone array", JSON.stringify(copy.array), copy.bytes instanceof Uint8Array, Array.from(copy.bytes).join(","));
  attempt("clone function", () => structuredClone({ f() {} }));
  attempt("clone symbol", () => structuredClone(Symbol("s")));
  attempt("clone error", () => {
    const e = structuredClone(new RangeError("cloned"));
    return `${e instanceof RangeError} ${e.message}`;
  });
  attempt("clone class instance", () => {
    class Point { constructor() { this.x = 1; } }
    const p = structuredClone(new Point());
    return `${p instanceof Point} ${p.constructor === Object} ${p.x}`;
  });
  attempt("clone primitive", () => structuredClone("plain"));

  // queueMicrotask ordering.
  const order = [];
  queueMicrotask(() => order.push("microtask 1"));
  Promise.resolve().then(() => order.push("promise"));
  queueMicrotask(() => {
    order.push("microtask 2");
    queueMicrotask(() => order.push("nested microtask"));
  });
  order.push("sync");
  await new Promise((resolve) => setTimeout(resolve, 1));
  log("microtasks", order.join(", "));
  attempt("queueMicrotask bad", () => queueMicrotask("nope"));

  // atob / btoa.
  for (const input of ["", "YQ==", "YWJj", " YW Jj ", "YQ", "Y", "YQ=", "YQ=a", "Y*Q=", "//8="]) {
    attempt(`atob ${JSON.stringify(input)}`, () => JSON.stringify(atob(input)));
  }
  for (const input of ["", "a", "abc", "\u00ff\u0000", "☃", 123]) {
    attempt(`btoa ${JSON.stringify(input)}`, () => btoa(input));
  }
  attempt("atob()", () => atob());

  conn.write(`${lines.join("\n")}\n`);
  conn.end();
}
