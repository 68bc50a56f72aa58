#!/usr/bin/env python3
"""Two brokers as two "hosts" (network namespaces made here, each joined to
this namespace by a veth pair), serving the same handlers folder, sharing
one real redis-server, behind Debian's HAProxy (`mode tcp`,
`send-proxy-v2`, round robin, health checks):

- the spec's UDP counter and a TCP counter, asked alternately through both
  hosts, count 1..N with no gap or repeat;
- a message published on one host reaches a subscriber on the other;
- the client's own address reaches the handler through HAProxy, and a deny
  list on that address refuses it;
- stopping one broker leaves the service answering through the other;
- stopping and restarting redis-server gives ERR_STORE_UNAVAILABLE, then
  full recovery, without a worker restart.

(Sentinel failover is tests/integration/test_store_sentinel.py.) Every
process is started here and stopped by its PID; the namespaces are deleted
at the end."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
import redis_nodes

SUFFIX = str(os.getpid())
HOSTS = {"a": {"ns": "pbma" + SUFFIX, "ip": "10.79.1.2", "gateway": "10.79.1.1"},
         "b": {"ns": "pbmb" + SUFFIX, "ip": "10.79.2.2", "gateway": "10.79.2.1"}}

# Counts in the shared store and says who it sees; reports an unavailable store.
COUNTER = """
export async function handle(conn, ctx) {
  try {
    const n = ((await ctx.shared.get("tcp-count")) ?? 0) + 1;
    await ctx.shared.set("tcp-count", n);
    conn.end(`${n} ${conn.remoteAddress} ${conn.localAddress}\\n`);
  } catch (err) {
    conn.end(`error ${err.code}\\n`);
  }
}
"""

LISTENER = """
export function handle(conn, ctx) {
  const unsubscribe = ctx.shared.subscribe("news", (message) => conn.write(`news: ${message.text}\\n`));
  conn.on("close", unsubscribe);
  unsubscribe.ready.then(() => conn.write("subscribed\\n"));
}
"""

ANNOUNCER = """
export async function handle(conn, ctx) {
  conn.setEncoding("utf8");
  for await (const chunk of conn) {
    for (const line of chunk.split("\\n").filter(Boolean)) {
      conn.write(`delivered to ${await ctx.shared.publish("news", { text: line })}\\n`);
    }
  }
}
"""

HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 2
    option redispatch
frontend counter
    bind 127.0.0.1:{frontend}
    default_backend brokers
backend brokers
    balance roundrobin
    server a {a}:{port} send-proxy-v2 check check-send-proxy inter 200ms fall 1 rise 1
    server b {b}:{port} send-proxy-v2 check check-send-proxy inter 200ms fall 1 rise 1
"""


def create_hosts():
    for name, host in HOSTS.items():
        outer, inner = f"pbm{name}o{SUFFIX}"[:15], f"pbm{name}i{SUFFIX}"[:15]
        host["outer"] = outer
        harness.run("ip", "netns", "add", host["ns"])
        harness.run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        harness.run("ip", "link", "set", inner, "netns", host["ns"])
        harness.run("ip", "addr", "add", host["gateway"] + "/24", "dev", outer)
        harness.run("ip", "link", "set", outer, "up")
        harness.run("ip", "addr", "add", host["ip"] + "/24", "dev", inner, namespace=host["ns"])
        harness.run("ip", "link", "set", inner, "up", namespace=host["ns"])
        harness.run("ip", "link", "set", "lo", "up", namespace=host["ns"])


def delete_hosts():
    for host in HOSTS.values():
        harness.run("ip", "netns", "del", host["ns"], check=False)
        if "outer" in host:
            harness.run("ip", "link", "del", host["outer"], check=False)


def ask(port, host="127.0.0.1", source=None):
    with contextlib.closing(harness.connect(port, host=host, timeout=10, source=source)) as sock:
        return harness.recv_all(sock).decode().strip()


@unittest.skipUnless(shutil.which("haproxy") and shutil.which("redis-server"),
                     "needs haproxy and redis-server (installed by scripts/install-deps)")
class MultiHostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="portbroker-multihost-")
        os.chmod(cls.tmp, 0o755)
        cls.handlers = os.path.join(cls.tmp, "handlers")
        os.makedirs(cls.handlers)
        cls.port = {name: harness.free_port() for name in ("counter", "ping", "listener", "announcer", "frontend")}
        files = {
            f"counter.tcp.{cls.port['counter']}.port.js": COUNTER,
            f"counter.tcp.{cls.port['counter']}.port.json": json.dumps(
                {"deny": ["127.0.0.9"], "proxyProtocol": {"trusted": ["10.79.0.0/16"]}}),
            f"listener.tcp.{cls.port['listener']}.port.js": LISTENER,
            f"announcer.tcp.{cls.port['announcer']}.port.js": ANNOUNCER,
        }
        for name, text in files.items():
            with open(os.path.join(cls.handlers, name), "w") as f:
                f.write(text)
        shutil.copy(os.path.join(harness.EXAMPLES, "ping.udp.9000.port.js"),
                    os.path.join(cls.handlers, f"ping.udp.{cls.port['ping']}.port.js"))
        cls.nodes = redis_nodes.Nodes()
        cls.brokers = {}
        cls.haproxy = None
        try:
            create_hosts()
            cls.redis = cls.nodes.server(bind=" ".join(["127.0.0.1"] + [h["gateway"] for h in HOSTS.values()]))
            for name, host in HOSTS.items():
                broker = harness.Broker(config={
                    "store": {"url": f"redis://{host['gateway']}:{cls.redis.port}", "prefix": "pb:",
                              "timeout_ms": 1000},
                    "screening": {"max_connections_per_ip": 1000},
                }, command_prefix=["nsenter", f"--net=/run/netns/{host['ns']}"])
                broker.handlers = cls.handlers
                cls.brokers[name] = broker
                broker.start()
                broker.wait_for(event="store-backend-up")
            config = os.path.join(cls.tmp, "haproxy.cfg")
            with open(config, "w") as f:
                f.write(HAPROXY_CONFIG.format(frontend=cls.port["frontend"], port=cls.port["counter"],
                                              a=HOSTS["a"]["ip"], b=HOSTS["b"]["ip"]))
            check = subprocess.run(["haproxy", "-c", "-f", config], capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                raise AssertionError(f"haproxy -c: {check.stdout}{check.stderr}")
            cls.haproxy = subprocess.Popen(["haproxy", "-db", "-f", config], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            harness.wait_until(lambda: all(b.handler("counter")["proxy"]["health_checks"] >= 1
                                           for b in cls.brokers.values()),
                               what="HAProxy's health checks on both hosts")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.haproxy is not None:
            harness.stop_process(cls.haproxy)
        for broker in cls.brokers.values():
            broker.close()
        cls.nodes.close()
        delete_hosts()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_counters_count_across_both_hosts_without_gap_or_repeat(self):
        # UDP straight to each host in turn (HAProxy balances TCP only).
        replies = [harness.udp_request(self.port["ping"], b"ping", host=HOSTS[name]["ip"])
                   for name in ("a", "b", "a", "b", "b", "a")]
        self.assertEqual(replies, [f"pong #{n}\n".encode() for n in range(1, 7)])
        self.assertEqual(self.redis.cli("GET", "pb:count"), "6")
        for broker in self.brokers.values():
            self.assertEqual(broker.handler("ping")["datagrams"]["replied"], 3)
        # TCP through HAProxy, round robin: both hosts count in one sequence,
        # and see the client's own address.
        answers = [ask(self.port["frontend"], source="127.0.0.5").split(" ") for _ in range(6)]
        self.assertEqual([int(a[0]) for a in answers], list(range(1, 7)))
        self.assertEqual({a[1] for a in answers}, {"127.0.0.5"})
        self.assertEqual({a[2] for a in answers}, {HOSTS["a"]["ip"], HOSTS["b"]["ip"]})

    def test_2_a_denied_client_is_refused_through_haproxy(self):
        refused = {name: b.handler("counter")["refused_by"]["deny"] for name, b in self.brokers.items()}
        for _ in range(2):  # one to each host
            self.assertEqual(ask(self.port["frontend"], source="127.0.0.9"), "")
        harness.wait_until(lambda: all(b.handler("counter")["refused_by"]["deny"] > refused[name]
                                       for name, b in self.brokers.items()), what="denials on both hosts")

    def test_3_a_message_published_on_one_host_reaches_the_other(self):
        with contextlib.closing(harness.connect(self.port["listener"], host=HOSTS["a"]["ip"])) as listener, \
                contextlib.closing(harness.connect(self.port["announcer"], host=HOSTS["b"]["ip"])) as announcer:
            self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
            announcer.sendall(b"across hosts\n")
            self.assertEqual(harness.recv_until(announcer, b"\n"), b"delivered to 1\n")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: across hosts\n")

    def test_4_redis_restarting_gives_clear_errors_then_recovery(self):
        workers = {name: b.handler("counter")["worker"]["pid"] for name, b in self.brokers.items()}
        self.redis.stop(signal.SIGKILL)
        for broker in self.brokers.values():
            broker.wait_for(event="store-backend-down")
        self.assertEqual(ask(self.port["frontend"], source="127.0.0.5"), "error ERR_STORE_UNAVAILABLE")
        self.assertEqual(ask(self.port["frontend"], source="127.0.0.5"), "error ERR_STORE_UNAVAILABLE")
        self.redis.start()
        for broker in self.brokers.values():
            harness.wait_until(lambda b=broker: b.status()["broker"]["store"]["backend"]["state"] == "up",
                               timeout=20, what="the store back up")
        # The restarted server starts empty (no persistence here).
        answers = [int(ask(self.port["frontend"], source="127.0.0.5").split(" ")[0]) for _ in range(4)]
        self.assertEqual(answers, [1, 2, 3, 4])
        for name, broker in self.brokers.items():
            self.assertEqual(broker.handler("counter")["worker"]["pid"], workers[name])

    def test_5_stopping_one_broker_leaves_the_service_answering(self):
        self.assertEqual(self.brokers["b"].stop(), 0)
        before = int(self.redis.cli("GET", "pb:tcp-count") or 0)
        answers = [ask(self.port["frontend"], source="127.0.0.5").split(" ") for _ in range(4)]
        self.assertEqual([int(a[0]) for a in answers], list(range(before + 1, before + 5)))
        self.assertEqual({a[2] for a in answers}, {HOSTS["a"]["ip"]})


if __name__ == "__main__":
    harness.main()
