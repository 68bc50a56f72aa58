#!/usr/bin/env python3
"""The cost of a brokered connect (docs/egress.md) against a direct connect in
Node: one handler file, run under bench/node-reference-runner.mjs and under
the built portbrokerd, connects 300 times in a row to a loopback echo server
and reports the median and 90th percentile of connect() to first byte, in ms.
Run twice, alternating. Usage: bench/egress_connect.py (PORTBROKER_BUILD_DIR
as for the integration tests)."""
import json, os, socket, socketserver, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness

class Echo(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while (d := self.request.recv(100)):
            self.request.sendall(d)

up = harness.free_port()
srv = Echo(("127.0.0.1", up), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
HANDLER = """
import net from "node:net";
function once(port) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => s.write("x"));
    s.once("data", () => { resolve(performance.now() - t0); s.destroy(); });
    s.on("error", reject);
  });
}
export async function handle(conn) {
  const times = [];
  for (let i = 0; i < 300; i++) times.push(await once(UP));
  times.sort((a, b) => a - b);
  conn.end(`median ${times[150].toFixed(3)} p90 ${times[270].toFixed(3)}\\n`);
}
""".replace("UP", str(up))
p1, p2 = harness.free_port(), harness.free_port()
import tempfile
nd = tempfile.mkdtemp()
open(os.path.join(nd, f"b.tcp.{p1}.port.js"), "w").write(HANDLER)
node = harness.NodeRunner(nd)
broker = harness.Broker({f"b.tcp.{p2}.port.js": HANDLER, f"b.tcp.{p2}.port.json": json.dumps({"connect": [f"127.0.0.1:{up}"], "connectLimits": {"perSecond": 100000}})}, log_level="info")
broker.start()
try:
    time.sleep(0.5)
    for label, port in (("node", p1), ("broker", p2), ("node", p1), ("broker", p2)):
        print(label, harness.transcript(port).decode().strip(), flush=True)
finally:
    broker.close(); node.close(); srv.shutdown()
