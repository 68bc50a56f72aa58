#!/usr/bin/env python3
"""ctx.shared behind Redis Sentinel: a master, a replica and three sentinels
on loopback, started by this test. The broker finds the master through the
sentinels, and follows a failover (SENTINEL FAILOVER, then the old master
killed outright) without a restart of anything of its own: writes land on
the new master, and a subscription made before the failover still hears
what is published after it. With one sentinel: every node over TLS with
client certificates, and a master demoted behind the sentinel's back."""

import contextlib
import signal
import time
import unittest

import harness
import redis_nodes

KV = """
export async function handle(conn, ctx) {
  conn.setEncoding("utf8");
  for await (const chunk of conn) {
    for (const line of chunk.split("\\n").filter(Boolean)) {
      const [op, key, value] = line.trim().split(" ");
      try {
        if (op === "set") { await ctx.shared.set(key, JSON.parse(value)); conn.write("ok\\n"); }
        if (op === "get") conn.write(JSON.stringify(await ctx.shared.get(key) ?? null) + "\\n");
      } catch (err) {
        conn.write(`error ${err.code}\\n`);
      }
    }
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

MASTER = "pbmaster"


def line(sock, text):
    sock.sendall(text.encode() + b"\n")
    return harness.recv_until(sock, b"\n").decode().strip()


class SentinelFailoverTest(unittest.TestCase):
    def test_the_broker_follows_a_failover(self):
        with redis_nodes.Nodes() as nodes:
            master = nodes.server("master")
            replica = nodes.server("replica", extra=[])
            self.assertEqual(replica.cli("REPLICAOF", "127.0.0.1", master.port), "OK")
            harness.wait_until(lambda: "master_link_status:up" in replica.cli("INFO", "replication"),
                               what="the replica to sync")
            sentinels = [nodes.sentinel(f"sentinel{i}", master.port, MASTER) for i in range(3)]
            # Every sentinel knows the replica and the other sentinels.
            harness.wait_until(lambda: all(s.cli("SENTINEL", "replicas", MASTER).count("slave") >= 1 and
                                           "num-other-sentinels\n2" in s.cli("SENTINEL", "master", MASTER)
                                           for s in sentinels),
                               timeout=30, what="the sentinels to find each other")
            ports = {"kv": harness.free_port(), "listener": harness.free_port()}
            with harness.Broker({
                f"kv.tcp.{ports['kv']}.port.js": KV,
                f"listener.tcp.{ports['listener']}.port.js": LISTENER,
            }, config={"store": {"sentinels": [f"127.0.0.1:{s.port}" for s in sentinels], "master": MASTER,
                                 "prefix": "sen:", "timeout_ms": 1000}}) as broker:
                broker.start()
                broker.wait_for(event="store-backend-up")
                backend = broker.status()["broker"]["store"]["backend"]
                self.assertEqual(backend["kind"], "sentinel")
                self.assertEqual(backend["address"], f"127.0.0.1:{master.port}")
                workers = {name: broker.handler(name)["worker"]["pid"] for name in ports}
                with contextlib.closing(harness.connect(ports["kv"])) as kv, \
                        contextlib.closing(harness.connect(ports["listener"])) as listener:
                    self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
                    self.assertEqual(line(kv, "set n 1"), "ok")
                    self.assertEqual(master.cli("GET", "sen:n"), "1")

                    # A planned failover: the replica becomes the master.
                    self.assertEqual(sentinels[0].cli("SENTINEL", "failover", MASTER), "OK")
                    broker.wait_for(event="store-backend-failover", timeout=30)
                    harness.wait_until(lambda: broker.status()["broker"]["store"]["backend"]["state"] == "up",
                                       timeout=20, what="the backend to be up on the new master")
                    self.assertEqual(broker.status()["broker"]["store"]["backend"]["address"],
                                     f"127.0.0.1:{replica.port}")
                    harness.wait_until(lambda: line(kv, "set n 2") == "ok", timeout=20, what="writes to work")
                    self.assertEqual(replica.cli("GET", "sen:n"), "2")
                    harness.wait_until(lambda: replica.cli("PUBLISH", "sen:news", '{"text":"after"}') == "1",
                                       what="the subscription on the new master")
                    self.assertEqual(harness.recv_until(listener, b"\n"), b"news: after\n")

                    # An unplanned one: the new master dies; the sentinels
                    # promote the old one (now its replica) back.
                    harness.wait_until(lambda: "master_link_status:up" in master.cli("INFO", "replication"),
                                       timeout=30, what="the old master to replicate the new one")
                    replica.stop(signal.SIGKILL)
                    broker.wait_for(event="store-backend-down", timeout=20)
                    harness.wait_until(lambda: broker.status()["broker"]["store"]["backend"]["address"] ==
                                       f"127.0.0.1:{master.port}" and
                                       broker.status()["broker"]["store"]["backend"]["state"] == "up",
                                       timeout=40, what="the broker to follow the second failover")
                    harness.wait_until(lambda: line(kv, "set n 3") == "ok", timeout=20, what="writes to work")
                    self.assertEqual(master.cli("GET", "sen:n"), "3")
                    self.assertEqual(line(kv, "get n"), "3")
                    harness.wait_until(lambda: master.cli("PUBLISH", "sen:news", '{"text":"again"}') == "1",
                                       what="the subscription back on the old master")
                    self.assertEqual(harness.recv_until(listener, b"\n"), b"news: again\n")
                self.assertGreaterEqual(broker.status()["broker"]["store"]["backend"]["failovers"], 1)
                for name, pid in workers.items():
                    self.assertEqual(broker.handler(name)["worker"]["pid"], pid)


class SentinelsUnreachableTest(unittest.TestCase):
    def test_all_sentinels_gone_while_the_master_is_up_costs_handlers_nothing(self):
        with redis_nodes.Nodes() as nodes:
            master = nodes.server("master")
            sentinels = [nodes.sentinel(f"sentinel{i}", master.port, MASTER, quorum=1) for i in range(2)]
            port = harness.free_port()
            with harness.Broker({f"kv.tcp.{port}.port.js": KV},
                                config={"store": {"sentinels": [f"127.0.0.1:{s.port}" for s in sentinels],
                                                  "master": MASTER, "prefix": "sen:", "timeout_ms": 1000}}) as broker:
                broker.start()
                broker.wait_for(event="store-backend-up")
                with contextlib.closing(harness.connect(port)) as kv:
                    self.assertEqual(line(kv, "set n 1"), "ok")
                    for sentinel in sentinels:
                        sentinel.stop(signal.SIGKILL)
                    broker.wait_for(event="store-sentinels-unreachable", timeout=30)
                    # The master is still there: calls go on, the backend is up.
                    self.assertEqual(line(kv, "set n 2"), "ok")
                    self.assertEqual(master.cli("GET", "sen:n"), "2")
                    self.assertEqual(broker.status()["broker"]["store"]["backend"]["state"], "up")
                    # Watched again with back-off: one warning, not one per attempt.
                    time.sleep(3)
                    self.assertEqual(len(broker.events(event="store-sentinels-unreachable")), 1)
                    self.assertEqual(line(kv, "get n"), "2")


class SentinelWithPasswordsTest(unittest.TestCase):
    """Sentinels that require a password, and data nodes whose ACL user the
    broker logs in as: both passwords come from root-only files, and a
    planned failover is followed."""

    def test_passwords_for_the_sentinels_and_the_nodes(self):
        acl = "user portbroker on >node-pass ~sen:* &sen:* +@all"
        with redis_nodes.Nodes() as nodes:
            master = nodes.server("master", extra=[acl])
            replica = nodes.server("replica", extra=[acl])
            self.assertEqual(replica.cli("REPLICAOF", "127.0.0.1", master.port), "OK")
            harness.wait_until(lambda: "master_link_status:up" in replica.cli("INFO", "replication"),
                               what="the replica to sync")
            sentinels = [nodes.sentinel(f"sentinel{i}", master.port, MASTER, password="sentinel-pass")
                         for i in range(3)]
            harness.wait_until(lambda: all("num-other-sentinels\n2" in s.cli("SENTINEL", "master", MASTER)
                                           for s in sentinels),
                               timeout=30, what="the sentinels to find each other")
            node_password = redis_nodes.write_secret(nodes.workdir, "node.pass", "node-pass")
            sentinel_password = redis_nodes.write_secret(nodes.workdir, "sentinel.pass", "sentinel-pass")
            port = harness.free_port()
            with harness.Broker({f"kv.tcp.{port}.port.js": KV}, config={"store": {
                    "sentinels": [f"127.0.0.1:{s.port}" for s in sentinels], "master": MASTER,
                    "user": "portbroker", "password_file": node_password,
                    "sentinel_password_file": sentinel_password, "prefix": "sen:", "timeout_ms": 1000}}) as broker:
                broker.start()
                broker.wait_for(event="store-backend-up")
                with contextlib.closing(harness.connect(port)) as kv:
                    self.assertEqual(line(kv, "set n 1"), "ok")
                    self.assertEqual(master.cli("GET", "sen:n"), "1")
                    self.assertEqual(sentinels[1].cli("SENTINEL", "failover", MASTER), "OK")
                    broker.wait_for(event="store-backend-failover", timeout=30)
                    harness.wait_until(lambda: line(kv, "set n 2") == "ok", timeout=20, what="writes to work")
                    self.assertEqual(replica.cli("GET", "sen:n"), "2")
                log = "\n".join(broker.lines)
                self.assertNotIn("node-pass", log)
                self.assertNotIn("sentinel-pass", log)


class OneSentinelTest(unittest.TestCase):
    """A master and one sentinel (quorum 1, no replica: nothing to fail over to)."""

    def test_sentinels_and_master_over_tls_with_a_client_certificate(self):
        """Every node speaks only TLS and wants a client certificate: the
        broker's relay asks the sentinels and dials the master with the
        config's `store.tls`; without the certificate both refuse it."""
        with redis_nodes.Nodes() as nodes:
            material = redis_nodes.make_tls_material(nodes.workdir)
            master = nodes.server("master", tls=material, tls_auth_clients=True)
            sentinel = nodes.sentinel("sentinel", master.port, MASTER, quorum=1, tls=material, tls_auth_clients=True)
            harness.wait_until(lambda: str(master.port) in sentinel.cli("SENTINEL", "get-master-addr-by-name", MASTER),
                               what="the sentinel to know its master")
            port = harness.free_port()
            store = {"sentinels": [f"127.0.0.1:{sentinel.port}"], "master": MASTER, "prefix": "sen:", "timeout_ms": 500}
            with harness.Broker({f"kv.tcp.{port}.port.js": KV}, config={"store": {**store, "tls": material}}) as broker:
                broker.start()
                up = broker.wait_for(event="store-backend-up")
                self.assertEqual(up.get("tls"), "true")
                self.assertEqual(broker.status()["broker"]["store"]["backend"]["address"], f"127.0.0.1:{master.port}")
                with contextlib.closing(harness.connect(port)) as kv:
                    self.assertEqual(line(kv, "set n 7"), "ok")
                self.assertEqual(master.cli("GET", "sen:n"), "7")
            # The CA alone: the sentinel refuses the handshake, and calls fail fast and clearly.
            with harness.Broker({f"kv.tcp.{port}.port.js": KV},
                                config={"store": {**store, "tls": {"ca": material["ca"]}}}) as broker:
                broker.start()
                down = broker.wait_for(event="store-backend-down")
                self.assertIn(f"127.0.0.1:{sentinel.port}", down["error"])
                with contextlib.closing(harness.connect(port)) as kv:
                    self.assertEqual(line(kv, "get n"), "error ERR_STORE_UNAVAILABLE")


    def test_a_master_demoted_behind_the_sentinels_back_fails_one_write_and_is_not_trusted(self):
        """The master turns replica without a failover (an operator's
        REPLICAOF; no replica for the sentinel to promote): the write that
        meets READONLY fails with it, then the relay asks the sentinel again,
        finds by ROLE that the address it names is no master, and calls fail
        as unavailable until it is one again; no worker restarts."""
        kv_with_messages = KV.replace("error ${err.code}", "error ${err.code ?? err.message}")
        with redis_nodes.Nodes() as nodes:
            master = nodes.server("master")
            sentinel = nodes.sentinel("sentinel", master.port, MASTER, quorum=1)
            harness.wait_until(lambda: str(master.port) in sentinel.cli("SENTINEL", "get-master-addr-by-name", MASTER),
                               what="the sentinel to know its master")
            port = harness.free_port()
            with harness.Broker({f"kv.tcp.{port}.port.js": kv_with_messages}, config={"store": {
                    "sentinels": [f"127.0.0.1:{sentinel.port}"], "master": MASTER, "prefix": "sen:",
                    "timeout_ms": 500}}) as broker:
                broker.start()
                broker.wait_for(event="store-backend-up")
                pid = broker.handler("kv")["worker"]["pid"]
                with contextlib.closing(harness.connect(port)) as kv:
                    self.assertEqual(line(kv, "set n 1"), "ok")
                    self.assertEqual(master.cli("REPLICAOF", "127.0.0.1", str(harness.free_port())), "OK")
                    self.assertEqual(line(kv, "set n 2"),
                                     "error shared store: READONLY You can't write against a read only replica.")
                    harness.wait_until(lambda: line(kv, "get n") == "error ERR_STORE_UNAVAILABLE",
                                       what="the relay to stop trusting the demoted master")
                    # Asked again, the sentinel still names it; its ROLE says otherwise, so it is not used.
                    backend = lambda: broker.status()["broker"]["store"]["backend"]
                    harness.wait_until(lambda: "it is a replica, not the master" in backend()["last_error"],
                                       what="the relay to try the address again and refuse it")
                    self.assertEqual(backend()["state"], "down")
                    self.assertEqual(line(kv, "get n"), "error ERR_STORE_UNAVAILABLE")
                    self.assertEqual(master.cli("REPLICAOF", "NO", "ONE"), "OK")
                    harness.wait_until(lambda: line(kv, "set n 3") == "ok", timeout=20, what="the master to be back")
                self.assertEqual(master.cli("GET", "sen:n"), "3")
                self.assertEqual(broker.handler("kv")["worker"]["pid"], pid)


if __name__ == "__main__":
    harness.main()
