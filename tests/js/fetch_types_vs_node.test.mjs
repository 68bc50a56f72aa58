// ReadableStream, Blob, Headers, Request and Response in worker/js/ (run
// under Node with the native shim) against Node 20's own globals, scenario by
// scenario: every callback, settled promise, return value, error (class, code,
// message) and property read is logged, and the two transcripts must be
// identical. Run with: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { install } from "./native_shim.mjs";

install();
const load = (name) => import(new URL(`../../worker/js/${name}`, import.meta.url));
const streams = await load("web_streams.js");
const { Blob: OurBlob } = await load("blob.js");
const fetchTypes = await load("fetch_types.js");
const { URLSearchParams: OurURLSearchParams } = await load("url.js");
const { AbortController: OurAbortController } = await load("dom_events.js");

const ours = {
  ReadableStream: streams.ReadableStream,
  ReadableStreamDefaultReader: streams.ReadableStreamDefaultReader,
  ReadableStreamDefaultController: streams.ReadableStreamDefaultController,
  Blob: OurBlob,
  Headers: fetchTypes.Headers,
  Request: fetchTypes.Request,
  Response: fetchTypes.Response,
  URLSearchParams: OurURLSearchParams,
  AbortController: OurAbortController,
};
const theirs = {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamDefaultController,
  Blob,
  Headers,
  Request,
  Response,
  URLSearchParams,
  AbortController,
};

const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("hex");

function describe(value, depth = 0) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (value instanceof Uint8Array) return `<${value.constructor.name} ${hex(value)}>`;
  if (value instanceof ArrayBuffer) return `<ArrayBuffer ${hex(new Uint8Array(value))}>`;
  if (value instanceof Error) {
    let text = `${value.constructor.name}[${value.code}] ${value.message}`;
    if (value.cause !== undefined && depth < 2) text += ` cause=${value.cause?.constructor?.name}`;
    return text;
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `fn ${value.name}`;
  if (typeof value === "symbol") return value.toString();
  if (Array.isArray(value)) return depth > 3 ? "[...]" : `[${value.map((v) => describe(v, depth + 1)).join(",")}]`;
  if (typeof value === "object") {
    const tag = Object.prototype.toString.call(value);
    if (tag !== "[object Object]") return tag;
    if (depth > 2) return "{...}";
    const keys = Object.keys(value);
    return `{${keys.map((k) => `${k}:${describe(value[k], depth + 1)}`).join(",")}}`;
  }
  return String(value);
}

function makeLog(lines) {
  return (...parts) => lines.push(parts.map((p) => (typeof p === "string" ? p : describe(p))).join(" "));
}

// Runs fn, logging its value or what it threw.
function attempt(log, label, fn) {
  try {
    const value = fn();
    log(label, "=", value);
    return value;
  } catch (error) {
    log(label, "threw", error);
    return undefined;
  }
}

// Logs a promise's outcome when it settles, with a sequence number so the
// order of settlement is part of the transcript.
function watch(log, label, promise) {
  promise.then((value) => log(label, "fulfilled", value), (error) => log(label, "rejected", error));
  return promise;
}

async function settled(log, label, fn) {
  try {
    log(label, "=", await fn());
  } catch (error) {
    log(label, "rejected", error);
  }
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push([name, fn]);

// --- ReadableStream -------------------------------------------------------------------------------

scenario("constructor validation", (S, log) => {
  for (const [label, args] of [
    ["no args", []], ["source 5", [5]], ["source null", [null]], ["type foo", [{ type: "foo" }]],
    ["pull 5", [{ pull: 5 }]], ["cancel 5", [{ cancel: 5 }]], ["start 5", [{ start: 5 }]],
    ["hwm -1", [{}, { highWaterMark: -1 }]], ["hwm NaN", [{}, { highWaterMark: NaN }]],
    ["hwm '3'", [{}, { highWaterMark: "3" }]], ["size 5", [{}, { size: 5 }]], ["strategy 5", [{}, 5]],
    ["strategy null", [{}, null]],
  ]) {
    attempt(log, label, () => {
      const stream = new S.ReadableStream(...args);
      return [stream.locked, Object.prototype.toString.call(stream)];
    });
  }
  attempt(log, "illegal controller", () => new S.ReadableStreamDefaultController());
  attempt(log, "reader of non-stream", () => new S.ReadableStreamDefaultReader({}));
  attempt(log, "brand locked", () => Object.getOwnPropertyDescriptor(S.ReadableStream.prototype, "locked").get.call({}));
  attempt(log, "brand getReader", () => S.ReadableStream.prototype.getReader.call({}));
  attempt(log, "members", () => [Object.getOwnPropertyNames(S.ReadableStream.prototype).filter((n) => !n.startsWith("pipe")),
    Object.getOwnPropertyNames(S.ReadableStreamDefaultReader.prototype),
    Object.getOwnPropertyNames(S.ReadableStreamDefaultController.prototype),
    S.ReadableStream.prototype[Symbol.asyncIterator] === S.ReadableStream.prototype.values,
    S.ReadableStream.length]);
});

scenario("start, pull and read ordering", async (S, log) => {
  let n = 0;
  const stream = new S.ReadableStream({
    start(controller) {
      log("start", controller.desiredSize);
      controller.enqueue("a");
      log("after enqueue", controller.desiredSize);
    },
    pull(controller) {
      log("pull", n, controller.desiredSize);
      if (n < 3) controller.enqueue(`p${n++}`);
      else controller.close();
    },
  }, { highWaterMark: 2 });
  log("constructed");
  const reader = stream.getReader();
  watch(log, "closed", reader.closed);
  const reads = [reader.read(), reader.read(), reader.read()];
  reads.forEach((p, i) => watch(log, `read ${i}`, p));
  log("reads issued");
  await turns();
  for (let i = 3; i < 7; i++) await watch(log, `read ${i}`, reader.read());
  await turns();
  log("locked", stream.locked);
});

scenario("enqueue resolves pending read before queued microtasks", async (S, log) => {
  let controller;
  const stream = new S.ReadableStream({ start(c) { controller = c; } });
  const reader = stream.getReader();
  watch(log, "read 1", reader.read());
  watch(log, "read 2", reader.read());
  Promise.resolve().then(() => log("microtask"));
  controller.enqueue(1);
  log("desired", controller.desiredSize);
  controller.enqueue(2);
  controller.enqueue(3);
  log("desired", controller.desiredSize);
  controller.close();
  attempt(log, "enqueue after close", () => controller.enqueue(4));
  attempt(log, "close again", () => controller.close());
  log("desired after close", controller.desiredSize);
  await turns();
  await watch(log, "read 3", reader.read());
  await watch(log, "read 4", reader.read());
  log("desired closed", controller.desiredSize);
});

scenario("backpressure: pull only while desiredSize > 0", async (S, log) => {
  let pulls = 0;
  const stream = new S.ReadableStream({
    pull(controller) {
      pulls++;
      log("pull", controller.desiredSize);
      controller.enqueue(new Uint8Array(pulls));
    },
  }, { highWaterMark: 5, size: (chunk) => chunk.byteLength });
  await turns();
  log("pulls before reading", pulls);
  const reader = stream.getReader();
  await watch(log, "read", reader.read());
  await turns();
  log("pulls after one read", pulls);
});

scenario("async pull is not called again until it settles", async (S, log) => {
  let release;
  const stream = new S.ReadableStream({
    pull(controller) {
      log("pull", controller.desiredSize);
      return new Promise((resolve) => {
        release = () => {
          controller.enqueue("x");
          resolve();
        };
      });
    },
  }, { highWaterMark: 3 });
  await turns();
  log("released");
  release();
  await turns();
  release();
  await turns();
  const reader = stream.getReader();
  await watch(log, "read", reader.read());
});

scenario("errors: start rejects, pull throws, size throws, bad size", async (S, log) => {
  const a = new S.ReadableStream({ start: () => Promise.reject(new Error("start failed")) });
  await watch(log, "a read", a.getReader().read()).catch(() => {});
  const b = new S.ReadableStream({ pull() { throw new TypeError("pull failed"); } });
  const br = b.getReader();
  await watch(log, "b closed", br.closed).catch(() => {});
  await watch(log, "b read", br.read()).catch(() => {});
  let c;
  const s = new S.ReadableStream({ start(x) { c = x; } }, { size() { throw new RangeError("sz"); } });
  attempt(log, "enqueue size throws", () => c.enqueue(1));
  log("desired", c.desiredSize);
  attempt(log, "enqueue errored", () => c.enqueue(1));
  attempt(log, "close errored", () => c.close());
  attempt(log, "error errored", () => c.error(new Error("again")));
  await watch(log, "s cancel", s.cancel()).catch(() => {});
  let d;
  const t = new S.ReadableStream({ start(x) { d = x; } }, { size: () => -1 });
  attempt(log, "negative size", () => d.enqueue(1));
  await watch(log, "t read", t.getReader().read()).catch(() => {});
  let e;
  const u = new S.ReadableStream({ start(x) { e = x; } });
  const ur = u.getReader();
  const pending = watch(log, "u pending", ur.read()).catch(() => {});
  e.error("plain reason");
  await pending;
  await watch(log, "u closed", ur.closed).catch(() => {});
});

scenario("reader lock, release and cancel", async (S, log) => {
  const stream = new S.ReadableStream({
    cancel(reason) {
      log("source cancel", reason);
      return new Promise((resolve) => setTimeout(resolve, 1));
    },
  });
  const reader = stream.getReader();
  attempt(log, "second reader", () => stream.getReader());
  attempt(log, "new reader", () => new S.ReadableStreamDefaultReader(stream));
  await watch(log, "cancel locked", stream.cancel()).catch(() => {});
  attempt(log, "tee locked", () => stream.tee());
  attempt(log, "values locked", () => stream.values());
  const pending = watch(log, "pending read", reader.read()).catch(() => {});
  const closed = watch(log, "closed", reader.closed).catch(() => {});
  attempt(log, "releaseLock", () => reader.releaseLock());
  attempt(log, "releaseLock twice", () => reader.releaseLock());
  await pending;
  await closed;
  log("locked", stream.locked);
  await watch(log, "read released", reader.read()).catch(() => {});
  await watch(log, "cancel released", reader.cancel()).catch(() => {});
  const again = stream.getReader();
  watch(log, "again closed", again.closed);
  const read = watch(log, "again read", again.read());
  await watch(log, "again cancel", again.cancel("why"));
  await read;
  again.releaseLock();
  await watch(log, "cancel closed stream", stream.cancel());
  attempt(log, "mode byob", () => new S.ReadableStream().getReader({ mode: "byob" }));
  attempt(log, "mode x", () => new S.ReadableStream().getReader({ mode: "x" }));
  attempt(log, "options 5", () => new S.ReadableStream().values(5));
});

scenario("cancel discards the queue and closes pending reads", async (S, log) => {
  let controller;
  const stream = new S.ReadableStream({
    start(c) {
      controller = c;
      c.enqueue(1);
      c.enqueue(2);
    },
    cancel(reason) {
      log("cancel", reason, controller.desiredSize);
    },
  });
  watch(log, "cancel result", stream.cancel("r"));
  log("desired", controller.desiredSize);
  attempt(log, "enqueue", () => controller.enqueue(3));
  const reader = stream.getReader();
  await watch(log, "read", reader.read());
  await watch(log, "closed", reader.closed);
});

scenario("tee: both branches, cancel propagation", async (S, log) => {
  let pulls = 0;
  const source = new S.ReadableStream({
    pull(c) {
      pulls++;
      if (pulls <= 3) c.enqueue(`c${pulls}`);
      else c.close();
    },
    cancel(reason) {
      log("source cancel", reason);
      return "ignored";
    },
  });
  const [a, b] = source.tee();
  log("source locked", source.locked);
  const ra = a.getReader();
  const rb = b.getReader();
  watch(log, "a closed", ra.closed);
  watch(log, "b closed", rb.closed);
  for (let i = 0; i < 2; i++) {
    watch(log, `a read ${i}`, ra.read());
  }
  await turns();
  log("pulls", pulls);
  for (let i = 0; i < 5; i++) watch(log, `b read ${i}`, rb.read());
  await turns();
  for (let i = 2; i < 4; i++) await watch(log, `a read ${i}`, ra.read());
  await turns();

  const s2 = new S.ReadableStream({
    cancel(reason) {
      log("s2 cancel", reason);
    },
  });
  const [x, y] = s2.tee();
  const cx = watch(log, "x cancel", x.cancel("rx"));
  await turns();
  log("after x cancel");
  await watch(log, "y cancel", y.cancel("ry"));
  await cx;

  let c3;
  const s3 = new S.ReadableStream({ start(c) { c3 = c; } });
  const [p, q] = s3.tee();
  const pr = p.getReader();
  watch(log, "p read", pr.read()).catch(() => {});
  c3.error(new Error("boom"));
  await turns();
  await watch(log, "q read", q.getReader().read()).catch(() => {});
});

scenario("async iteration, break and preventCancel", async (S, log) => {
  const make = (label) => new S.ReadableStream({
    start(c) {
      for (const v of [1, 2, 3]) c.enqueue(v);
    },
    cancel(reason) {
      log(label, "cancel", reason);
    },
  });
  const a = make("a");
  for await (const v of a) {
    log("a value", v);
    if (v === 2) break;
  }
  log("a locked", a.locked);
  const b = make("b");
  for await (const v of b.values({ preventCancel: true })) {
    log("b value", v);
    break;
  }
  log("b locked", b.locked);
  const rest = b.getReader();
  await watch(log, "b rest", rest.read());
  const c = new S.ReadableStream({ start(ctl) { ctl.enqueue("x"); ctl.close(); } });
  const it = c.values();
  const results = [it.next(), it.next(), it.next(), it.return("bye")];
  results.forEach((p, i) => watch(log, `it ${i}`, p));
  await Promise.allSettled(results);
  log("c locked", c.locked);
  const d = new S.ReadableStream({ start(ctl) { ctl.error(new TypeError("bad")); } });
  try {
    for await (const v of d) log("d value", v);
  } catch (error) {
    log("d threw", error);
  }
  const e = new S.ReadableStream();
  const eit = e[Symbol.asyncIterator]();
  await watch(log, "e return", eit.return("r"));
  await watch(log, "e next after return", eit.next());
  log("iterator proto", Object.getOwnPropertyNames(Object.getPrototypeOf(eit)));
});

// --- Blob -------------------------------------------------------------------------------------------

scenario("Blob parts, type and reading", async (S, log) => {
  const inner = new S.Blob(["in", "ner"]);
  const blob = new S.Blob(["ab", new Uint8Array([99, 100]), new Uint16Array([0x6665]).buffer,
    new DataView(new Uint8Array([103]).buffer), inner, 12, { toString: () => "obj" }, "é\ud800"], { type: "Text/Plain" });
  log("size/type", blob.size, blob.type);
  await settled(log, "text", () => blob.text());
  await settled(log, "arrayBuffer", () => blob.arrayBuffer());
  await settled(log, "bytes", () => blob.bytes());
  for (const [start, end, type] of [[1, 3], [-3], [4, 2], [0, 100, "X/Y"], [0, 1, "é"], [2, -2, 5], [undefined, undefined]]) {
    const slice = blob.slice(start, end, type);
    await settled(log, `slice ${start} ${end} ${type}`, async () => [slice.size, slice.type, await slice.text()]);
  }
  for (const type of ["a\u0100", "a\u0001", "ABC/Def", 5]) log("type", JSON.stringify(type), new S.Blob([], { type }).type);
  for (const args of [[5], ["abc"], [{}], [null], [[], 5], [[], { endings: "x" }]]) {
    attempt(log, `ctor ${describe(args)}`, () => new S.Blob(...args).size);
  }
  await settled(log, "endings", async () => [await new S.Blob(["a\nb\r\nc\r"], { endings: "native" }).text(),
    await new S.Blob(["a\r\nb"], { endings: "transparent" }).text()]);
  const source = new Uint8Array([1, 2]);
  const copied = new S.Blob([source]);
  source[0] = 9;
  await settled(log, "copied", () => copied.bytes());
  await settled(log, "brand text", () => S.Blob.prototype.text.call({}));
  attempt(log, "brand size", () => Object.getOwnPropertyDescriptor(S.Blob.prototype, "size").get.call({}));
  log("members", Object.getOwnPropertyNames(S.Blob.prototype), String(blob), S.Blob.length);
  const reader = new S.Blob(["abc", "def"]).stream().getReader();
  for (let i = 0; i < 3; i++) await settled(log, `stream read ${i}`, () => reader.read());
  await settled(log, "empty stream", () => new S.Blob([]).stream().getReader().read());
});

// --- Headers ----------------------------------------------------------------------------------------

scenario("Headers validation", (S, log) => {
  const h = new S.Headers();
  for (const [method, args] of [
    ["append", ["a b", "x"]], ["append", ["", "x"]], ["append", ["a", "x\ny"]], ["append", ["a", "x\0y"]],
    ["append", ["a", "  x\ny "]], ["append", ["a", "€"]], ["append", ["é", "x"]], ["append", ["a"]], ["append", []],
    ["get", ["a b"]], ["get", []], ["has", ["a b"]], ["delete", ["a b"]], ["set", ["a b", "x"]], ["set", ["a", "\r"]],
    ["set", ["a", "x\ry"]], ["forEach", [5]], ["forEach", []],
  ]) {
    attempt(log, `${method} ${describe(args)}`, () => h[method](...args));
  }
  log("after", [...h]);
  for (const init of [5, "abc", null, [["a"]], [["a", "b", "c"]], [5], { [Symbol("s")]: "x" }, { a: "€" }]) {
    attempt(log, `init ${describe(init)}`, () => [...new S.Headers(init)]);
  }
  attempt(log, "brand", () => S.Headers.prototype.get.call({}, "a"));
  attempt(log, "iterator brand", () => Object.getPrototypeOf(new S.Headers().entries()).next.call({}));
});

scenario("Headers iteration, combining and set-cookie", (S, log) => {
  const h = new S.Headers([["b", "1"], ["A", "2"], ["a", "3"], ["set-cookie", "x=1"], ["Set-Cookie", "y=2"], ["c", ""],
    ["d", "  padded \t"]]);
  log("entries", [...h]);
  log("keys", [...h.keys()], "values", [...h.values()]);
  log("get", h.get("A"), h.get("set-cookie"), h.get("missing"), h.get("c"), h.has("SET-COOKIE"));
  log("getSetCookie", h.getSetCookie());
  const seen = [];
  h.forEach(function each(value, name, headers) {
    seen.push([value, name, headers === h, this]);
  }, "T");
  log("forEach", seen);
  const m = new S.Headers({ a: "1", c: "3" });
  const order = [];
  for (const [name] of m) {
    order.push(name);
    if (name === "a") m.set("b", "2");
  }
  log("mutated while iterating", order);
  h.set("A", "z");
  h.delete("set-cookie");
  h.append("SET-COOKIE", "q=1");
  log("after set/delete", [...h], h.getSetCookie());
  const copy = new S.Headers(h);
  copy.append("x", "y");
  log("copy independent", [...h].length, [...copy].length);
  log("record", [...new S.Headers({ B: "1", a: "2" })]);
  log("tags", String(h), Object.prototype.toString.call(h.entries()), Object.getOwnPropertyNames(S.Headers.prototype));
  const it = h.keys();
  log("iterator", Object.getOwnPropertyNames(Object.getPrototypeOf(it)), typeof it[Symbol.iterator], it[Symbol.iterator]() === it);
});

// --- Request ----------------------------------------------------------------------------------------

const requestProps = ["method", "url", "destination", "referrer", "referrerPolicy", "mode", "credentials", "cache",
  "redirect", "integrity", "keepalive", "isReloadNavigation", "isHistoryNavigation", "bodyUsed", "duplex"];
const requestState = (r) => Object.fromEntries([...requestProps.map((k) => [k, r[k]]), ["headers", [...r.headers]],
  ["body", r.body === null ? null : "stream"], ["signal", r.signal.aborted]]);

scenario("Request construction and normalisation", async (S, log) => {
  attempt(log, "defaults", () => requestState(new S.Request("http://x/a#f")));
  attempt(log, "URL object", () => new S.Request(new URL("HTTP://Ex.COM:80/a/../b?q")).url);
  for (const input of ["/x", "http://", "http://u:p@x/"]) attempt(log, `input ${input}`, () => new S.Request(input));
  attempt(log, "no args", () => new S.Request());
  for (const method of ["get", "post", "Patch", "delete", "head", "options", "put", "foo", "a b", "connect", "TRACE", "track"]) {
    attempt(log, `method ${method}`, () => new S.Request("http://x/", { method }).method);
  }
  for (const [key, value] of [["redirect", "x"], ["mode", "x"], ["mode", "navigate"], ["credentials", "x"],
    ["cache", "x"], ["cache", "only-if-cached"], ["referrerPolicy", "x"], ["duplex", "full"], ["signal", {}],
    ["referrer", "/rel"], ["referrer", ""], ["referrer", "http://y/a"], ["referrer", "about:client"],
    ["keepalive", 1], ["integrity", "abc"], ["redirect", "manual"], ["mode", "no-cors"]]) {
    attempt(log, `init ${key}=${describe(value)}`, () => requestState(new S.Request("http://x/", { [key]: value })));
  }
  attempt(log, "init 5", () => new S.Request("http://x/", 5));
  attempt(log, "init null", () => new S.Request("http://x/", null).method);
  attempt(log, "GET with body", () => new S.Request("http://x/", { body: "a" }));
  attempt(log, "HEAD with body", () => new S.Request("http://x/", { method: "HEAD", body: "a" }));
  attempt(log, "GET null body", () => new S.Request("http://x/", { body: null }).body);
  attempt(log, "stream without duplex", () => new S.Request("http://x/", { method: "POST", body: new S.ReadableStream() }));
  attempt(log, "stream with duplex", () => requestState(new S.Request("http://x/", { method: "POST", body: new S.ReadableStream(), duplex: "half" })));
  attempt(log, "headers", () => [...new S.Request("http://x/", { headers: [["X-A", "1"], ["x-a", "2"], ["host", "h"], ["cookie", "c"]] }).headers]);
  attempt(log, "headers mutable", () => {
    const r = new S.Request("http://x/");
    r.headers.set("a", "b");
    return [...r.headers];
  });
  attempt(log, "brand", () => Object.getOwnPropertyDescriptor(S.Request.prototype, "method").get.call({}));
  log("members", Object.getOwnPropertyNames(S.Request.prototype).filter((n) => n !== "attribute"));
});

scenario("Request from Request, clone and signal", async (S, log) => {
  const a = new S.Request("http://x/", { method: "POST", body: "hi", headers: { a: "1" }, redirect: "manual" });
  const b = new S.Request(a);
  log("a used", a.bodyUsed, "b", requestState(b));
  await settled(log, "b text", () => b.text());
  attempt(log, "from used", () => new S.Request(a));
  const c = new S.Request("http://x/", { method: "POST", body: "hi" });
  const d = new S.Request(c, { body: "yo", headers: { z: "1" } });
  log("c used", c.bodyUsed);
  await settled(log, "d text", () => d.text());
  log("d headers", [...d.headers]);
  attempt(log, "GET over body", () => new S.Request(new S.Request("http://x/", { method: "POST", body: "x" }), { method: "GET" }));

  const ac = new S.AbortController();
  const e = new S.Request("http://x/", { signal: ac.signal });
  const f = e.clone();
  const g = new S.Request(e);
  log("signals distinct", e.signal === ac.signal, f.signal === e.signal);
  e.signal.addEventListener("abort", () => log("e abort event"));
  ac.abort("why");
  log("aborted", e.signal.aborted, e.signal.reason, f.signal.aborted, f.signal.reason, g.signal.aborted);

  const h = new S.Request("http://x/", { method: "PUT", body: "data" });
  const i = h.clone();
  await settled(log, "clone texts", async () => [await h.text(), await i.text()]);
  attempt(log, "clone used", () => h.clone());
});

// --- Response ---------------------------------------------------------------------------------------

const responseProps = ["status", "statusText", "ok", "type", "url", "redirected", "bodyUsed"];
const responseState = (r) => Object.fromEntries([...responseProps.map((k) => [k, r[k]]), ["headers", [...r.headers]],
  ["body", r.body === null ? null : "stream"]]);

scenario("Response construction", async (S, log) => {
  attempt(log, "default", () => responseState(new S.Response()));
  attempt(log, "string", () => responseState(new S.Response("hi")));
  for (const init of [{ status: 99 }, { status: 600 }, { status: "201" }, { status: 65736 }, { status: 200.7 },
    { statusText: "a\nb" }, { statusText: "é" }, { statusText: "€" }, { statusText: 5 }, { status: 404, statusText: "Nope" },
    { headers: { "set-cookie": "a=1", "Content-Type": "x/y" } }, { headers: [["a", "b c"]] }]) {
    attempt(log, `init ${describe(init)}`, () => responseState(new S.Response("body", init)));
  }
  for (const status of [204, 205, 304]) {
    attempt(log, `null body ${status}`, () => new S.Response("", { status }));
    attempt(log, `no body ${status}`, () => responseState(new S.Response(null, { status })));
  }
  attempt(log, "init 5", () => new S.Response("", 5));
  attempt(log, "error", () => responseState(S.Response.error()));
  attempt(log, "error headers immutable", () => S.Response.error().headers.set("a", "b"));
  attempt(log, "error headers delete", () => S.Response.error().headers.delete("a"));
  attempt(log, "redirect", () => responseState(S.Response.redirect("http://x/a b", 301)));
  attempt(log, "redirect URL", () => S.Response.redirect(new URL("http://x/")).headers.get("location"));
  attempt(log, "redirect default", () => S.Response.redirect("http://x/").status);
  attempt(log, "redirect relative", () => S.Response.redirect("/a"));
  attempt(log, "redirect 200", () => S.Response.redirect("http://x/", 200));
  attempt(log, "redirect immutable", () => S.Response.redirect("http://x/").headers.append("a", "b"));
  await settled(log, "json", async () => {
    const r = S.Response.json({ a: [1] }, { status: 201, headers: { x: "y" } });
    return [responseState(r), await r.text()];
  });
  attempt(log, "json content-type kept", () => [...S.Response.json(1, { headers: { "content-type": "foo" } }).headers]);
  attempt(log, "json undefined", () => S.Response.json(undefined));
  attempt(log, "json 204", () => S.Response.json(1, { status: 204 }));
  attempt(log, "brand", () => Object.getOwnPropertyDescriptor(S.Response.prototype, "status").get.call({}));
  await settled(log, "brand text", () => S.Response.prototype.text.call({}));
  log("members", Object.getOwnPropertyNames(S.Response.prototype), Object.getOwnPropertyNames(S.Response));
});

scenario("body mixin on every body type", async (S, log) => {
  const bodies = () => [
    ["string", "héllo"],
    ["empty string", ""],
    ["ArrayBuffer", new Uint8Array([104, 105]).buffer],
    ["Uint8Array", new Uint8Array([1, 2, 3])],
    ["DataView", new DataView(new Uint8Array([0x7b, 0x7d]).buffer)],
    ["Int16Array", new Int16Array([0x6968])],
    ["Blob", new S.Blob(["{\"b\":", "1}"], { type: "Application/JSON" })],
    ["untyped Blob", new S.Blob(["x"])],
    ["URLSearchParams", new S.URLSearchParams("a=1&b=é")],
    ["stream", new S.ReadableStream({ start(c) { c.enqueue(new Uint8Array([91, 93])); c.enqueue(new Uint8Array([])); c.close(); } })],
    ["number", 5],
    ["async iterable", (async function* gen() { yield new Uint8Array([104]); yield "i"; })()],
  ];
  for (const method of ["text", "arrayBuffer", "bytes", "json", "blob"]) {
    const forRequests = bodies();
    for (const [index, [label, body]] of bodies().entries()) {
      const response = new S.Response(body);
      const request = new S.Request("http://x/", { method: "POST", body: forRequests[index][1], duplex: "half" });
      for (const [kind, object] of [["response", response], ["request", request]]) {
        if (kind === "request" && label === "async iterable") continue;
        const headers = [...object.headers];
        const promise = object[method]();
        const usedNow = object.bodyUsed;
        await settled(log, `${kind} ${label} ${method}`, async () => {
          const value = await promise;
          const shown = method === "blob" ? [value.constructor.name, value.type, value.size, await value.text()] : value;
          return [shown, headers, usedNow, object.bodyUsed];
        });
        await settled(log, `${kind} ${label} ${method} again`, () => object[method]());
      }
    }
  }
  await settled(log, "null body", async () => {
    const r = new S.Response(null);
    return [await r.text(), r.bodyUsed, (await r.arrayBuffer()).byteLength, await r.text(), r.body];
  });
  await settled(log, "bad json", async () => (await new S.Response("{").json().catch((e) => e.constructor.name)));
  await settled(log, "non-bytes chunk", () => new S.Response(new S.ReadableStream({ start(c) { c.enqueue("x"); c.close(); } })).text());
  await settled(log, "errored stream", () => new S.Response(new S.ReadableStream({ start(c) { c.error(new RangeError("e")); } })).text());
  await settled(log, "locked body", () => {
    const r = new S.Response("x");
    r.body.getReader();
    return r.text().catch((e) => [e.constructor.name, e.message, r.bodyUsed]);
  });
  await settled(log, "cancelled body", async () => {
    const r = new S.Response("x");
    await r.body.cancel();
    return [r.bodyUsed, await r.text().catch((e) => e.message)];
  });
  for (const make of [(s) => { s.getReader(); return s; }, (s) => { s.cancel(); return s; }]) {
    attempt(log, "disturbed stream body", () => new S.Response(make(new S.ReadableStream())));
  }
  await settled(log, "body stream chunks", async () => {
    const reader = new S.Response("ab").body.getReader();
    return [await reader.read(), await reader.read()];
  });
  await settled(log, "empty body stream", () => new S.Response("").body.getReader().read());
  await settled(log, "body copies source", async () => {
    const bytes = new Uint8Array([1, 2]);
    const r = new S.Response(bytes);
    bytes[0] = 9;
    return r.bytes();
  });
  attempt(log, "body getter stable", () => {
    const r = new S.Response("x");
    return r.body === r.body;
  });
  await settled(log, "blob MIME types", async () => [
    (await new S.Response("hi").blob()).type,
    (await new S.Response("hi", { headers: { "content-type": "foo" } }).blob()).type,
    (await new S.Response("hi", { headers: { "content-type": "Text/HTML; Charset=\"x\"" } }).blob()).type,
    (await new S.Response("hi", { headers: [["content-type", "text/plain;charset=a"], ["content-type", "text/plain"]] }).blob()).type,
  ]);
  await settled(log, "formData unsupported (rejects)", () => new S.Response("a=1").formData().then(() => "resolved", (e) => e.constructor.name));
});

scenario("Response clone", async (S, log) => {
  const r = new S.Response("ab", { status: 201, statusText: "Made", headers: { a: "1" } });
  const c = r.clone();
  c.headers.set("b", "2");
  log("headers", [...r.headers].length, [...c.headers].length, responseState(c));
  await settled(log, "texts", async () => [await r.text(), await c.text(), r.bodyUsed, c.bodyUsed]);
  attempt(log, "clone used", () => r.clone());
  const locked = new S.Response("x");
  locked.body.getReader();
  attempt(log, "clone locked", () => locked.clone());
  attempt(log, "error clone", () => responseState(S.Response.error().clone()));
  attempt(log, "redirect clone immutable", () => S.Response.redirect("http://x/").clone().headers.set("a", "b"));
  const s = new S.Response(new S.ReadableStream({ start(ctl) { ctl.enqueue(new Uint8Array([1])); ctl.close(); } }));
  const sc = s.clone();
  await settled(log, "stream clone", async () => [await sc.bytes(), await s.bytes()]);
  const n = new S.Response(null);
  attempt(log, "null clone", () => n.clone().body);
});

test("scenarios give Node's transcript", async (t) => {
  for (const [name, fn] of scenarios) {
    await t.test(name, async () => {
      const expected = [];
      const actual = [];
      await fn(theirs, makeLog(expected));
      await turns(5);
      await fn(ours, makeLog(actual));
      await turns(5);
      if (process.env.SHOW_TRANSCRIPT) console.log(expected.join("\n"));
      assert.deepStrictEqual(actual, expected);
    });
  }
});

// --- Internal API for the native fetch() ----------------------------------------------------------------

test("makeResponse gives what Node's fetch returns for a network response", async () => {
  const push = streams.makePushStream({ highWaterMark: 4 });
  const response = fetchTypes.makeResponse({
    status: 200,
    statusText: "OK",
    headerList: [["X-B", "1"], ["Set-Cookie", "a=1"], ["x-a", "2"], ["set-cookie", "b=2"]],
    urlList: ["http://a/r", "http://b/final#frag"],
    body: push.stream,
  });
  assert.equal(response.type, "basic");
  assert.equal(response.url, "http://b/final");
  assert.equal(response.redirected, true);
  assert.deepEqual([...response.headers], [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "2"], ["x-b", "1"]]);
  assert.throws(() => response.headers.set("a", "b"), { message: "immutable" });
  assert.equal(push.push(new Uint8Array([104, 105])), true);
  assert.equal(push.push(new Uint8Array([33, 33])), false);
  assert.equal(push.desiredSize(), 0);
  push.close();
  assert.equal(await response.text(), "hi!!");
  const clone = fetchTypes.makeResponse({ status: 204, headerList: [], url: "http://c/" }).clone();
  assert.equal(clone.url, "http://c/");
  assert.equal(clone.redirected, false);
  assert.equal(clone.body, null);
});

test("makePushStream calls onPull only while the stream wants more, and reports cancel", async () => {
  const events = [];
  const push = streams.makePushStream({
    highWaterMark: 3,
    onPull: () => events.push(`pull ${push.desiredSize()}`),
    onCancel: (reason) => events.push(`cancel ${reason}`),
  });
  await turns();
  push.push(new Uint8Array(2));
  await turns();
  push.push(new Uint8Array(2));
  await turns();
  const reader = push.stream.getReader();
  await reader.read();
  await turns();
  await reader.cancel("done");
  assert.deepEqual(events, ["pull 3", "pull 1", "pull 1", "cancel done"]);
  assert.throws(() => streams.makePushStream().push("text"), { code: "ERR_INVALID_ARG_TYPE" });
});

test("requestParts gives what to send, and spends the body", async () => {
  const signal = new OurAbortController().signal;
  const bytesRequest = new fetchTypes.Request("http://x/p?q#f", {
    method: "post", body: new OurURLSearchParams("a=1"), headers: [["X-A", "1"], ["x-a", "2"]], signal, redirect: "manual",
  });
  const parts = fetchTypes.requestParts(bytesRequest);
  assert.equal(parts.method, "POST");
  assert.equal(parts.url, "http://x/p?q#f");
  assert.deepEqual(parts.headerList, [["X-A", "1"], ["X-A", "2"], ["content-type", "application/x-www-form-urlencoded;charset=UTF-8"]]);
  assert.deepEqual(parts.body, { bytes: new TextEncoder().encode("a=1") });
  assert.equal(parts.length, 3);
  assert.equal(parts.redirect, "manual");
  assert.equal(parts.signal, bytesRequest.signal);
  assert.equal(bytesRequest.bodyUsed, true);
  assert.throws(() => fetchTypes.requestParts(bytesRequest), { message: "Body is unusable: Body has already been read" });

  const blobParts = fetchTypes.requestParts(new fetchTypes.Request("http://x/", { method: "PUT", body: new OurBlob(["ab", "c"]) }));
  assert.deepEqual(blobParts.body, { bytes: new TextEncoder().encode("abc") });
  assert.equal(blobParts.length, 3);

  const stream = new streams.ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); } });
  const streamParts = fetchTypes.requestParts(new fetchTypes.Request("http://x/", { method: "POST", body: stream, duplex: "half" }));
  assert.equal(streamParts.length, null);
  assert.equal(streamParts.body.stream, stream);

  const none = fetchTypes.requestParts(new fetchTypes.Request("http://x/"));
  assert.equal(none.body, null);
  assert.equal(none.length, null);
  const proxied = fetchTypes.requestParts(new fetchTypes.Request(new fetchTypes.Request("http://x/", { method: "POST", body: "zz" })));
  assert.deepEqual(proxied.body, { bytes: new TextEncoder().encode("zz") });
});
