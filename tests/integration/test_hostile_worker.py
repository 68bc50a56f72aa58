#!/usr/bin/env python3
"""A worker whose handler code took it over is an attacker. Each test runs a
broker whose worker executable is build/tests/portbroker-hostile-worker: for a
handler named hostile-<attack> it sends that attack over the supervisor
channel (after confining itself as a real worker does); other handlers get the
real worker. Whatever a worker sends, the supervisor must end that worker
only: it stays up, answers status, and every other handler keeps serving."""

import contextlib
import os
import json
import shutil
import unittest

from harness import (ADDRESS_SANITIZER, BIN, BUILD, Broker, connect, free_port, main, proc_status, recv_until,
                     wait_until)

HOSTILE = os.path.join(BUILD, "tests", "portbroker-hostile-worker")
ECHO = """export function handle(conn) {
  conn.on('data', (chunk) => conn.write(chunk));
}
"""
# The hostile worker never runs this; the real worker is not asked to.
HOSTILE_MODULE = "export function handle(conn) { conn.end(); }\n"


def hostile_bin_dir(tmp):
    """A copy of portbrokerd whose worker is the hostile stand-in (the
    supervisor finds its helpers beside its own executable)."""
    directory = os.path.join(tmp, "sbin")
    os.makedirs(directory)
    shutil.copy2(os.path.join(BIN, "portbrokerd"), directory)
    os.symlink(os.path.join(BIN, "portbroker-store"), os.path.join(directory, "portbroker-store"))
    os.symlink(HOSTILE, os.path.join(directory, "portbroker-worker"))
    return directory


class HostileWorkerTest(unittest.TestCase):
    def start(self, attacks, manifest=None):
        self.echo_port = free_port()
        files = {f"echo.tcp.{self.echo_port}.port.js": ECHO}
        for attack in attacks:
            port = free_port()
            files[f"hostile-{attack}.tcp.{port}.port.js"] = HOSTILE_MODULE
            if manifest is not None:
                files[f"hostile-{attack}.tcp.{port}.port.json"] = json.dumps(manifest)
        # Built in a temporary folder of its own, as Broker makes one too.
        broker = Broker(files=files, config={"worker": {"max_restarts": 1}})
        broker.daemon = os.path.join(hostile_bin_dir(broker.tmp), "portbrokerd")
        self.addCleanup(broker.close)
        broker.start()
        return broker

    def assert_echo_serves(self):
        with contextlib.closing(connect(self.echo_port)) as sock:
            sock.sendall(b"still here\n")
            self.assertEqual(recv_until(sock, b"\n"), b"still here\n")

    def assert_ended(self, broker, attack, reason):
        name = f"hostile-{attack}"
        line = broker.wait_for(event="worker-protocol-violation", handler=name)
        self.assertIn(reason, line["reason"])
        handler = wait_until(lambda: (lambda h: h if h["worker"]["last_exit"] else None)(broker.handler(name)),
                             what=f"{name} to have ended")
        self.assertIn("protocol violation", handler["worker"]["last_exit"])
        self.assertIn(reason, handler["worker"]["last_exit"])

    def test_certificate_request_with_a_number_for_a_name_ends_only_that_worker(self):
        # The audit's 36-byte message once made request.value() throw in the
        # root supervisor: every worker and the store died with it.
        broker = self.start(["json-name"])
        self.assert_ended(broker, "json-name", "malformed tls_certificate_request")
        self.assertIsNone(broker.process.poll(), "the supervisor must survive")
        self.assert_echo_serves()

    def test_certificate_requests_without_reading_the_answers_end_the_worker(self):
        # Each request is answered; a worker that never reads its answers
        # would make the supervisor queue them without bound.
        broker = self.start(["request-flood"])
        self.assert_ended(broker, "request-flood", "a second certificate request")
        # The refusals it caused are logged a few at a time, not once each.
        refused = broker.events(event="tls-certificate-refused", handler="hostile-request-flood")
        self.assertLess(len(refused), 100)
        self.assert_echo_serves()

    def test_messages_a_worker_may_not_send_end_it(self):
        attacks = {
            "unknown-type": "unexpected message type 999",
            "supervisor-type": "unexpected message type 2",
            "with-fd": "carrying file descriptors",
            "sandbox-twice": "a second sandbox report",
            "bad-stats": "malformed tls_stats",
        }
        broker = self.start(list(attacks))
        for attack, reason in attacks.items():
            with self.subTest(attack=attack):
                self.assert_ended(broker, attack, reason)
        self.assertIsNone(broker.process.poll())
        self.assert_echo_serves()

    def test_a_worker_that_stops_reading_is_ended_at_the_queue_cap(self):
        # It asks for name lookups its manifest does not allow and never
        # reads the answers: they fill its channel, then the supervisor's
        # queue for it, which ends the worker at its cap (8 MiB).
        broker = self.start(["deaf"], manifest={"connect": ["allowed.example:443"]})
        line = broker.wait_for(event="worker-queue-overflow", handler="hostile-deaf", timeout=60)
        self.assertIn("does not read its channel", line["reason"])
        handler = wait_until(lambda: (lambda h: h if h["worker"]["last_exit"] else None)(broker.handler("hostile-deaf")),
                             what="the deaf worker to have ended")
        self.assertIn("it stopped reading its channel", handler["worker"]["last_exit"])
        # What it did not read was let go: the supervisor's memory is its usual.
        rss_kib = int(proc_status(broker.process.pid)["VmRSS"].split()[0])
        print(f"supervisor RSS after the deaf worker: {rss_kib} KiB", flush=True)
        if not ADDRESS_SANITIZER:  # its shadow memory and quarantine are no figure of ours
            self.assertLess(rss_kib, 64 * 1024)
        self.assertIsNone(broker.process.poll())
        self.assert_echo_serves()

    def test_garbage_frames_end_the_worker(self):
        broker = self.start(["garbage"])
        self.assert_ended(broker, "garbage", "")
        self.assertIsNone(broker.process.poll())
        self.assert_echo_serves()

    def test_descriptor_floods_are_closed_not_kept(self):
        broker = self.start(["fd-flood"])
        # More descriptors than the receive has room for: the kernel
        # truncates, and the supervisor treats it as a broken channel.
        line = broker.wait_for(event="worker-channel-closed", handler="hostile-fd-flood")
        self.assertIn("Message too long", line["reason"])
        supervisor_fds = lambda: len(os.listdir(f"/proc/{broker.process.pid}/fd"))
        # Tens of thousands of descriptors were sent; the supervisor holds
        # none of them once the worker is gone (its restart holds a few).
        self.assertLess(supervisor_fds(), 100)
        self.assertIsNone(broker.process.poll())
        self.assert_echo_serves()

    def test_oversized_message_ends_the_worker(self):
        broker = self.start(["oversized"])
        line = broker.wait_for(event="worker-channel-closed", handler="hostile-oversized")
        self.assertIn("Message too long", line["reason"])
        self.assertIsNone(broker.process.poll())
        self.assert_echo_serves()

    def test_forged_log_lines_are_escaped_and_tagged_with_their_worker(self):
        broker = self.start(["forged-log"])
        forged = wait_until(lambda: [l for l in broker.lines if "reason=forged" in l], what="forged lines")
        for line in forged:
            # No raw escape or carriage return reaches the operator's terminal.
            self.assertNotIn("\x1b", line)
            self.assertNotIn("\r", line)
            self.assertIn("\\x1b[2J\\x0d", line)
            # The supervisor's provenance field comes last: no line can pass
            # for the supervisor's, or for another worker's.
            self.assertTrue(line.endswith("from=worker:hostile-forged-log"), line)
        # 20000 lines at once: the flood is cut and the cut is reported.
        dropped = broker.wait_for(event="log-lines-dropped", process="worker:hostile-forged-log")
        self.assertGreater(int(dropped["lines"]), 0)
        self.assertLess(len(forged), 20000)
        self.assert_echo_serves()


if __name__ == "__main__":
    main()
