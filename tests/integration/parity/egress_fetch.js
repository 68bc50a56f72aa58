// Parity scenario: fetch() against a real HTTP server (HTTP_PORT, filled in
// by test_parity.py; under portbroker the manifest allows it): the response
// (status, statusText, headers, body, url, redirected, type), request bodies
// (string, stream), redirects (followed, 303 turning POST into GET, manual,
// error), a gzip body, a streamed body, HEAD and 204, and the errors: a
// refused connect, an abort, a timeout, an untrusted certificate (TLS_PORT).
const BASE = `http://127.0.0.1:${HTTP_PORT}`;
const CLOSED = CLOSED_PORT;
const TLS = TLS_PORT;

function headersOf(response) {
  return [...response.headers].filter(([name]) => name !== "date" && name !== "server")
    .map(([name, value]) => `${name}=${value}`).join(";");
}

async function show(label, response) {
  const body = response.body === null ? "(null body)" : await response.text();
  return `${label}: ${response.status} ${JSON.stringify(response.statusText)} ok=${response.ok} ` +
    `type=${response.type} redirected=${response.redirected} url=${response.url.replace(BASE, "BASE")} ` +
    `headers=${headersOf(response)} body=${body}`;
}

function failure(label, error) {
  const cause = error.cause;
  return `${label}: ${error.name} ${error.message}` +
    (cause ? ` cause=${cause.name} ${cause.code} ${String(cause.message).replace(String(CLOSED), "CLOSED")}` : "");
}

const cases = [
  ["get", () => fetch(`${BASE}/hello?x=1`)],
  ["post", () => fetch(`${BASE}/echo`, { method: "POST", body: "a body", headers: { "X-Test": "yes" } })],
  ["put-stream", () => fetch(`${BASE}/echo`, {
    method: "PUT",
    duplex: "half",
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed "));
        controller.enqueue(new TextEncoder().encode("body"));
        controller.close();
      },
    }),
  })],
  ["redirect", () => fetch(`${BASE}/redirect?to=/hello`)],
  ["see-other", () => fetch(`${BASE}/see-other`, { method: "POST", body: "dropped" })],
  ["manual", () => fetch(`${BASE}/redirect?to=/hello`, { redirect: "manual" })],
  ["gzip", () => fetch(`${BASE}/gzip`)],
  ["head", () => fetch(`${BASE}/hello`, { method: "HEAD" })],
  ["no-content", () => fetch(`${BASE}/no-content`)],
];

const failures = [
  ["redirect-error", () => fetch(`${BASE}/redirect?to=/hello`, { redirect: "error" })],
  ["refused", () => fetch(`http://127.0.0.1:${CLOSED}/`)],
  ["aborted", () => {
    const controller = new AbortController();
    const pending = fetch(`${BASE}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    return pending;
  }],
  ["timeout", () => fetch(`${BASE}/slow`, { signal: AbortSignal.timeout(50) })],
  ["untrusted", () => fetch(`https://127.0.0.1:${TLS}/`)],
  ["bad-scheme", () => fetch("ftp://127.0.0.1/")],
];

export async function handle(conn) {
  const lines = [];
  for (const [label, run] of cases) {
    try {
      lines.push(await show(label, await run()));
    } catch (error) {
      lines.push(failure(label, error));
    }
  }
  lines.push(`json: ${JSON.stringify(await (await fetch(`${BASE}/json`)).json())}`);
  // A streamed body, read chunk by chunk (boundaries vary; the text does not).
  const streamed = await fetch(`${BASE}/chunked`);
  let text = "";
  for await (const chunk of streamed.body) text += new TextDecoder().decode(chunk);
  lines.push(`chunked: ${streamed.headers.get("transfer-encoding")} ${text.length} ${text.slice(0, 20)}`);
  for (const [label, run] of failures) {
    try {
      await run();
      lines.push(`${label}: resolved`);
    } catch (error) {
      lines.push(failure(label, error));
    }
  }
  conn.end(lines.join("\n") + "\n");
}
