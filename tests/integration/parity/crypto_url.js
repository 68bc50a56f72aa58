// Parity scenario: node:crypto and node:url as handlers use them — a
// WebSocket handshake's accept key, an HMAC-signed token checked with
// timingSafeEqual, the URL of a request target, key derivation callbacks and
// Web Crypto. The transcript must be byte-identical under Node and portbroker.
import crypto from "node:crypto";
import { createHash, createHmac, timingSafeEqual, pbkdf2, pbkdf2Sync, scrypt, scryptSync, randomBytes, randomInt } from "node:crypto";
import url, { fileURLToPath, pathToFileURL, domainToASCII } from "node:url";
import { inspect } from "node:util";

export async function handle(conn) {
  const lines = [];
  const log = (...parts) => lines.push(parts.map(String).join(" "));
  const attempt = (label, fn) => {
    try {
      log(label, fn());
    } catch (error) {
      log(label, "threw", error.name, error.code, error.message);
    }
  };

  // WebSocket accept key (RFC 6455 section 1.3's example).
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  log("ws accept", createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64"));

  // An HMAC-signed token.
  const secret = "s3cr3t";
  const payload = Buffer.from(JSON.stringify({ user: "ada", exp: 1700000000 })).toString("base64url");
  const signature = createHmac("sha256", secret).update(payload).digest("base64url");
  const token = `${payload}.${signature}`;
  const check = (t) => {
    const [p, s] = t.split(".");
    const expected = createHmac("sha256", secret).update(p).digest();
    const given = Buffer.from(s, "base64url");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  log("token", token, check(token), check(token.slice(0, -2) + "xx"));
  attempt("timingSafeEqual lengths", () => timingSafeEqual(Buffer.from("a"), Buffer.from("ab")));
  attempt("timingSafeEqual string", () => timingSafeEqual("a", "a"));

  // Digests, encodings, copies and the errors around them.
  for (const algorithm of ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512-256", "sha3-256", "SHA256", "RSA-SHA1"]) {
    log("digest", algorithm, createHash(algorithm).update("héllo").update(Buffer.from([0, 255])).digest("hex"));
  }
  for (const encoding of ["hex", "base64", "base64url", "latin1", "binary", "buffer", undefined]) {
    log("encoding", encoding, inspect(createHash("sha256").update("abc", "latin1").digest(encoding)));
  }
  log("shake", createHash("shake256", { outputLength: 8 }).update("x").digest("hex"), createHash("shake128").update("x").digest("hex"));
  const h = createHash("sha256").update("a");
  const copy = h.copy();
  log("copy", h.digest("hex"), copy.update("b").digest("hex"));
  attempt("after digest", () => h.update("x"));
  attempt("digest twice", () => h.digest());
  attempt("unknown", () => createHash("nope"));
  attempt("unknown hmac", () => createHmac("nope", "k"));
  attempt("bad data", () => createHash("sha256").update(1));
  const hm = createHmac("sha512", Buffer.alloc(200, 7));
  log("hmac long key", hm.update("x").digest("hex"), JSON.stringify(hm.digest("hex")));
  log("hmac empty key", createHmac("sha1", "").update("").digest("hex"));
  log("hashes", crypto.getHashes().includes("sha256"), crypto.getHashes().includes("sha3-512"));

  // Key derivation: sync and on the pool.
  log("pbkdf2Sync", pbkdf2Sync("password", "salt", 1000, 32, "sha256").toString("hex"));
  log("scryptSync", scryptSync("password", "salt", 16, { N: 1024 }).toString("hex"));
  attempt("pbkdf2 iterations", () => pbkdf2Sync("p", "s", 0, 32, "sha256"));
  attempt("pbkdf2 digest", () => pbkdf2Sync("p", "s", 1, 32, "nope"));
  attempt("scrypt N", () => scryptSync("p", "s", 16, { N: 3 }));
  attempt("scrypt maxmem", () => scryptSync("p", "s", 16, { N: 2 ** 20 }));
  attempt("scrypt both", () => scryptSync("p", "s", 16, { N: 16, cost: 16 }));
  const derived = await Promise.all([
    new Promise((resolve, reject) => pbkdf2("pw", "salt", 10, 20, "sha1", (e, k) => (e ? reject(e) : resolve(k.toString("hex"))))),
    new Promise((resolve, reject) => scrypt("pw", "salt", 20, { cost: 16 }, (e, k) => (e ? reject(e) : resolve(k.toString("hex"))))),
  ]);
  log("async kdf", derived.join(" "));

  // Random values: only their shape.
  log("randomBytes", randomBytes(16).length, await new Promise((resolve) => randomBytes(8, (e, b) => resolve(b.length))));
  const ints = Array.from({ length: 200 }, () => randomInt(3, 7));
  log("randomInt", ints.every((i) => i >= 3 && i < 7), new Set(ints).size);
  attempt("randomInt range", () => randomInt(1, 1));
  attempt("randomInt type", () => randomInt(1.5));
  attempt("randomBytes size", () => randomBytes(-1));
  log("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()));

  // Web Crypto.
  const { subtle } = globalThis.crypto;
  const bytes = new TextEncoder().encode("data");
  for (const name of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    log("subtle digest", name, Buffer.from(await subtle.digest(name, bytes)).toString("hex"));
  }
  const hmacKey = await subtle.importKey("raw", new TextEncoder().encode("key"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
  log("cryptokey", inspect(hmacKey), JSON.stringify(hmacKey.algorithm), Object.prototype.toString.call(hmacKey));
  const sig = await subtle.sign("HMAC", hmacKey, bytes);
  log("subtle sign", Buffer.from(sig).toString("hex"), await subtle.verify("HMAC", hmacKey, sig, bytes),
    await subtle.verify("HMAC", hmacKey, new Uint8Array(32), bytes));
  log("export", Buffer.from(await subtle.exportKey("raw", hmacKey)).toString(), JSON.stringify(await subtle.exportKey("jwk", hmacKey)));
  const generated = await subtle.generateKey({ name: "HMAC", hash: "SHA-384" }, false, ["sign"]);
  log("generated", JSON.stringify(generated.algorithm), generated.extractable, generated.usages.join());
  const failures = [
    () => subtle.digest("MD5", bytes),
    () => subtle.digest("SHA-256", "x"),
    () => subtle.importKey("raw", bytes, { name: "HMAC" }, true, ["sign"]),
    () => subtle.importKey("raw", new Uint8Array(0), { name: "HMAC", hash: "SHA-1" }, true, ["sign"]),
    () => subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-1" }, true, ["encrypt"]),
    () => subtle.exportKey("raw", generated),
    () => subtle.sign("HMAC", generated, bytes).then(() => subtle.verify("HMAC", generated, new Uint8Array(1), bytes)),
  ];
  for (const failure of failures) {
    try {
      log("subtle", await failure());
    } catch (error) {
      log("subtle rejects", error.name, error.message);
    }
  }
  const pbkdf2Key = await subtle.importKey("raw", new TextEncoder().encode("pw"), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "PBKDF2", salt: new TextEncoder().encode("salt"), iterations: 100, hash: "SHA-256" }, pbkdf2Key, 128);
  log("deriveBits", Buffer.from(bits).toString("hex"));
  log("hmac with CryptoKey", createHmac("sha256", hmacKey).update("data").digest("hex"));

  // URL of a request target, and node:url helpers.
  const target = new URL("/search/caf%C3%A9?q=a+b&tag=x&tag=y#top", "http://example.com:8080");
  log("target", target.pathname, decodeURIComponent(target.pathname), target.searchParams.get("q"), target.searchParams.getAll("tag").join("|"), target.hash, target.origin);
  target.searchParams.append("page", "2 & 3");
  target.searchParams.delete("tag", "x");
  log("target href", target.href, target.search);
  target.search = "?z=1";
  log("live params", target.searchParams.get("z"), [...target.searchParams.keys()].join());
  log("inspect url", inspect(new URL("https://user:pw@例え.jp:8443/a/../b?x=1#f")));
  log("inspect params", inspect(new URLSearchParams({ a: "1", b: ["x", "y"] })), inspect(new URLSearchParams("a=1").entries()));
  log("json", JSON.stringify({ u: new URL("HTTP://EXAMPLE.com/a b") }));
  attempt("invalid", () => new URL("not a url"));
  try {
    new URL("http://[::1", "http://base/");
  } catch (error) {
    log("invalid fields", error.name, error.code, error.message, error.input, error.base, Object.keys(error).join());
  }
  log("canParse", URL.canParse("x"), URL.canParse("x", "http://a/"), URL.canParse("http://a:99999"));
  log("fileURLToPath", fileURLToPath("file:///tmp/a%20b/c"), pathToFileURL("/tmp/a b#c?d%e").href);
  attempt("fileURLToPath host", () => fileURLToPath("file://host/x"));
  log("domainToASCII", domainToASCII("münchen.de"), url.domainToUnicode("xn--mnchen-3ya.de"), JSON.stringify(domainToASCII("xn--iñvalid.com")));
  log("format", url.format(new URL("http://u:p@xn--fa-hia.de/p?q#h"), { auth: false, fragment: false, unicode: true }),
    url.format({ protocol: "https", hostname: "a.example", pathname: "/x y", query: { a: "1", b: ["2", "3"] } }));
  log("urlToHttpOptions", JSON.stringify(url.urlToHttpOptions(new URL("https://a:b@[::1]:8443/p?q"))));
  const params = new URLSearchParams([["b", "2"], ["a", "1"], ["b", "1"]]);
  params.sort();
  log("params", params.toString(), params.size, params.has("a", "2"), params.has("a", "1"));
  const setters = new URL("http://example.com/");
  setters.protocol = "https";
  setters.username = "us er";
  setters.password = "p@ss";
  setters.host = "example.net:8443";
  setters.pathname = "/a b/../c";
  setters.hash = "frag ment";
  setters.port = "443";
  log("setters", setters.href);
  conn.end(lines.join("\n") + "\n");
}
