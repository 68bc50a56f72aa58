// A transcript of the runtime library at work, produced the same way under
// Node (natives from native_shim.mjs) and under the SpiderMonkey shell
// (spidermonkey_natives.mjs): the two must be identical, which shows the
// library behaves the same on the engine portbroker embeds. The natives must
// be installed before transcript() is called.
export async function transcript() {
  const load = (name) => import(`../../worker/js/${name}.js`);
  const { Buffer, atob, btoa, isUtf8 } = await load("buffer");
  const { StringDecoder } = await load("string_decoder");
  const { TextDecoder, TextEncoder } = await load("text_coding");
  const { EventEmitter, once } = await load("events");
  const dom = await load("dom_events");
  const { inspect, format } = await load("inspect");
  const lines = [];
  const out = (...args) => lines.push(args.map((a) => (typeof a === "string" ? a : inspect(a))).join(" "));
  const attempt = (label, fn) => {
    try {
      out(label, fn());
    } catch (error) {
      out(label, "threw", String(error), error.code ?? "-");
    }
  };

  // Buffer
  const strings = ["", "hello", "héllo €uro 😀", "\ud800x", "aGVsbG8=", "deadBEEFzz", "a-b_c+d/"];
  for (const encoding of ["utf8", "utf16le", "latin1", "ascii", "base64", "base64url", "hex"]) {
    for (const string of strings) {
      attempt(`from ${encoding} ${JSON.stringify(string)}`, () => {
        const b = Buffer.from(string, encoding);
        return [b.toString("hex"), b.toString(encoding), Buffer.byteLength(string, encoding)];
      });
    }
  }
  const bytes = Buffer.from([0x01, 0x82, 0xff, 0x7f, 0x00, 0x80, 0xfe, 0x10, 0xc0, 0x3f]);
  for (const method of ["readUInt8", "readInt8", "readUInt16LE", "readInt16BE", "readUInt32BE",
    "readInt32LE", "readFloatLE", "readDoubleBE", "readBigUInt64LE", "readBigInt64BE"]) {
    for (const offset of [0, 2, 9, -1, 1.5]) attempt(`${method}(${offset})`, () => bytes[method](offset));
  }
  for (const [method, value] of [["writeUInt8", 256], ["writeInt16LE", -32769], ["writeUInt32BE", 2 ** 32],
    ["writeIntLE", 2 ** 40], ["writeBigInt64LE", 2n ** 63n], ["writeDoubleLE", Math.PI],
    ["writeUInt16BE", 0xbeef]]) {
    attempt(`${method}(${value})`, () => {
      const b = Buffer.alloc(8);
      const args = method === "writeIntLE" ? [value, 0, 5] : [value, 0];
      return [b[method](...args), b];
    });
  }
  const hay = Buffer.from("abcabc héllo");
  for (const needle of ["bc", "é", 0x63, Buffer.from("ab"), "", "zz"]) {
    for (const offset of [undefined, 2, -3]) {
      attempt(`indexOf ${inspect(needle)} ${offset}`, () => [hay.indexOf(needle, offset), hay.lastIndexOf(needle, offset)]);
    }
  }
  attempt("concat", () => Buffer.concat([Buffer.from("ab"), new Uint8Array([99])], 5));
  attempt("fill", () => Buffer.alloc(7).fill("€", 1));
  attempt("write", () => {
    const b = Buffer.alloc(6);
    return [b.write("€€", 1), b.write("ffee", 4, "hex"), b];
  });
  attempt("copy/compare/equals", () => {
    const t = Buffer.alloc(4);
    return [Buffer.from("xyz").copy(t, 1), t, Buffer.compare(t, Buffer.from("a")), t.equals(t.slice())];
  });
  attempt("subarray shares", () => {
    const b = Buffer.from("abcd");
    b.subarray(1, 2)[0] = 0x42;
    return [b.toString(), b.slice(-2).toString(), b.toJSON()];
  });
  attempt("swap", () => Buffer.from([1, 2, 3, 4]).swap16().swap32());
  attempt("alloc bad", () => Buffer.alloc(-1));
  attempt("unknown encoding", () => Buffer.from("x").toString("bogus"));
  attempt("from number", () => Buffer.from(5));
  attempt("species", () => [Buffer.isBuffer(Buffer.from("ab").map((x) => x + 1)), Buffer.from("ab") instanceof Uint8Array]);
  attempt("atob/btoa", () => [btoa("hé"), atob(" aGk = "), isUtf8(Buffer.from([0xc3, 0xa9]))]);
  attempt("atob bad", () => atob("a"));
  attempt("btoa bad", () => btoa("€"));
  attempt("inspect buffers", () => [inspect(Buffer.from("hi")), inspect(Buffer.alloc(52)), inspect({ b: Buffer.alloc(1) })]);

  // StringDecoder
  for (const encoding of ["utf8", "utf16le", "base64", "hex"]) {
    const input = Buffer.from("é€😀 ok", "utf8");
    const pieces = [];
    const decoder = new StringDecoder(encoding);
    for (let i = 0; i < input.length; i += 3) pieces.push(decoder.write(input.subarray(i, i + 3)));
    pieces.push(decoder.end());
    out("StringDecoder", encoding, pieces);
  }

  // TextEncoder / TextDecoder
  const encoder = new TextEncoder();
  out("encode", encoder.encode("é😀\ud800"), encoder.encodeInto("a😀b", new Uint8Array(4)));
  for (const encoding of ["utf-8", "utf-16le", "latin1"]) {
    const decoder = new TextDecoder(encoding);
    const data = encoding === "utf-16le" ? Buffer.from("\ufeffé😀", "utf16le") : Buffer.from("\ufeffé😀", "utf8");
    const parts = [];
    for (let i = 0; i < data.length; i++) parts.push(decoder.decode(data.subarray(i, i + 1), { stream: true }));
    parts.push(decoder.decode());
    out("TextDecoder", encoding, parts.join("|"));
  }
  attempt("fatal", () => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xc3])));
  attempt("bad label", () => new TextDecoder("nope"));

  // EventEmitter
  const emitter = new EventEmitter();
  const log = [];
  emitter.on("newListener", (name) => log.push(`new:${String(name)}`));
  emitter.on("x", (v) => log.push(`on:${v}`));
  emitter.prependOnceListener("x", (v) => log.push(`once:${v}`));
  log.push(emitter.emit("x", 1), emitter.emit("x", 2), emitter.listenerCount("x"));
  out("emitter", log);
  attempt("emit error", () => emitter.emit("error", { code: 1 }));
  attempt("emit Error", () => emitter.emit("error", new TypeError("bad")));
  const pending = once(emitter, "later");
  emitter.emit("later", "value", 2);
  out("once", await pending);
  out("inspect emitter", inspect(emitter, { depth: 0 }));

  // DOM events
  const target = new dom.EventTarget();
  const seen = [];
  target.addEventListener("ping", (event) => seen.push(event.type, event.eventPhase), { once: true });
  target.addEventListener("ping", { handleEvent: (event) => seen.push("handleEvent", event.cancelable) });
  seen.push(target.dispatchEvent(new dom.Event("ping", { cancelable: true })));
  seen.push(target.dispatchEvent(new dom.Event("ping")));
  out("EventTarget", seen);
  const reported = [];
  dom.setListenerErrorHandler((error) => reported.push(error.message));
  target.addEventListener("boom", () => {
    throw new Error("listener failed");
  });
  out("dispatch with throwing listener", target.dispatchEvent(new dom.Event("boom")), reported.length);
  await Promise.resolve();
  await Promise.resolve();
  out("reported", reported);
  const controller = new dom.AbortController();
  const aborts = [];
  controller.signal.onabort = (event) => aborts.push(event.type, event.isTrusted);
  const any = dom.AbortSignal.any([controller.signal]);
  any.addEventListener("abort", () => aborts.push("any", any.reason.name));
  controller.abort();
  out("abort", aborts, controller.signal.reason.message, controller.signal.reason.code);
  attempt("throwIfAborted", () => controller.signal.throwIfAborted());
  out("inspect dom", inspect(controller), inspect(new dom.DOMException("m", "TimeoutError")).split("\n")[0]);
  attempt("illegal", () => new dom.AbortSignal());

  // inspect and format
  class Point {
    constructor() {
      this.x = 1;
      this.y = [1, 2, { z: new Map([["k", new Set([1])]]) }];
    }
  }
  const circular = { name: "c" };
  circular.self = circular;
  const values = [
    1, -0, 12n, "str", Symbol("s"), undefined, null, [1, , 3], new Array(120).fill(7), // eslint-disable-line no-sparse-arrays
    { a: { b: { c: { d: 1 } } } }, new Point(), Object.create(null), circular, Point,
    class extends Point {}, function named() {}, async () => {}, new Date(0), /re/g, new Uint8Array(3),
    new ArrayBuffer(2), new WeakMap(), { [Symbol("k")]: "v", "a-b": 1 },
    { get g() { return 1; }, set s(v) { void v; } }, ["x".repeat(30), "y".repeat(30), "z".repeat(30)],
    { [Symbol.for("nodejs.util.inspect.custom")]: () => "custom" }, new Number(3), "it's",
  ];
  for (const value of values) out("inspect", inspect(value), inspect(value, { compact: false, depth: 0 }));
  out(format("%s %d %i %f %j %o %O %c%%", "s", 42.5, "42.5", "1.5", { a: 1 }, [1], { b: 2 }, "css", "extra"));
  out(format("%s", new Point()), format(1, "two", { three: 3 }));

  // Errors: engine-created ones get Node's layout, with converted frames.
  function thrower() {
    return new RangeError("deep");
  }
  const engineError = thrower();
  const shown = inspect(engineError).split("\n");
  out("engine error", shown[0], shown.slice(1).every((line) => /^ {4}at /.test(line)), shown.length > 1);
  try {
    Buffer.alloc("x");
  } catch (error) {
    const text = inspect(error).split("\n");
    out("node error", text[0], text.at(-2), text.at(-1), text.slice(1, -2).every((l) => /^ {4}at /.test(l)),
      text.some((l) => /makeError|ERR_INVALID/.test(l.replace(/\[ERR_INVALID_ARG_TYPE\]|'ERR_INVALID_ARG_TYPE'/, ""))));
  }
  const withCause = new Error("outer", { cause: new Error("inner") });
  out("cause", inspect(withCause).split("\n").filter((l) => !/^ +at /.test(l)));

  // Web streams, Blob and the fetch types
  const { ReadableStream } = await load("web_streams");
  const { Blob } = await load("blob");
  const { Headers, Request, Response, makeResponse, requestParts, makePushStream } = await load("fetch_types");
  const pulled = [];
  let count = 0;
  const counting = new ReadableStream({
    pull(controller) {
      pulled.push(controller.desiredSize);
      if (count < 3) controller.enqueue(count++);
      else controller.close();
    },
  }, { highWaterMark: 2 });
  const [left, right] = counting.tee();
  const seenValues = [];
  for await (const value of left) seenValues.push(value);
  const rightReader = right.getReader();
  seenValues.push(await rightReader.read(), await rightReader.read());
  rightReader.releaseLock();
  out("streams", seenValues, pulled, right.locked, inspect(right));
  attempt("stream errors", () => [new ReadableStream({}, { highWaterMark: -1 })]);
  attempt("locked", () => {
    const stream = new ReadableStream();
    stream.getReader();
    return stream.getReader();
  });
  const blob = new Blob(["héllo ", new Uint8Array([0x77]), new Blob(["orld"])], { type: "Text/Plain" });
  out("blob", inspect(blob), await blob.text(), await blob.slice(-5, -1).text(), (await blob.arrayBuffer()).byteLength);
  const headers = new Headers([["B", "1"], ["a", "2"], ["Set-Cookie", "x"], ["set-cookie", "y"], ["A", " 3 "]]);
  out("headers", [...headers], headers.get("a"), headers.getSetCookie(), inspect(headers));
  attempt("header name", () => headers.append("a b", "c"));
  const request = new Request("http://example.com/p#h", { method: "post", body: "payload", headers: { "X-Id": "7" } });
  out("request", request.method, request.url, [...request.headers], inspect(requestParts(request).body));
  const response = new Response(new Uint8Array([123, 34, 107, 34, 58, 49, 125]), { status: 201, headers: { "content-type": "application/json" } });
  const copy = response.clone();
  out("response", response.status, response.ok, await response.json(), await (await copy.blob()).text(), response.bodyUsed);
  await response.text().catch((error) => out("used", error.message));
  out("statics", Response.error().type, Response.redirect("http://x/", 307).headers.get("location"),
    await Response.json({ j: [1] }).text());
  const push = makePushStream({ highWaterMark: 4 });
  const network = makeResponse({ status: 200, statusText: "OK", headerList: [["X-B", "1"]], urlList: ["http://a/", "http://b/"], body: push.stream });
  out("push", push.push(new Uint8Array([104, 105])), push.desiredSize());
  push.close();
  out("network", network.type, network.url, network.redirected, [...network.headers], await network.text());
  return lines;
}
