"""Egress by capability (docs/egress.md): handlers connect out through the
broker, only to what their manifest's `connect` list allows. Real upstreams
answer on loopback (a Python echo server, a redis-server, an HTTP server for
fetch(), including a redirect to a host the list does not name); refusals for an
unlisted port, an unlisted CIDR, the cloud metadata address and a name that
resolves to loopback (`localhost`: a name entry never admits a special
address); dns.lookup filtered by the list (ENOTFOUND); the module's `access`
narrowing; limits and status counts; manifest validation naming the entry;
and, with a hosts file of the test's own bind-mounted in the broker's mount
namespace, DNS rebinding (one forbidden answer among good ones) and a name
for the metadata service. Everything runs against the built binaries, on
the loopback of a network namespace the test makes, with a name server of
its own that knows no name, and with the broker's firewall on (its egress
chain checks the same connections again), bounded in time."""

import contextlib
import http.server
import json
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
import urllib.parse

import harness
import redis_nodes

PROBE = """
import net from "node:net";
import tls from "node:tls";
import dns from "node:dns";
import { lookup as promisesLookup } from "node:dns/promises";

const held = [];

function run(words, reply) {
  const [op, host, port, extra] = words;
  if (op === "connect") {
    const upstream = net.connect(Number(port), host);
    upstream.on("connect", () => upstream.write("ping\\n"));
    upstream.once("data", (data) => {
      reply(`ok ${upstream.remoteAddress} ${data.toString().trim()}`);
      upstream.end();
    });
    upstream.on("error", (error) => reply(`error ${error.code} ${error.syscall}`));
  } else if (op === "options") {
    const upstream = net.createConnection({ port: Number(port), host }, () => {
      reply(`ok ${upstream.remoteFamily} ${upstream.remotePort}`);
      upstream.destroy();
    });
    upstream.on("error", (error) => reply(`error ${error.code}`));
  } else if (op === "events") {
    const events = [];
    const socket = new net.Socket();
    for (const name of ["connect", "ready", "data", "end", "close", "error"]) {
      socket.on(name, () => {
        events.push(name);
        if (name === "close") reply(`events ${events.join(",")}`);
      });
    }
    socket.connect({ port: Number(port), host });
    socket.write("written while connecting\\n");
    socket.end();
  } else if (op === "timeout") {
    const socket = net.connect({ port: Number(port), host, timeout: 200 });
    socket.on("timeout", () => {
      reply("timeout");
      socket.destroy();
    });
  } else if (op === "abort") {
    const controller = new AbortController();
    const socket = net.connect({ port: Number(port), host, signal: controller.signal });
    socket.on("error", (error) => reply(`error ${error.name}`));
    controller.abort();
  } else if (op === "lookup") {
    dns.lookup(host, { all: true }, (error, answers) =>
      reply(error ? `error ${error.code} ${error.syscall}` : `ok ${answers.map((a) => a.address).join(",")}`));
  } else if (op === "plookup") {
    promisesLookup(host).then((a) => reply(`ok ${a.address} ${a.family}`), (e) => reply(`error ${e.code}`));
  } else if (op === "hold") {
    // Opens `extra` connections at once and keeps the ones that connect.
    const results = [];
    const count = Number(extra);
    for (let i = 0; i < count; i++) {
      const socket = net.connect(Number(port), host);
      socket.on("connect", () => { held.push(socket); results.push("ok"); done(); });
      socket.on("error", (error) => { results.push(error.code); done(); });
    }
    function done() {
      if (results.length === count) reply(`held ${results.sort().join(",")}`);
    }
  } else if (op === "tls") {
    // tls host port: verified against the default trust (the host's bundle).
    const socket = tls.connect({ port: Number(port), host, servername: host }, () => {
      socket.write("ping\\n");
    });
    socket.once("data", (data) => {
      reply(`secure ${socket.authorized} ${socket.getPeerCertificate().subject.CN} ${data.toString().trim()}`);
      socket.end();
    });
    socket.on("error", (error) => reply(`error ${error.code}`));
  } else if (op === "fetch") {
    fetch(host).then(async (response) => reply(`${response.status} ${await response.text()}`),
      (error) => reply(`error ${error.cause?.code} ${error.cause?.message}`));
  } else if (op === "many") {
    // Opens `extra` connections at once; answers with the outcomes counted.
    const count = Number(extra);
    const codes = {};
    let settled = 0;
    const settle = (code) => {
      codes[code] = (codes[code] ?? 0) + 1;
      if (++settled === count) reply(`codes ${JSON.stringify(codes)}`);
    };
    for (let i = 0; i < count; i++) {
      const socket = net.connect(Number(port), host);
      socket.on("connect", () => { settle("connected"); socket.destroy(); });
      socket.on("error", (error) => settle(error.code));
    }
  } else if (op === "lookups") {
    // Starts `port` lookups of host and answers at once, not waiting for them.
    for (let i = 0; i < Number(port); i++) dns.lookup(host, () => {});
    reply("started");
  } else if (op === "release") {
    for (const socket of held.splice(0)) socket.destroy();
    reply("released");
  } else {
    reply(`unknown ${op}`);
  }
}

export function handle(conn) {
  conn.setEncoding("utf8");
  let buffer = "";
  conn.on("data", (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      run(line.split(" "), (result) => conn.write(result + "\\n"));
    }
  });
}
"""

RELAY = """
import net from "node:net";
export function handle(conn) {
  const upstream = net.connect(UPSTREAM_PORT, "127.0.0.1");
  conn.pipe(upstream);
  upstream.pipe(conn);
  upstream.on("error", (error) => conn.end(`upstream ${error.code}\\n`));
  conn.on("close", () => upstream.destroy());
}
"""

# Relays each client line to an HTTP server as a POST body and answers with
# the response; "get URL" fetches URL and answers with status and body, or
# with the failure's cause.
FETCHER = """
function describe(error) {
  const cause = error.cause ?? error;
  return `error ${error.message} ${cause.code} ${cause.message}`;
}

export function handle(conn) {
  conn.setEncoding("utf8");
  let buffer = "";
  conn.on("data", async (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      try {
        const [op, rest] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
        const response = op === "get" ? await fetch(rest)
          : await fetch("http://127.0.0.1:HTTP_PORT/echo", { method: "POST", body: rest });
        conn.write(`${response.status} ${response.redirected} ${await response.text()}\\n`);
      } catch (error) {
        conn.write(describe(error) + "\\n");
      }
    }
  });
}
"""


class HttpRoutes(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/redirect":
            self.reply(302, b"", [("Location", urllib.parse.unquote(query.split("=", 1)[1]))])
        else:
            self.reply(200, b"hello from " + self.headers["host"].encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.reply(200, b"echo " + body)


ACCESS_PROBE = PROBE + """
export const access = { connect: ["127.0.0.1:ECHO_PORT", "10.0.0.0/8:*"], connectLimits: { concurrent: 1 } };
"""


class Echo(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            self.wfile.write(line)


def start_echo(address, tls_context=None):
    server = Echo(address, EchoHandler)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server


class NxdomainServer:
    """A name server on the test's own loopback that knows no name: every
    question gets NXDOMAIN, so a lookup the list allows but nothing
    resolves is ENOTFOUND, and nothing asks the host's resolver."""

    ADDRESS = "127.0.0.54"

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ADDRESS, 53))
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return
            end = 12
            while end < len(query) and query[end] != 0:
                end += 1 + query[end]
            question = query[12:end + 5]
            if len(query) < 12 or len(question) < 5:
                continue
            # The query's id; a response, recursion desired and available,
            # NXDOMAIN; its one question back, no records.
            self.sock.sendto(query[:2] + b"\x81\x83\x00\x01" + bytes(6) + question, peer)


class Client:
    """One connection to a probe handler: a line in, a line out."""

    def __init__(self, port):
        self.sock = harness.connect(port, timeout=10)
        self.file = self.sock.makefile("rb")

    def ask(self, line):
        self.sock.sendall(line.encode() + b"\n")
        answer = self.file.readline()
        if not answer:
            raise AssertionError(f"the handler closed the connection after {line!r}")
        return answer.decode().strip()

    def close(self):
        self.file.close()
        self.sock.close()


class EgressTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo_port = harness.free_port()
        cls.closed_port = harness.free_port()  # nothing listens there
        # Listens, but its accept queue is full and nothing accepts: the
        # kernel drops further SYNs, so a connect there never completes.
        cls.full_port = harness.free_port()
        cls.full = socket.create_server(("127.0.0.1", cls.full_port), backlog=0)
        cls.fillers = [socket.create_connection(("127.0.0.1", cls.full_port), timeout=5)]  # backlog 0 holds one
        cls.echo = [start_echo(("127.0.0.1", cls.echo_port)), start_echo(("127.0.0.2", cls.echo_port))]
        # A real redis-server and an HTTP server, both on loopback.
        cls.redis = redis_nodes.Nodes()
        cls.redis_node = cls.redis.server("egress-redis")
        cls.http = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), HttpRoutes)
        cls.http.daemon_threads = True
        threading.Thread(target=cls.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        cls.http_port = h = cls.http.server_address[1]
        names = ("probe", "names", "relay", "access", "limits", "rate", "invalid", "none", "redis", "fetcher",
                 "granted")
        cls.port = {name: harness.free_port() for name in names}
        p, e = cls.port, cls.echo_port
        probe_connect = [f"127.0.0.1:{e}", f"127.0.0.0/29:{e}", f"127.0.0.1:{cls.closed_port}", f"localhost:{e}",
                         "public:443", f"does-not-exist.invalid:{e}", f"[::1]:{e}", f"127.0.0.1:{cls.full_port}"]
        cls.broker = harness.Broker({
            f"probe.tcp.{p['probe']}.port.js": PROBE,
            f"probe.tcp.{p['probe']}.port.json": json.dumps({"connect": probe_connect}),
            # Names only: no IP entry admits loopback here.
            f"names.tcp.{p['names']}.port.js": PROBE,
            f"names.tcp.{p['names']}.port.json": json.dumps(
                {"connect": ["localhost:*", "public:443", "does-not-exist.invalid:80"]}),
            f"relay.tcp.{p['relay']}.port.js": RELAY.replace("UPSTREAM_PORT", str(e)),
            f"relay.tcp.{p['relay']}.port.json": json.dumps({"connect": [f"127.0.0.1:{e}"]}),
            f"access.tcp.{p['access']}.port.js": ACCESS_PROBE.replace("ECHO_PORT", str(e)),
            f"access.tcp.{p['access']}.port.json": json.dumps({"connect": [f"127.0.0.0/8:{e}"]}),
            f"limits.tcp.{p['limits']}.port.js": PROBE,
            f"limits.tcp.{p['limits']}.port.json": json.dumps(
                {"connect": [f"127.0.0.1:{e}"], "connectLimits": {"concurrent": 2}}),
            f"rate.tcp.{p['rate']}.port.js": PROBE,
            f"rate.tcp.{p['rate']}.port.json": json.dumps(
                {"connect": [f"127.0.0.1:{e}"], "connectLimits": {"perSecond": 2}}),
            f"invalid.tcp.{p['invalid']}.port.js": PROBE,
            f"invalid.tcp.{p['invalid']}.port.json": json.dumps({"connect": [f"127.0.0.1:{e}", "db.internal"]}),
            f"none.tcp.{p['none']}.port.js": PROBE,
            f"redis.tcp.{p['redis']}.port.js": RELAY.replace("UPSTREAM_PORT", str(cls.redis_node.port)),
            f"redis.tcp.{p['redis']}.port.json": json.dumps({"connect": [f"127.0.0.1:{cls.redis_node.port}"]}),
            f"fetcher.tcp.{p['fetcher']}.port.js": FETCHER.replace("HTTP_PORT", str(h)),
            # 127.0.0.1 only: 127.0.0.2 (the same server) is another host.
            f"fetcher.tcp.{p['fetcher']}.port.json": json.dumps({"connect": [f"127.0.0.1:{h}"]}),
            # No manifest yet: the test grants it `connect` while it runs.
            f"granted.tcp.{p['granted']}.port.js": FETCHER.replace("HTTP_PORT", str(h)),
        }, config={"egress": {"connect_timeout_ms": 1000}}, firewall=True)
        cls.broker.start()
        for name in names:
            harness.wait_until(lambda: cls.broker.handler(name)["state"] in ("active", "failed"),
                               what=f"{name} settled")

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()  # cleanly: its firewall table goes with it
        cls.broker.close()
        for server in cls.echo + [cls.http]:
            server.shutdown()
            server.server_close()
        for sock in cls.fillers + [cls.full]:
            sock.close()
        cls.redis.close()

    def client(self, name):
        client = Client(self.port[name])
        self.addCleanup(client.close)
        return client

    def egress(self, name):
        return self.broker.handler(name)["egress"]

    def test_relay_to_a_real_upstream(self):
        with contextlib.closing(harness.connect(self.port["relay"], timeout=10)) as sock:
            sock.sendall(b"hello upstream\n")
            self.assertEqual(harness.recv_until(sock, b"\n"), b"hello upstream\n")
            harness.wait_until(lambda: self.egress("relay")["active"] == 1, what="one outbound connection active")
        harness.wait_until(lambda: self.egress("relay")["active"] == 0, what="the outbound connection closed")
        self.assertGreaterEqual(self.egress("relay")["opened"], 1)

    def test_relay_to_a_real_redis_server(self):
        with contextlib.closing(harness.connect(self.port["redis"], timeout=10)) as sock:
            sock.sendall(b"SET egress-key relayed\r\nGET egress-key\r\n")
            self.assertEqual(harness.recv_until(sock, b"relayed\r\n"), b"+OK\r\n$7\r\nrelayed\r\n")
        # What redis-cli sees against the server itself.
        self.assertEqual(self.redis_node.cli("GET", "egress-key"), "relayed")

    def test_fetch_relays_lines_to_an_http_server(self):
        c = self.client("fetcher")
        self.assertEqual(c.ask("post first line"), "200 false echo first line")
        self.assertEqual(c.ask("post second line"), "200 false echo second line")
        self.assertEqual(c.ask(f"get http://127.0.0.1:{self.http_port}/hello"),
                         f"200 false hello from 127.0.0.1:{self.http_port}")
        # A redirect within the allowed host is followed, through the broker again.
        target = urllib.parse.quote(f"http://127.0.0.1:{self.http_port}/there")
        self.assertEqual(c.ask(f"get http://127.0.0.1:{self.http_port}/redirect?to={target}"),
                         f"200 true hello from 127.0.0.1:{self.http_port}")
        self.assertGreaterEqual(self.egress("fetcher")["opened"], 5)

    def test_fetch_refusals_and_a_redirect_to_a_forbidden_host(self):
        c = self.client("fetcher")
        h = self.http_port
        self.assertEqual(c.ask(f"get http://127.0.0.1:{h + 1}/"),
                         f"error fetch failed EACCES connect EACCES 127.0.0.1:{h + 1}")
        self.assertEqual(c.ask("get http://169.254.169.254/latest/meta-data/"),
                         "error fetch failed EACCES connect EACCES 169.254.169.254:80")
        # The same server under another address: the hop is checked on its own.
        target = urllib.parse.quote(f"http://127.0.0.2:{h}/secret")
        self.assertEqual(c.ask(f"get http://127.0.0.1:{h}/redirect?to={target}"),
                         f"error fetch failed EACCES connect EACCES 127.0.0.2:{h}")
        refused = self.broker.wait_for(event="egress-refused", destination=f"127.0.0.2:{h}")
        self.assertIn("not allowed by the manifest", refused["why"])

    def test_allowed_address_and_cidr(self):
        c = self.client("probe")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port}"), "ok 127.0.0.1 ping")
        # Inside 127.0.0.0/29, an explicit CIDR entry: loopback is fine there.
        self.assertEqual(c.ask(f"connect 127.0.0.2 {self.echo_port}"), "ok 127.0.0.2 ping")
        self.assertEqual(c.ask(f"options 127.0.0.1 {self.echo_port}"), f"ok IPv4 {self.echo_port}")

    def test_refusals_by_the_manifest(self):
        c = self.client("probe")
        before = self.egress("probe")["refused"]
        cases = [
            (f"connect 127.0.0.1 {self.echo_port + 1}", "error EACCES connect"),  # port not listed
            (f"connect 127.0.0.9 {self.echo_port}", "error EACCES connect"),      # outside the CIDR
            ("connect 10.1.2.3 6379", "error EACCES connect"),                    # CIDR not listed
            ("connect 169.254.169.254 80", "error EACCES connect"),               # cloud metadata
            ("connect 169.254.169.254 443", "error EACCES connect"),              # not even through public
            ("connect db.internal 5432", "error EACCES connect"),                 # name not listed
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(c.ask(line), expected)
        after = self.egress("probe")["refused"]
        self.assertGreaterEqual(after["not-allowed"] - before["not-allowed"], 5)
        self.assertGreaterEqual(after["forbidden-address"] - before["forbidden-address"], 1)

    def test_refusals_a_handler_repeats_get_a_bounded_share_of_the_log(self):
        # Handler code chooses how often it asks: status counts every
        # refusal, the log takes a burst, then about one line a second.
        c = self.client("probe")
        refused = f"127.0.0.1:{self.echo_port + 1}"
        before = self.egress("probe")["refused"]["not-allowed"]
        self.assertEqual(c.ask(f"many 127.0.0.1 {self.echo_port + 1} 300"), 'codes {"EACCES":300}')
        self.assertEqual(self.egress("probe")["refused"]["not-allowed"] - before, 300)
        # (The log is written by a thread of its own: the lines may follow the answer.)
        counted = lambda: self.broker.events(event="egress-refused", destination=refused)
        lines = harness.wait_until(counted, what="the burst's egress-refused lines")
        self.assertLessEqual(len(lines), 25)
        # A later line says how many were left out meanwhile.
        time.sleep(1.5)
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port + 1}"), "error EACCES connect")
        harness.wait_until(lambda: any(int(e.get("suppressed", 0)) > 0 for e in counted()),
                           what="an egress-refused line saying how many were left out")
        # That line was logged last, so every line before it has been read.
        self.assertLessEqual(len(counted()), 26)
        self.assertGreaterEqual(len(counted()) + sum(int(e.get("suppressed", 0)) for e in counted()), 301)

    def test_a_name_never_admits_loopback(self):
        # localhost:* is listed, but localhost resolves to 127.0.0.1, which
        # only an IP or CIDR entry may admit (the probe handler has one for
        # its echo port, so there the same connect succeeds).
        c = self.client("names")
        self.assertEqual(c.ask(f"connect localhost {self.echo_port}"), "error EACCES connect")
        self.assertEqual(self.egress("names")["refused"]["forbidden-address"], 1)
        refused = [self.broker.wait_for(event="egress-refused", destination=f"localhost:{self.echo_port}")]
        self.assertIn("not allowed by the manifest", refused[0]["why"])
        self.assertIn("127.0.0.1 (loopback)", refused[0]["detail"])
        self.assertEqual(self.client("probe").ask(f"connect localhost {self.echo_port}"), "ok 127.0.0.1 ping")

    def test_connect_failures_as_node_reports_them(self):
        c = self.client("probe")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.closed_port}"), "error ECONNREFUSED connect")
        self.assertEqual(c.ask(f"connect does-not-exist.invalid {self.echo_port}"), "error ENOTFOUND getaddrinfo")
        self.assertGreaterEqual(self.egress("probe")["failed"].get("ECONNREFUSED", 0), 1)

    def test_a_destination_that_never_answers_times_out(self):
        # egress.connect_timeout_ms is 1000 in this broker's config.
        c = self.client("probe")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.full_port}"), "error ETIMEDOUT connect")
        self.assertGreaterEqual(self.egress("probe")["failed"].get("ETIMEDOUT", 0), 1)

    def test_socket_events_timeout_and_abort(self):
        c = self.client("probe")
        self.assertEqual(c.ask(f"events 127.0.0.1 {self.echo_port}"), "events connect,ready,data,end,close")
        self.assertEqual(c.ask(f"events 127.0.0.1 {self.closed_port}"), "events error,close")
        self.assertEqual(c.ask(f"timeout 127.0.0.1 {self.echo_port}"), "timeout")
        self.assertEqual(c.ask(f"abort 127.0.0.1 {self.echo_port}"), "error AbortError")

    def test_dns_lookup_answered_and_filtered(self):
        c = self.client("names")
        # Literals need no broker.
        self.assertEqual(c.ask("lookup 127.0.0.1"), "ok 127.0.0.1")
        # Names the list does not name are not found, whatever DNS says.
        self.assertEqual(c.ask("lookup db.internal"), "error ENOTFOUND getaddrinfo")
        # localhost is named, but resolves only to loopback: refused whole.
        self.assertEqual(c.ask("lookup localhost"), "error ENOTFOUND getaddrinfo")
        self.assertEqual(c.ask("plookup localhost"), "error ENOTFOUND")
        self.assertEqual(c.ask("lookup does-not-exist.invalid"), "error ENOTFOUND getaddrinfo")
        self.assertGreaterEqual(self.egress("names")["lookups"], 4)
        # Where an IP entry admits its answer, the name resolves.
        self.assertEqual(self.client("probe").ask("lookup localhost"), "ok 127.0.0.1")

    def worker_maps(self, name):
        with open(f"/proc/{self.broker.handler(name)['worker']['pid']}/maps") as f:
            return f.read()

    def test_the_http_client_is_loaded_only_where_the_manifest_may_connect(self):
        # libcurl and the thirty libraries it brings cost every worker time
        # and memory at start (docs/performance.md): only a worker whose
        # manifest lists somewhere to connect loads them.
        self.assertNotIn("libcurl", self.worker_maps("none"))
        self.assertIn("libcurl", self.worker_maps("fetcher"))
        h = self.http_port
        c = self.client("granted")
        self.assertEqual(c.ask(f"get http://127.0.0.1:{h}/hello"), f"error fetch failed EACCES connect EACCES 127.0.0.1:{h}")
        before = self.broker.handler("granted")["worker"]["pid"]
        # Granted while it runs: a new worker, with the client, takes over.
        self.broker.write(f"granted.tcp.{self.port['granted']}.port.json", json.dumps({"connect": [f"127.0.0.1:{h}"]}))
        harness.wait_until(lambda: self.broker.handler("granted")["worker"]["pid"] != before
                           and self.broker.handler("granted")["state"] == "active", what="the worker replaced")
        self.assertIn("libcurl", self.worker_maps("granted"))
        c = self.client("granted")
        self.assertEqual(c.ask(f"get http://127.0.0.1:{h}/hello"), f"200 false hello from 127.0.0.1:{h}")

    def test_no_connect_list_reaches_nothing(self):
        c = self.client("none")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port}"), "error EACCES connect")
        self.assertEqual(self.egress("none")["connect"], [])

    def test_access_export_narrows_never_widens(self):
        c = self.client("access")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port}"), "ok 127.0.0.1 ping")
        # The manifest allows 127.0.0.0/8, access only 127.0.0.1.
        self.assertEqual(c.ask(f"connect 127.0.0.2 {self.echo_port}"), "error EACCES connect")
        # access names 10.0.0.0/8, which the manifest does not: still refused.
        self.assertEqual(c.ask("connect 10.1.2.3 6379"), "error EACCES connect")
        handler = self.broker.handler("access")
        self.assertEqual(handler["egress"]["access"], [f"127.0.0.1:{self.echo_port}", "10.0.0.0/8:*"])
        self.assertEqual(handler["egress"]["limits"]["concurrent"], 1)
        self.assertTrue(any("10.0.0.0/8:*" in w and "cannot widen" in w for w in handler["access"]["warnings"]))

    def test_concurrent_limit_and_status_counts(self):
        c = self.client("limits")
        self.assertEqual(c.ask(f"hold 127.0.0.1 {self.echo_port} 3"), "held EAGAIN,ok,ok")
        status = self.egress("limits")
        self.assertEqual(status["active"], 2)
        self.assertEqual(status["refused"]["max-outbound"], 1)
        self.assertEqual(status["limits"], {"concurrent": 2, "per_second": 50})
        self.assertEqual(c.ask("release"), "released")
        harness.wait_until(lambda: self.egress("limits")["active"] == 0, what="held connections closed")
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port}"), "ok 127.0.0.1 ping")

    def test_connects_per_second(self):
        c = self.client("rate")
        self.assertEqual(c.ask(f"hold 127.0.0.1 {self.echo_port} 4"), "held EAGAIN,EAGAIN,ok,ok")
        self.assertEqual(self.egress("rate")["refused"]["rate-limit"], 2)
        c.ask("release")
        time.sleep(1.1)  # the bucket refills: a second's worth again
        self.assertEqual(c.ask(f"connect 127.0.0.1 {self.echo_port}"), "ok 127.0.0.1 ping")

    def test_invalid_entry_is_named(self):
        handler = self.broker.handler("invalid")
        self.assertEqual(handler["state"], "failed")
        self.assertIn("/connect/1", handler["reason"])
        self.assertIn("'db.internal' has no port", handler["reason"])


class TestHostsFileTest(unittest.TestCase):
    """The broker's resolver answers from a hosts file this test writes: the
    broker runs in a mount namespace of its own where that file is bind-mounted
    over /etc/hosts (nothing changes for the rest of the machine). A name with
    one forbidden answer among good ones is refused whole (DNS rebinding); a
    name pointing at the metadata service is refused; a name whose answer an
    IP entry admits connects, to exactly that address. A test CA bundle is
    bind-mounted over the host's CA bundle the same way: tls.connect and
    fetch("https://...") with no `ca` trust what the host's bundle trusts,
    and only that."""

    @classmethod
    def setUpClass(cls):
        cls.echo_port = harness.free_port()
        cls.echo = start_echo(("127.0.0.1", cls.echo_port))
        cls.port = harness.free_port()
        cls.other_port = harness.free_port()
        cls.tmp_hosts = os.path.join(tempfile.mkdtemp(prefix="portbroker-hosts-"), "hosts")
        with open(cls.tmp_hosts, "w") as f:
            f.write("127.0.0.1 localhost\n"
                    "8.8.8.8 mixed.test\n10.1.2.3 mixed.test\n"
                    "169.254.169.254 metadata.test\n"
                    "127.0.0.1 upstream.test\n")
        e = cls.echo_port
        # An HTTPS server and a TLS echo for upstream.test, with a
        # certificate the test's CA bundle (and nothing else) trusts.
        directory = os.path.dirname(cls.tmp_hosts)
        key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=upstream.test",
                        "-addext", "subjectAltName=DNS:upstream.test"], check=True, capture_output=True, timeout=30)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        cls.https = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), HttpRoutes)
        cls.https.socket = context.wrap_socket(cls.https.socket, server_side=True)
        cls.https.daemon_threads = True
        threading.Thread(target=cls.https.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        cls.https_port = cls.https.server_address[1]
        cls.tls_echo_port = harness.free_port()
        cls.tls_echo = start_echo(("127.0.0.1", cls.tls_echo_port), context)
        # A name server that never answers, for a lookup that times out.
        cls.silent_dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.silent_dns.bind(("127.0.0.77", 53))
        resolv = os.path.join(directory, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.77\noptions timeout:5 attempts:1\n")
        prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                  'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && '
                  'mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"', cls.tmp_hosts, cert, resolv]
        cls.broker = harness.Broker({
            f"hosts.tcp.{cls.port}.port.js": PROBE,
            f"hosts.tcp.{cls.port}.port.json": json.dumps(
                {"connect": ["mixed.test:80", "public:80", "metadata.test:80", f"upstream.test:{e}",
                             f"127.0.0.1:{e}", f"upstream.test:{cls.https_port}", f"127.0.0.1:{cls.https_port}",
                             f"upstream.test:{cls.tls_echo_port}", f"127.0.0.1:{cls.tls_echo_port}",
                             "silent.test:80"]}),
            f"other.tcp.{cls.other_port}.port.js": PROBE,
            f"other.tcp.{cls.other_port}.port.json": json.dumps({"connect": [f"upstream.test:{e}", f"127.0.0.1:{e}"]}),
        }, command_prefix=prefix, config={"egress": {"lookup_timeout_ms": 500}})
        cls.broker.start()
        for name in ("hosts", "other"):
            harness.wait_until(lambda: cls.broker.handler(name)["state"] == "active", what=f"{name} handler active")

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        for server in (cls.echo, cls.https, cls.tls_echo):
            server.shutdown()
            server.server_close()
        cls.silent_dns.close()
        shutil.rmtree(os.path.dirname(cls.tmp_hosts), ignore_errors=True)

    def test_rebinding_metadata_and_an_admitted_answer(self):
        c = Client(self.port)
        self.addCleanup(c.close)
        # 8.8.8.8 would do, but 10.1.2.3 is among the answers: nothing is dialed.
        self.assertEqual(c.ask("connect mixed.test 80"), "error EACCES connect")
        self.assertEqual(c.ask("lookup mixed.test"), "error ENOTFOUND getaddrinfo")
        self.assertEqual(c.ask("connect metadata.test 80"), "error EACCES connect")
        self.assertEqual(c.ask(f"connect upstream.test {self.echo_port}"), "ok 127.0.0.1 ping")
        egress = self.broker.handler("hosts")["egress"]
        self.assertEqual(egress["refused"]["forbidden-address"], 3)
        refused = [self.broker.wait_for(event="egress-refused", destination="mixed.test:80")]
        self.assertIn("10.1.2.3 (private)", refused[0]["detail"])
        self.assertIn("8.8.8.8 (global)", refused[0]["detail"])

    def test_a_resolver_that_never_answers_times_out(self):
        # egress.lookup_timeout_ms is 500 here; the resolver would wait 5 s.
        c = Client(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.ask("lookup silent.test"), "error EAI_AGAIN getaddrinfo")
        self.assertEqual(c.ask("connect silent.test 80"), "error EAI_AGAIN getaddrinfo")
        self.assertGreaterEqual(self.broker.handler("hosts")["egress"]["failed"].get("EAI_AGAIN", 0), 2)

    def test_lookups_that_hang_hold_up_no_other_handler(self):
        # hosts starts lookups that no server answers (each would wait 5 s
        # in the resolver); another handler's lookup is answered meanwhile,
        # well within its 500 ms.
        c = Client(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.ask("lookups silent.test 16"), "started")
        other = Client(self.other_port)
        self.addCleanup(other.close)
        self.assertEqual(other.ask("lookup upstream.test"), "ok 127.0.0.1")
        self.assertEqual(other.ask(f"connect upstream.test {self.echo_port}"), "ok 127.0.0.1 ping")

    def test_default_trust_is_the_hosts_ca_bundle(self):
        c = Client(self.port)
        self.addCleanup(c.close)
        p = self.https_port
        self.assertEqual(c.ask(f"fetch https://upstream.test:{p}/hello"), f"200 hello from upstream.test:{p}")
        # The name is checked against the certificate: the address is not in it.
        answer = c.ask(f"fetch https://127.0.0.1:{p}/hello")
        self.assertEqual(answer.split(" ")[:2],
                         ["error", "ERR_TLS_CERT_ALTNAME_INVALID"], answer)
        # tls.connect with no `ca`: the same trust, and the name checked.
        self.assertEqual(c.ask(f"tls upstream.test {self.tls_echo_port}"), "secure true upstream.test ping")


def use_own_name_server():
    """/etc/resolv.conf, in this test's mount namespace only, names the
    NXDOMAIN server."""
    directory = tempfile.mkdtemp(prefix="portbroker-resolv-")
    path = os.path.join(directory, "resolv.conf")
    with open(path, "w") as f:
        f.write(f"nameserver {NxdomainServer.ADDRESS}\noptions timeout:1 attempts:1\n")
    subprocess.run(["mount", "--bind", path, "/etc/resolv.conf"], check=True)
    return NxdomainServer()


if __name__ == "__main__":
    # Namespaces of the test's own: the upstreams, the name server, the
    # broker and its firewall (EgressTest's kernel layer) touch nothing of
    # the host's.
    harness.enter_private_namespaces(mounts=True)
    name_server = use_own_name_server()
    harness.main()
