"""PROXY protocol v1 and v2 from trusted balancers (manifest `proxyProtocol`).

Hand-made headers from Python sockets on loopback: 127.0.0.1 is the trusted
balancer, other 127.0.0.x addresses are clients that connect directly. A real
HAProxy (Debian's) in `mode tcp` with `send-proxy-v2` and `send-proxy` relays
clients bound to their own loopback addresses. The handler reports what it
sees as the peer and `conn.proxy`, and counts its connections in the store,
so a connection that never reached it shows as a count that did not move.
nftables is checked in a network namespace made here (test_firewall's way)."""

import contextlib
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import harness

# Greets with what it sees, counts its connections, then echoes.
REPORT = """
export async function handle(conn, ctx) {
  const key = `conns:${ctx.name}`;
  await ctx.shared.set(key, ((await ctx.shared.get(key)) ?? 0) + 1);
  const proxy = conn.proxy === undefined ? null
      : { ...conn.proxy, uniqueId: conn.proxy.uniqueId?.toString("hex"),
          uniqueIdIsBuffer: conn.proxy.uniqueId === undefined ? null : Buffer.isBuffer(conn.proxy.uniqueId),
          frozen: Object.isFrozen(conn.proxy) };
  conn.write(JSON.stringify({ remoteAddress: conn.remoteAddress, remotePort: conn.remotePort,
                              remoteFamily: conn.remoteFamily, proxy,
                              tls: conn.tls ? conn.tls.protocol : null }) + "\\n");
  conn.on("data", (chunk) => conn.write(chunk));
}
"""

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def tlv(kind, value):
    value = value.encode() if isinstance(value, str) else value
    return bytes([kind]) + struct.pack(">H", len(value)) + value


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def v2(source, source_port, destination="127.0.0.1", destination_port=443, tlvs=b"", command=0x21, crc=False):
    """A v2 header; the family follows the addresses. crc: a CRC32C TLV, filled in."""
    if ":" in source:
        family, pack = 0x21, lambda a: socket.inet_pton(socket.AF_INET6, a)
    else:
        family, pack = 0x11, socket.inet_aton
    block = pack(source) + pack(destination) + struct.pack(">HH", source_port, destination_port) + tlvs
    if crc:
        block += tlv(0x03, bytes(4))
    header = bytearray(SIGNATURE + bytes([command, family]) + struct.pack(">H", len(block)) + block)
    if crc:
        header[-4:] = struct.pack(">I", crc32c(bytes(header)))
    return bytes(header)


def v2_local():
    return SIGNATURE + bytes([0x20, 0x00, 0x00, 0x00])


def v1(source, source_port, destination="127.0.0.1", destination_port=443):
    kind = "TCP6" if ":" in source else "TCP4"
    return f"PROXY {kind} {source} {destination} {source_port} {destination_port}\r\n".encode()


def closed_unseen(sock, timeout=5):
    """True if the broker closed the connection without a greeting."""
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


class Peer:
    """A client's view of the handler: its greeting, then the echo of what follows."""

    def __init__(self, sock):
        self.sock = sock
        line, _, self.rest = harness.recv_until(sock, b"\n").partition(b"\n")
        self.seen = json.loads(line)

    def echo(self, size):
        while len(self.rest) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"closed after {self.rest!r}")
            self.rest += chunk
        echoed, self.rest = self.rest[:size], self.rest[size:]
        return echoed


def greeting(sock):
    return Peer(sock).seen


class ProxyProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = {name: harness.free_port() for name in ("lb", "direct", "tls", "cap", "per")}
        cls.certs = tempfile.mkdtemp(prefix="portbroker-proxy-tls-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=proxy.test",
                        "-addext", "subjectAltName=DNS:proxy.test"],
                       cwd=cls.certs, check=True, capture_output=True, timeout=60)
        os.chmod(os.path.join(cls.certs, "key.pem"), 0o600)
        p = cls.port
        trusted = {"trusted": ["127.0.0.1"], "headerTimeout": 1}
        cls.broker = harness.Broker({
            f"lb.tcp.{p['lb']}.port.js": REPORT,
            f"lb.tcp.{p['lb']}.port.json": json.dumps({"deny": ["127.0.0.9", "192.0.2.66"], "proxyProtocol": trusted}),
            f"direct.tcp.{p['direct']}.port.js": REPORT,
            f"direct.tcp.{p['direct']}.port.json": json.dumps(
                {"deny": ["127.0.0.3"], "proxyProtocol": {**trusted, "allowDirect": True}}),
            f"tls.tcp.{p['tls']}.port.js": REPORT,
            f"tls.tcp.{p['tls']}.port.json": json.dumps({"proxyProtocol": trusted, "tls": {
                "enabled": True, "cert": os.path.join(cls.certs, "cert.pem"),
                "key": os.path.join(cls.certs, "key.pem")}}),
            f"cap.tcp.{p['cap']}.port.js": REPORT,
            f"cap.tcp.{p['cap']}.port.json": json.dumps({"maxConnections": 2, "proxyProtocol": {"trusted": ["127.0.0.1"]}}),
            # Per-source limits: every connection comes from the balancer's
            # 127.0.0.1, so they can only hold per declared client.
            f"per.tcp.{p['per']}.port.js": REPORT,
            f"per.tcp.{p['per']}.port.json": json.dumps({"maxConnectionsPerIp": 1, "rateLimit": {"perIp": 3, "window": 60},
                                                         "proxyProtocol": {"trusted": ["127.0.0.1"]}}),
        }, config={"tls": {"key_dirs": [cls.certs]}})
        os.chmod(cls.broker.tmp, 0o755)
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def connect(self, name, source="127.0.0.1"):
        return contextlib.closing(harness.connect(self.port[name], timeout=10, source=source))

    def proxy_status(self, name):
        return self.broker.handler(name)["proxy"]

    def wait_refused(self, name, reason, count):
        return harness.wait_until(lambda: self.proxy_status(name)["refused_by"][reason] >= count,
                                  what=f"{count} {reason} refusals on {name}")

    def handled(self, name):
        return int(self.broker.redis("GET", f"conns:{name}") or 0)

    def test_v1_header_gives_the_client_address_and_leaves_the_payload(self):
        with self.connect("lb") as sock:
            # Header and payload in one segment: the broker must take only the header.
            sock.sendall(v1("203.0.113.7", 5555, "198.51.100.1", 8080) + b"hello\n")
            peer = Peer(sock)
            seen = peer.seen
            self.assertEqual((seen["remoteAddress"], seen["remotePort"], seen["remoteFamily"]),
                             ("203.0.113.7", 5555, "IPv4"))
            proxy = seen["proxy"]
            self.assertEqual(proxy["version"], 1)
            self.assertEqual(proxy["balancerAddress"], "127.0.0.1")
            self.assertEqual((proxy["destinationAddress"], proxy["destinationPort"]), ("198.51.100.1", 8080))
            self.assertTrue(proxy["frozen"])
            for absent in ("authority", "alpn", "uniqueId", "ssl"):
                self.assertNotIn(absent, proxy)
            self.assertEqual(peer.echo(6), b"hello\n")

    def test_v2_header_with_tlvs_and_a_checksum(self):
        ssl_tlv = bytes([0x07]) + bytes(4) + tlv(0x21, "TLSv1.3") + tlv(0x22, "client.example")
        tlvs = (tlv(0x04, b"\0\0") + tlv(0x02, "api.example.com") + tlv(0x01, "h2") + tlv(0x05, b"\x01\xfe\x00\x42")
                + tlv(0x20, ssl_tlv) + tlv(0xEA, b"vpce-1234"))
        with self.connect("lb") as sock:
            sock.sendall(v2("2001:db8::7", 40000, "2001:db8::1", 443, tlvs, crc=True) + b"ping")
            peer = Peer(sock)
            seen = peer.seen
            self.assertEqual((seen["remoteAddress"], seen["remotePort"], seen["remoteFamily"]),
                             ("2001:db8::7", 40000, "IPv6"))
            proxy = seen["proxy"]
            self.assertEqual(proxy["version"], 2)
            self.assertEqual(proxy["authority"], "api.example.com")
            self.assertEqual(proxy["alpn"], "h2")
            self.assertEqual(proxy["uniqueId"], "01fe0042")
            self.assertTrue(proxy["uniqueIdIsBuffer"])
            self.assertEqual(proxy["ssl"], {"version": "TLSv1.3", "cn": "client.example", "clientCertificate": True,
                                            "verified": True})
            self.assertEqual((proxy["destinationAddress"], proxy["destinationPort"]), ("2001:db8::1", 443))
            self.assertEqual(peer.echo(4), b"ping")

    def test_ipv4_mapped_clients_are_plain_ipv4(self):
        with self.connect("lb") as sock:
            sock.sendall(v2("::ffff:198.51.100.4", 1234, "::ffff:127.0.0.1", 80))
            seen = greeting(sock)
            self.assertEqual((seen["remoteAddress"], seen["remoteFamily"]), ("198.51.100.4", "IPv4"))
            self.assertEqual(seen["proxy"]["destinationFamily"], "IPv4")
        with self.connect("lb") as sock:
            sock.sendall(v1("::ffff:198.51.100.5", 1234, "::1", 80))
            self.assertEqual(greeting(sock)["remoteAddress"], "198.51.100.5")

    def test_a_header_arriving_in_pieces_within_the_deadline_is_read(self):
        header = v2("192.0.2.44", 4444)
        with self.connect("lb") as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for piece in (header[:5], header[5:13], header[13:17], header[17:]):
                sock.sendall(piece)
                time.sleep(0.05)
            sock.sendall(b"after")
            peer = Peer(sock)
            self.assertEqual(peer.seen["remoteAddress"], "192.0.2.44")
            self.assertEqual(peer.echo(5), b"after")

    def test_bad_headers_close_the_connection_and_are_counted_by_reason(self):
        before = self.handled("lb")
        counts = dict(self.proxy_status("lb")["refused_by"])
        long_v2 = SIGNATURE + bytes([0x21, 0x11]) + struct.pack(">H", 5000) + bytes(64)
        bad_crc = bytearray(v2("192.0.2.1", 1, crc=True))
        bad_crc[-1] ^= 0xFF
        cases = [
            ("malformed", b"PROXY TCP4 192.0.2.01 127.0.0.1 1 2\r\n"),
            ("malformed", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("malformed", v1("2001:db8::1", 1).replace(b"TCP6", b"TCP4")),
            ("malformed", SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12)),
            ("too-large", b"PROXY UNKNOWN " + b"x" * 200),
            ("too-large", long_v2),
            ("checksum", bytes(bad_crc)),
        ]
        for reason, data in cases:
            with self.subTest(reason=reason, data=data[:20]), self.connect("lb") as sock:
                sock.sendall(data)
                self.assertTrue(closed_unseen(sock))
        for reason in ("malformed", "too-large", "checksum"):
            expected = counts[reason] + sum(1 for r, _ in cases if r == reason)
            self.wait_refused("lb", reason, expected)
        # Truncated: the client ends mid-header.
        with self.connect("lb") as sock:
            sock.sendall(v2("192.0.2.1", 1)[:20])
            sock.shutdown(socket.SHUT_WR)
            self.assertTrue(closed_unseen(sock))
        self.wait_refused("lb", "truncated", counts["truncated"] + 1)
        self.assertEqual(self.handled("lb"), before)
        # Logged with the peer (the balancer) and the reason.
        event = self.broker.wait_for(event="proxy-header-refused", reason="checksum")
        self.assertTrue(event["peer"].startswith("127.0.0.1:"))
        self.assertIn("CRC32C", event["detail"])

    def test_a_slow_header_is_closed_at_the_deadline(self):
        counts = self.proxy_status("lb")["refused_by"]
        started = time.monotonic()  # before connecting: the deadline runs from the connection
        with self.connect("lb") as sock:
            sock.sendall(b"PROXY TCP4 192.0.2.")
            self.assertTrue(closed_unseen(sock, timeout=5))
            self.assertGreater(time.monotonic() - started, 0.8)  # headerTimeout is 1 s
        self.wait_refused("lb", "timeout", counts["timeout"] + 1)
        # A silent one too.
        with self.connect("lb") as sock:
            self.assertTrue(closed_unseen(sock, timeout=5))
        self.wait_refused("lb", "timeout", counts["timeout"] + 2)
        self.assertEqual(self.proxy_status("lb")["waiting"], 0)

    def test_local_health_checks_never_reach_the_handler(self):
        before_handled = self.handled("lb")
        before = self.proxy_status("lb")["health_checks"]
        refused = self.proxy_status("lb")["refused_by"]
        for _ in range(3):
            with self.connect("lb") as sock:
                sock.sendall(v2_local())
                self.assertEqual(sock.recv(100), b"")  # closed cleanly, no greeting
        harness.wait_until(lambda: self.proxy_status("lb")["health_checks"] == before + 3, what="3 health checks")
        self.assertEqual(self.handled("lb"), before_handled)
        self.assertEqual(self.proxy_status("lb")["refused_by"], refused)

    def test_untrusted_sources_are_refused_even_with_a_header(self):
        before = self.handled("lb")
        count = self.proxy_status("lb")["refused_by"]["untrusted"]
        with self.connect("lb", source="127.0.0.2") as sock:
            sock.sendall(v1("192.0.2.10", 1000))
            self.assertTrue(closed_unseen(sock))
        self.wait_refused("lb", "untrusted", count + 1)
        self.assertEqual(self.handled("lb"), before)

    def test_allow_direct_serves_untrusted_sources_as_themselves(self):
        # The header of a direct client is not believed: it is payload.
        with self.connect("direct", source="127.0.0.2") as sock:
            header = v1("192.0.2.10", 1000)
            sock.sendall(header)
            peer = Peer(sock)
            self.assertEqual(peer.seen["remoteAddress"], "127.0.0.2")
            self.assertIsNone(peer.seen["proxy"])
            self.assertEqual(peer.echo(len(header)), header)
        # The balancer's connections still carry headers on the same port.
        with self.connect("direct") as sock:
            sock.sendall(v1("192.0.2.11", 1001))
            self.assertEqual(greeting(sock)["remoteAddress"], "192.0.2.11")
        # Direct clients are screened as themselves.
        with self.connect("direct", source="127.0.0.3") as sock:
            self.assertTrue(closed_unseen(sock))
        self.assertGreaterEqual(self.broker.handler("direct")["refused_by"]["deny"], 1)

    def test_deny_applies_to_the_declared_client(self):
        deny = self.broker.handler("lb")["refused_by"]["deny"]
        before = self.handled("lb")
        for client in ("127.0.0.9", "192.0.2.66"):
            with self.connect("lb") as sock:
                sock.sendall(v2(client, 2000))
                self.assertTrue(closed_unseen(sock))
        harness.wait_until(lambda: self.broker.handler("lb")["refused_by"]["deny"] == deny + 2, what="2 denials")
        self.assertEqual(self.handled("lb"), before)
        event = self.broker.wait_for(event="connection-refused", peer="192.0.2.66:2000")
        self.assertEqual(event["reason"], "deny")

    def test_per_source_caps_and_rate_limits_count_the_declared_client(self):
        refused = lambda reason: self.broker.handler("per")["refused_by"][reason]
        per_ip, rate = refused("max-connections-per-ip"), refused("rate-limit")
        with self.connect("per") as first:
            first.sendall(v1("198.51.100.7", 1000))
            self.assertEqual(greeting(first)["remoteAddress"], "198.51.100.7")
            # The same client again, through the same balancer: over its cap.
            with self.connect("per") as second:
                second.sendall(v1("198.51.100.7", 1001))
                self.assertTrue(closed_unseen(second))
            harness.wait_until(lambda: refused("max-connections-per-ip") == per_ip + 1, what="a per-client refusal")
            # Another client through the same balancer is its own source.
            with self.connect("per") as other:
                other.sendall(v1("198.51.100.8", 1000))
                self.assertEqual(greeting(other)["remoteAddress"], "198.51.100.8")
        # Three new connections a minute per client: the fourth is refused.
        # Each closes before the next, so the cap of one is not what refuses.
        active = lambda: self.broker.handler("per")["connections"]["active"]
        for attempt in range(3):
            harness.wait_until(lambda: active() == 0, what="the previous connection closed")
            with self.connect("per") as sock:
                sock.sendall(v1("198.51.100.9", 2000 + attempt))
                self.assertEqual(greeting(sock)["remoteAddress"], "198.51.100.9")
        harness.wait_until(lambda: active() == 0, what="the last connection closed")
        with self.connect("per") as sock:
            sock.sendall(v1("198.51.100.9", 2003))
            self.assertTrue(closed_unseen(sock))
        harness.wait_until(lambda: refused("rate-limit") == rate + 1, what="a rate-limit refusal")

    def test_waiting_connections_count_against_max_connections(self):
        refused = self.broker.handler("cap")["refused_by"]["max-connections"]
        with self.connect("cap") as first, self.connect("cap") as second:
            harness.wait_until(lambda: self.proxy_status("cap")["waiting"] == 2, what="two waiting")
            with self.connect("cap") as third:
                self.assertTrue(closed_unseen(third))
            harness.wait_until(lambda: self.broker.handler("cap")["refused_by"]["max-connections"] == refused + 1,
                               what="a max-connections refusal")
            first.sendall(v1("192.0.2.20", 1))
            self.assertEqual(greeting(first)["remoteAddress"], "192.0.2.20")

    def test_tls_port_reads_the_header_then_handshakes(self):
        context = ssl.create_default_context(cafile=os.path.join(self.certs, "cert.pem"))
        with self.connect("tls") as raw:
            raw.sendall(v2("192.0.2.30", 3030, tlvs=tlv(0x02, "proxy.test")))
            with context.wrap_socket(raw, server_hostname="proxy.test") as tls:
                peer = Peer(tls)
                seen = peer.seen
                self.assertEqual((seen["remoteAddress"], seen["remotePort"]), ("192.0.2.30", 3030))
                self.assertEqual(seen["tls"], "TLSv1.3")
                self.assertEqual(seen["proxy"]["authority"], "proxy.test")
                tls.sendall(b"over tls")
                self.assertEqual(peer.echo(8), b"over tls")
        # Without the header, the ClientHello is not a header.
        count = self.proxy_status("tls")["refused_by"]["malformed"]
        with self.connect("tls") as raw:
            with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
                context.wrap_socket(raw, server_hostname="proxy.test")
        self.wait_refused("tls", "malformed", count + 1)

    def test_status_conns_and_metrics_show_the_client(self):
        with self.connect("lb") as sock:
            sock.sendall(v1("192.0.2.50", 5050))
            greeting(sock)
            conns = json.loads(self.broker.ctl("conns", "lb", "--json").stdout)["connections"]
            mine = [c for c in conns if c["peer"] == "192.0.2.50:5050"]
            self.assertEqual(len(mine), 1, conns)
            self.assertTrue(mine[0]["via"].startswith("127.0.0.1:"))
            plain = self.broker.ctl("conns", "lb").stdout
            self.assertIn("VIA", plain.splitlines()[0])
            self.assertIn("192.0.2.50:5050", plain)
        handler = self.broker.handler("lb")
        self.assertEqual(handler["policy"]["proxyProtocol"],
                         {"trusted": ["127.0.0.1/32"], "allowDirect": False, "headerTimeout": 1})
        self.assertGreaterEqual(handler["proxy"]["headers"], 1)
        self.assertEqual(set(handler["proxy"]["refused_by"]),
                         {"untrusted", "malformed", "too-large", "checksum", "truncated", "timeout"})
        plain = self.broker.ctl("status").stdout
        self.assertIn("PROXY PROTOCOL", plain)
        metrics = self.broker.ctl("metrics").stdout
        self.assertRegex(metrics, r'portbroker_proxy_headers_total\{[^}]*handler="lb"[^}]*command="proxy"\} [1-9]')
        self.assertIn("# TYPE portbroker_proxy_header_refused_total counter", metrics)
        self.assertRegex(metrics, r'portbroker_proxy_header_refused_total\{[^}]*handler="lb"[^}]*reason="timeout"\} \d')


class LiveChangeTest(unittest.TestCase):
    def test_turning_proxy_protocol_on_and_off_applies_to_the_next_connection(self):
        port = harness.free_port()
        with harness.Broker({f"live.tcp.{port}.port.js": REPORT}) as broker:
            broker.start()
            with contextlib.closing(harness.connect(port, timeout=10)) as sock:
                self.assertEqual(greeting(sock)["remoteAddress"], "127.0.0.1")
            broker.write(f"live.tcp.{port}.port.json", json.dumps({"proxyProtocol": {"trusted": ["127.0.0.1"]}}))
            broker.wait_for(event="manifest-applied", handler="live")
            with contextlib.closing(harness.connect(port, timeout=10)) as sock:
                sock.sendall(v2("192.0.2.99", 9999))
                self.assertEqual(greeting(sock)["remoteAddress"], "192.0.2.99")
            os.unlink(os.path.join(broker.handlers, f"live.tcp.{port}.port.json"))
            harness.wait_until(lambda: broker.handler("live")["policy"]["proxyProtocol"] is None,
                               what="the manifest gone")
            with contextlib.closing(harness.connect(port, timeout=10)) as sock:
                sock.sendall(v1("192.0.2.98", 1))  # now just payload
                peer = Peer(sock)
                self.assertEqual((peer.seen["remoteAddress"], peer.seen["proxy"]), ("127.0.0.1", None))
            broker.stop()


class ManifestErrorTest(unittest.TestCase):
    def test_bad_proxy_protocol_manifests_fail_closed_naming_file_and_field(self):
        tcp, udp = harness.free_port(), harness.free_port()
        files = {
            f"bad.tcp.{tcp}.port.js": REPORT,
            f"bad.tcp.{tcp}.port.json": json.dumps({"proxyProtocol": {"trusted": ["10.0.0.0/8", "::1", "balancer"]}}),
            f"dgram.udp.{udp}.port.js": "export function message() {}",
            f"dgram.udp.{udp}.port.json": json.dumps({"proxyProtocol": {"trusted": ["10.0.0.0/8"]}}),
        }
        with harness.Broker(files) as broker:
            broker.start()
            bad = broker.handler("bad")
            self.assertEqual(bad["state"], "failed")
            self.assertIn(f"bad.tcp.{tcp}.port.json", bad["reason"])
            self.assertIn("/proxyProtocol/trusted/2: 'balancer' is not an IPv4 or IPv6 address", bad["reason"])
            dgram = broker.handler("dgram")
            self.assertEqual(dgram["state"], "failed")
            self.assertIn(f"dgram.udp.{udp}.port.json", dgram["reason"])
            self.assertIn("/proxyProtocol: applies to TCP handlers only", dgram["reason"])
            plain = broker.ctl("status").stdout
            self.assertIn("/proxyProtocol/trusted/2", plain)
            broker.stop()


HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode tcp
    timeout connect 2s
    timeout client 20s
    timeout server 20s
frontend v2
    bind 127.0.0.1:{v2}
    unique-id-format %ci:%cp
    default_backend broker_v2
backend broker_v2
    server broker 127.0.0.1:{broker} send-proxy-v2 proxy-v2-options crc32c,unique-id check check-send-proxy inter 300ms
frontend v1
    bind 127.0.0.1:{v1}
    default_backend broker_v1
backend broker_v1
    server broker 127.0.0.1:{broker} send-proxy
"""


@unittest.skipUnless(shutil.which("haproxy"), "needs haproxy (installed by scripts/install-deps)")
class HaproxyTest(unittest.TestCase):
    """Debian's HAProxy in front of the broker, clients on their own loopback addresses."""

    @classmethod
    def setUpClass(cls):
        cls.port = {name: harness.free_port() for name in ("broker", "v1", "v2")}
        cls.broker = harness.Broker({
            f"behind.tcp.{cls.port['broker']}.port.js": REPORT,
            f"behind.tcp.{cls.port['broker']}.port.json": json.dumps(
                {"deny": ["127.0.0.3"], "proxyProtocol": {"trusted": ["127.0.0.1"]}}),
        })
        cls.broker.start()
        cls.config = os.path.join(cls.broker.tmp, "haproxy.cfg")
        with open(cls.config, "w") as f:
            f.write(HAPROXY_CONFIG.format(**cls.port))
        check = subprocess.run(["haproxy", "-c", "-f", cls.config], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            cls.broker.close()
            raise AssertionError(f"haproxy -c: {check.stdout}{check.stderr}")
        # -db: foreground, no daemon; ended by its PID in tearDownClass.
        cls.haproxy = subprocess.Popen(["haproxy", "-db", "-f", cls.config], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in (cls.port["v1"], cls.port["v2"]):
            harness.wait_until(lambda p=port: cls.listening(p), what=f"haproxy listening on {port}")

    @staticmethod
    def listening(port):
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    @classmethod
    def tearDownClass(cls):
        harness.stop_process(cls.haproxy)
        cls.broker.close()

    def through(self, frontend, source):
        sock = harness.connect(self.port[frontend], timeout=10, source=source)
        return contextlib.closing(sock)

    def test_the_clients_own_address_arrives_through_haproxy(self):
        for frontend, version in (("v2", 2), ("v1", 1)):
            with self.subTest(frontend=frontend), self.through(frontend, "127.0.0.2") as sock:
                client_port = sock.getsockname()[1]
                sock.sendall(b"through haproxy\n")
                peer = Peer(sock)
                seen = peer.seen
                self.assertEqual((seen["remoteAddress"], seen["remotePort"], seen["remoteFamily"]),
                                 ("127.0.0.2", client_port, "IPv4"))
                proxy = seen["proxy"]
                self.assertEqual(proxy["version"], version)
                self.assertEqual(proxy["balancerAddress"], "127.0.0.1")
                self.assertEqual((proxy["destinationAddress"], proxy["destinationPort"]),
                                 ("127.0.0.1", self.port[frontend]))
                if version == 2:
                    # HAProxy's unique-id-format "%ci:%cp", and its CRC32C verified here.
                    self.assertEqual(bytes.fromhex(proxy["uniqueId"]).decode(), f"127.0.0.2:{client_port}")
                self.assertEqual(peer.echo(16), b"through haproxy\n")
                conns = json.loads(self.broker.ctl("conns", "--json").stdout)["connections"]
                self.assertIn(f"127.0.0.2:{client_port}", [c["peer"] for c in conns])
        self.assertEqual(self.broker.handler("behind")["proxy"]["refused_by"]["checksum"], 0)

    def test_a_denied_client_is_refused_through_haproxy(self):
        deny = self.broker.handler("behind")["refused_by"]["deny"]
        with self.through("v2", "127.0.0.3") as sock:
            sock.sendall(b"let me in\n")
            self.assertTrue(closed_unseen(sock))
        harness.wait_until(lambda: self.broker.handler("behind")["refused_by"]["deny"] > deny, what="a denial")
        event = self.broker.wait_for(event="connection-refused", reason="deny")
        self.assertTrue(event["peer"].startswith("127.0.0.3:"))

    def test_haproxy_health_checks_arrive_as_local(self):
        harness.wait_until(lambda: self.broker.handler("behind")["proxy"]["health_checks"] >= 2,
                           what="HAProxy's checks counted as health checks")
        refused = self.broker.handler("behind")["proxy"]["refused_by"]
        self.assertEqual(sum(refused.values()), 0, refused)


# --- nftables, in namespaces made here ---------------------------------------------

SUFFIX = str(os.getpid())
SERVER_NS, CLIENT_NS = "pbps" + SUFFIX, "pbpc" + SUFFIX
SERVER_IP, BALANCER_IP, CLIENT_IP = "10.78.0.1", "10.78.0.2", "10.78.0.3"

NS_CLIENT = """
import socket, sys
source, port, header = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = socket.socket(); s.settimeout(2); s.bind((source, 0))
try:
    s.connect(("%s", port))
except socket.timeout:
    print("timeout"); sys.exit()
s.settimeout(10)  # 2 s tells a dropped SYN; the answer may take longer on a loaded machine
s.sendall(header.replace(b"\\\\r\\\\n", b"\\r\\n"))
try:
    print(s.recv(200).decode().strip() or "closed")
except (ConnectionResetError, socket.timeout):
    print("closed")
""" % SERVER_IP


run = harness.run


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("nft"), "needs root and nft (installed by scripts/install-deps)")
class FirewallTest(harness.NamespacesTest):
    namespaces = harness.VethNamespaces(SERVER_NS, CLIENT_NS, SERVER_IP, [BALANCER_IP, CLIENT_IP])

    def client(self, source, port, header=""):
        return run("python3", "-c", NS_CLIENT, source, str(port), header, namespace=CLIENT_NS).stdout.strip()

    def test_the_kernel_admits_the_balancers_and_the_supervisor_screens_the_clients(self):
        only, direct = 7201, 7202
        greet = 'export function handle(conn) { conn.write(`hi ${conn.remoteAddress}\\n`); conn.resume(); }'
        files = {
            f"only.tcp.{only}.port.js": greet,
            # The balancer is inside the denied block: deny is about clients.
            f"only.tcp.{only}.port.json": json.dumps(
                {"deny": ["10.78.0.0/24", "192.0.2.9"], "proxyProtocol": {"trusted": [BALANCER_IP]}}),
            f"direct.tcp.{direct}.port.js": greet,
            # Balancers inside the allow list: the kernel's set must hold them once.
            f"direct.tcp.{direct}.port.json": json.dumps(
                {"allow": ["10.78.0.0/24", "192.0.2.0/25"],
                 "proxyProtocol": {"trusted": [BALANCER_IP], "allowDirect": True}}),
        }
        broker = harness.Broker(files, firewall=True, log_level="info",
                                command_prefix=["ip", "netns", "exec", SERVER_NS])
        try:
            broker.start()
            table = json.loads(run("nft", "-j", "list", "table", "inet", "portbroker", namespace=SERVER_NS).stdout)
            sets = {item["set"]["name"]: item["set"] for item in table["nftables"] if "set" in item}
            elements = lambda name: [e["prefix"]["addr"] if isinstance(e, dict) else e
                                     for e in sets[name].get("elem", [])]
            self.assertEqual(elements(f"tcp_{only}_trusted4"), [BALANCER_IP])
            self.assertEqual(elements(f"tcp_{only}_allow4"), [BALANCER_IP])
            self.assertNotIn(f"tcp_{only}_deny4", sets)
            self.assertEqual(sorted(elements(f"tcp_{direct}_allow4")), ["10.78.0.0", "192.0.2.0"])
            self.assertEqual(elements(f"tcp_{direct}_trusted4"), [BALANCER_IP])
            header = "PROXY TCP4 192.0.2.8 %s 1000 %d\\r\\n"
            # Through the balancer: the declared client is screened in the supervisor.
            self.assertEqual(self.client(BALANCER_IP, only, header % (SERVER_IP, only)), "hi 192.0.2.8")
            denied = (header % (SERVER_IP, only)).replace("192.0.2.8", "192.0.2.9")
            self.assertEqual(self.client(BALANCER_IP, only, denied), "closed")
            # A direct client never completes the handshake on a port without allowDirect.
            self.assertEqual(self.client(CLIENT_IP, only), "timeout")
            # With allowDirect it is served as itself.
            self.assertEqual(self.client(CLIENT_IP, direct, "x"), f"hi {CLIENT_IP}")
            self.assertEqual(self.client(BALANCER_IP, direct, header % (SERVER_IP, direct)), "hi 192.0.2.8")
        finally:
            broker.stop()
            broker.close()
            run("nft", "delete", "table", "inet", "portbroker", namespace=SERVER_NS, check=False)


if __name__ == "__main__":
    harness.main()
