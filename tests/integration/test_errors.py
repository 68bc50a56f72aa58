"""Errors in handler code: logged with the handler's name and file:line, the
affected connection destroyed, every other connection and handler serving on."""

import contextlib
import time
import unittest

import harness

# Line numbers matter: the tests check the reported locations.
THROWER = """export function handle(conn, ctx) {
  conn.setEncoding("utf8");
  conn.on("data", (line) => {
    if (line.startsWith("throw")) throw new Error("boom on request");
    if (line.startsWith("reject")) Promise.reject(new TypeError("rejected on request"));
    if (line.startsWith("timer")) setTimeout(() => { null.property; }, 1);
    if (line.startsWith("emit")) conn.emit("error", new RangeError("nobody listens"));
    conn.write("ok " + line);
  });
}
"""

ASYNC_THROWER = """export async function handle(conn, ctx) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new Error(`async failure for ${conn.remoteAddress}`);
}
"""

SYNTAX_ERROR = """export function handle(conn, ctx) {
  conn.write("fine");
  conn.end(;
}
"""

TOP_LEVEL_THROW = """const config = JSON.parse("{not json");
export function handle(conn) { conn.end(); }
"""

OPEN_THROWS = """export async function open(ctx) {
  await null;
  throw new Error("cannot warm the cache");
}
export function handle(conn) { conn.end(); }
"""

CONSOLE = """export function handle(conn, ctx) {
  console.log("hello %s, %d items", "log", 3, { nested: [1, 2] });
  console.info("info line");
  console.warn("careful");
  console.error(new TypeError("shown with its stack"));
  console.debug("debug detail");
  conn.end("logged\\n");
}
"""

OPEN_HANGS = """export function open(ctx) { return new Promise(() => {}); }
export function handle(conn) { conn.end(); }
"""


class ErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        names = ("thrower", "async", "syntax", "toplevel", "openthrows", "openhangs", "echo", "console")
        cls.port = {name: harness.free_port() for name in names}
        p = cls.port
        cls.files = {
            "thrower": f"thrower.tcp.{p['thrower']}.port.js",
            "async": f"async.tcp.{p['async']}.port.js",
            "syntax": f"syntax.tcp.{p['syntax']}.port.js",
            "toplevel": f"toplevel.tcp.{p['toplevel']}.port.js",
            "openthrows": f"openthrows.tcp.{p['openthrows']}.port.js",
            "openhangs": f"openhangs.tcp.{p['openhangs']}.port.js",
        }
        cls.broker = harness.Broker({
            cls.files["thrower"]: THROWER,
            cls.files["async"]: ASYNC_THROWER,
            cls.files["syntax"]: SYNTAX_ERROR,
            cls.files["toplevel"]: TOP_LEVEL_THROW,
            cls.files["openthrows"]: OPEN_THROWS,
            cls.files["openhangs"]: OPEN_HANGS,
            f"console.tcp.{p['console']}.port.js": CONSOLE,
        }, config={"timeouts": {"open_ms": 300}})
        cls.broker.copy_example("echo.tcp.7000.port.js", f"echo.tcp.{p['echo']}.port.js")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def assert_closed_by_broker(self, sock):
        sock.settimeout(5)
        data = b""
        while True:
            try:
                chunk = sock.recv(1024)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def request(self, sock, line):
        sock.sendall(line.encode())
        return harness.recv_until(sock, b"\n")

    def test_exception_in_a_callback_destroys_only_that_connection(self):
        with contextlib.closing(harness.connect(self.port["thrower"])) as survivor, \
                contextlib.closing(harness.connect(self.port["thrower"])) as victim:
            self.assertEqual(self.request(survivor, "hello\n"), b"ok hello\n")
            victim.sendall(b"throw\n")
            self.assertEqual(self.assert_closed_by_broker(victim), b"")
            self.assertEqual(self.request(survivor, "still here\n"), b"ok still here\n")
        event = self.broker.wait_for(event="uncaught-exception", handler="thrower", error="Error: boom on request")
        self.assertTrue(event["at"].startswith(f"{self.files['thrower']}:4:"), event["at"])
        self.assertIn(self.files["thrower"], event["stack"])
        self.assertIn("conn", event)

    def test_unhandled_rejection_destroys_its_connection(self):
        with contextlib.closing(harness.connect(self.port["thrower"])) as sock:
            sock.sendall(b"reject\n")
            # write("ok ...") ran before the rejection was found unhandled.
            self.assertEqual(self.assert_closed_by_broker(sock), b"ok reject\n")
        event = self.broker.wait_for(event="unhandled-rejection", handler="thrower")
        self.assertEqual(event["error"], "TypeError: rejected on request")
        self.assertTrue(event["at"].startswith(f"{self.files['thrower']}:5:"), event["at"])

    def test_exception_in_a_timer_lands_on_the_connection_that_set_it(self):
        with contextlib.closing(harness.connect(self.port["thrower"])) as survivor, \
                contextlib.closing(harness.connect(self.port["thrower"])) as sock:
            sock.sendall(b"timer\n")
            self.assertEqual(self.assert_closed_by_broker(sock), b"ok timer\n")
            self.assertEqual(self.request(survivor, "after timer\n"), b"ok after timer\n")
        event = self.broker.wait_for(event="uncaught-exception", handler="thrower", error="TypeError: null has no properties")
        self.assertTrue(event["at"].startswith(f"{self.files['thrower']}:6:"), event["at"])

    def test_unhandled_error_event_destroys_the_connection(self):
        with contextlib.closing(harness.connect(self.port["thrower"])) as sock:
            sock.sendall(b"emit\n")
            self.assertEqual(self.assert_closed_by_broker(sock), b"")
        self.broker.wait_for(event="uncaught-exception", handler="thrower", error="RangeError: nobody listens")

    def test_async_handle_rejection_destroys_its_connection(self):
        with contextlib.closing(harness.connect(self.port["async"])) as sock:
            self.assertEqual(self.assert_closed_by_broker(sock), b"")
        event = self.broker.wait_for(event="unhandled-rejection", handler="async")
        self.assertEqual(event["error"], "Error: async failure for 127.0.0.1")
        self.assertTrue(event["at"].startswith(f"{self.files['async']}:3:"), event["at"])

    def test_load_failures_fail_the_handler_with_file_and_line(self):
        cases = {
            "syntax": (f"{self.files['syntax']}:3:", "SyntaxError"),
            "toplevel": (f"{self.files['toplevel']}:1:", "SyntaxError: JSON.parse"),
            "openthrows": (f"{self.files['openthrows']}:3:", "Error: cannot warm the cache"),
            "openhangs": ("open(ctx) did not finish within 300 ms", ""),
        }
        for name, (location, message) in cases.items():
            with self.subTest(handler=name):
                handler = self.broker.handler(name)
                self.assertEqual(handler["state"], "failed")
                self.assertIn(location, handler["reason"])
                self.assertIn(message, handler["reason"])
                with self.assertRaises(ConnectionRefusedError):
                    harness.connect(self.port[name], timeout=2).close()

    def test_console_goes_to_the_log_with_handler_and_level(self):
        self.assertEqual(harness.transcript(self.port["console"]), b"logged\n")
        expected = [("info", "hello log, 3 items { nested: [ 1, 2 ] }"), ("info", "info line"), ("warn", "careful"),
                    ("debug", "debug detail")]
        for level, message in expected:
            with self.subTest(level=level):
                self.broker.wait_for(event="console", handler="console", level=level, msg=message)
        error = self.broker.wait_for(event="console", handler="console", level="error")
        self.assertTrue(error["msg"].startswith("TypeError: shown with its stack\n    at handle ("), error["msg"])

    def test_other_handlers_keep_serving(self):
        with contextlib.closing(harness.connect(self.port["echo"])) as sock:
            harness.recv_until(sock, b"\n")
            sock.sendall(b"alive\n")
            self.assertEqual(harness.recv_exactly(sock, 6), b"alive\n")
        self.assertEqual(self.broker.handler("thrower")["state"], "active")


if __name__ == "__main__":
    harness.main()
