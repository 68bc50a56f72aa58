"""The same handler file under plain Node and under portbroker must produce
the same bytes: every scenario in tests/integration/parity/ runs under both,
driven by the same client, and the transcripts are compared byte for byte."""

import contextlib
import http.server
import json
import gzip
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness

PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity")

# How the client drives a scenario: ("send", bytes), ("sleep", seconds),
# ("shutdown",) half-closes; then everything is read until the handler closes.
# ("until", bytes) reads until the handler has answered with those bytes: a
# scenario whose output depends on how reads are cut acknowledges each read,
# and the client sends its next piece only then, so the kernel cannot join
# two pieces into one read (a sleep alone did, on a loaded machine).
# ("report",) opens a second connection and returns its transcript instead:
# scenarios that record events up to 'close' report them on the next
# connection.
CLIENTS = {
    "conn_read.js": [("send", b"h\xc3"), ("until", b"read 1\n"), ("send", b"\xa9llo \xf0\x9f"), ("until", b"read 2\n"),
                     ("send", b"\x98\x80!"), ("until", b"read 3\n"),
                     # Whole characters and invalid bytes inside reads that end in ASCII
                     # (decoded natively), then a character split again.
                     ("send", b" \xe2\x82\xac and \xff\xc3( bad;"), ("until", b"read 4\n"), ("send", b" \xe2\x82"),
                     ("until", b"read 5\n"), ("send", b"\xac."), ("until", b"read 6\n"), ("shutdown",)],
    "conn_events.js": [("send", b"first"), ("until", b"read first\n"), ("send", b"second"), ("until", b"read second\n"),
                       ("shutdown",), ("sleep", 0.2), ("report",)],
    "conn_iterate.js": [("send", b"one"), ("until", b"\n"), ("send", b"two"), ("until", b"\n"), ("shutdown",)],
    "conn_write.js": [],
    "conn_unread_end.js": [("shutdown",)],
    "conn_stream.js": [("send", b"first line\n"), ("until", b"FIRST LINE\n"), ("send", b"second"), ("until", b"SECOND"),
                       ("shutdown",), ("sleep", 0.2), ("report",)],
    "conn_drain.js": [("report",)],
    "conn_pipe.js": [("send", b"echo me"), ("until", b"echo me"), ("send", b" and me"), ("until", b" and me"), ("shutdown",)],
    "conn_iterate_break.js": [("send", b"go"), ("until", b"read go\n"), ("send", b"stop"), ("sleep", 0.2), ("report",)],
    "conn_zlib.js": [("send", gzip.compress(b"a gzip body, " * 300, mtime=0)[:40]), ("sleep", 0.05),
                     ("send", gzip.compress(b"a gzip body, " * 300, mtime=0)[40:]), ("sleep", 0.05), ("shutdown",)],
}


def run_client(port, actions):
    with contextlib.closing(harness.connect(port)) as sock:
        received, seen = bytearray(), 0
        for action in actions:
            if action[0] == "send":
                sock.sendall(action[1])
            elif action[0] == "until":
                while (found := received.find(action[1], seen)) < 0:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise AssertionError(f"the handler closed before answering {action[1]!r}: {bytes(received)!r}")
                    received += chunk
                seen = found + len(action[1])
            elif action[0] == "sleep":
                time.sleep(action[1])
            elif action[0] == "shutdown":
                sock.shutdown(socket.SHUT_WR)
            elif action[0] == "report":
                harness.recv_all(sock)
                return harness.transcript(port)
        return bytes(received) + harness.recv_all(sock)


class Echo(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class EchoLines(socketserver.StreamRequestHandler):
    """Echoes lines until the client ends, then closes."""

    def handle(self):
        while line := self.rfile.readline():
            self.wfile.write(line)


class TlsEchoLines(EchoLines):
    """EchoLines over TLS; a client that gives up on the handshake is no error."""

    def setup(self):
        try:
            self.request = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            self.request = None
            return
        super().setup()

    def handle(self):
        if self.request is None:
            return
        try:
            super().handle()
        except (ssl.SSLError, OSError):
            pass

    def finish(self):
        if self.request is not None:
            super().finish()


class HttpRoutes(http.server.BaseHTTPRequestHandler):
    """The routes egress_fetch.js asks for."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("transfer-encoding") == "chunked":
            data = b""
            while (size := int(self.rfile.readline().strip(), 16)) != 0:
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def reply(self, status, body=b"", headers=(), reason=None):
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def route(self):
        sent = self.body()
        path, _, query = self.path.partition("?")
        if path == "/hello":
            self.reply(200, b"hello " + query.encode(), [("Content-Type", "text/plain"), ("X-Multi", "1"),
                                                          ("X-Multi", "2"), ("Set-Cookie", "a=1")], "Fine")
        elif path == "/echo":
            seen = {"method": self.command, "content-type": self.headers.get("content-type"),
                    "content-length": self.headers.get("content-length"),
                    "transfer-encoding": self.headers.get("transfer-encoding"),
                    "x-test": self.headers.get("x-test"), "body": sent.decode()}
            self.reply(200, json.dumps(seen, sort_keys=True).encode(), [("Content-Type", "application/json")])
        elif path == "/redirect":
            self.reply(302, b"moved", [("Location", query.split("=", 1)[1])])
        elif path == "/see-other":
            self.reply(303, b"", [("Location", "/echo")])
        elif path == "/gzip":
            self.reply(200, gzip.compress(b"unzipped text", mtime=0), [("Content-Encoding", "gzip")])
        elif path == "/no-content":
            self.reply(204)
        elif path == "/json":
            self.reply(200, b'{"a": [1, 2], "b": null}', [("Content-Type", "application/json")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(20):
                piece = (f"piece {i:02} " * 300).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.005)
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/slow":
            time.sleep(1)
            self.reply(200, b"late")
        else:
            self.reply(404, b"no such route")

    do_GET = do_POST = do_PUT = do_HEAD = route


def tls_echo(directory):
    """A TLS echo server on loopback with a self-signed certificate for
    upstream.test and 127.0.0.1, offering ALPN x-test; returns it and the
    certificate's PEM."""
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=upstream.test",
                    "-addext", "subjectAltName=DNS:upstream.test,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    server = Echo(("127.0.0.1", harness.free_port()), TlsEchoLines)
    server.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.context.load_cert_chain(cert, key)
    server.context.set_alpn_protocols(["x-test"])
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    with open(cert) as f:
        return server, f.read()


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Outbound scenarios (egress_*.js) connect to this echo server, and
        # to a port nothing listens on; under portbroker their manifest
        # allows both (docs/egress.md), under Node nothing stops them.
        cls.upstream_port, cls.closed_port = harness.free_port(), harness.free_port()
        cls.upstream = Echo(("127.0.0.1", cls.upstream_port), EchoLines)
        threading.Thread(target=cls.upstream.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        cls.node_dir = tempfile.mkdtemp(prefix="portbroker-parity-node-")
        cls.cert_dir = tempfile.mkdtemp(prefix="portbroker-parity-tls-")
        cls.tls_upstream, tls_ca = tls_echo(cls.cert_dir)
        cls.tls_port = cls.tls_upstream.server_address[1]
        cls.http = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), HttpRoutes)
        cls.http.daemon_threads = True
        threading.Thread(target=cls.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        cls.http_port = cls.http.server_address[1]
        cls.scenarios = sorted(f for f in os.listdir(PARITY) if f.endswith(".js"))
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
                source = source.replace("HTTP_PORT", str(cls.http_port))
                source = source.replace("TLS_PORT", str(cls.tls_port)).replace("TLS_CA", json.dumps(tls_ca))
            with open(os.path.join(cls.node_dir, node_file), "w") as f:
                f.write(source)
            cls.node_ports[scenario] = node_port
            cls.broker_ports[scenario] = broker_port
            cls.broker.write(f"{name}.tcp.{broker_port}.port.js", source)
            if scenario.startswith("egress"):
                cls.broker.write(f"{name}.tcp.{broker_port}.port.json", json.dumps(
                    {"connect": [f"127.0.0.1:{cls.upstream_port}", f"127.0.0.1:{cls.closed_port}",
                                 f"127.0.0.1:{cls.tls_port}", f"127.0.0.1:{cls.http_port}"]}))
        cls.node = harness.NodeRunner(cls.node_dir)
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        cls.broker.close()
        for server in (cls.upstream, cls.tls_upstream, cls.http):
            server.shutdown()
            server.server_close()
        shutil.rmtree(cls.node_dir, ignore_errors=True)
        shutil.rmtree(cls.cert_dir, ignore_errors=True)

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
