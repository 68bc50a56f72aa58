"""The same handler file under plain Node and under portbroker must produce
the same bytes: every scenario in tests/integration/parity/ runs under both,
driven by the same client, and the transcripts are compared byte for byte."""

import contextlib
import json
import gzip
import os
import shutil
import socket
import socketserver
import tempfile
import threading
import time
import unittest

import harness

PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity")

# How the client drives a scenario: ("send", bytes), ("sleep", seconds),
# ("shutdown",) half-closes; then everything is read until the handler closes.
# ("report",) opens a second connection and returns its transcript instead:
# scenarios that record events up to 'close' report them on the next
# connection.
CLIENTS = {
    "conn_read.js": [("send", b"h\xc3"), ("sleep", 0.05), ("send", b"\xa9llo \xf0\x9f"), ("sleep", 0.05),
                     ("send", b"\x98\x80!"), ("sleep", 0.05),
                     # Whole characters and invalid bytes inside reads that end in ASCII
                     # (decoded natively), then a character split again.
                     ("send", b" \xe2\x82\xac and \xff\xc3( bad;"), ("sleep", 0.05), ("send", b" \xe2\x82"), ("sleep", 0.05),
                     ("send", b"\xac."), ("sleep", 0.05), ("shutdown",)],
    "conn_events.js": [("send", b"first"), ("sleep", 0.05), ("send", b"second"), ("sleep", 0.05), ("shutdown",),
                       ("sleep", 0.2), ("report",)],
    "conn_iterate.js": [("send", b"one"), ("sleep", 0.05), ("send", b"two"), ("sleep", 0.05), ("shutdown",)],
    "conn_write.js": [],
    "conn_unread_end.js": [("shutdown",)],
    "conn_stream.js": [("send", b"first line\n"), ("sleep", 0.05), ("send", b"second"), ("sleep", 0.05), ("shutdown",),
                       ("sleep", 0.2), ("report",)],
    "conn_drain.js": [("report",)],
    "conn_pipe.js": [("send", b"echo me"), ("sleep", 0.05), ("send", b" and me"), ("sleep", 0.05), ("shutdown",)],
    "conn_iterate_break.js": [("send", b"go"), ("sleep", 0.05), ("send", b"stop"), ("sleep", 0.2), ("report",)],
    "conn_zlib.js": [("send", gzip.compress(b"a gzip body, " * 300, mtime=0)[:40]), ("sleep", 0.05),
                     ("send", gzip.compress(b"a gzip body, " * 300, mtime=0)[40:]), ("sleep", 0.05), ("shutdown",)],
}


def run_client(port, actions):
    with contextlib.closing(harness.connect(port)) as sock:
        for action in actions:
            if action[0] == "send":
                sock.sendall(action[1])
            elif action[0] == "sleep":
                time.sleep(action[1])
            elif action[0] == "shutdown":
                sock.shutdown(socket.SHUT_WR)
            elif action[0] == "report":
                harness.recv_all(sock)
                return harness.transcript(port)
        return harness.recv_all(sock)


class Echo(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class EchoLines(socketserver.StreamRequestHandler):
    """Echoes lines until the client ends, then closes."""

    def handle(self):
        while line := self.rfile.readline():
            self.wfile.write(line)


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Outbound scenarios (egress_*.js) connect to this echo server, and
        # to a port nothing listens on; under portbroker their manifest
        # allows both (docs/egress.md), under Node nothing stops them.
        cls.upstream_port, cls.closed_port = harness.free_port(), harness.free_port()
        cls.upstream = Echo(("127.0.0.1", cls.upstream_port), EchoLines)
        threading.Thread(target=cls.upstream.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        cls.scenarios = sorted(f for f in os.listdir(PARITY) if f.endswith(".js"))
        cls.node_dir = tempfile.mkdtemp(prefix="portbroker-parity-node-")
        cls.node_ports = {}
        cls.broker_ports = {}
        cls.broker = harness.Broker()
        for scenario in cls.scenarios:
            name = scenario[:-3].replace("_", "-")
            node_port, broker_port = harness.free_port(), harness.free_port()
            node_file = f"{name}.tcp.{node_port}.port.js"
            with open(os.path.join(PARITY, scenario)) as f:
                source = f.read().replace("UPSTREAM_PORT", str(cls.upstream_port))
                source = source.replace("CLOSED_PORT", str(cls.closed_port))
            with open(os.path.join(cls.node_dir, node_file), "w") as f:
                f.write(source)
            cls.node_ports[scenario] = node_port
            cls.broker_ports[scenario] = broker_port
            cls.broker.write(f"{name}.tcp.{broker_port}.port.js", source)
            if scenario.startswith("egress"):
                cls.broker.write(f"{name}.tcp.{broker_port}.port.json", json.dumps(
                    {"connect": [f"127.0.0.1:{cls.upstream_port}", f"127.0.0.1:{cls.closed_port}"]}))
        cls.node = harness.NodeRunner(cls.node_dir)
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        cls.broker.close()
        cls.upstream.shutdown()
        cls.upstream.server_close()
        shutil.rmtree(cls.node_dir, ignore_errors=True)

    def test_every_scenario_matches_node_byte_for_byte(self):
        self.assertGreaterEqual(len(self.scenarios), 6)
        for scenario in self.scenarios:
            with self.subTest(scenario=scenario):
                actions = CLIENTS.get(scenario, [])
                expected = run_client(self.node_ports[scenario], actions)
                actual = run_client(self.broker_ports[scenario], actions)
                self.assertTrue(expected, f"{scenario} produced nothing under Node")
                if actual != expected:
                    self.fail(f"{scenario} differs from Node:\n" + diff(expected, actual))


def diff(expected, actual):
    import difflib
    lines = difflib.unified_diff(expected.decode(errors="replace").splitlines(),
                                 actual.decode(errors="replace").splitlines(),
                                 "node", "portbroker", lineterm="", n=1)
    return "\n".join(list(lines)[:80])


if __name__ == "__main__":
    harness.main()
