#!/usr/bin/env python3
"""The broker's own resources bound what handlers may ask for: every TCP
connection holds one of the supervisor's descriptors, so connection caps are
held below its descriptor limit (with a reserve for its own needs), and one
handler's clients cannot take the descriptors every other handler needs."""

import contextlib
import unittest

from harness import Broker, connect, free_port, main, recv_until, wait_until

# Greets, so a client knows its connection was handed over.
HELLO = "export function handle(conn) { conn.write('hi\\n'); }\n"
LIMIT = 600  # RLIMIT_NOFILE of the broker under test; reserve 256, so 344 connections in all


class DescriptorLimitTest(unittest.TestCase):
    def test_connection_caps_stay_below_the_descriptor_limit(self):
        greedy, other = free_port(), free_port()
        broker = Broker(command_prefix=["prlimit", f"--nofile={LIMIT}:{LIMIT}", "--"])
        self.addCleanup(broker.close)
        broker.write(f"greedy.tcp.{greedy}.port.js", HELLO)
        broker.write(f"greedy.tcp.{greedy}.port.json", '{"maxConnections": 100000, "maxConnectionsPerIp": 100000}')
        broker.write(f"other.tcp.{other}.port.js", HELLO)
        broker.start()
        handler = broker.handler("greedy")
        ceiling = LIMIT - 256
        self.assertEqual(handler["policy"]["maxConnections"], ceiling)
        self.assertTrue(any("descriptor limit" in w for w in handler["access"]["warnings"]), handler["access"])
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for _ in range(ceiling - 20):
            sock = connect(greedy)
            self.assertEqual(recv_until(sock, b"\n"), b"hi\n")
            held.append(sock)
        # The other handler's clients still get the rest, and then the
        # broker refuses rather than running out of descriptors.
        accepted = 0
        for _ in range(40):
            sock = connect(other)
            sock.settimeout(5)
            try:
                if recv_until(sock, b"\n") == b"hi\n":
                    accepted += 1
                    held.append(sock)
                    continue
            except (AssertionError, ConnectionError, TimeoutError):
                pass
            sock.close()
        self.assertEqual(accepted, 20)
        refused = broker.handler("other")["refused_by"]["max-connections"]
        self.assertGreaterEqual(refused, 20)
        self.assertEqual(broker.events(event="accept-failed"), [])
        # Closing some makes room again.
        for sock in held[:10]:
            sock.close()
        del held[:10]

        def room_again():
            with contextlib.closing(connect(other)) as sock:
                sock.settimeout(5)
                try:
                    return recv_until(sock, b"\n") == b"hi\n"
                except (AssertionError, ConnectionError, TimeoutError):
                    return False
        wait_until(room_again, what="a connection to be accepted again")


if __name__ == "__main__":
    main()
