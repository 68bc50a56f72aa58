#!/usr/bin/env python3
"""Whoever writes the handlers folder is less trusted than the root
supervisor that reads it. Files there are opened beneath the folder
(openat2), non-blocking, checked on the descriptor read and read with a
bound: nothing a folder writer puts there can stall the supervisor or make
it read a file outside the folder."""

import contextlib
import os
import subprocess
import unittest

from harness import BIN, DEFAULT_TIMEOUT, Broker, connect, free_port, main, recv_until

ECHO = "export function handle(conn) { conn.on('data', (chunk) => conn.write(chunk)); }\n"


class FolderAttackTest(unittest.TestCase):
    def broker(self):
        broker = Broker()
        self.addCleanup(broker.close)
        self.echo_port = free_port()
        broker.write(f"echo.tcp.{self.echo_port}.port.js", ECHO)
        return broker

    def assert_echo_serves(self):
        with contextlib.closing(connect(self.echo_port)) as sock:
            sock.sendall(b"ping\n")
            self.assertEqual(recv_until(sock, b"\n"), b"ping\n")

    def test_fifo_named_as_a_manifest_does_not_hang_the_supervisor(self):
        broker = self.broker()
        port = free_port()
        broker.write(f"fifo.tcp.{port}.port.js", ECHO)
        os.mkfifo(os.path.join(broker.handlers, f"fifo.tcp.{port}.port.json"))
        broker.start()
        handler = broker.handler("fifo")
        self.assertEqual(handler["state"], "failed")
        self.assertIn(f"fifo.tcp.{port}.port.json: not a regular file", handler["reason"])
        with self.assertRaises(ConnectionRefusedError):
            connect(port).close()
        # A reload (another read of the same FIFO) returns too.
        broker.ctl("reload")
        self.assert_echo_serves()

    def test_manifest_symlink_leaving_the_folder_is_not_read(self):
        broker = self.broker()
        port = free_port()
        outside = os.path.join(broker.tmp, "outside.json")
        with open(outside, "w") as f:
            f.write('{"allow": ["10.0.0.0/8"]}')
        broker.write(f"linked.tcp.{port}.port.js", ECHO)
        os.symlink(outside, os.path.join(broker.handlers, f"linked.tcp.{port}.port.json"))
        # A relative link that stays inside the folder is fine (ConfigMap style).
        port2 = free_port()
        broker.write(f"inside.tcp.{port2}.port.js", ECHO)
        broker.write("data/inside.json", '{"maxConnections": 5}')
        os.symlink("data/inside.json", os.path.join(broker.handlers, f"inside.tcp.{port2}.port.json"))
        broker.start()
        handler = broker.handler("linked")
        self.assertEqual(handler["state"], "failed")
        self.assertIn("resolves outside its folder", handler["reason"])
        self.assertEqual(broker.handler("inside")["policy"]["maxConnections"], 5)

    def test_oversized_manifest_is_refused_unread(self):
        broker = self.broker()
        port = free_port()
        broker.write(f"big.tcp.{port}.port.js", ECHO)
        broker.write(f"big.tcp.{port}.port.json", '{"allow": [' + '"10.0.0.0/8",' * 10000 + '"10.0.0.0/8"]}')
        broker.start()
        self.assertIn("is larger than 65536 bytes", broker.handler("big")["reason"])
        self.assert_echo_serves()

    def test_fifo_named_as_the_config_is_refused_not_waited_on(self):
        broker = self.broker()
        fifo = os.path.join(broker.tmp, "config.json")
        os.mkfifo(fifo)
        result = subprocess.run([os.path.join(BIN, "portbrokerctl"), "check", "--config", fifo, broker.handlers],
                                capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
        self.assertIn("not a regular file", result.stdout + result.stderr)
        daemon = subprocess.run([os.path.join(BIN, "portbrokerd"), "--config", fifo, "--handlers", broker.handlers,
                                 "--run-dir", os.path.join(broker.tmp, "run"), "--no-firewall"],
                                capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
        self.assertEqual(daemon.returncode, 1)
        self.assertIn("not a regular file", daemon.stderr)


if __name__ == "__main__":
    main()
