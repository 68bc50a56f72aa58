"""nftables: the broker's table in a network namespace made by this test (the
host's ruleset is never touched). A client namespace joined by a veth pair
connects from an allowed and a denied address: the denied handshake must never
complete (no SYN-ACK), not be accepted and closed."""

import json
import os
import shutil
import textwrap
import time
import unittest

import harness

SUFFIX = str(os.getpid())
SERVER_NS = "pbs" + SUFFIX
CLIENT_NS = "pbc" + SUFFIX
SERVER_IP, ALLOWED_IP, DENIED_IP = "10.77.0.1", "10.77.0.2", "10.77.0.3"

GREET = """
export function handle(conn) { conn.write("hi\\n"); conn.resume(); }
"""

UDP_ECHO = """
export function message(msg, rinfo, ctx) { ctx.reply(msg, rinfo); }
"""


run = harness.run


def nft(*args, check=True):
    return run("nft", *args, check=check, namespace=SERVER_NS)


CLIENT = textwrap.dedent("""
    import socket, sys
    kind, source, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "tcp":
        s = socket.socket(); s.settimeout(2); s.bind((source, 0))
        try:
            s.connect(("%s", port))
        except socket.timeout:
            print("timeout"); sys.exit()
        except ConnectionRefusedError:
            print("refused"); sys.exit()
        s.settimeout(10)  # 2 s tells a dropped SYN; the greeting may take longer on a loaded machine
        try:
            data = s.recv(100)
            print("greeted" if data.startswith(b"hi") else "closed")
        except (ConnectionResetError, socket.timeout):
            print("closed")
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.bind((source, 0))
        s.sendto(b"ping", ("%s", port))
        try:
            print("replied" if s.recv(100) == b"ping" else "other")
        except socket.timeout:
            print("timeout")
""" % (SERVER_IP, SERVER_IP))


# Connects out through the broker on each line: "ok", or the error's code.
RELAY_OUT = """
import net from "node:net";
export function handle(conn) {
  conn.once("data", () => {
    const out = net.connect(UPSTREAM, "127.0.0.1");
    out.on("connect", () => { conn.end("ok\\n"); out.destroy(); });
    out.on("error", (error) => conn.end(`${error.code}\\n`));
  });
}
"""

# Runs in the broker's namespace: two listeners on loopback, connects marked as
# the broker marks its outbound sockets (and one unmarked), then asks the
# handler to connect out through the broker.
EGRESS_PROBE = textwrap.dedent("""
    import errno, socket, sys
    mark, allowed, unlisted, handler = (int(a) for a in sys.argv[1:5])
    listeners = []
    for port in (allowed, unlisted):
        listener = socket.socket(); listener.bind(("127.0.0.1", port)); listener.listen(8); listeners.append(listener)
    def attempt(port, marked):
        s = socket.socket(); s.settimeout(2)
        if marked:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
        try:
            s.connect(("127.0.0.1", port)); return "connected"
        except OSError as e:
            return errno.errorcode.get(e.errno, type(e).__name__)
        finally:
            s.close()
    print(attempt(allowed, True), attempt(unlisted, True), attempt(unlisted, False))
    h = socket.create_connection(("127.0.0.1", handler), timeout=5)
    h.sendall(b"go\\n")
    print(h.recv(100).decode().strip())
""")


def client(kind, source, port):
    return run("python3", "-c", CLIENT, kind, source, str(port), namespace=CLIENT_NS).stdout.strip()


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("nft"), "needs root and nft (installed by scripts/install-deps)")
class FirewallTest(harness.NamespacesTest):
    namespaces = harness.VethNamespaces(SERVER_NS, CLIENT_NS, SERVER_IP, [ALLOWED_IP, DENIED_IP])

    def tearDown(self):
        nft("delete", "table", "inet", "portbroker", check=False)
        nft("delete", "table", "inet", "filter", check=False)

    def broker(self, ports, config=None, wrapper=()):
        files = {
            f"allowonly.tcp.{ports['allow']}.port.js": GREET,
            f"allowonly.tcp.{ports['allow']}.port.json": json.dumps({"allow": [ALLOWED_IP + "/32", "::1"]}),
            f"denyone.tcp.{ports['deny']}.port.js": GREET,
            f"denyone.tcp.{ports['deny']}.port.json": json.dumps({"deny": [DENIED_IP]}),
            f"udpdeny.udp.{ports['udp']}.port.js": UDP_ECHO,
            f"udpdeny.udp.{ports['udp']}.port.json": json.dumps({"deny": [DENIED_IP + "/32"]}),
        }
        return harness.Broker(files, config=config, firewall=True, log_level="info",
                              command_prefix=["ip", "netns", "exec", SERVER_NS, *wrapper])

    def test_denied_sources_never_complete_the_handshake(self):
        ports = {"allow": 7101, "deny": 7102, "udp": 7103}
        # A table left by an earlier crash is replaced, not merged.
        nft("add", "table", "inet", "portbroker")
        nft("add", "chain", "inet", "portbroker", "stale")
        with self.broker(ports) as broker:
            broker.start()
            self.assertEqual(broker.status()["broker"]["firewall"], {"enabled": True, "reason": None})
            table = json.loads(nft("-j", "list", "table", "inet", "portbroker").stdout)["nftables"]
            chains = [item["chain"]["name"] for item in table if "chain" in item]
            self.assertEqual(chains, ["screen", "egress"])
            sets = {item["set"]["name"]: item["set"] for item in table if "set" in item}
            self.assertIn("tcp_7101_allow4", sets)
            self.assertEqual(sets["tcp_7102_deny4"]["elem"], [DENIED_IP])
            self.assertEqual(sets["tcp_ports"]["elem"], [7101, 7102])
            self.assertEqual(sets["udp_ports"]["elem"], [7103])

            self.assertEqual(client("tcp", ALLOWED_IP, 7101), "greeted")
            self.assertEqual(client("tcp", DENIED_IP, 7101), "timeout")   # not in allow: no SYN-ACK
            self.assertEqual(client("tcp", ALLOWED_IP, 7102), "greeted")
            self.assertEqual(client("tcp", DENIED_IP, 7102), "timeout")   # denied: no SYN-ACK
            self.assertEqual(client("udp", ALLOWED_IP, 7103), "replied")
            self.assertEqual(client("udp", DENIED_IP, 7103), "timeout")
            # The kernel dropped them: the supervisor never saw those.
            self.assertEqual(broker.handler("allowonly")["connections"]["accepted"], 1)
            self.assertEqual(broker.handler("denyone")["connections"]["accepted"], 1)
            self.assertEqual(broker.handler("udpdeny")["datagrams"]["received"], 1)
            self.assertEqual(broker.stop(), 0)
        # Clean shutdown removes the table.
        self.assertNotEqual(nft("list", "table", "inet", "portbroker", check=False).returncode, 0)

    def test_tagged_accept_rules_in_the_operators_chain(self):
        ports = {"allow": 7111, "deny": 7112, "udp": 7113}
        # A host firewall that drops by default.
        nft("add", "table", "inet", "filter")
        nft("add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy drop; }")
        nft("add", "rule", "inet", "filter", "input", "iif", "lo", "accept")
        config = {"firewall": {"enabled": True, "accept_in": {"family": "inet", "table": "filter", "chain": "input"}}}
        with self.broker(ports, config=config) as broker:
            broker.start()
            chain = json.loads(nft("-j", "list", "chain", "inet", "filter", "input").stdout)["nftables"]
            tagged = [item["rule"] for item in chain if "rule" in item and item["rule"].get("comment") == "portbroker"]
            self.assertEqual(len(tagged), 2)  # one for the TCP ports, one for the UDP port
            self.assertEqual(client("tcp", ALLOWED_IP, 7112), "greeted")
            self.assertEqual(client("udp", ALLOWED_IP, 7113), "replied")
            self.assertEqual(client("tcp", DENIED_IP, 7112), "timeout")
            self.assertEqual(broker.stop(), 0)
        chain = json.loads(nft("-j", "list", "chain", "inet", "filter", "input").stdout)["nftables"]
        rules = [item["rule"] for item in chain if "rule" in item]
        self.assertEqual(len(rules), 1, "only the operator's own rule is left")
        self.assertNotIn("comment", rules[0])
        self.assertEqual(client("tcp", ALLOWED_IP, 7112), "timeout")  # the host's policy again

    def test_rules_follow_the_folder_while_running(self):
        ports = {"allow": 7131, "deny": 7132, "udp": 7133}
        with self.broker(ports) as broker:
            broker.start()

            def port_sets():
                table = json.loads(nft("-j", "list", "table", "inet", "portbroker").stdout)["nftables"]
                return {item["set"]["name"]: item["set"].get("elem", []) for item in table if "set" in item}

            def settled(predicate, what):
                deadline = time.monotonic() + harness.DEFAULT_TIMEOUT
                while not predicate():
                    self.assertLess(time.monotonic(), deadline, what)
                    time.sleep(0.05)

            # A new handler with a manifest: its port and rules appear.
            broker.write("late.tcp.7134.port.json", json.dumps({"deny": [DENIED_IP]}))
            broker.write("late.tcp.7134.port.js", GREET)
            settled(lambda: 7134 in port_sets().get("tcp_ports", []), "the new port's rules")
            self.assertEqual(port_sets()["tcp_7134_deny4"], [DENIED_IP])
            settled(lambda: client("tcp", ALLOWED_IP, 7134) == "greeted", "the new port to serve")
            self.assertEqual(client("tcp", DENIED_IP, 7134), "timeout")
            # Its manifest loosened live: the kernel lets the source through.
            os.unlink(os.path.join(broker.handlers, "late.tcp.7134.port.json"))
            settled(lambda: "tcp_7134_deny4" not in port_sets(), "the deny set to go")
            self.assertEqual(client("tcp", DENIED_IP, 7134), "greeted")
            # Removed: its port leaves the table.
            os.unlink(os.path.join(broker.handlers, "late.tcp.7134.port.js"))
            settled(lambda: 7134 not in port_sets().get("tcp_ports", []), "the removed port's rules to go")
            self.assertEqual(port_sets()["tcp_ports"], [7131, 7132])
            self.assertEqual(broker.stop(), 0)

    def test_outbound_connections_are_screened_by_the_kernel_too(self):
        ports = {"allow": 7141, "deny": 7142, "udp": 7143}
        allowed, unlisted, relay = 7145, 7146, 7144
        with self.broker(ports) as broker:
            broker.write(f"relay.tcp.{relay}.port.js", RELAY_OUT.replace("UPSTREAM", str(allowed)))
            broker.write(f"relay.tcp.{relay}.port.json", json.dumps({"connect": [f"127.0.0.1:{allowed}", "public:443"]}))
            broker.start()
            rules = nft("list", "chain", "inet", "portbroker", "egress").stdout
            self.assertIn(f"ip daddr 127.0.0.1 tcp dport {allowed} accept", rules)
            self.assertIn("fib daddr type local", rules)
            self.assertIn("tcp dport @egress_name_ports accept", rules)
            mark = 0x70620000
            self.assertIn(f"meta mark != 0x{mark:08x} accept", rules)
            probe = run("python3", "-c", EGRESS_PROBE, str(mark), str(allowed), str(unlisted), str(relay),
                        namespace=SERVER_NS).stdout.split("\n")
            # Marked as the broker marks its sockets: only what a connect list
            # names gets through; everything else on the host is not looked at.
            self.assertEqual(probe[0], "connected EHOSTUNREACH connected")
            # The broker's own connect for the handler: marked, and admitted.
            self.assertEqual(probe[1], "ok")
            self.assertEqual(broker.handler("relay")["egress"]["opened"], 1)
            # The handler goes: its entries leave the kernel's rules.
            os.unlink(os.path.join(broker.handlers, f"relay.tcp.{relay}.port.js"))
            deadline = time.monotonic() + harness.DEFAULT_TIMEOUT
            while f"dport {allowed}" in nft("list", "chain", "inet", "portbroker", "egress").stdout:
                self.assertLess(time.monotonic(), deadline, "the egress rule to go")
                time.sleep(0.05)
            self.assertEqual(broker.stop(), 0)

    def test_without_cap_net_admin_screening_stays_in_userspace(self):
        ports = {"allow": 7121, "deny": 7122, "udp": 7123}
        wrapper = ["setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"]
        with self.broker(ports, wrapper=wrapper) as broker:
            broker.start()
            firewall = broker.status()["broker"]["firewall"]
            self.assertFalse(firewall["enabled"])
            self.assertIn("CAP_NET_ADMIN", firewall["reason"])
            self.assertTrue(broker.events(event="firewall-disabled"))
            self.assertNotEqual(nft("list", "table", "inet", "portbroker", check=False).returncode, 0)
            # Still screened, now by the supervisor: accepted, then closed unseen.
            self.assertEqual(client("tcp", DENIED_IP, 7122), "closed")
            self.assertEqual(client("tcp", ALLOWED_IP, 7122), "greeted")
            self.assertEqual(broker.handler("denyone")["refused_by"]["deny"], 1)
            self.assertEqual(broker.stop(), 0)


if __name__ == "__main__":
    harness.main()
