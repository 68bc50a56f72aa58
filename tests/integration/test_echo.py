"""The spec's echo handler, unchanged, through real TCP sockets."""

import concurrent.futures
import contextlib
import time
import unittest

import harness


class EchoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = harness.free_port()
        cls.broker = harness.Broker()
        cls.broker.copy_example("echo.tcp.7000.port.js", f"echo.tcp.{cls.port}.port.js")
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def greeting(self, sock):
        expected = f"hello from :{self.port}\n".encode()
        self.assertEqual(harness.recv_exactly(sock, len(expected)), expected)

    def test_greets_and_echoes(self):
        with contextlib.closing(harness.connect(self.port)) as sock:
            self.greeting(sock)
            sock.sendall(b"ping\n")
            self.assertEqual(harness.recv_exactly(sock, 5), b"ping\n")

    def test_utf8_character_split_across_writes_echoes_whole(self):
        text = "héllo wörld 😀\n".encode()
        with contextlib.closing(harness.connect(self.port)) as sock:
            self.greeting(sock)
            # Split inside 'é' and inside the emoji, with pauses so they arrive as separate reads.
            for piece in (text[:2], text[2:16], text[16:]):
                sock.sendall(piece)
                time.sleep(0.05)
            self.assertEqual(harness.recv_exactly(sock, len(text)).decode(), "héllo wörld 😀\n")

    def test_ipv6_client(self):
        with contextlib.closing(harness.connect(self.port, "::1")) as sock:
            self.greeting(sock)
            sock.sendall(b"v6\n")
            self.assertEqual(harness.recv_exactly(sock, 3), b"v6\n")

    def test_peer_half_close_ends_the_connection(self):
        with contextlib.closing(harness.connect(self.port)) as sock:
            self.greeting(sock)
            sock.sendall(b"last\n")
            sock.shutdown(harness.socket.SHUT_WR)
            # allowHalfOpen is false, as in Node: the handler's side ends too.
            self.assertEqual(harness.recv_all(sock), b"last\n")

    def test_hundred_concurrent_clients(self):
        def client(i):
            with contextlib.closing(harness.connect(self.port)) as sock:
                self.greeting(sock)
                message = f"client {i}\n".encode()
                sock.sendall(message)
                return harness.recv_exactly(sock, len(message)) == message

        with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(client, range(100)))
        self.assertEqual(results.count(True), 100)
        handler = self.broker.handler("echo")
        self.assertGreaterEqual(handler["connections"]["accepted"], 100)

    def test_connections_are_counted_until_closed(self):
        sockets = [harness.connect(self.port) for _ in range(3)]
        for sock in sockets:
            self.greeting(sock)
        self.assertGreaterEqual(self.broker.handler("echo")["connections"]["active"], 3)
        for sock in sockets:
            sock.close()
        deadline = time.monotonic() + 5
        while self.broker.handler("echo")["connections"]["active"] != 0:
            self.assertLess(time.monotonic(), deadline, "closed connections still counted as active")
            time.sleep(0.05)


if __name__ == "__main__":
    harness.main()
