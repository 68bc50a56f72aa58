"""UDP abuse through the built binaries (userspace screening, loopback only):
a handler that answers with far more than it was sent cannot amplify past the
reply budget (3x the bytes received by default) or the handler's reply rate,
and a flood of one-datagram sources does not push out a client's session.
Drops are counted by reason in status."""

import contextlib
import json
import os
import signal
import socket
import time
import unittest

import harness

# 100 replies the size of each datagram (100x what was sent), and one to a
# port that never sent anything.
AMPLIFY = """
export function message(msg, rinfo, ctx) {
  for (let i = 0; i < 100; i++) ctx.reply(msg, rinfo);
  ctx.reply(msg, { address: rinfo.address, port: rinfo.port === 65535 ? 1 : rinfo.port + 1 });
}
"""

# One reply 100 times the size of the datagram.
BIG = """
export function message(msg, rinfo, ctx) { ctx.reply(new Uint8Array(msg.length * 100), rinfo); }
"""

# 200 small replies per datagram, within a generous budget.
BURST = """
export function message(msg, rinfo, ctx) {
  for (let i = 0; i < 200; i++) ctx.reply(msg.subarray(0, 10), rinfo);
}
"""

# Answers "hello" at once and "later" after a while; never answers anything else.
SLOW = """
export function message(msg, rinfo, ctx) {
  const text = msg.toString();
  if (text === "hello") ctx.reply("hi", rinfo);
  else if (text === "later") setTimeout(() => ctx.reply("done", rinfo), 3000);
}
"""


def receive_all(sock, quiet=1.0, deadline=10.0):
    """Every datagram until none came for `quiet` seconds."""
    sock.settimeout(quiet)
    received = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        received.append(data)
    return received


def udp_client(source="127.0.0.1"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    return sock


class UdpAbuseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        names = ("amplify", "big", "burst", "slow", "sink")
        cls.port = {name: harness.free_port() for name in names}
        p = cls.port
        # A small session table, so that a flood of a few hundred sources
        # overflows it.
        cls.broker = harness.Broker({
            f"amplify.udp.{p['amplify']}.port.js": AMPLIFY,
            f"big.udp.{p['big']}.port.js": BIG,
            f"burst.udp.{p['burst']}.port.js": BURST,
            f"burst.udp.{p['burst']}.port.json": json.dumps({"replyRatio": 1000, "maxReplyRate": 20}),
            f"slow.udp.{p['slow']}.port.js": SLOW,
            f"sink.udp.{p['sink']}.port.js": "export function message() {}\n",
        }, config={"screening": {"max_tracked_sources": 16}})
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def datagrams(self, name):
        return self.broker.handler(name)["datagrams"]

    def wait_for_replies(self, name, total):
        """Status once the supervisor has decided on `total` replies."""
        def decided():
            d = self.datagrams(name)
            return d if d["replied"] + d["reply_failed"] + d["reply_refused"] >= total else None
        return harness.wait_until(decided, what=f"{total} replies of {name} decided")

    def test_reply_amplification_is_capped_at_three_times_what_was_sent(self):
        sent = 0
        with contextlib.closing(udp_client()) as sock:
            for _ in range(10):
                payload = b"q" * 100
                sock.sendto(payload, ("127.0.0.1", self.port["amplify"]))
                sent += len(payload)
                time.sleep(0.01)
            replies = receive_all(sock)
        received = sum(len(r) for r in replies)
        self.assertLessEqual(received, 3 * sent)
        self.assertGreaterEqual(received, sent, "replies within the budget still arrive")
        d = self.wait_for_replies("amplify", 10 * 101)
        self.assertEqual(d["replied"], 30)
        self.assertEqual(d["reply_refused_by"]["amplification"], 970)
        self.assertEqual(d["reply_refused_by"]["no-session"], 10)
        self.assertEqual(d["reply_refused_by"]["rate"], 0)
        self.assertEqual(d["reply_refused"], 980)
        policy = self.broker.handler("amplify")["policy"]
        self.assertEqual(policy["replyRatio"], 3)
        self.assertEqual(policy["maxReplyRate"], 10000)
        self.assertEqual(policy["rateLimit"], [{"perIp": 1000, "window": 1}])

    def test_one_reply_larger_than_the_budget_is_dropped(self):
        with contextlib.closing(udp_client()) as sock:
            sock.sendto(b"x" * 50, ("127.0.0.1", self.port["big"]))
            self.assertEqual(receive_all(sock), [])
        d = self.wait_for_replies("big", 1)
        self.assertEqual(d["replied"], 0)
        self.assertEqual(d["reply_refused_by"]["amplification"], 1)

    def test_reply_rate_caps_the_handler(self):
        with contextlib.closing(udp_client()) as sock:
            sock.sendto(b"y" * 100, ("127.0.0.1", self.port["burst"]))
            replies = receive_all(sock)
        d = self.wait_for_replies("burst", 200)
        # A burst of 20, and 20 more a second while the batch goes out.
        self.assertLessEqual(len(replies), 30)
        self.assertLessEqual(d["replied"], 30)
        self.assertGreaterEqual(d["reply_refused_by"]["rate"], 170)
        self.assertEqual(d["reply_refused_by"]["amplification"], 0)
        self.assertEqual(d["replied"] + d["reply_refused"] + d["reply_failed"], 200)
        policy = self.broker.handler("burst")["policy"]
        self.assertEqual(policy["replyRatio"], 1000)
        self.assertEqual(policy["maxReplyRate"], 20)

    def test_udp_session_flood_does_not_push_out_an_established_client(self):
        port = self.port["slow"]
        with contextlib.closing(udp_client()) as client:
            client.settimeout(10)
            client.sendto(b"hello", ("127.0.0.1", port))
            self.assertEqual(client.recvfrom(100)[0], b"hi")
            client.sendto(b"later", ("127.0.0.1", port))
            # 300 sources, one datagram each, in a table of 16 sessions,
            # before the handler answers "later". In rounds of 50, each
            # counted before the next: 300 at once could overflow the
            # socket's receive buffer while a slow (sanitizer) supervisor
            # catches up, and what the kernel drops is never received.
            for start in range(0, 300, 50):
                for i in range(start, start + 50):
                    with contextlib.closing(udp_client(f"127.1.{i // 250}.{i % 250 + 1}")) as spoofed:
                        spoofed.sendto(b"x", ("127.0.0.1", port))
                harness.wait_until(lambda: self.datagrams("slow")["received"] >= 2 + start + 50,
                                   what=f"the flood's first {start + 50} datagrams received")
            self.assertEqual(client.recvfrom(100)[0], b"done")
        d = self.datagrams("slow")
        self.assertEqual(d["reply_refused_by"]["no-session"], 0)
        self.assertEqual(d["replied"], 2)

    def test_what_the_kernel_drops_while_the_supervisor_cannot_read_is_counted(self):
        # The supervisor stopped (it is this test's own process to stop): the
        # socket's receive buffer fills and the kernel drops the rest, which
        # status and metrics now show beside the broker's own counts.
        port = self.port["sink"]
        before = self.datagrams("sink")
        self.assertEqual(before["kernel_dropped"], 0)
        os.kill(self.broker.process.pid, signal.SIGSTOP)
        try:
            with contextlib.closing(udp_client()) as client:
                for _ in range(3000):
                    client.sendto(b"x" * 1000, ("127.0.0.1", port))
        finally:
            os.kill(self.broker.process.pid, signal.SIGCONT)
        d = self.datagrams("sink")
        self.assertGreater(d["kernel_dropped"], 0)
        self.assertLessEqual(d["received"] - before["received"] + d["kernel_dropped"], 3000)
        metrics = self.broker.ctl("metrics").stdout
        self.assertIn(f'handler="sink",protocol="udp",port="{port}",outcome="kernel_dropped"}} {d["kernel_dropped"]}',
                      metrics)


if __name__ == "__main__":
    harness.main()
