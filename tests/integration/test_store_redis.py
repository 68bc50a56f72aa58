#!/usr/bin/env python3
"""ctx.shared on a real Redis (Debian's redis-server, on a loopback port or a
Unix socket this test starts): handlers unchanged, values JSON text that
redis-cli reads on the server, keys and channels under the configured prefix
(a tenant's under its own), an ACL user whose password comes from a
root-only file, rediss:// with a CA, and outages: calls reject quickly with
ERR_STORE_UNAVAILABLE, nothing else is disturbed, status says since when and
why, one log line per change, and everything (subscriptions included) comes
back with the server, without a worker restart."""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
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
      const started = Date.now();
      try {
        if (op === "set") { await ctx.shared.set(key, JSON.parse(value)); conn.write("ok\\n"); }
        if (op === "get") conn.write(JSON.stringify(await ctx.shared.get(key) ?? null) + "\\n");
        if (op === "del") conn.write(String(await ctx.shared.delete(key)) + "\\n");
        if (op === "pub") conn.write(`delivered to ${await ctx.shared.publish(key, JSON.parse(value))}\\n`);
      } catch (err) {
        conn.write(`error ${err.code} ${Date.now() - started} ${err.message}\\n`);
      }
    }
  }
}
"""

LISTENER = """
export function handle(conn, ctx) {
  const unsubscribe = ctx.shared.subscribe("news", (message, channel) => {
    conn.write(`${channel}: ${message.text}\\n`);
  });
  conn.on("close", unsubscribe);
  unsubscribe.ready.then(() => conn.write("subscribed\\n"));
}
"""

GREET = 'export function handle(conn) { conn.end("hi\\n"); }\n'

ACL_USER = "user portbroker on >s3cret-pass ~pb:* &pb:* +@all -@dangerous +info +ping +select +scan +dbsize"


def line(sock, text):
    sock.sendall(text.encode() + b"\n")
    return harness.recv_until(sock, b"\n").decode().strip()


class StandaloneRedisTest(unittest.TestCase):
    """One redis-server over TCP with an ACL user limited to pb:* keys and
    channels, so anything the broker wrote unprefixed would be refused."""

    @classmethod
    def setUpClass(cls):
        cls.nodes = redis_nodes.Nodes()
        cls.redis = cls.nodes.server(extra=[ACL_USER])
        cls.secrets = tempfile.mkdtemp(prefix="portbroker-secret-")
        password = redis_nodes.write_secret(cls.secrets, "redis.pass", "s3cret-pass")
        os.makedirs(os.path.join(cls.secrets, "state"))
        cls.ports = {name: harness.free_port() for name in ("kv", "listener", "greet", "udp", "bob")}
        cls.bob_dir = tempfile.mkdtemp(prefix="portbroker-bob-")
        os.chmod(cls.bob_dir, 0o755)
        with open(os.path.join(cls.bob_dir, f"kv.tcp.{cls.ports['bob']}.port.js"), "w") as f:
            f.write(KV)
        cls.broker = harness.Broker({
            f"kv.tcp.{cls.ports['kv']}.port.js": KV,
            f"listener.tcp.{cls.ports['listener']}.port.js": LISTENER,
            f"greet.tcp.{cls.ports['greet']}.port.js": GREET,
        }, config={
            "store": {"url": f"redis://portbroker@127.0.0.1:{cls.redis.port}/0", "password_file": password,
                      "prefix": "pb:", "timeout_ms": 1000},
            "tenants": {"bob": {"handlers": cls.bob_dir, "ports": [f"{cls.ports['bob']}"]}},
            "state_dir": os.path.join(cls.secrets, "state"),
        })
        cls.broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{cls.ports['udp']}.port.js")
        try:
            cls.broker.start()
            cls.broker.wait_for(event="store-backend-up")
        except BaseException:
            cls.tearDownClass()  # unittest skips it when set-up fails
            raise

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        cls.nodes.close()
        shutil.rmtree(cls.secrets, ignore_errors=True)
        shutil.rmtree(cls.bob_dir, ignore_errors=True)

    def test_01_values_are_json_text_under_the_prefix_on_the_real_server(self):
        with contextlib.closing(harness.connect(self.ports["kv"])) as sock:
            self.assertEqual(line(sock, 'set user {"name":"ada","langs":["js","c"]}'), "ok")
            self.assertEqual(line(sock, "get user"), '{"name":"ada","langs":["js","c"]}')
            self.assertEqual(self.redis.cli("GET", "pb:user"), '{"name":"ada","langs":["js","c"]}')
            self.assertEqual(self.redis.cli("EXISTS", "user"), "0")
            # Written on the server, read by the handler.
            self.assertEqual(self.redis.cli("SET", "pb:from-cli", "[1,2,3]"), "OK")
            self.assertEqual(line(sock, "get from-cli"), "[1,2,3]")
            self.assertEqual(line(sock, "del user"), "true")
            self.assertEqual(line(sock, "del user"), "false")
            self.assertEqual(self.redis.cli("EXISTS", "pb:user"), "0")
        # The broker's own socket shows the same keys, without the prefix.
        self.assertEqual(self.broker.redis("GET", "from-cli"), "[1,2,3]")

    def test_02_the_udp_counter_counts_on_the_server(self):
        replies = [harness.udp_request(self.ports["udp"], b"ping") for _ in range(5)]
        self.assertEqual(replies, [f"pong #{n}\n".encode() for n in range(1, 6)])
        self.assertEqual(self.redis.cli("GET", "pb:count"), "5")

    def test_03_a_tenant_keeps_its_own_prefix(self):
        with contextlib.closing(harness.connect(self.ports["bob"])) as sock:
            self.assertEqual(line(sock, "set count 41"), "ok")
            self.assertEqual(line(sock, "get count"), "41")
        self.assertEqual(self.redis.cli("GET", "pb:bob:count"), "41")
        self.assertNotEqual(self.redis.cli("GET", "pb:count"), "41")
        # The tenant's socket scopes redis-cli the same way.
        tenant_sock = os.path.join(self.broker.run_dir, "tenants", "bob", "store.sock")
        self.assertEqual(redis_nodes.cli("GET", "count", socket_path=tenant_sock), "41")
        # redis-cli --scan (SCAN through the relay, MATCH under the prefix) sees bob's keys alone, by bob's names.
        self.assertEqual(self.redis.cli("SET", "pb:bob:count2", "1"), "OK")
        self.assertEqual(sorted(redis_nodes.cli("--scan", socket_path=tenant_sock).split()), ["count", "count2"])
        self.assertEqual(redis_nodes.cli("--scan", "--pattern", "*2", socket_path=tenant_sock), "count2")
        self.assertIn("bob:count", self.broker.redis("--scan", "--pattern", "bob:*").split())
        self.assertEqual(self.redis.cli("DEL", "pb:bob:count2"), "1")

    def test_04_pub_sub_crosses_the_server_with_the_prefix(self):
        with contextlib.closing(harness.connect(self.ports["listener"])) as listener, \
                contextlib.closing(harness.connect(self.ports["kv"])) as kv:
            self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
            self.assertEqual(line(kv, 'pub news {"text":"hello"}'), "delivered to 1")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: hello\n")
            # Published on the server itself (as another host's broker would).
            self.assertEqual(self.redis.cli("PUBLISH", "pb:news", '{"text":"from redis-cli"}'), "1")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: from redis-cli\n")
            self.assertEqual(self.redis.cli("PUBLISH", "news", '{"text":"unprefixed"}'), "0")

    def test_04b_the_relay_is_confined_as_the_embedded_store_is(self):
        # The relay speaks to Redis over sockets the supervisor connects and
        # passes; it runs unprivileged, under seccomp, without the host's
        # network (as root, where the broker can drop to its worker user).
        status = self.broker.status()["broker"]
        relay = status["store"]["pid"]
        fields = harness.proc_status(relay)
        self.assertEqual(fields["Seccomp"], "2")
        self.assertEqual(fields["NoNewPrivs"], "1")
        self.assertEqual(int(fields["CapEff"], 16), 0)
        if os.geteuid() == 0:
            self.assertEqual(fields["Uid"].split(), [str(status["worker_user"]["uid"])] * 4)
            self.assertNotEqual(os.readlink(f"/proc/{relay}/ns/net"), os.readlink(f"/proc/{self.broker.process.pid}/ns/net"))

    def test_05_status_names_the_backend_without_the_password(self):
        backend = self.broker.status()["broker"]["store"]["backend"]
        self.assertEqual(backend["kind"], "redis")
        self.assertEqual(backend["state"], "up")
        self.assertEqual(backend["server"], f"redis://portbroker@127.0.0.1:{self.redis.port}")
        self.assertEqual(backend["prefix"], "pb:")
        text = self.broker.ctl("status").stdout
        self.assertIn("relay to redis://portbroker@127.0.0.1", text)
        log = "\n".join(self.broker.lines)
        self.assertNotIn("s3cret-pass", log)
        store_pid = self.broker.status()["broker"]["store"]["pid"]
        for pid in (store_pid, self.broker.process.pid):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                self.assertNotIn(b"s3cret-pass", f.read())
            with open(f"/proc/{pid}/environ", "rb") as f:
                self.assertNotIn(b"s3cret-pass", f.read())
        self.assertNotIn("s3cret-pass", text)
        metrics = self.broker.ctl("metrics", check=False).stdout
        if metrics:
            self.assertIn('portbroker_store_backend_up{backend="redis"} 1', metrics)

    def test_06_an_outage_rejects_quickly_and_everything_returns(self):
        broker, redis = self.broker, self.redis
        workers = {name: broker.handler(name)["worker"]["pid"] for name in ("kv", "listener")}
        downs_before = len(broker.events(event="store-backend-down"))
        with contextlib.closing(harness.connect(self.ports["listener"])) as listener, \
                contextlib.closing(harness.connect(self.ports["kv"])) as kv:
            self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
            self.assertEqual(line(kv, "set before 1"), "ok")
            redis.stop(signal.SIGKILL)
            broker.wait_for(event="store-backend-down")

            # Calls reject within the bounded time, with the code.
            answer = line(kv, "get before").split(" ")
            self.assertEqual(answer[:2], ["error", "ERR_STORE_UNAVAILABLE"], answer)
            self.assertLess(int(answer[2]), 3000)  # bounded: no hang (the margin is for a loaded machine)
            answer = line(kv, "set after 2").split(" ")
            self.assertEqual(answer[:2], ["error", "ERR_STORE_UNAVAILABLE"], answer)
            # Handlers that do not touch the store serve as usual.
            self.assertEqual(harness.transcript(self.ports["greet"]), b"hi\n")
            backend = broker.status()["broker"]["store"]["backend"]
            self.assertEqual(backend["state"], "down")
            self.assertTrue(backend["since"].endswith("Z"))
            self.assertTrue(backend["last_error"])
            self.assertIn("DOWN since", broker.ctl("status").stdout)
            # Reconnection goes on quietly: a few attempts, still one log line.
            time.sleep(2.5)
            self.assertEqual(len(broker.events(event="store-backend-down")), downs_before + 1)

            redis.start()
            broker.wait_for(event="store-backend-up", timeout=20)
            harness.wait_until(lambda: line(kv, "set after 2") == "ok", what="ctx.shared to work again")
            self.assertEqual(redis.cli("GET", "pb:after"), "2")
            # The subscription was restored on the new server.
            harness.wait_until(lambda: redis.cli("PUBLISH", "pb:news", '{"text":"back"}') == "1",
                               what="the subscription to be restored")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: back\n")
        self.assertEqual(broker.status()["broker"]["store"]["backend"]["state"], "up")
        for name, pid in workers.items():
            self.assertEqual(broker.handler(name)["worker"]["pid"], pid)
            self.assertEqual(broker.handler(name)["worker"]["restarts"], 0)
        self.assertEqual(len(broker.events(event="store-backend-up")), 2)

    def test_07_the_relay_killed_comes_back_and_the_data_was_never_its(self):
        # The relay holds nothing of its own: killed, it is restarted, the
        # values are on the server, and subscriptions come back.
        broker = self.broker
        workers = {name: broker.handler(name)["worker"]["pid"] for name in ("kv", "listener")}
        relay = broker.status()["broker"]["store"]["pid"]
        with contextlib.closing(harness.connect(self.ports["listener"])) as listener, \
                contextlib.closing(harness.connect(self.ports["kv"])) as kv:
            self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
            self.assertEqual(line(kv, "set kept 7"), "ok")
            os.kill(relay, signal.SIGKILL)
            harness.wait_until(lambda: broker.status()["broker"]["store"]["pid"] not in (None, relay),
                               what="the relay restarted")
            harness.wait_until(lambda: line(kv, "get kept") == "7", what="ctx.shared through the new relay")
            harness.wait_until(lambda: self.redis.cli("PUBLISH", "pb:news", '{"text":"relayed"}') == "1",
                               what="the subscription through the new relay")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: relayed\n")
        for name, pid in workers.items():
            self.assertEqual(broker.handler(name)["worker"]["pid"], pid)
        self.assertGreaterEqual(broker.status()["broker"]["store"]["restarts"], 1)


def serve_kv(broker):
    """Starts `broker` with the KV handler on a free port, once its backend is up; returns the port."""
    port = harness.free_port()
    broker.write(f"kv.tcp.{port}.port.js", KV)
    broker.start()
    broker.wait_for(event="store-backend-up")
    return port


class ServerOfItsOwnTest(unittest.TestCase):
    """A redis-server for each test: a Unix socket, TLS, a server at its maxmemory."""

    def test_a_unix_socket_url(self):
        with redis_nodes.Nodes() as nodes, harness.Broker(config={
            "store": {"url": "placeholder", "prefix": "unix:"}}) as broker:
            redis = nodes.server()
            broker.config["store"]["url"] = f"unix://{redis.socket_path}"
            port = serve_kv(broker)
            with contextlib.closing(harness.connect(port)) as sock:
                self.assertEqual(line(sock, "set k [true]"), "ok")
            self.assertEqual(redis_nodes.cli("GET", "unix:k", socket_path=redis.socket_path), "[true]")

    def test_a_server_at_its_maxmemory_refuses_writes_with_its_error_and_serves_reads(self):
        with redis_nodes.Nodes() as nodes:
            redis = nodes.server(extra=["maxmemory-policy noeviction"])
            with harness.Broker(config={"store": {"url": f"redis://127.0.0.1:{redis.port}"}}) as broker:
                port = serve_kv(broker)
                with contextlib.closing(harness.connect(port)) as sock:
                    self.assertEqual(line(sock, "set small 1"), "ok")
                    # From outside: a 512 KiB value (-x: from stdin), then maxmemory just under what is used.
                    subprocess.run(["redis-cli", "-p", str(redis.port), "-x", "SET", "pb:filler"],
                                   input="x" * (512 << 10), capture_output=True, text=True, check=True, timeout=30)
                    used = int(redis.cli("INFO", "memory").split("used_memory:")[1].split()[0])
                    self.assertEqual(redis.cli("CONFIG", "SET", "maxmemory", str(used - (128 << 10))), "OK")
                    refused = line(sock, "set small 2")
                    self.assertTrue(refused.startswith("error undefined "), refused)
                    self.assertTrue(refused.endswith("shared store: OOM command not allowed when used memory > "
                                                     "'maxmemory'."), refused)
                    self.assertEqual(line(sock, "get small"), "1")
                    self.assertEqual(line(sock, "del small"), "true")  # deleting is allowed, as in Redis
                    self.assertEqual(redis.cli("DEL", "pb:filler"), "1")
                    self.assertEqual(line(sock, "set small 3"), "ok")
                self.assertEqual(broker.status()["broker"]["store"]["backend"]["state"], "up")
                self.assertEqual(broker.handler("kv")["worker"]["restarts"], 0)

    def test_rediss_with_a_ca(self):
        with redis_nodes.Nodes() as nodes:
            material = redis_nodes.make_tls_material(nodes.workdir)
            redis = nodes.server(tls=material)
            with harness.Broker(config={"store": {"url": f"rediss://127.0.0.1:{redis.port}",
                                                  "tls": {"ca": material["ca"]}}}) as broker:
                port = harness.free_port()
                broker.write(f"kv.tcp.{port}.port.js", KV)
                broker.start()
                up = broker.wait_for(event="store-backend-up")
                self.assertEqual(up.get("tls"), "true")
                with contextlib.closing(harness.connect(port)) as sock:
                    self.assertEqual(line(sock, 'set secret "over-tls"'), "ok")
                self.assertEqual(redis.cli("GET", "pb:secret"), '"over-tls"')

    def test_a_server_whose_certificate_the_ca_did_not_sign_is_refused(self):
        with redis_nodes.Nodes() as nodes:
            material = redis_nodes.make_tls_material(nodes.workdir)
            other = os.path.join(nodes.workdir, "other")
            os.makedirs(other)
            stranger = redis_nodes.make_tls_material(other)
            redis = nodes.server(tls=material)
            with harness.Broker(config={"store": {"url": f"rediss://127.0.0.1:{redis.port}",
                                                  "tls": {"ca": stranger["ca"]}, "timeout_ms": 500}}) as broker:
                port = harness.free_port()
                broker.write(f"kv.tcp.{port}.port.js", KV)
                broker.start()
                down = broker.wait_for(event="store-backend-down")
                self.assertIn("certificate", down["error"])
                with contextlib.closing(harness.connect(port)) as sock:
                    self.assertTrue(line(sock, "get x").startswith("error ERR_STORE_UNAVAILABLE"))


class WrongPasswordTest(unittest.TestCase):
    def test_a_refused_password_is_the_last_error_and_never_logged(self):
        with redis_nodes.Nodes() as nodes, harness.Broker() as broker:
            redis = nodes.server(extra=[ACL_USER])
            path = redis_nodes.write_secret(broker.tmp, "redis.pass", "not-the-pass")
            broker.config = {"store": {"url": f"redis://portbroker@127.0.0.1:{redis.port}", "password_file": path}}
            port = harness.free_port()
            broker.write(f"kv.tcp.{port}.port.js", KV)
            broker.start()
            down = broker.wait_for(event="store-backend-down")
            self.assertIn("AUTH refused", down["error"])
            backend = broker.status()["broker"]["store"]["backend"]
            self.assertEqual(backend["state"], "down")
            self.assertIn("AUTH refused", backend["last_error"])
            with contextlib.closing(harness.connect(port)) as sock:
                self.assertTrue(line(sock, "get x").startswith("error ERR_STORE_UNAVAILABLE"))
            self.assertNotIn("not-the-pass", "\n".join(broker.lines))


class SilentServerTest(unittest.TestCase):
    def test_a_server_that_stops_answering_fails_calls_within_the_timeout(self):
        with redis_nodes.Nodes() as nodes, harness.Broker() as broker:
            redis = nodes.server()
            broker.config = {"store": {"url": f"redis://127.0.0.1:{redis.port}", "timeout_ms": 500}}
            port = serve_kv(broker)
            with contextlib.closing(harness.connect(port)) as sock:
                self.assertEqual(line(sock, "set k 1"), "ok")
                # Paused: the connection stays open, nothing answers.
                redis.process.send_signal(signal.SIGSTOP)
                try:
                    answer = line(sock, "get k").split(" ")
                    self.assertEqual(answer[:2], ["error", "ERR_STORE_UNAVAILABLE"], answer)
                    self.assertLess(int(answer[2]), 3000)  # bounded: no hang (the margin is for a loaded machine)
                    down = broker.wait_for(event="store-backend-down")
                    self.assertIn("no reply within 500 ms", down["error"])
                finally:
                    redis.process.send_signal(signal.SIGCONT)
                broker.wait_for(event="store-backend-up", timeout=20)
                harness.wait_until(lambda: line(sock, "get k") == "1", what="ctx.shared to work again")


class RefusedConfigTest(unittest.TestCase):
    def test_a_password_file_others_can_read_stops_the_start(self):
        with harness.Broker() as broker:
            path = redis_nodes.write_secret(broker.tmp, "redis.pass", "pw")
            os.chmod(path, 0o644)
            broker.config = {"store": {"url": "redis://127.0.0.1:1", "password_file": path}}
            broker.start(wait_ready=False)
            failed = broker.wait_for(event="startup-failed")
            self.assertIn("/store/password_file", failed["reason"])
            self.assertNotIn("pw\n", failed["reason"])
            self.assertEqual(broker.process.wait(harness.DEFAULT_TIMEOUT), 1)


if __name__ == "__main__":
    harness.main()
