"""The spec's UDP counter and ctx.shared across datagrams, connections,
handlers (separate worker processes) and redis-cli."""

import contextlib
import os
import signal
import socket
import time
import unittest

import harness

LISTENER = """
export function handle(conn, ctx) {
  const unsubscribe = ctx.shared.subscribe("news", (message, channel) => {
    conn.write(`${channel}: ${message.text} #${message.n}\\n`);
  });
  conn.on("close", unsubscribe);
  unsubscribe.ready.then(() => conn.write("subscribed\\n"));
}
"""

ANNOUNCER = """
export async function handle(conn, ctx) {
  conn.setEncoding("utf8");
  let n = 0;
  for await (const chunk of conn) {
    for (const line of chunk.split("\\n").filter(Boolean)) {
      const delivered = await ctx.shared.publish("news", { text: line, n: ++n });
      conn.write(`delivered to ${delivered}\\n`);
    }
  }
}
"""

KV = """
export async function handle(conn, ctx) {
  conn.setEncoding("utf8");
  for await (const chunk of conn) {
    const [op, key, value] = chunk.trim().split(" ");
    if (op === "set") { await ctx.shared.set(key, JSON.parse(value)); conn.write("ok\\n"); }
    if (op === "get") conn.write(JSON.stringify(await ctx.shared.get(key) ?? null) + "\\n");
    if (op === "missing") conn.write(String(await ctx.shared.get(key)) + "\\n");
    if (op === "del") conn.write(String(await ctx.shared.delete(key)) + "\\n");
  }
}
"""


class UdpCounterTest(unittest.TestCase):
    def test_counts_across_datagrams_and_two_handlers_sharing_the_store(self):
        first, second = harness.free_port(), harness.free_port()
        with harness.Broker() as broker:
            broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{first}.port.js")
            broker.copy_example("ping.udp.9000.port.js", f"pong.udp.{second}.port.js")
            broker.start()
            replies = [harness.udp_request(port, b"ping") for port in (first, first, second, first, second)]
            self.assertEqual(replies, [b"pong #1\n", b"pong #2\n", b"pong #3\n", b"pong #4\n", b"pong #5\n"])
            # An IPv6 source too; the reply comes back from the handler's port.
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
                sock.settimeout(5)
                sock.sendto(b"ping", ("::1", second))
                data, source = sock.recvfrom(100)
            self.assertEqual(data, b"pong #6\n")
            self.assertEqual(source[1], second)
            # redis-cli reads what ctx.shared.set wrote (JSON text).
            self.assertEqual(broker.redis("GET", "count"), "6")
            status = broker.handler("ping")
            self.assertEqual(status["datagrams"]["received"], 3)
            self.assertEqual(status["datagrams"]["replied"], 3)


# Subscribes to one channel more than the store allows a client (10,000),
# then reports how each subscription's `ready` settled, and whether the
# channels it holds still work.
GREEDY = """
export async function handle(conn, ctx) {
  const all = [];
  for (let i = 0; i <= 10000; i++) all.push(ctx.shared.subscribe(`ch${i}`, () => {}));
  const settled = await Promise.allSettled(all.map((unsubscribe) => unsubscribe.ready));
  const refused = settled.filter((s) => s.status === "rejected");
  const got = new Promise((resolve) => ctx.shared.subscribe("ch0", resolve));
  await ctx.shared.publish("ch0", "still here");
  conn.end(`${settled.length - refused.length} ${refused.length} ${refused[0]?.reason.message} ${await got}\n`);
}
"""


class SharedStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ports = {name: harness.free_port() for name in ("listener", "announcer", "kv", "greedy")}
        cls.broker = harness.Broker({
            f"listener.tcp.{cls.ports['listener']}.port.js": LISTENER,
            f"announcer.tcp.{cls.ports['announcer']}.port.js": ANNOUNCER,
            f"kv.tcp.{cls.ports['kv']}.port.js": KV,
            f"greedy.tcp.{cls.ports['greedy']}.port.js": GREEDY,
        })
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def kv(self, sock, line):
        sock.sendall(line.encode() + b"\n")
        return harness.recv_until(sock, b"\n").decode().strip()

    def test_values_round_trip_as_json_and_redis_cli_sees_them(self):
        with contextlib.closing(harness.connect(self.ports["kv"])) as sock:
            self.assertEqual(self.kv(sock, 'set user {"name":"ada","langs":["js","c"]}'), "ok")
            self.assertEqual(self.kv(sock, "get user"), '{"name":"ada","langs":["js","c"]}')
            self.assertEqual(self.kv(sock, "missing nothing-here"), "undefined")
            self.assertEqual(self.broker.redis("GET", "user"), '{"name":"ada","langs":["js","c"]}')
            # Written from redis-cli, read by the handler.
            self.assertEqual(self.broker.redis("SET", "from-cli", "[1,2,3]"), "OK")
            self.assertEqual(self.kv(sock, "get from-cli"), "[1,2,3]")
            self.assertEqual(self.kv(sock, "del user"), "true")
            self.assertEqual(self.kv(sock, "del user"), "false")

    def test_a_refused_subscription_rejects_its_ready_with_the_stores_reason(self):
        # Before, the refusal was dropped: `ready` never settled.
        with contextlib.closing(harness.connect(self.ports["greedy"])) as sock:
            self.assertEqual(harness.recv_until(sock, b"\n").decode().strip(),
                             "10000 1 ctx.shared: subscribe failed (ERR max subscriptions per client reached (10000)) "
                             "still here")

    def test_publish_subscribe_between_two_handlers(self):
        with contextlib.closing(harness.connect(self.ports["listener"])) as listener, \
                contextlib.closing(harness.connect(self.ports["announcer"])) as announcer:
            self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
            announcer.sendall(b"hello\n")
            self.assertEqual(harness.recv_until(announcer, b"\n"), b"delivered to 1\n")
            self.assertEqual(harness.recv_until(listener, b"\n"), b"news: hello #1\n")
            # A second subscriber (another connection, same handler) shares the
            # handler's one store subscription.
            with contextlib.closing(harness.connect(self.ports["listener"])) as second:
                self.assertEqual(harness.recv_until(second, b"\n"), b"subscribed\n")
                announcer.sendall(b"again\n")
                self.assertEqual(harness.recv_until(announcer, b"\n"), b"delivered to 1\n")
                self.assertEqual(harness.recv_until(listener, b"\n"), b"news: again #2\n")
                self.assertEqual(harness.recv_until(second, b"\n"), b"news: again #2\n")
        # Both listeners gone: the handler unsubscribed from the store.
        deadline = time.monotonic() + 5
        while self.broker.redis("PUBLISH", "news", '{"text":"x","n":0}') != "0":
            self.assertLess(time.monotonic(), deadline, "subscription outlived its connections")
            time.sleep(0.05)


class StoreRestartTest(unittest.TestCase):
    """A store that dies is restarted; running workers get new connections,
    their commands work again and their subscriptions resume."""

    def test_workers_reconnect_and_resubscribe_after_the_store_restarts(self):
        ports = {name: harness.free_port() for name in ("listener", "kv")}
        with harness.Broker({
            f"listener.tcp.{ports['listener']}.port.js": LISTENER,
            f"kv.tcp.{ports['kv']}.port.js": KV,
        }) as broker:
            broker.start()
            with contextlib.closing(harness.connect(ports["listener"])) as listener:
                self.assertEqual(harness.recv_until(listener, b"\n"), b"subscribed\n")
                old_store = broker.status()["broker"]["store"]["pid"]
                os.kill(old_store, signal.SIGKILL)
                for handler in ("listener", "kv"):
                    broker.wait_for(event="store-reconnected", handler=handler)
                deadline = time.monotonic() + harness.DEFAULT_TIMEOUT
                while (store := broker.status()["broker"]["store"])["pid"] in (None, old_store):
                    self.assertLess(time.monotonic(), deadline, "the store was not restarted")
                    time.sleep(0.05)
                self.assertEqual(store["restarts"], 1)
                # The restarted store starts empty, and commands work again.
                with contextlib.closing(harness.connect(ports["kv"])) as sock:
                    sock.sendall(b"set after 7\n")
                    self.assertEqual(harness.recv_until(sock, b"\n"), b"ok\n")
                self.assertEqual(broker.redis("GET", "after"), "7")
                # The connection subscribed before the restart hears what is
                # published once the subscription is renewed.
                deadline = time.monotonic() + harness.DEFAULT_TIMEOUT
                while broker.redis("PUBLISH", "news", '{"text":"back","n":1}') != "1":
                    self.assertLess(time.monotonic(), deadline, "the subscription was not renewed")
                    time.sleep(0.05)
                self.assertEqual(harness.recv_until(listener, b"\n"), b"news: back #1\n")
            self.assertEqual(broker.handler("listener")["worker"]["restarts"], 0)


class DroppedStoreLinkTest(unittest.TestCase):
    """The store may drop one worker's connection (here: a request past its
    8 MiB bulk limit is a protocol error, and the store hangs up). The worker
    asks the supervisor for new connections; its ctx.shared works again and
    its subscriptions resume, without a restart."""

    def test_a_worker_whose_store_link_is_dropped_gets_new_connections(self):
        ports = {name: harness.free_port() for name in ("kv", "listener")}
        big = KV.replace('if (op === "del")',
                         'if (op === "big") { try { await ctx.shared.set(key, "x".repeat(9 * 1024 * 1024)); '
                         'conn.write("stored\\n"); } catch (e) { conn.write("refused\\n"); } }\n    if (op === "del")')
        with harness.Broker({
            f"kv.tcp.{ports['kv']}.port.js": big,
            f"listener.tcp.{ports['listener']}.port.js": LISTENER,
        }) as broker:
            broker.start()
            pid = broker.handler("kv")["worker"]["pid"]
            with contextlib.closing(harness.connect(ports["kv"])) as sock:
                sock.sendall(b"set before 1\n")
                self.assertEqual(harness.recv_until(sock, b"\n"), b"ok\n")
                sock.sendall(b"big huge\n")
                self.assertEqual(harness.recv_until(sock, b"\n"), b"refused\n")
                broker.wait_for(event="store-reconnected", handler="kv")

                def works_again():
                    sock.sendall(b"get before\n")
                    return harness.recv_until(sock, b"\n") == b"1\n"
                harness.wait_until(works_again, what="ctx.shared to work again")
            self.assertEqual(broker.handler("kv")["worker"]["pid"], pid)
            self.assertEqual(broker.handler("kv")["worker"]["restarts"], 0)
            # The other handler's link was never touched.
            self.assertEqual(len(broker.events(event="store-reconnected", handler="listener")), 0)


if __name__ == "__main__":
    harness.main()
