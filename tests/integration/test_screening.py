"""The manifest's screening in the supervisor (userspace, --no-firewall):
allow/deny, caps, per-source caps, rate limits, idle timeouts and the module's
`access`, from several source addresses on loopback, checking what each client
sees and the refusal counters in status."""

import contextlib
import json
import socket
import time
import unittest

import harness

HOLD = """
export function handle(conn, ctx) {
  conn.write(`hi ${conn.remoteAddress}\\n`);
  conn.on("data", (chunk) => conn.write(chunk));
}
"""

UDP_ECHO = """
export function message(msg, rinfo, ctx) { ctx.reply(msg, rinfo); }
"""

BRIEF = """
export function handle(conn) { conn.end("hi\\n"); }
"""

ACCESS = """
export const access = { allow: ["127.0.0.2/32", "192.168.0.0/16"], maxConnections: 5000, idleTimeout: 1 };
export function handle(conn) { conn.write("hi\\n"); conn.resume(); }
"""


def client(port, source="127.0.0.1", host="127.0.0.1"):
    return harness.connect(port, host, timeout=5, source=source)


TCP_CLOSE = 7  # tcpi_state, include/net/tcp_states.h


def close_once_the_server_has_it(sock):
    """Closes our side and returns once the server's kernel has taken in the
    FIN. A plain close() returns as soon as the FIN is queued; under load
    (softirqs deferred to ksoftirqd, the server socket busy in the worker) the
    next SYN can reach the supervisor before the FIN reaches the old socket,
    and a cap of one then rightly refuses. After recv_all the server has
    closed its side, so ours is in CLOSE_WAIT: shutting it sends our FIN
    (LAST_ACK) and the server's ACK of it (CLOSED) proves it arrived."""
    sock.shutdown(socket.SHUT_WR)
    deadline = time.monotonic() + 5
    while sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != TCP_CLOSE:
        if time.monotonic() > deadline:
            raise AssertionError("the server never acknowledged our FIN")
        time.sleep(0.001)
    sock.close()


def greeted(sock):
    """True if the handler greeted; False if the broker closed the connection unseen."""
    try:
        data = sock.recv(100)
    except ConnectionResetError:
        return False
    return data.startswith(b"hi")


class ScreeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        names = ("lists", "caps", "perip", "rate", "idle", "udp", "access", "defaults", "churn")
        cls.port = {name: harness.free_port() for name in names}
        p = cls.port
        cls.broker = harness.Broker({
            f"lists.tcp.{p['lists']}.port.js": HOLD,
            f"lists.tcp.{p['lists']}.port.json": json.dumps(
                {"allow": ["127.0.0.0/29", "::1"], "deny": ["127.0.0.3", "127.0.0.6/31"]}),
            f"caps.tcp.{p['caps']}.port.js": HOLD,
            f"caps.tcp.{p['caps']}.port.json": json.dumps({"maxConnections": 2}),
            f"perip.tcp.{p['perip']}.port.js": HOLD,
            f"perip.tcp.{p['perip']}.port.json": json.dumps({"maxConnectionsPerIp": 1}),
            f"rate.tcp.{p['rate']}.port.js": HOLD,
            f"rate.tcp.{p['rate']}.port.json": json.dumps({"rateLimit": {"perIp": 3, "window": 3}}),
            f"idle.tcp.{p['idle']}.port.js": HOLD,
            f"idle.tcp.{p['idle']}.port.json": json.dumps({"idleTimeout": 1}),
            f"udp.udp.{p['udp']}.port.js": UDP_ECHO,
            f"udp.udp.{p['udp']}.port.json": json.dumps(
                {"deny": ["127.0.0.3/32"], "rateLimit": {"perIp": 2, "window": 30}}),
            f"access.tcp.{p['access']}.port.js": ACCESS,
            f"access.tcp.{p['access']}.port.json": json.dumps({"allow": ["127.0.0.0/8"], "maxConnections": 100}),
            f"defaults.tcp.{p['defaults']}.port.js": HOLD,
            f"churn.tcp.{p['churn']}.port.js": BRIEF,
            f"churn.tcp.{p['churn']}.port.json": json.dumps({"maxConnections": 1, "maxConnectionsPerIp": 1}),
        })
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def refused_by(self, name):
        return self.broker.handler(name)["refused_by"]

    def test_allow_and_deny_from_several_sources(self):
        cases = [("127.0.0.1", True), ("127.0.0.2", True), ("127.0.0.3", False), ("127.0.0.6", False),
                 ("127.0.0.7", False), ("127.0.0.9", False), ("::1", True)]
        for source, admitted in cases:
            with self.subTest(source=source):
                host = "::1" if ":" in source else "127.0.0.1"
                with contextlib.closing(client(self.port["lists"], source, host)) as sock:
                    self.assertEqual(greeted(sock), admitted)
        refused = self.refused_by("lists")
        self.assertEqual(refused["deny"], 3)         # .3, .6 and .7: inside allow, deny wins
        self.assertEqual(refused["not-allowed"], 1)  # .9: outside allow
        policy = self.broker.handler("lists")["policy"]
        self.assertEqual(policy["allow"], [["127.0.0.0/29", "::1/128"]])
        self.assertEqual(policy["deny"], ["127.0.0.3/32", "127.0.0.6/31"])

    def test_ipv4_mapped_sources_match_ipv4_blocks(self):
        # An IPv4 client of the dual-stack socket shows as plain IPv4.
        with contextlib.closing(client(self.port["lists"], "127.0.0.2")) as sock:
            self.assertEqual(sock.recv(100), b"hi 127.0.0.2\n")

    def test_max_connections_refuses_until_one_closes(self):
        first, second = client(self.port["caps"]), client(self.port["caps"])
        self.assertTrue(greeted(first) and greeted(second))
        with contextlib.closing(client(self.port["caps"])) as third:
            self.assertFalse(greeted(third))
        first.close()
        deadline = time.monotonic() + 5
        while self.broker.handler("caps")["connections"]["active"] > 1:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        with contextlib.closing(client(self.port["caps"])) as again:
            self.assertTrue(greeted(again))
        second.close()
        self.assertGreaterEqual(self.refused_by("caps")["max-connections"], 1)

    def test_caps_count_a_closed_connection_at_once_under_churn(self):
        # Closes in quick succession are collected in batches instead of
        # waking the supervisor one by one; a cap about to refuse, and status,
        # still see every close the kernel has reported.
        for attempt in range(200):
            sock = client(self.port["churn"])
            self.assertEqual(harness.recv_all(sock), b"hi\n", f"connection {attempt}")
            close_once_the_server_has_it(sock)
        handler = self.broker.handler("churn")
        self.assertEqual(handler["connections"]["active"], 0)
        self.assertEqual(self.refused_by("churn").get("max-connections", 0), 0)
        self.assertEqual(self.refused_by("churn").get("max-connections-per-ip", 0), 0)

    def test_max_connections_per_ip(self):
        with contextlib.closing(client(self.port["perip"], "127.0.0.2")) as held:
            self.assertTrue(greeted(held))
            with contextlib.closing(client(self.port["perip"], "127.0.0.2")) as second:
                self.assertFalse(greeted(second))
            with contextlib.closing(client(self.port["perip"], "127.0.0.4")) as other:
                self.assertTrue(greeted(other))
        self.assertEqual(self.refused_by("perip")["max-connections-per-ip"], 1)

    def test_rate_limit_per_source_and_refill(self):
        # All four are connected before any is read: the bucket refills
        # (one token a second), so four greetings read one by one on a slow
        # machine could let the fourth in.
        socks = [client(self.port["rate"], "127.0.0.5") for _ in range(4)]
        try:
            results = [greeted(sock) for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        self.assertEqual(results, [True, True, True, False])
        with contextlib.closing(client(self.port["rate"], "127.0.0.4")) as other:
            self.assertTrue(greeted(other), "another source has its own budget")
        time.sleep(1.2)  # 3 in 3 s: one token back after 1 s
        with contextlib.closing(client(self.port["rate"], "127.0.0.5")) as sock:
            self.assertTrue(greeted(sock))
        self.assertEqual(self.refused_by("rate")["rate-limit"], 1)

    def test_idle_connections_are_closed_by_the_broker(self):
        with contextlib.closing(client(self.port["idle"])) as idle, \
                contextlib.closing(client(self.port["idle"])) as busy:
            self.assertTrue(greeted(idle) and greeted(busy))
            started = time.monotonic()
            # The busy one talks every 0.2 s and stays open past the 1 s timeout.
            for _ in range(8):
                busy.sendall(b"x")
                self.assertEqual(busy.recv(10), b"x")
                time.sleep(0.2)
            self.assertEqual(harness.recv_all(idle), b"")
            self.assertLess(time.monotonic() - started, 5)
            busy.sendall(b"y")
            self.assertEqual(busy.recv(10), b"y")
        self.assertGreaterEqual(self.refused_by("idle")["idle-timeout"], 1)
        self.broker.wait_for(event="idle-timeout")

    def test_udp_deny_and_rate_limit(self):
        port = self.port["udp"]
        self.assertEqual(harness.udp_request(port, b"a", source_host="127.0.0.2"), b"a")
        self.assertEqual(harness.udp_request(port, b"b", source_host="127.0.0.2"), b"b")
        with self.assertRaises(socket.timeout):
            harness.udp_request(port, b"c", source_host="127.0.0.2", timeout=0.5)
        with self.assertRaises(socket.timeout):
            harness.udp_request(port, b"d", source_host="127.0.0.3", timeout=0.5)
        handler = self.broker.handler("udp")
        self.assertEqual(handler["refused_by"]["rate-limit"], 1)
        self.assertEqual(handler["refused_by"]["deny"], 1)
        self.assertEqual(handler["datagrams"]["refused"], 2)
        self.assertEqual(handler["policy"]["idleTimeout"], 120)

    def test_module_access_only_tightens(self):
        with contextlib.closing(client(self.port["access"], "127.0.0.2")) as allowed:
            self.assertTrue(greeted(allowed))
        with contextlib.closing(client(self.port["access"], "127.0.0.3")) as narrowed:
            self.assertFalse(greeted(narrowed))
        handler = self.broker.handler("access")
        self.assertTrue(handler["access"]["exported"])
        warnings = " | ".join(handler["access"]["warnings"])
        self.assertIn("192.168.0.0/16 is not inside the manifest's allow", warnings)
        self.assertIn("maxConnections 5000 is above the limit in force (100)", warnings)
        self.assertEqual(handler["policy"]["maxConnections"], 100)
        self.assertEqual(handler["policy"]["idleTimeout"], 1)
        self.assertEqual(handler["refused_by"]["not-allowed"], 1)
        self.assertTrue(self.broker.events(event="access-not-applied", handler="access"))

    def test_defaults_without_a_manifest(self):
        handler = self.broker.handler("defaults")
        self.assertIsNone(handler["manifest"])
        self.assertEqual(handler["policy"]["source"], "defaults")
        self.assertIsNone(handler["policy"]["allow"])
        self.assertEqual(handler["policy"]["maxConnections"], 1024)
        self.assertEqual(handler["policy"]["maxConnectionsPerIp"], 256)
        self.assertEqual(handler["policy"]["idleTimeout"], 300)


class ManifestErrorsTest(unittest.TestCase):
    def test_invalid_manifests_fail_closed(self):
        p = {name: harness.free_port() for name in ("syntax", "field", "unknown", "tls", "udpcap", "good")}
        files = {
            f"syntax.tcp.{p['syntax']}.port.js": HOLD,
            f"syntax.tcp.{p['syntax']}.port.json": '{"allow": [',
            f"field.tcp.{p['field']}.port.js": HOLD,
            f"field.tcp.{p['field']}.port.json": json.dumps({"allow": ["10.0.0.0/8", "10.1.2.3/8"]}),
            f"unknown.tcp.{p['unknown']}.port.js": HOLD,
            f"unknown.tcp.{p['unknown']}.port.json": json.dumps({"maxConns": 3}),
            f"tls.tcp.{p['tls']}.port.js": HOLD,
            f"tls.tcp.{p['tls']}.port.json": json.dumps({"tls": {"enabled": True, "cert": "on-demand"}}),
            f"udpcap.udp.{p['udpcap']}.port.js": UDP_ECHO,
            f"udpcap.udp.{p['udpcap']}.port.json": json.dumps({"maxConnections": 3}),
            f"good.tcp.{p['good']}.port.js": HOLD,
            "orphan.tcp.1234.port.json": "{}",
        }
        with harness.Broker(files) as broker:
            broker.start()
            expectations = {
                "syntax": (f"syntax.tcp.{p['syntax']}.port.json", "parse error"),
                "field": (f"field.tcp.{p['field']}.port.json", "/allow/1: '10.1.2.3/8' has host bits set"),
                "unknown": (f"unknown.tcp.{p['unknown']}.port.json", "/maxConns: unknown field"),
                "tls": (f"tls.tcp.{p['tls']}.port.json", "/tls/names: is required with on-demand certificates"),
                "udpcap": (f"udpcap.udp.{p['udpcap']}.port.json", "/maxConnections: applies to TCP handlers only"),
            }
            for name, (file, message) in expectations.items():
                with self.subTest(handler=name):
                    handler = broker.handler(name)
                    self.assertEqual(handler["state"], "failed")
                    self.assertIn(file, handler["reason"])
                    self.assertIn(message, handler["reason"])
                    if name != "udpcap":
                        with self.assertRaises(ConnectionRefusedError):
                            harness.connect(p[name], timeout=2).close()
            self.assertEqual(broker.handler("good")["state"], "active")
            ignored = {entry["file"]: entry["reason"] for entry in broker.status()["ignored"]}
            self.assertIn("manifest without a handler", ignored["orphan.tcp.1234.port.json"])


if __name__ == "__main__":
    harness.main()
