"""portbrokerctl status (JSON and table) and a clean stop on SIGTERM/SIGINT."""

import contextlib
import os
import signal
import socket
import time
import unittest

import harness

CLOSER = """
const open = new Set();
export function handle(conn, ctx) {
  open.add(conn);
  conn.on("close", () => open.delete(conn));
  // Reading is what lets the peer's FIN end the socket (as in Node).
  conn.resume();
  conn.write("welcome\\n");
}
export async function close(ctx) {
  for (const conn of open) conn.write(`closing, aborted=${ctx.signal.aborted}\\n`);
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const conn of open) conn.end("bye\\n");
}
"""

LINGER = """
export function handle(conn) { conn.write("held\\n"); }
"""


class StatusTest(unittest.TestCase):
    def test_status_json_fields_and_table(self):
        tcp, udp, refused = harness.free_port(), harness.free_port(), harness.free_port()
        with harness.Broker() as broker:
            broker.copy_example("echo.tcp.7000.port.js", f"echo.tcp.{tcp}.port.js")
            broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{udp}.port.js")
            broker.write(f"bad.tcp.0.port.js", "")
            broker.start()
            with contextlib.closing(harness.connect(tcp)) as sock:
                harness.recv_until(sock, b"\n")
                status = broker.status()
                table = broker.ctl("status").stdout
            b = status["broker"]
            self.assertEqual(b["pid"], broker.process.pid)
            self.assertIsInstance(b["uptime_s"], int)
            self.assertEqual(b["handlers_dir"], broker.handlers)
            self.assertEqual(b["firewall"]["enabled"], False)
            self.assertEqual(b["firewall"]["reason"], "disabled by --no-firewall")
            handlers = {h["name"]: h for h in status["handlers"]}
            echo = handlers["echo"]
            self.assertEqual((echo["file"], echo["protocol"], echo["port"], echo["state"], echo["reason"]),
                             (f"echo.tcp.{tcp}.port.js", "tcp", tcp, "active", None))
            self.assertIsInstance(echo["worker"]["pid"], int)
            self.assertTrue(os.path.exists(f"/proc/{echo['worker']['pid']}"))
            self.assertEqual(echo["worker"]["restarts"], 0)
            self.assertEqual(echo["connections"], {"active": 1, "accepted": 1, "refused": 0})
            self.assertEqual(handlers["ping"]["protocol"], "udp")
            # The operator's folder: no tenant.
            self.assertIsNone(echo["tenant"])
            self.assertEqual(status["tenants"], [])
            self.assertEqual(status["ignored"], [{"file": "bad.tcp.0.port.js", "reason": "port 0 is out of range 1-65535",
                                                  "tenant": None}])
            for state in (h["state"] for h in status["handlers"]):
                self.assertIn(state, ("starting", "active", "refused", "failed", "draining"))

            self.assertRegex(table, r"(?m)^echo\s+tcp\s+%d\s+active\s+%d\s+0\s+full\s+1\s+1\s+0" % (tcp, echo["worker"]["pid"]))
            self.assertRegex(table, r"(?m)^ping\s+udp\s+%d\s+active" % udp)
            self.assertRegex(table, r"(?m)^bad\.tcp\.0\.port\.js\s+port 0 is out of range")

    def test_ctl_reports_an_unreachable_broker(self):
        with harness.Broker() as broker:
            result = broker.ctl("status", check=False)
            self.assertEqual(result.returncode, 1)
            self.assertIn("cannot reach portbrokerd", result.stderr)
            self.assertIn(broker.run_dir, result.stderr)
            self.assertEqual(broker.ctl("bogus", check=False).returncode, 2)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_runs_close_then_exits_zero(self):
        port = harness.free_port()
        with harness.Broker({f"closer.tcp.{port}.port.js": CLOSER}) as broker:
            broker.start()
            sock = harness.connect(port)
            self.assertEqual(harness.recv_until(sock, b"\n"), b"welcome\n")
            started = time.monotonic()
            broker.process.send_signal(signal.SIGTERM)
            self.assertEqual(harness.recv_all(sock), b"closing, aborted=true\nbye\n")
            sock.close()
            self.assertEqual(broker.process.wait(15), 0)
            # Everything finished on its own: no deadline (5 s each) had to expire.
            self.assertLess(time.monotonic() - started, 4.5)
            broker.wait_for(event="stopped", exit_code=0)
            self.assertFalse(os.path.exists(os.path.join(broker.run_dir, "control.sock")))
            self.assertFalse(os.path.exists(os.path.join(broker.run_dir, "store.sock")))

    def test_sigint_stops_cleanly_too(self):
        with harness.Broker() as broker:
            broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{harness.free_port()}.port.js")
            broker.start()
            broker.process.send_signal(signal.SIGINT)
            self.assertEqual(broker.process.wait(15), 0)

    def test_open_connections_are_closed_at_the_drain_deadline(self):
        port = harness.free_port()
        config = {"timeouts": {"close_ms": 200, "drain_ms": 300}}
        with harness.Broker({f"linger.tcp.{port}.port.js": LINGER}, config=config) as broker:
            broker.start()
            sock = harness.connect(port)
            self.assertEqual(harness.recv_until(sock, b"\n"), b"held\n")
            started = time.monotonic()
            self.assertEqual(broker.stop(), 0)
            self.assertLess(time.monotonic() - started, 10)
            sock.settimeout(5)
            try:
                self.assertEqual(sock.recv(10), b"")
            except ConnectionResetError:
                pass
            sock.close()
            # Nothing accepts on the port any more.
            with self.assertRaises(ConnectionRefusedError):
                harness.connect(port, timeout=2).close()

    def test_a_close_that_never_settles_is_ended_at_its_deadline_with_a_warning(self):
        port = harness.free_port()
        config = {"timeouts": {"close_ms": 300, "drain_ms": 5000}}
        source = ('export function handle(conn) { conn.end("hi\\n"); }\n'
                  "export function close() { return new Promise(() => {}); }\n")
        with harness.Broker({f"stuck.tcp.{port}.port.js": source}, config=config) as broker:
            broker.start()
            self.assertEqual(harness.transcript(port), b"hi\n")
            self.assertEqual(broker.stop(), 0)
            line = broker.wait_for(event="close-deadline", handler="stuck")
            self.assertEqual((line["level"], line["timeout_ms"]), ("warn", "300"))
            self.assertIn("timeouts.close_ms", line["reason"])
            # The handler threw nothing: no exception is reported for it.
            self.assertEqual(broker.events(event="uncaught-exception"), [])
            self.assertEqual(broker.events(event="unhandled-rejection"), [])


if __name__ == "__main__":
    harness.main()
