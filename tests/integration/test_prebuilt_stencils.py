"""The runtime's JavaScript decoded from the build's stencils (the default)
against the same JavaScript parsed from source, as a worker does when the
libmozjs it loads is not the one the stencils were made for
(worker/prebuilt_stencils.h; forced here with PORTBROKER_PREBUILT_STENCILS=0).
One handler prints what depends on how the runtime's code was compiled:
stack traces through internal modules, the source text of internal
functions, modules compiled on first use and on first import; both brokers
must print the same, and only the second says it parsed."""

import unittest

import harness

PROBE = """
import { inspect } from "node:util";
import { pipeline } from "node:stream/promises";
import { Readable, Writable } from "node:stream";
import zlib from "node:zlib";

export async function handle(conn) {
  const lines = [];
  try { Buffer.alloc(-1); } catch (error) {
    lines.push(error.code, ...error.stack.split("\\n").slice(0, 3).map((line) => line.replace(/:\\d+:\\d+/g, ":L:C")));
  }
  lines.push(Buffer.prototype.toString.toString().split("\\n")[0]);
  lines.push(String(new URL("../b?x=1#h", "http://example.com/a/c")));
  lines.push(JSON.stringify([...new Intl.Segmenter("en", { granularity: "word" }).segment("a bc")].map((s) => s.segment)));
  lines.push(inspect({ a: [1, { b: new Map([[1, 2]]) }] }));
  const chunks = [];
  await pipeline(Readable.from(["x", "y"]), new Writable({ write(chunk, _e, cb) { chunks.push(String(chunk)); cb(); } }));
  lines.push(chunks.join(""), zlib.gunzipSync(zlib.gzipSync("zz")).toString());
  lines.push(typeof (await crypto.subtle.digest("SHA-256", new Uint8Array(1))));
  conn.end(lines.join("\\n") + "\\n");
}
"""


class PrebuiltStencilsTest(unittest.TestCase):
    def transcript_and_broker(self, env):
        port = harness.free_port()
        broker = harness.Broker({f"probe.tcp.{port}.port.js": PROBE}, env=env)
        self.addCleanup(broker.close)
        broker.start()
        # The handler's own frames name its file, whose name has the port.
        return harness.transcript(port).decode().replace(f"probe.tcp.{port}.port.js", "probe.js"), broker

    def test_decoded_and_parsed_runtimes_agree(self):
        decoded, with_stencils = self.transcript_and_broker({})
        parsed, without = self.transcript_and_broker({"PORTBROKER_PREBUILT_STENCILS": "0"})
        self.assertEqual(decoded, parsed)
        lines = decoded.splitlines()
        self.assertEqual(lines[0], "ERR_OUT_OF_RANGE")
        self.assertTrue(any("internal/buffer.js" in line for line in lines[1:4]), lines[:4])
        self.assertEqual(lines[4], "function toString(encoding, start, end) {")  # the source, not [native code]
        self.assertEqual(lines[5], "http://example.com/b?x=1#h")
        self.assertEqual(lines[6], '["a"," ","bc"]')
        self.assertEqual(lines[-3:], ["xy", "zz", "object"])
        self.assertEqual(with_stencils.events(event="prebuilt-stencils-unused"), [])
        unused = without.wait_for(event="prebuilt-stencils-unused")
        self.assertEqual(unused["reason"], "turned off by PORTBROKER_PREBUILT_STENCILS=0")


if __name__ == "__main__":
    harness.main()
