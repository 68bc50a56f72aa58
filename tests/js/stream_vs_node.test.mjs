// node:stream in worker/js/ (run under Node with the native shim) against
// Node's own, scenario by scenario: every event, callback, return value and
// property read is logged, and the two transcripts must be identical.
// Run with: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeStream from "node:stream";
import { install, preloadInternal } from "./native_shim.mjs";

install();
await preloadInternal("stream_lazy.js");
const oursModule = await import(new URL("../../worker/js/node/stream.js", import.meta.url));
const { Buffer: OurBuffer } = await import(new URL("../../worker/js/buffer.js", import.meta.url));
// Scenarios build Buffers with S.Buffer: the library's own inside the library.
const ours = { ...oursModule, Buffer: OurBuffer };
const theirs = { ...nodeStream, Buffer };
const oursPromises = await import(new URL("../../worker/js/node/stream_promises.js", import.meta.url));
const nodePromises = await import("node:stream/promises");

const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

function describe(value, depth = 0) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (value instanceof Uint8Array) return `<bytes ${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}>`;
  if (value instanceof Error) {
    let text = `${value.name}[${value.code}] ${value.message}`;
    if (value.errors) text += ` errors=${value.errors.map((e) => describe(e, depth + 1)).join("|")}`;
    if (value.cause !== undefined && depth < 2) text += ` cause=${describe(value.cause, depth + 1)}`;
    return text;
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `fn ${value.name}`;
  if (Array.isArray(value)) return depth > 3 ? "[...]" : `[${value.map((v) => describe(v, depth + 1)).join(",")}]`;
  if (typeof value === "object") {
    if (depth > 2) return "{...}";
    const keys = Object.keys(value);
    return `{${keys.map((k) => `${k}:${describe(value[k], depth + 1)}`).join(",")}}`;
  }
  return String(value);
}

function makeLog(lines) {
  return (...parts) => lines.push(parts.map((p) => (typeof p === "string" ? p : describe(p))).join(" "));
}

const kEvents = ["end", "finish", "close", "error", "pause", "resume", "pipe", "unpipe", "prefinish", "drain"];

function trace(log, stream, name, events = kEvents) {
  for (const event of events) {
    stream.on(event, (...args) => log(`${name}:${event}`, ...args.map((a) => (a && typeof a === "object" && !(a instanceof Error) && !(a instanceof Uint8Array) ? "<obj>" : a))));
  }
}

function state(stream) {
  const parts = [];
  for (const key of ["readable", "readableFlowing", "readableLength", "readableEnded", "readableAborted", "readableDidRead",
    "writable", "writableLength", "writableNeedDrain", "writableEnded", "writableFinished", "writableCorked",
    "writableAborted", "destroyed", "closed"]) {
    if (key in stream) parts.push(`${key}=${describe(stream[key])}`);
  }
  parts.push(`errored=${describe(stream.errored)}`);
  if (typeof stream.isPaused === "function") parts.push(`isPaused=${stream.isPaused()}`);
  return parts.join(" ");
}

// Each scenario gets the stream module (S), the promises module (P) and a log.
const scenarios = [];
const scenario = (name, fn) => scenarios.push([name, fn]);

// --- Readable --------------------------------------------------------------------------------------

scenario("flowing: pushes before and after data listener", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  log("push a", r.push("a"));
  r.on("data", (c) => log("data", c));
  log("push b", r.push("b"));
  log(state(r));
  process.nextTick(() => log("tick"));
  await turns();
  log("push null", r.push(null));
  await turns();
  log(state(r));
});

scenario("flowing: synchronous _read pushes everything", async (S, log) => {
  let n = 0;
  const r = new S.Readable({ read(size) {
    log("read", size, n);
    if (n < 3) this.push(String(n++)); else this.push(null);
  } });
  trace(log, r, "r");
  r.on("data", (c) => log("data", c));
  await turns(5);
  log(state(r));
});

scenario("flowing: asynchronous _read", async (S, log) => {
  let n = 0;
  const r = new S.Readable({ highWaterMark: 2, read() {
    log("read", n);
    setTimeout(() => {
      if (n < 4) this.push(Buffer.from([n++])); else this.push(null);
    }, 1);
  } });
  trace(log, r, "r");
  r.on("data", (c) => log("data", c, r.readableLength));
  await new Promise((resolve) => r.on("close", resolve));
  log(state(r));
});

scenario("paused: readable event and read()", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  r.on("readable", () => {
    log("readable", r.readableLength, r.readableFlowing);
    let chunk;
    while ((chunk = r.read()) !== null) log("read", chunk);
  });
  r.push("abc");
  r.push("def");
  await turns();
  r.push("ghi");
  r.push(null);
  await turns();
  log(state(r));
});

scenario("paused: read(n) sizes", async (S, log) => {
  const r = new S.Readable({ read() {} });
  r.push("abcdef");
  r.push("ghij");
  for (const n of [0, 2, 4, 5, 100, undefined, 1]) log(`read(${n})`, r.read(n), r.readableLength);
  r.push(null);
  for (const n of [100, 1, undefined]) log(`read(${n})`, r.read(n), r.readableLength);
  trace(log, r, "r");
  await turns();
  log(state(r));
});

scenario("paused: read past highWaterMark grows it", async (S, log) => {
  const r = new S.Readable({ highWaterMark: 4, read() {} });
  r.push("abcdefgh");
  log("hwm", r.readableHighWaterMark);
  log("read 5", r.read(5));
  log("hwm", r.readableHighWaterMark);
  log("read 20", r.read(20));
  log("hwm", r.readableHighWaterMark);
  try {
    r.read(2 ** 31);
  } catch (error) {
    log("threw", error);
  }
});

scenario("setEncoding with split characters, and unshift", async (S, log) => {
  const r = new S.Readable({ read() {} });
  r.setEncoding("utf8");
  log("encoding", r.readableEncoding);
  r.push(Buffer.from([0x68, 0xc3]));
  r.push(Buffer.from([0xa9, 0xf0, 0x9f]));
  r.push(Buffer.from([0x98, 0x80]));
  log("len", r.readableLength);
  log("read 2", r.read(2));
  r.unshift("X");
  log("read", r.read());
  r.push(Buffer.from([0xe2, 0x82]));
  r.push(null);
  log("read end", r.read());
  trace(log, r, "r");
  await turns();
});

scenario("setEncoding after buffering, encodings", async (S, log) => {
  for (const encoding of ["hex", "base64", "latin1", "utf16le"]) {
    const r = new S.Readable({ read() {} });
    r.push(Buffer.from("héllo wörld"));
    r.setEncoding(encoding);
    log(encoding, r.readableEncoding, r.readableLength, r.read());
  }
  const c = new S.Readable({ read() {}, encoding: "UTF-8" });
  log("ctor encoding", c.readableEncoding);
  c.push("x");
  log(c.read());
  try {
    new S.Readable().setEncoding("nope");
  } catch (error) {
    log("threw", error);
  }
});

scenario("push return values and highWaterMark", async (S, log) => {
  const r = new S.Readable({ highWaterMark: 5, read() {} });
  for (const s of ["ab", "cd", "ef", "", "gh"]) log("push", s, r.push(s), r.readableLength);
  const o = new S.Readable({ objectMode: true, read() {} });
  log("object hwm", o.readableHighWaterMark);
  for (let i = 0; i < 18; i++) if (!o.push({ i })) { log("false at", i); break; }
  log("push 0", o.push(0), "push empty", o.push(""), o.readableLength);
  const z = new S.Readable({ highWaterMark: 0, read() {} });
  log("hwm0 push", z.push("a"), z.readableLength);
});

scenario("push errors and push after EOF", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  log("push number", r.push(5));
  await turns();
  log(state(r));
  const e = new S.Readable({ read() {} });
  trace(log, e, "e");
  e.push(null);
  log("push after eof", e.push("x"));
  await turns();
  const u = new S.Readable({ read() {} });
  trace(log, u, "u");
  u.on("end", () => log("unshift after end", u.unshift("x")));
  u.push(null);
  u.resume();
  await turns();
  const x = new S.Readable({ read() {}, autoDestroy: false });
  trace(log, x, "x");
  x.push(5);
  await turns();
  log(state(x));
});

scenario("pause and resume events", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  log("isPaused", r.isPaused(), r.readableFlowing);
  r.pause();
  log("isPaused", r.isPaused(), r.readableFlowing);
  r.on("data", (c) => log("data", c));
  log("after data listener", r.readableFlowing);
  r.resume();
  r.resume();
  log("isPaused", r.isPaused(), r.readableFlowing);
  r.push("a");
  await turns();
  r.pause();
  r.pause();
  r.push("b");
  await turns();
  log(state(r));
  r.resume();
  await turns();
  r.push(null);
  await turns();
});

scenario("readable and data listeners together", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  const onReadable = () => log("readable", r.read());
  r.on("readable", onReadable);
  r.on("data", (c) => log("data", c));
  log("flowing", r.readableFlowing);
  r.push("a");
  await turns();
  r.removeListener("readable", onReadable);
  log("flowing right after remove", r.readableFlowing);
  await turns();
  log("flowing later", r.readableFlowing);
  r.push("b");
  await turns();
  r.push(null);
  await turns();
});

scenario("removeAllListeners and readableFlowing", async (S, log) => {
  const r = new S.Readable({ read() {} });
  r.on("readable", () => {});
  log(r.readableFlowing);
  r.removeAllListeners();
  await turns();
  log(r.readableFlowing);
  r.readableFlowing = true;
  log(r.readableFlowing, r.isPaused());
});

scenario("end without consumer, and readable with nothing", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  r.push(null);
  await turns();
  log(state(r));
  r.on("readable", () => log("readable", r.read()));
  await turns();
  r.resume();
  await turns();
  log(state(r));
});

scenario("emitClose false, autoDestroy false", async (S, log) => {
  const r = new S.Readable({ read() {}, emitClose: false });
  trace(log, r, "r");
  r.resume();
  r.push(null);
  await turns();
  log(state(r));
  const k = new S.Readable({ read() {}, autoDestroy: false });
  trace(log, k, "k");
  k.resume();
  k.push(null);
  await turns();
  log(state(k));
  k.destroy();
  await turns();
  log(state(k));
});

scenario("destroy readable with and without error", async (S, log) => {
  const a = new S.Readable({ read() {} });
  trace(log, a, "a");
  a.push("x");
  log("destroy returns self", a.destroy() === a);
  log(state(a));
  log("read after destroy", a.read());
  await turns();
  const b = new S.Readable({ read() {}, destroy(err, cb) { log("_destroy", err); setTimeout(() => cb(err), 1); } });
  trace(log, b, "b");
  b.destroy(new Error("boom"));
  b.destroy(new Error("again"));
  log(state(b));
  await settle(5);
  log(state(b));
  const c = new S.Readable({ read() {}, destroy(err, cb) { cb(new Error("from _destroy")); } });
  trace(log, c, "c");
  c.destroy();
  await turns();
  const d = new S.Readable({ read() {}, destroy() { throw new Error("thrown in _destroy"); } });
  trace(log, d, "d");
  d.destroy(null, (err) => log("destroy cb", err));
  await turns();
});

scenario("_read throwing and missing", async (S, log) => {
  const r = new S.Readable({ read() { throw new Error("read failed"); } });
  trace(log, r, "r");
  r.resume();
  await turns();
  const m = new S.Readable();
  trace(log, m, "m");
  log("read", m.read());
  await turns();
});

scenario("_construct before reading", async (S, log) => {
  const r = new S.Readable({
    construct(cb) {
      log("construct");
      setTimeout(() => {
        log("constructed");
        cb();
      }, 2);
    },
    read() {
      log("read");
      this.push("x");
      this.push(null);
    },
  });
  trace(log, r, "r");
  r.on("data", (c) => log("data", c));
  await new Promise((resolve) => r.on("close", resolve));
  const f = new S.Readable({ construct(cb) { cb(new Error("no")); }, read() {} });
  trace(log, f, "f");
  await turns(4);
  const d = new S.Readable({ construct(cb) { setTimeout(cb, 3); }, read() {}, destroy(e, cb) { log("_destroy", e); cb(e); } });
  trace(log, d, "d");
  d.destroy(new Error("early"));
  log(state(d));
  await settle(10);
});

scenario("unpipe and multiple pipes with backpressure", async (S, log) => {
  const src = new S.Readable({ read() {} });
  const slowWrites = [];
  const slow = new S.Writable({ highWaterMark: 2, write(c, e, cb) { log("slow write", c); slowWrites.push(cb); } });
  const fast = new S.Writable({ write(c, e, cb) { log("fast write", c); cb(); } });
  trace(log, src, "src");
  trace(log, slow, "slow");
  trace(log, fast, "fast");
  src.pipe(slow);
  src.pipe(fast);
  src.push("aaa");
  src.push("bbb");
  await turns();
  log(state(src));
  while (slowWrites.length) slowWrites.shift()();
  await turns();
  while (slowWrites.length) slowWrites.shift()();
  await turns();
  src.unpipe(fast);
  src.push("ccc");
  await turns();
  while (slowWrites.length) slowWrites.shift()();
  src.unpipe();
  await turns();
  log(state(src));
  src.push(null);
  await turns();
  log(state(slow), "|", state(fast));
});

scenario("pipe end option, pipe to an ended source, pipe errors", async (S, log) => {
  const src = new S.Readable({ read() {} });
  const dst = new S.Writable({ write(c, e, cb) { log("write", c); cb(); } });
  trace(log, dst, "dst");
  src.pipe(dst, { end: false });
  src.push("x");
  src.push(null);
  await turns();
  log(state(dst));
  const ended = new S.Readable({ read() {} });
  ended.push(null);
  ended.resume();
  await turns();
  const dst2 = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, dst2, "dst2");
  ended.pipe(dst2);
  await turns();
  const src3 = new S.Readable({ read() {} });
  const dst3 = new S.Writable({ write(c, e, cb) { cb(new Error("write failed")); } });
  trace(log, src3, "src3");
  trace(log, dst3, "dst3");
  src3.pipe(dst3);
  src3.push("y");
  await turns(4);
  log(state(src3));
  const w = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, w, "w");
  w.pipe(new S.Writable());
  await turns();
});

scenario("legacy Stream pipe", async (S, log) => {
  const legacy = new S.Stream();
  legacy.readable = true;
  const dst = new S.Writable({ write(c, e, cb) { log("write", c); cb(); } });
  trace(log, dst, "dst");
  legacy.pipe(dst);
  legacy.emit("data", Buffer.from("hi"));
  legacy.emit("end");
  await turns();
  const wrapped = new S.Readable().wrap(legacy);
  trace(log, wrapped, "wrapped");
  wrapped.on("data", (c) => log("wrapped data", c));
  legacy.emit("data", Buffer.from("w"));
  legacy.emit("end");
  await turns();
});

// --- Writable -------------------------------------------------------------------------------------

scenario("writable: sync writes, callbacks, finish", async (S, log) => {
  const w = new S.Writable({ highWaterMark: 4, write(c, e, cb) { log("_write", c, e); cb(); } });
  trace(log, w, "w");
  log("write ab", w.write("ab", () => log("cb ab")), w.writableLength);
  log("write cdef", w.write("cdef", () => log("cb cdef")), w.writableLength, w.writableNeedDrain);
  log("write g", w.write("g"));
  process.nextTick(() => log("tick"));
  Promise.resolve().then(() => log("microtask"));
  w.end("h", () => log("end cb"));
  log(state(w));
  await turns();
  log(state(w));
});

scenario("writable: async writes buffer and drain", async (S, log) => {
  const pending = [];
  const w = new S.Writable({ highWaterMark: 3, write(c, e, cb) { log("_write", c); pending.push(cb); } });
  trace(log, w, "w");
  for (const s of ["a", "bb", "c", "dd"]) log("write", s, w.write(s, () => log("cb", s)), w.writableLength);
  log(state(w));
  while (pending.length) {
    pending.shift()();
    log("after cb", w.writableLength);
    await turns(1);
  }
  await turns();
  w.end();
  await turns();
});

scenario("writable: writev after cork", async (S, log) => {
  const w = new S.Writable({
    write(c, e, cb) { log("_write", c, e); cb(); },
    writev(chunks, cb) { log("_writev", chunks.map((x) => [x.chunk, x.encoding]), chunks.allBuffers); cb(); },
  });
  trace(log, w, "w");
  w.cork();
  w.write("a");
  w.write("b", () => log("cb b"));
  w.cork();
  w.write(Buffer.from("c"));
  log("corked", w.writableCorked, w.writableLength, w.writableBuffer.length);
  w.uncork();
  log("corked", w.writableCorked);
  w.uncork();
  log("uncorked", w.writableCorked, w.writableLength);
  w.cork();
  w.write("d");
  w.end("e");
  log(state(w));
  await turns();
  const s = new S.Writable({ decodeStrings: false, write(c, e, cb) { log("string write", typeof c, c, e); cb(); } });
  s.cork();
  s.write("x", "latin1");
  s.write(Buffer.from("y"));
  s.uncork();
  await turns();
});

scenario("writable: errors from _write, sync and async", async (S, log) => {
  const a = new S.Writable({ write(c, e, cb) { cb(new Error("sync fail")); } });
  trace(log, a, "a");
  log("write", a.write("x", (err) => log("cb", err)));
  log(state(a));
  log("write again", a.write("y", (err) => log("cb2", err)));
  await turns();
  log(state(a));
  const b = new S.Writable({ write(c, e, cb) { setTimeout(() => cb(new Error("async fail")), 1); } });
  trace(log, b, "b");
  b.write("x", (err) => log("b cb1", err));
  b.write("y", (err) => log("b cb2", err));
  b.end((err) => log("b end cb", err));
  await settle(5);
  log(state(b));
  const c = new S.Writable({ autoDestroy: false, write(c, e, cb) { cb(new Error("no destroy")); } });
  trace(log, c, "c");
  c.write("x");
  await turns();
  log(state(c));
  const m = new S.Writable({ write(c, e, cb) { cb(); cb(); } });
  trace(log, m, "m");
  m.write("x");
  await turns();
});

scenario("writable: write and end argument handling", async (S, log) => {
  const w = new S.Writable({ write(c, e, cb) { log("_write", c, e); cb(); } });
  trace(log, w, "w");
  for (const [label, fn] of [
    ["null", () => w.write(null)],
    ["number", () => w.write(42)],
    ["object", () => w.write({})],
    ["bad encoding", () => w.write("x", "nope")],
    ["hex", () => w.write("6869", "hex")],
    ["buffer encoding", () => w.write(Buffer.from("b"), "latin1")],
    ["uint8array", () => w.write(new Uint8Array([1, 2]))],
    ["dataview", () => w.write(new DataView(new ArrayBuffer(2)))],
    ["float64array", () => w.write(new Float64Array(1))],
    ["undefined", () => w.write(undefined)],
    ["setDefaultEncoding", () => w.setDefaultEncoding("HEX")],
    ["after default", () => w.write("ff")],
    ["setDefaultEncoding bad", () => w.setDefaultEncoding("bogus")],
  ]) {
    try {
      log(label, fn() === w ? "self" : "returned");
    } catch (error) {
      log(label, "threw", error);
    }
  }
  await turns();
  const o = new S.Writable({ objectMode: true, write(c, e, cb) { log("object", c, e); cb(); } });
  o.write({ a: 1 });
  o.write(5);
  o.write("s");
  try {
    o.write(null);
  } catch (error) {
    log("object null", error);
  }
  log("object hwm", o.writableHighWaterMark, o.writableObjectMode);
  await turns();
});

scenario("writable: end twice, write after end, end after finish, end after destroy", async (S, log) => {
  const w = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, w, "w");
  w.end("a", () => log("end cb 1"));
  w.end(() => log("end cb 2"));
  log("write after end", w.write("b", (err) => log("write cb", err)));
  await turns();
  w.end((err) => log("end after finish", err));
  await turns();
  const d = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, d, "d");
  d.destroy();
  d.end((err) => log("end after destroy", err));
  log("write after destroy", d.write("x", (err) => log("write cb", err)));
  await turns();
  const e = new S.Writable({ write(c, e2, cb) { cb(); } });
  trace(log, e, "e");
  e.end();
  e.end("more");
  await turns();
});

scenario("writable: final success, error, throw, sync and async", async (S, log) => {
  const a = new S.Writable({ write(c, e, cb) { cb(); }, final(cb) { log("final a"); setTimeout(cb, 1); } });
  trace(log, a, "a");
  a.end("x", () => log("a end cb"));
  log(state(a));
  await settle(5);
  const b = new S.Writable({ write(c, e, cb) { cb(); }, final(cb) { cb(new Error("final failed")); } });
  trace(log, b, "b");
  b.end((err) => log("b end cb", err));
  await turns();
  log(state(b));
  const c = new S.Writable({ write(c2, e, cb) { cb(); }, final() { throw new Error("final threw"); } });
  trace(log, c, "c");
  c.end();
  await turns();
  const d = new S.Writable({ write(c2, e, cb) { cb(); }, final(cb) { cb(); cb(); } });
  trace(log, d, "d");
  d.end();
  await turns();
});

scenario("writable: destroy with pending writes and end callbacks", async (S, log) => {
  const pending = [];
  const w = new S.Writable({ write(c, e, cb) { pending.push(cb); } });
  trace(log, w, "w");
  w.write("a", (err) => log("cb a", err));
  w.write("b", (err) => log("cb b", err));
  w.end((err) => log("end cb", err));
  w.destroy(new Error("gone"));
  log(state(w));
  await turns();
  pending.shift()();
  await turns();
  const q = new S.Writable({ write(c, e, cb) { pending.push(cb); } });
  trace(log, q, "q");
  q.write("a", (err) => log("q cb a", err));
  q.write("b", (err) => log("q cb b", err));
  q.destroy();
  await turns();
});

scenario("writable: construct queues writes", async (S, log) => {
  const w = new S.Writable({
    construct(cb) { log("construct"); setTimeout(cb, 2); },
    write(c, e, cb) { log("_write", c); cb(); },
    final(cb) { log("final"); cb(); },
  });
  trace(log, w, "w");
  log("write", w.write("a"), w.writableLength);
  w.end("b");
  await settle(10);
});

scenario("writable: zero highWaterMark and needDrain", async (S, log) => {
  const w = new S.Writable({ highWaterMark: 0, write(c, e, cb) { setTimeout(cb, 1); } });
  trace(log, w, "w");
  log("write", w.write("a"), w.writableNeedDrain);
  await settle(5);
  log(state(w));
});

// --- Duplex and Transform -----------------------------------------------------------------------

scenario("duplex: allowHalfOpen false ends the writable side", async (S, log) => {
  const d = new S.Duplex({
    allowHalfOpen: false,
    read() {},
    write(c, e, cb) { log("_write", c); cb(); },
    final(cb) { log("final"); cb(); },
  });
  trace(log, d, "d");
  d.on("data", (c) => log("data", c));
  d.write("w");
  d.push("r");
  d.push(null);
  await turns(5);
  log(state(d));
});

scenario("duplex: half open stays writable", async (S, log) => {
  const d = new S.Duplex({ read() {}, write(c, e, cb) { log("_write", c); cb(); } });
  trace(log, d, "d");
  d.resume();
  d.push(null);
  await turns();
  log(state(d));
  d.write("late");
  d.end();
  await turns();
  log(state(d));
});

scenario("duplex: readable false and writable false", async (S, log) => {
  const r = new S.Duplex({ readable: false, write(c, e, cb) { cb(); } });
  trace(log, r, "r");
  log(state(r));
  r.end("x");
  await turns();
  const w = new S.Duplex({ writable: false, read() {} });
  trace(log, w, "w");
  log(state(w));
  w.resume();
  w.push(null);
  await turns();
  log(state(w));
});

scenario("duplex: instanceof and options", async (S, log) => {
  const d = new S.Duplex({ readableObjectMode: true, writableHighWaterMark: 3 });
  log("instanceof", d instanceof S.Readable, d instanceof S.Writable, d instanceof S.Duplex, d instanceof S.Stream);
  log("transform instanceof", new S.Transform() instanceof S.Writable, new S.PassThrough() instanceof S.Transform);
  log("plain", {} instanceof S.Writable, new S.Readable() instanceof S.Writable);
  log(d.readableObjectMode, d.writableObjectMode, d.readableHighWaterMark, d.writableHighWaterMark, d.allowHalfOpen);
  for (const options of [{ readableHighWaterMark: -1 }, { writableHighWaterMark: "x" }, { highWaterMark: 1.5 }]) {
    try {
      new S.Duplex(options);
    } catch (error) {
      log("threw", error);
    }
  }
  log("call without new", S.Readable() instanceof S.Readable, S.Duplex() instanceof S.Duplex,
    S.Writable() instanceof S.Writable, S.PassThrough() instanceof S.PassThrough);
});

scenario("transform: uppercase with flush", async (S, log) => {
  const t = new S.Transform({
    transform(c, e, cb) { log("_transform", c, e); cb(null, String(c).toUpperCase()); },
    flush(cb) { log("flush"); this.push("!"); cb(null, "?"); },
  });
  trace(log, t, "t");
  t.on("data", (c) => log("data", c));
  t.write("a");
  t.write("b");
  t.end("c");
  await turns(5);
  log(state(t));
});

scenario("transform: errors", async (S, log) => {
  const t = new S.Transform({ transform(c, e, cb) { cb(new Error("bad chunk")); } });
  trace(log, t, "t");
  t.write("a", (err) => log("write cb", err));
  await turns();
  const f = new S.Transform({ transform(c, e, cb) { cb(null, c); }, flush(cb) { cb(new Error("bad flush")); } });
  trace(log, f, "f");
  f.resume();
  f.end("x");
  await turns();
  const m = new S.Transform();
  trace(log, m, "m");
  try {
    m.write("x");
  } catch (error) {
    log("threw", error);
  }
  await turns();
});

scenario("transform: backpressure on the readable side", async (S, log) => {
  const t = new S.Transform({
    highWaterMark: 2,
    transform(c, e, cb) { log("_transform", c); this.push(c); this.push(c); cb(); },
  });
  trace(log, t, "t");
  for (const s of ["a", "b", "c"]) log("write", s, t.write(s), t.writableLength, t.readableLength);
  await turns();
  log(state(t));
  log("read", t.read());
  await turns();
  log(state(t));
  t.on("data", (c) => log("data", c));
  t.end();
  await turns(5);
});

scenario("transform: object mode and passthrough", async (S, log) => {
  const t = new S.Transform({ objectMode: true, transform(c, e, cb) { cb(null, { wrapped: c }); } });
  t.on("data", (c) => log("data", c));
  t.write(1);
  t.write("two");
  t.end({ three: 3 });
  await turns();
  const p = new S.PassThrough();
  trace(log, p, "p");
  p.end("pass");
  log("read", p.read());
  await turns();
  const h0 = new S.Transform({ highWaterMark: 0, transform(c, e, cb) { cb(null, c); } });
  log("hwm0", h0.readableHighWaterMark, h0.writableHighWaterMark);
  const d = new S.PassThrough({ readableHighWaterMark: 0 });
  log("rhwm0", d.readableHighWaterMark, d.writableHighWaterMark);
});

// --- finished ----------------------------------------------------------------------------------------

scenario("finished: readable end, premature close, error", async (S, log) => {
  const a = new S.Readable({ read() {} });
  S.finished(a, (err) => log("a finished", err));
  a.resume();
  a.push(null);
  await turns();
  const b = new S.Readable({ read() {} });
  S.finished(b, (err) => log("b finished", err));
  b.destroy();
  await turns();
  const c = new S.Readable({ read() {} });
  c.on("error", () => {});
  S.finished(c, (err) => log("c finished", err));
  c.destroy(new Error("c failed"));
  await turns();
  const d = new S.Readable({ read() {} });
  d.push(null);
  d.resume();
  await turns();
  S.finished(d, (err) => log("d already finished", err));
  await turns();
});

scenario("finished: writable and duplex", async (S, log) => {
  const w = new S.Writable({ write(c, e, cb) { cb(); } });
  S.finished(w, (err) => log("w finished", err));
  w.end("x");
  await turns();
  const d = new S.Duplex({ read() {}, write(c, e, cb) { cb(); } });
  S.finished(d, (err) => log("d finished", err));
  S.finished(d, { readable: false }, (err) => log("d writable finished", err));
  S.finished(d, { writable: false }, (err) => log("d readable finished", err));
  d.end();
  await turns();
  log("d half");
  d.resume();
  d.push(null);
  await turns();
  const e = new S.Duplex({ read() {}, write(c, ee, cb) { cb(); } });
  const cleanup = S.finished(e, (err) => log("never", err));
  cleanup();
  e.destroy();
  await turns();
  const x = new S.Duplex({ read() {}, write(c, ee, cb) { cb(); } });
  S.finished(x, { error: false }, (err) => log("x finished", err));
  x.on("error", (err) => log("x error", err));
  x.destroy(new Error("x failed"));
  await turns();
});

scenario("finished: signal, argument errors, promise", async (S, log, P) => {
  const ac = new AbortController();
  const r = new S.Readable({ read() {} });
  S.finished(r, { signal: ac.signal }, (err) => log("aborted finished", err));
  ac.abort();
  await turns();
  for (const args of [[{}, () => {}], [new S.Readable(), "x"], [new S.Readable(), { signal: 1 }, () => {}], [new S.Readable(), 5, () => {}]]) {
    try {
      S.finished(...args);
    } catch (error) {
      log("threw", error);
    }
  }
  const p = new S.Readable({ read() {} });
  const done = P.finished(p);
  p.resume();
  p.push(null);
  log("promise", await done);
  const q = new S.Readable({ read() {} });
  q.on("error", () => {});
  const failed = P.finished(q);
  q.destroy(new Error("q failed"));
  try {
    await failed;
  } catch (error) {
    log("rejected", error);
  }
});

scenario("finished: legacy streams", async (S, log) => {
  const legacy = new S.Stream();
  legacy.readable = true;
  S.finished(legacy, (err) => log("legacy finished", err));
  legacy.emit("end");
  await turns();
  const legacyClose = new S.Stream();
  legacyClose.readable = true;
  S.finished(legacyClose, (err) => log("legacy close", err));
  legacyClose.emit("close");
  await turns();
});

// --- pipeline -------------------------------------------------------------------------------------

scenario("pipeline: three streams", async (S, log) => {
  const src = S.Readable.from(["a", "b", "c"]);
  const t = new S.Transform({ transform(c, e, cb) { cb(null, String(c).toUpperCase()); } });
  const out = [];
  const dst = new S.Writable({ write(c, e, cb) { out.push(String(c)); cb(); } });
  trace(log, src, "src", ["end", "close", "error"]);
  trace(log, t, "t", ["end", "finish", "close", "error"]);
  trace(log, dst, "dst", ["finish", "close", "error"]);
  const ret = S.pipeline(src, t, dst, (err, value) => log("pipeline done", err, value, out));
  log("returns last", ret === dst);
  await turns(6);
});

scenario("pipeline: error in the middle destroys all", async (S, log) => {
  const src = new S.Readable({ read() {} });
  const t = new S.Transform({ transform(c, e, cb) { cb(new Error("middle failed")); } });
  const dst = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, src, "src", ["end", "close", "error"]);
  trace(log, t, "t", ["end", "finish", "close", "error"]);
  trace(log, dst, "dst", ["finish", "close", "error"]);
  S.pipeline(src, t, dst, (err) => log("pipeline done", err));
  src.push("x");
  await turns(6);
  log(state(src), "|", state(dst));
});

scenario("pipeline: destination destroyed early", async (S, log) => {
  const src = new S.Readable({ read() {} });
  const dst = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, src, "src", ["end", "close", "error"]);
  trace(log, dst, "dst", ["finish", "close", "error"]);
  S.pipeline(src, dst, (err) => log("pipeline done", err));
  src.push("x");
  await turns();
  dst.destroy();
  await turns(5);
  log(state(src));
});

scenario("pipeline: generators and async functions", async (S, log, P) => {
  const result = await P.pipeline(
    function* () { yield "a"; yield "b"; },
    async function* (source) { for await (const chunk of source) yield String(chunk) + "1"; },
    async function (source) { const all = []; for await (const chunk of source) all.push(String(chunk)); return all.join(","); },
  );
  log("result", result);
  const seen = [];
  await P.pipeline(["x", "y"], new S.PassThrough({ objectMode: true }), new S.Writable({ objectMode: true, write(c, e, cb) { seen.push(c); cb(); } }));
  log("array source", seen);
  try {
    await P.pipeline(S.Readable.from(["q"]), async function* (source) {
      for await (const chunk of source) throw new Error(`rejected ${chunk}`);
    }, new S.PassThrough());
  } catch (error) {
    log("rejected", error);
  }
});

scenario("pipeline: argument errors and abort signal", async (S, log, P) => {
  for (const args of [[], [new S.Readable()], [new S.Readable(), () => {}], [new S.Readable(), new S.Writable(), "nope"]]) {
    try {
      S.pipeline(...args);
    } catch (error) {
      log("threw", error);
    }
  }
  const ac = new AbortController();
  const src = new S.Readable({ read() {} });
  const dst = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, src, "src", ["close", "error"]);
  trace(log, dst, "dst", ["close", "error"]);
  const done = P.pipeline(src, dst, { signal: ac.signal });
  ac.abort();
  try {
    await done;
  } catch (error) {
    log("aborted", error);
  }
  const keep = new S.Writable({ write(c, e, cb) { log("keep write", c); cb(); } });
  trace(log, keep, "keep", ["finish", "close"]);
  await P.pipeline(S.Readable.from([Buffer.from("z")]), keep, { end: false });
  log(state(keep));
});

scenario("pipeline: source error", async (S, log) => {
  const src = new S.Readable({ read() {} });
  const mid = new S.PassThrough();
  const dst = new S.Writable({ write(c, e, cb) { cb(); } });
  trace(log, mid, "mid", ["close", "error"]);
  trace(log, dst, "dst", ["close", "error"]);
  S.pipeline(src, mid, dst, (err) => log("done", err));
  src.destroy(new Error("source failed"));
  await turns(6);
});

// --- async iteration ----------------------------------------------------------------------------

scenario("async iteration: whole stream", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  r.push("a");
  setTimeout(() => {
    r.push("b");
    r.push(null);
  }, 1);
  for await (const chunk of r) log("chunk", chunk);
  log("after loop", state(r));
  await turns();
});

scenario("async iteration: break destroys with AbortError", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  r.push("a");
  r.push("b");
  for await (const chunk of r) {
    log("chunk", chunk);
    break;
  }
  log("after break", state(r));
  await turns();
  const k = new S.Readable({ read() {} });
  trace(log, k, "k");
  k.push("a");
  for await (const chunk of k.iterator({ destroyOnReturn: false })) {
    log("chunk", chunk);
    break;
  }
  log("kept", state(k));
  await turns();
});

scenario("async iteration: error and throw in loop", async (S, log) => {
  const r = new S.Readable({ read() {} });
  trace(log, r, "r");
  setTimeout(() => r.destroy(new Error("mid-stream")), 1);
  try {
    for await (const chunk of r) log("chunk", chunk);
  } catch (error) {
    log("caught", error);
  }
  const t = new S.Readable({ read() {} });
  trace(log, t, "t");
  t.push("a");
  try {
    for await (const chunk of t) throw new Error(`loop threw on ${chunk}`);
  } catch (error) {
    log("caught", error);
  }
  await turns();
  log(state(t));
  const o = S.Readable.from([1, 2, 3]);
  const it = o[Symbol.asyncIterator]();
  log("iterator stream", it.stream === o);
  log(await it.next(), await it.return(), await it.next());
  try {
    o.iterator(5);
  } catch (error) {
    log("threw", error);
  }
});

// --- Readable.from ------------------------------------------------------------------------------

scenario("Readable.from: inputs", async (S, log) => {
  const inputs = [
    ["array", () => ["a", "b"]],
    ["string", () => "hello"],
    ["buffer", () => S.Buffer.from("buf")],
    ["uint8array", () => new Uint8Array([1, 2])],
    ["generator", function* () { yield 1; yield 2; }],
    ["async generator", async function* () { yield "x"; yield "y"; }],
    ["promises", () => [Promise.resolve(1), 2]],
    ["set", () => new Set([3, 4])],
  ];
  for (const [label, make] of inputs) {
    const value = label.includes("generator") ? make() : make();
    const r = S.Readable.from(value);
    log(label, r.readableObjectMode, r.readableHighWaterMark, await r.toArray());
  }
  const notObject = S.Readable.from(["a", "b"], { objectMode: false });
  log("objectMode false", await notObject.toArray());
  try {
    S.Readable.from(5);
  } catch (error) {
    log("threw", error);
  }
  const nulls = S.Readable.from([1, null, 2]);
  trace(log, nulls, "nulls", ["error", "close"]);
  nulls.resume();
  await turns(4);
  const failing = S.Readable.from((function* () { yield 1; throw new Error("gen failed"); })());
  trace(log, failing, "failing", ["error", "close"]);
  failing.on("data", (c) => log("data", c));
  await turns(4);
});

scenario("Readable.from: early destroy returns the iterator", async (S, log) => {
  function* gen() {
    try {
      yield 1;
      yield 2;
    } finally {
      log("generator finally");
    }
  }
  const r = S.Readable.from(gen());
  trace(log, r, "r", ["error", "close"]);
  for await (const value of r) {
    log("value", value);
    break;
  }
  await turns(4);
});

// --- helpers -------------------------------------------------------------------------------------

scenario("helpers: map filter take drop reduce", async (S, log) => {
  const from = (v) => S.Readable.from(v);
  log("map", await from([1, 2, 3]).map((x) => x * 2).toArray());
  log("async map concurrency", await from([30, 10, 20]).map(async (x) => {
    await settle(x / 10);
    return x;
  }, { concurrency: 3 }).toArray());
  log("filter", await from([1, 2, 3, 4]).filter((x) => x % 2 === 0).toArray());
  log("take", await from([1, 2, 3, 4]).take(2).toArray());
  log("drop", await from([1, 2, 3, 4]).drop(3).toArray());
  log("flatMap", await from([1, 2]).flatMap((x) => [x, x]).toArray());
  log("reduce", await from([1, 2, 3]).reduce((a, b) => a + b, 10));
  log("reduce no init", await from([1, 2, 3]).reduce((a, b) => a + b));
  try {
    await from([]).reduce((a, b) => a + b);
  } catch (error) {
    log("reduce empty", error);
  }
  log("some", await from([1, 2]).some((x) => x > 1), await from([1, 2]).some((x) => x > 5));
  log("every", await from([1, 2]).every((x) => x > 0), await from([1, 2]).every((x) => x > 1));
  log("find", await from([1, 2, 3]).find((x) => x > 1));
  const seen = [];
  log("forEach", await from(["a", "b"]).forEach((x) => seen.push(x)), seen);
  log("asIndexedPairs", await from(["a", "b"]).asIndexedPairs().toArray());
  for (const [label, fn] of [
    ["map not function", () => from([1]).map(5)],
    ["concurrency 0", () => from([1]).map((x) => x, { concurrency: 0 })],
    ["take -1", () => from([1]).take(-1)],
    ["options not object", () => from([1]).toArray(5)],
  ]) {
    try {
      const result = fn();
      if (result && typeof result.then === "function") await result;
      log(label, "no throw");
    } catch (error) {
      log(label, "threw", error);
    }
  }
  const text = new S.Readable({ read() {} });
  text.push("ab");
  text.push("cd");
  text.push(null);
  log("bytes toArray", await text.toArray());
});

// --- misc -----------------------------------------------------------------------------------------

scenario("addAbortSignal and destroy helpers", async (S, log) => {
  const ac = new AbortController();
  const r = S.addAbortSignal(ac.signal, new S.Readable({ read() {} }));
  trace(log, r, "r", ["error", "close"]);
  ac.abort("why");
  await turns();
  const pre = new AbortController();
  pre.abort();
  const w = new S.Writable({ signal: pre.signal, write(c, e, cb) { cb(); } });
  trace(log, w, "w", ["error", "close"]);
  await turns();
  for (const args of [[5, new S.Readable()], [new AbortController().signal, {}]]) {
    try {
      S.addAbortSignal(...args);
    } catch (error) {
      log("threw", error);
    }
  }
  const x = new S.Readable({ read() {} });
  trace(log, x, "x", ["error", "close"]);
  S.destroy(x);
  await turns();
  const y = new S.Readable({ read() {} });
  y.resume();
  y.push(null);
  await turns();
  S.destroy(y);
  log("utils", S.isDestroyed(x), S.isDisturbed(y), S.isErrored(x), S.isReadable(y), S.isWritable(new S.Writable()));
  const z = new S.Readable({ read() {} });
  z.on("error", () => {});
  z.destroy(new Error("z"));
  log("isErrored", S.isErrored(z), S.isReadable(z));
  await turns();
  log("default hwm", S.getDefaultHighWaterMark(false), S.getDefaultHighWaterMark(true));
  S.setDefaultHighWaterMark(false, 100);
  log("changed", new S.Readable().readableHighWaterMark, new S.Writable().writableHighWaterMark);
  S.setDefaultHighWaterMark(false, 16384);
  for (const value of [-1, 1.5, "x"]) {
    try {
      S.setDefaultHighWaterMark(true, value);
    } catch (error) {
      log("threw", error);
    }
  }
});

scenario("compose and Duplex.from", async (S, log) => {
  const upper = new S.Transform({ transform(c, e, cb) { cb(null, String(c).toUpperCase()); } });
  const exclaim = new S.Transform({ transform(c, e, cb) { cb(null, String(c) + "!"); } });
  const composed = S.compose(upper, exclaim);
  composed.on("data", (c) => log("composed data", c));
  trace(log, composed, "composed", ["end", "finish", "close", "error"]);
  composed.write("a");
  composed.end("b");
  await turns(8);
  const gen = S.Duplex.from(async function* (source) {
    for await (const chunk of source) yield String(chunk) + "?";
  });
  gen.on("data", (c) => log("gen data", c));
  gen.end("x");
  await turns(8);
  const fromIterable = S.Duplex.from(["i", "j"]);
  log("from iterable", await fromIterable.toArray());
  const fromPromise = S.Duplex.from(Promise.resolve("p"));
  log("from promise", await fromPromise.toArray());
  try {
    S.Duplex.from(5);
  } catch (error) {
    log("threw", error);
  }
});

scenario("duplexPair", async (S, log) => {
  const [a, b] = S.duplexPair();
  b.on("data", (c) => log("b data", c));
  trace(log, b, "b", ["end", "finish", "close"]);
  trace(log, a, "a", ["end", "finish", "close"]);
  a.write("hello");
  a.end();
  await turns(4);
  b.end();
  await turns(4);
});

scenario("state views", async (S, log) => {
  const r = new S.Readable({ read() {} });
  const rs = r._readableState;
  log("readable state", rs.flowing, rs.ended, rs.length, rs.highWaterMark, rs.objectMode, rs.pipes.length);
  r.push("abc");
  log("after push", rs.length, rs.buffer.length);
  r.pause();
  log("paused", rs.flowing);
  log("writable state of readable", r._writableState);
  const w = new S.Writable({ write(c, e, cb) { cb(); } });
  const ws = w._writableState;
  log("writable state", ws.ended, ws.finished, ws.length, ws.needDrain, ws.objectMode, ws.highWaterMark, ws.corked);
  w.end();
  log("after end", ws.ending, ws.ended);
  const d = new S.Duplex();
  log("duplex", typeof d._readableState, typeof d._writableState);
});

scenario("event listener helpers and inherited EventEmitter", async (S, log) => {
  const r = new S.Readable({ read() {} });
  log("eventNames", r.eventNames());
  r.prependListener("data", (c) => log("prepended data", c));
  log("flowing after prependListener", r.readableFlowing);
  r.push("a");
  await turns();
  r.once("data", (c) => log("once data", c));
  log("flowing after once", r.readableFlowing);
  r.push("b");
  await turns();
  log("listenerCount", r.listenerCount("data"));
  r.addListener("data", () => {});
  r.off("data", () => {});
  log("isPaused", r.isPaused());
});

for (const [name, fn] of scenarios) {
  test(`stream scenario: ${name}`, async () => {
    const actual = [];
    await fn(ours, makeLog(actual), oursPromises);
    await settle(5);
    const expected = [];
    await fn(theirs, makeLog(expected), nodePromises);
    await settle(5);
    assert.deepStrictEqual(actual, expected);
  });
}

test("node:stream exports the same names as Node", () => {
  const names = (m) => Object.keys(m).sort();
  assert.deepStrictEqual(names(oursModule), names(nodeStream));
  assert.deepStrictEqual(names(oursPromises), names(nodePromises));
  assert.equal(typeof ours.default, "function");
  assert.equal(ours.default.Readable, ours.Readable);
  const staticNames = ["Readable", "Writable", "Duplex", "Transform", "PassThrough", "pipeline", "finished", "promises",
    "addAbortSignal", "compose", "destroy", "Stream"];
  for (const name of staticNames) assert.equal(typeof ours.default[name], typeof nodeStream.default[name], name);
  const protoNames = (C) => Object.getOwnPropertyNames(C.prototype).filter((n) => !n.startsWith("_")).sort();
  for (const C of ["Readable", "Writable", "Duplex", "Transform"]) {
    const missing = protoNames(nodeStream[C]).filter((n) => !protoNames(ours[C]).includes(n) && !(n in ours[C].prototype));
    assert.deepStrictEqual(missing, [], C);
  }
});
