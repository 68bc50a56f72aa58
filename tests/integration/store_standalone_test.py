#!/usr/bin/env python3
"""portbroker-store on its own: this script plays the supervisor's part (binds a
Unix socket, passes it as an inherited fd), then drives the store with redis-cli
and raw sockets. Malformed, oversized and slow clients must get an error or a
closed connection while every other client keeps being served. Tenants'
scopes too: the script binds their sockets and sends them over the store's
control channel (a SOCK_SEQPACKET pair, fds as SCM_RIGHTS), as the
supervisor's StoreService does."""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BUILD_DIR = os.environ.get("PORTBROKER_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
STORE = os.path.join(BUILD_DIR, "bin", "portbroker-store")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (beside this file)

# A client's wait for a reply. Sanitizer builds (Debug, every access checked)
# parse 48 MiB of PUBLISH several times slower than the 10 s a normal one needs.
CLIENT_TIMEOUT = 40 if harness.SANITIZERS else 10
REDIS_CLI = shutil.which("redis-cli")
MiB = 1024 * 1024


def bind_listener(path):
    """A listening Unix socket at `path`, owner-only."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old_mask)
    os.chmod(path, 0o600)
    listener.listen(64)
    return listener


class Store:
    """One portbroker-store process serving <dir>/store.sock (and, with a
    control channel, the scopes it is sent)."""

    def __init__(self, directory, *extra_args, control=False):
        self.directory = directory
        self.path = os.path.join(directory, "store.sock")
        listener = bind_listener(self.path)
        self.log_lines = []
        args = [STORE, "--listen-fd", str(listener.fileno()), "--log-level", "debug", *extra_args]
        pass_fds = [listener.fileno()]
        self.control = None
        if control:
            self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            args += ["--control-fd", str(theirs.fileno())]
            pass_fds.append(theirs.fileno())
        self.process = subprocess.Popen(args, pass_fds=pass_fds, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        listener.close()
        if control:
            theirs.close()
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()
        self.wait_for_log("event=store-ready")

    def _read_log(self):
        for line in self.process.stderr:
            self.log_lines.append(line.rstrip("\n"))

    def wait_for_log(self, fragment, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(fragment in line for line in self.log_lines):
                return
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no log line with {fragment!r}; log:\n" + "\n".join(self.log_lines))

    def count_log(self, fragment):
        return sum(fragment in line for line in self.log_lines)

    def cli(self, *args, path=None):
        result = subprocess.run([REDIS_CLI, "-s", path or self.path, *args], capture_output=True, text=True,
                                timeout=10)
        return result.stdout.rstrip("\n")

    def connect(self, path=None):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(CLIENT_TIMEOUT)
        client.connect(path or self.path)
        return client

    # The control channel (ipc/messages.h): store_scope = 201 (name, u64
    # max_bytes; fd: the listener), store_scope_remove = 202 (name).
    def send_control(self, message, fds=()):
        socket.send_fds(self.control, [message], list(fds))

    def add_scope(self, name, max_bytes, listener=None):
        """Sends a scope (with its listener when new) and waits until the store has it."""
        event = "store-scope-added" if listener is not None else "store-scope-updated"
        before = self.count_log(f"event={event}")
        self.send_control(scope_message(name, max_bytes), [listener.fileno()] if listener is not None else [])
        deadline = time.monotonic() + 10
        while self.count_log(f"event={event}") == before:
            check(time.monotonic() < deadline, f"the store did not take scope {name}:\n" + "\n".join(self.log_lines))
            time.sleep(0.02)

    def remove_scope(self, name):
        before = self.count_log("event=store-scope-removed")
        self.send_control(struct.pack("<HI", 202, len(name)) + name.encode())
        deadline = time.monotonic() + 10
        while self.count_log("event=store-scope-removed") == before:
            check(time.monotonic() < deadline, f"the store did not remove scope {name}")
            time.sleep(0.02)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=10)
        self.reader.join(timeout=5)
        return code


def scope_message(name, max_bytes):
    name = name.encode() if isinstance(name, str) else name
    return struct.pack("<HI", 201, len(name)) + name + struct.pack("<Q", max_bytes)


def command(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else arg.encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def receive_exactly(client, length):
    data = bytearray()
    while len(data) < length:
        chunk = client.recv(min(length - len(data), 1 << 20))
        if not chunk:
            raise AssertionError(f"connection closed after {len(data)} of {length} bytes")
        data += chunk
    return bytes(data)


def receive_until_closed(client):
    data = bytearray()
    try:
        while True:
            chunk = client.recv(65536)
            if not chunk:
                return bytes(data)
            data += chunk
    except ConnectionResetError:
        return bytes(data)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def test_redis_cli(store):
    expect_equal(store.cli("SET", "count", "3"), "OK", "SET")
    expect_equal(store.cli("GET", "count"), "3", "GET")
    expect_equal(store.cli("SET", "name", "bob"), "ERR value is not valid JSON", "SET non-JSON")
    expect_equal(store.cli("SET", "name", '"bob"'), "OK", "SET JSON string")
    expect_equal(store.cli("GET", "name"), '"bob"', "GET JSON string")
    expect_equal(store.cli("SET", "name", '"x"', "NX"), "", "SET NX on an existing key")
    expect_equal(sorted(store.cli("KEYS", "*").split("\n")), ["count", "name"], "KEYS")
    expect_equal(store.cli("EXISTS", "count", "name", "nope"), "2", "EXISTS")
    expect_equal(store.cli("DBSIZE"), "2", "DBSIZE")
    expect_equal(store.cli("DEL", "name", "nope"), "1", "DEL")
    expect_equal(store.cli("PING"), "PONG", "PING")
    expect_equal(store.cli("FLUSHALL"), "ERR unknown command 'FLUSHALL', with args beginning with: ",
                 "unknown command")
    expect_equal(store.cli("GET"), "ERR wrong number of arguments for 'get' command", "arity")
    info = store.cli("INFO")
    for fragment in ("# Server", "# Clients", "connected_clients:1", "# Memory", "used_memory:",
                     "maxmemory:268435456", "# Keyspace", "db0:keys=1"):
        check(fragment in info, f"INFO lacks {fragment!r}:\n{info}")
    # One key and one client: hundreds of bytes (the client's fixed cost
    # depends on the connection layer's structures, so no exact figure).
    used = int(re.search(r"^used_memory:(\d+)", info, re.M).group(1))
    check(300 <= used <= 2000, f"INFO used_memory {used} is not about one key and one client:\n{info}")


def test_pubsub(store):
    subscriber = store.connect()
    subscriber.sendall(command("SUBSCRIBE", "news"))
    expect_equal(receive_exactly(subscriber, 33), b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", "SUBSCRIBE")
    expect_equal(store.cli("PUBLISH", "news", '{"n":1}'), "1", "PUBLISH count")
    expected = b'*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$7\r\n{"n":1}\r\n'
    expect_equal(receive_exactly(subscriber, len(expected)), expected, "delivered message")
    subscriber.sendall(command("GET", "count") + command("PING"))
    refusal = (b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
               b"are allowed in this context\r\n")
    pong = b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    expect_equal(receive_exactly(subscriber, len(refusal) + len(pong)), refusal + pong, "subscribe mode")
    subscriber.sendall(command("QUIT"))
    expect_equal(receive_until_closed(subscriber), b"+OK\r\n", "QUIT")
    subscriber.close()
    expect_equal(store.cli("PUBLISH", "news", "1"), "0", "PUBLISH after the subscriber left")


def test_half_close_still_gets_replies(store):
    client = store.connect()
    client.sendall(b"PING\r\nGET count\r\n")
    client.shutdown(socket.SHUT_WR)
    expect_equal(receive_until_closed(client), b"+PONG\r\n$1\r\n3\r\n", "replies after half-close")
    client.close()


def test_protocol_errors_close_only_that_client(store):
    bystander = store.connect()
    cases = [
        (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length 'abc'\r\n"),
        (b"*1\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
        (b"*1\r\n$3\r\nGETXX", b"-ERR Protocol error: missing CRLF after bulk string\r\n"),
        (b"*-5\r\n", b"-ERR Protocol error: invalid multibulk length '-5'\r\n"),
        (b"*1\r\n$999999999\r\n",
         b"-ERR Protocol error: bulk string of 999999999 bytes exceeds the limit of 8388608\r\n"),
        (b"*2000000\r\n", b"-ERR Protocol error: array of 2000000 elements exceeds the limit of 1048576\r\n"),
        (b"x" * (70 * 1024), b"-ERR Protocol error: inline request longer than 65536 bytes\r\n"),
        # A good request before the bad one is still answered.
        (b"PING\r\n*1\r\n$x\r\n", b"+PONG\r\n-ERR Protocol error: invalid bulk length 'x'\r\n"),
    ]
    for request, reply in cases:
        client = store.connect()
        client.sendall(request)
        expect_equal(receive_until_closed(client), reply, f"reply to {request[:40]!r}")
        client.close()
    bystander.sendall(command("GET", "count"))
    expect_equal(receive_exactly(bystander, 7), b"$1\r\n3\r\n", "bystander after protocol errors")
    bystander.close()


def test_oversized_input_is_disconnected(store):
    client = store.connect()
    bulk = b"$8000000\r\n" + b"7" * 8000000 + b"\r\n"
    try:
        # Three 8 MB arguments: each within the bulk limit, together past 16 MiB.
        client.sendall(b"*4\r\n$3\r\nSET\r\n" + bulk * 3)
    except (BrokenPipeError, ConnectionResetError):
        pass
    expect_equal(receive_until_closed(client), b"", "reply to more than 16 MiB of pending input")
    client.close()
    store.wait_for_log("pending input exceeds 16777216 bytes")
    expect_equal(store.cli("GET", "count"), "3", "store after oversized input")


def info_field(store, section, name):
    for line in store.cli("INFO", section).splitlines():
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"INFO {section} has no {name}")


def test_lagging_subscriber_keeps_its_connection(store):
    """A handler that floods a channel must not take ctx.shared away from the
    handlers subscribed to it: the store used to close a subscriber with more
    than 32 MiB unsent, and workers never reconnect that connection."""
    victim = store.connect()
    victim.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    victim.sendall(command("SUBSCRIBE", "firehose"))
    receive_exactly(victim, 37)
    dropped_before = info_field(store, "stats", "pubsub_messages_dropped")
    publisher = store.connect()
    message = b'"' + b"x" * MiB + b'"'
    count = 48  # 48 MiB of messages, past the old 32 MiB limit, while the victim reads nothing
    sender = threading.Thread(target=lambda: publisher.sendall(command("PUBLISH", "firehose", message) * count))
    sender.start()
    replies = receive_exactly(publisher, count * 4)
    sender.join()
    expect_equal(replies, b":1\r\n" * count, "PUBLISH replies (the victim still subscribed throughout)")
    dropped = info_field(store, "stats", "pubsub_messages_dropped") - dropped_before
    check(dropped > 0, "no message counted as dropped")
    check(dropped < count, f"{dropped} of {count} dropped: the backlog took none")
    expect_equal(info_field(store, "clients", "pubsub_clients"), 1, "subscribers after the flood")
    # Bounded: the victim's backlog is at most 8 MiB plus one message.
    check(info_field(store, "memory", "used_memory_clients") < 12 * MiB, "client buffers grew past the backlog limit")
    store.wait_for_log("event=store-messages-dropped")

    # It reads again: the backlog, then messages published after it caught
    # up, and the reply to its own PING.
    victim.settimeout(0.2)
    marker = b'*3\r\n$7\r\nmessage\r\n$8\r\nfirehose\r\n$7\r\n"after"\r\n'
    received = bytearray()
    deadline = time.monotonic() + 30
    while marker not in received[-4 * len(marker):]:
        check(time.monotonic() < deadline, f"no message after the backlog; got {len(received)} bytes")
        publisher.sendall(command("PUBLISH", "firehose", '"after"'))
        expect_equal(receive_exactly(publisher, 4), b":1\r\n", "PUBLISH after the flood")
        try:
            while True:
                chunk = victim.recv(1 << 20)
                check(chunk, "the store closed the lagging subscriber")
                received += chunk
        except socket.timeout:
            pass
    victim.settimeout(10)
    victim.sendall(command("UNSUBSCRIBE", "firehose"))
    goodbye = b"*3\r\n$11\r\nunsubscribe\r\n$8\r\nfirehose\r\n:0\r\n"
    tail = bytearray()
    while not tail.endswith(goodbye):  # any "after" still queued comes first
        tail += victim.recv(65536)
    publisher.close()
    victim.close()


def test_pipelining_reader_is_paused_not_dropped(store):
    value = '"' + "v" * MiB + '"'
    client = store.connect()
    client.sendall(command("SET", "big", value))  # too long for a command-line argument
    expect_equal(receive_exactly(client, 5), b"+OK\r\n", "SET 1 MiB value")
    count = 64  # 64 MiB of replies, twice the output limit: reading must pause instead
    client.sendall(command("GET", "big") * count)
    time.sleep(0.5)  # let the store run ahead as far as it will
    reply = b"$%d\r\n%s\r\n" % (len(value), value.encode())
    for i in range(count):
        expect_equal(receive_exactly(client, len(reply)), reply, f"reply {i} of a pipelined GET")
    client.close()
    store.cli("DEL", "big")


def test_memory_limit(directory):
    store = Store(directory, "--max-memory-bytes", str(4 * MiB))
    try:
        expect_equal(store.cli("SET", "k", '"' + "a" * 20 + '"'), "OK", "SET within the limit")
        # The request's own bytes count while it waits in the input buffer
        # (as in Redis): 1.5 MiB values, so one fits and two do not.
        big = '"' + "a" * (3 * MiB // 2) + '"'
        client = store.connect()
        client.sendall(command("SET", "k2", big))
        expect_equal(receive_exactly(client, 5), b"+OK\r\n", "SET within the limit")
        client.sendall(command("SET", "k3", big))
        oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        expect_equal(receive_exactly(client, len(oom)), oom, "SET past the limit")
        expect_equal(store.cli("EXISTS", "k3"), "0", "nothing stored after OOM")
        expect_equal(store.cli("GET", "k"), '"' + "a" * 20 + '"', "GET when full")
        store.wait_for_log("event=store-memory-full")
        expect_equal(store.cli("DEL", "k2"), "1", "DEL when full")
        client.sendall(command("SET", "k3", big))
        expect_equal(receive_exactly(client, 5), b"+OK\r\n", "SET after DEL")
        client.close()
    finally:
        expect_equal(store.stop(), 0, "exit code after SIGTERM")


def resident_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_tiny_keys_hit_the_limit_at_their_real_cost(directory):
    """Only key and value bytes used to count: a key of 8 bytes with a value of
    1 cost 9, so a 64 MiB limit let in 7.4 million keys (about 700 MiB).
    Now each key is charged its hash node and bucket too."""
    cap = 64 * MiB
    store = Store(directory, "--max-memory-bytes", str(cap), "--log-level", "info")
    try:
        baseline = resident_bytes(store.process.pid)
        client = store.connect()
        oom = b"-OOM command not allowed when used memory > 'maxmemory'."
        stored = 0
        batch = 10000
        # A key charged less than 64 bytes would mean the overhead is not
        # counted; stop there rather than fill hundreds of MiB.
        while stored < cap // 64:
            client.sendall(b"".join(command("SET", "k%07d" % (stored + i), "1") for i in range(batch)))
            replies = bytearray()
            while replies.count(b"\r\n") < batch:
                replies += client.recv(1 << 20)
            lines = bytes(replies).split(b"\r\n")[:batch]
            check(all(line in (b"+OK", oom) for line in lines), f"unexpected replies {set(lines)}")
            # A write after a refused one may fit again: the client's own
            # buffers are charged too, and shrink as its replies are sent.
            accepted = lines.count(b"+OK")
            stored += accepted
            if accepted < batch:
                break
        check(stored < cap // 64, f"{stored} tiny keys fit in {cap} bytes: overhead not counted")
        expect_equal(int(store.cli("DBSIZE")), stored, "DBSIZE")
        used = info_field(store, "memory", "used_memory")
        # Client buffers are charged but cannot be refused: what they gained
        # since the last write may take the total a little past the cap.
        check(info_field(store, "memory", "used_memory_keyspace") <= cap, "the keyspace alone is over the cap")
        check(used <= cap + MiB, f"used_memory {used} over the cap")
        check(stored > cap // 200, f"only {stored} keys fit: tiny keys overcharged")
        resident = resident_bytes(store.process.pid)
        print(f"    {stored} keys ({cap / stored:.1f} bytes each) at the {cap >> 20} MiB cap; used_memory "
              f"{used / MiB:.1f} MiB; VmRSS {baseline / MiB:.1f} MiB before, {resident / MiB:.1f} MiB full",
              flush=True)
        # Resident memory tracks the cap: the charged figure plus the
        # allocator's slack and the process's own baseline. (Not under
        # AddressSanitizer, whose shadow and redzones add to every allocation.)
        if not harness.ADDRESS_SANITIZER:
            check(resident < baseline + cap * 5 // 4, f"VmRSS {resident} for a cap of {cap}")
        # Reads go on; deleting makes room.
        expect_equal(store.cli("GET", "k0000000"), "1", "GET when full")
        client.sendall(b"".join(command("DEL", "k%07d" % i) for i in range(1000)))
        expect_equal(receive_exactly(client, 4 * 1000), b":1\r\n" * 1000, "DEL when full")
        client.sendall(command("SET", "again", "2"))
        expect_equal(receive_exactly(client, 5), b"+OK\r\n", "SET after DEL")
        client.close()
    finally:
        expect_equal(store.stop(), 0, "exit code after SIGTERM")


def test_keys_with_a_pathological_pattern_does_not_stall_others(store):
    """KEYS matched every key with an O(pattern x text) glob and no bound:
    this pattern over these keys took minutes, during which no other client
    was answered."""
    client = store.connect()
    keys = [b"a" * (64 * 1024) + b"%d" % i for i in range(200)]
    client.sendall(b"".join(command("SET", key, "1") for key in keys))
    expect_equal(receive_exactly(client, 5 * len(keys)), b"+OK\r\n" * len(keys), "SET long keys")
    bystander = store.connect()
    client.sendall(command("KEYS", b"*" + b"a" * 2000 + b"b"))
    time.sleep(0.05)  # the KEYS first, so the GET waits behind it
    bystander.sendall(command("GET", "count"))
    # Each socket gives up after 10 s: minutes of matching fail the test.
    expect_equal(receive_exactly(bystander, 7), b"$1\r\n3\r\n", "GET while KEYS runs")
    error = b"-ERR KEYS gave up after 100000000 matching steps; use a simpler pattern\r\n"
    expect_equal(receive_exactly(client, len(error)), error, "KEYS with a pathological pattern")
    client.sendall(b"".join(command("DEL", key) for key in keys))
    expect_equal(receive_exactly(client, 4 * len(keys)), b":1\r\n" * len(keys), "DEL long keys")
    bystander.close()
    client.close()


def test_bad_arguments(directory):
    with open(os.path.join(directory, "not-a-socket"), "w") as regular:
        cases = [
            [],
            ["--listen-fd"],
            ["--listen-fd", "x"],
            ["--listen-fd", "3", "--bogus"],
            ["--listen-fd", str(regular.fileno())],
            ["--listen-fd", "99"],
            ["--listen-fd", "3", "--max-memory-bytes", "0"],
            ["--listen-fd", "3", "--log-level", "loud"],
            ["--listen-fd", "3", "--control-fd"],
            ["--listen-fd", "3", "--control-fd", "3"],
            ["--listen-fd", "3", "--control-fd", "98"],
        ]
        for args in cases:
            result = subprocess.run([STORE, *args], pass_fds=[regular.fileno()], capture_output=True, text=True,
                                    timeout=10)
            expect_equal(result.returncode, 2, f"exit code for {args}")
            check("event=store-bad-arguments" in result.stderr, f"no error logged for {args}: {result.stderr}")
    # A good listener, and a control fd that is not a SOCK_SEQPACKET socket.
    listener = bind_listener(os.path.join(directory, "args.sock"))
    stream_a, stream_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with open(os.path.join(directory, "not-a-socket")) as regular:
        for control in (regular, stream_a):
            args = ["--listen-fd", str(listener.fileno()), "--control-fd", str(control.fileno())]
            result = subprocess.run([STORE, *args], pass_fds=[listener.fileno(), control.fileno()],
                                    capture_output=True, text=True, timeout=10)
            expect_equal(result.returncode, 2, f"exit code for a control fd that is {control}")
            check("event=store-bad-arguments" in result.stderr and
                  ("is not a SOCK_SEQPACKET socket" in result.stderr or "is not a socket" in result.stderr),
                  f"no error logged for {control}: {result.stderr}")
    for closing in (listener, stream_a, stream_b):
        closing.close()


class Tenant:
    """A tenant's socket, as StoreService makes it: <dir>/tenants/<name>/store.sock."""

    def __init__(self, store, name):
        self.name = name
        folder = os.path.join(store.directory, "tenants", name)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        self.path = os.path.join(folder, "store.sock")
        self.listener = bind_listener(self.path)

    def cli(self, store, *args):
        return store.cli(*args, path=self.path)


def receive_frame_lines(client, count):
    """Reads until `count` RESP lines (\r\n-terminated) have arrived."""
    data = bytearray()
    while data.count(b"\r\n") < count:
        chunk = client.recv(65536)
        check(chunk, f"connection closed after {bytes(data)!r}")
        data += chunk
    return bytes(data)


def message_frame(channel, payload):
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(channel), channel.encode(), len(payload), payload.encode())


def test_scopes(directory):
    """Two tenants and the operator through real redis-cli: the same names
    kept apart, KEYS/DBSIZE/INFO scoped, the operator's view, per-scope
    pub/sub, a quota, a scope added at runtime, one removed, and bad control
    messages ignored. The store runs confined (seccomp, its own user) as
    under the supervisor, so fds arrive over SCM_RIGHTS into the sandbox."""
    sandbox = ["--sandbox", "on", "--uid", "65534", "--gid", "65534"] if os.geteuid() == 0 else []
    store = Store(directory, *sandbox, control=True)
    try:
        if sandbox:
            store.wait_for_log("event=store-confined")
        alice = Tenant(store, "alice")
        bob = Tenant(store, "bob")
        store.add_scope("alice", 64 * 1024, alice.listener)
        store.add_scope("bob", 1 << 20, bob.listener)
        for tenant in (alice, bob):
            tenant.listener.close()  # the store has its own

        print("    same names, kept apart", flush=True)
        expect_equal(alice.cli(store, "SET", "count", "1"), "OK", "alice SET")
        expect_equal(bob.cli(store, "SET", "count", "2"), "OK", "bob SET")
        expect_equal(store.cli("SET", "count", "3"), "OK", "operator SET")
        expect_equal(alice.cli(store, "GET", "count"), "1", "alice GET")
        expect_equal(bob.cli(store, "GET", "count"), "2", "bob GET")
        expect_equal(alice.cli(store, "GET", "bob:count"), "", "alice naming bob's key")
        expect_equal(alice.cli(store, "SET", "user:1", '{"n":"a"}'), "OK", "alice SET user:1")
        expect_equal(sorted(alice.cli(store, "KEYS", "*").split("\n")), ["count", "user:1"], "alice KEYS")
        expect_equal(alice.cli(store, "KEYS", "user:*"), "user:1", "alice KEYS user:*")
        expect_equal(bob.cli(store, "KEYS", "*"), "count", "bob KEYS")
        expect_equal(alice.cli(store, "DBSIZE"), "2", "alice DBSIZE")
        expect_equal(bob.cli(store, "DBSIZE"), "1", "bob DBSIZE")
        expect_equal(alice.cli(store, "EXISTS", "count", "user:1", "bob:count"), "2", "alice EXISTS")
        # The operator's view: every tenant's key under <tenant>:<key>.
        expect_equal(sorted(store.cli("KEYS", "*").split("\n")), ["alice:count", "alice:user:1", "bob:count", "count"],
                     "operator KEYS")
        expect_equal(store.cli("GET", "alice:count"), "1", "operator GET alice:count")
        expect_equal(store.cli("DBSIZE"), "4", "operator DBSIZE")
        expect_equal(store.cli("SET", "bob:from-root", "7"), "OK", "operator writes bob's key")
        expect_equal(bob.cli(store, "GET", "from-root"), "7", "bob sees the operator's write")
        expect_equal(bob.cli(store, "DEL", "from-root"), "1", "bob DEL")
        info = alice.cli(store, "INFO")
        for fragment in ("# Server", "scope:alice", "# Memory", "maxmemory:65536", "# Keyspace", "db0:keys=2"):
            check(fragment in info, f"alice's INFO lacks {fragment!r}:\n{info}")
        for fragment in ("connected_clients", "# Clients", "# Stats", "process_id", "pubsub"):
            check(fragment not in info, f"alice's INFO shows {fragment!r}:\n{info}")

        print("    pub/sub per scope", flush=True)
        alice_sub = store.connect(alice.path)
        bob_sub = store.connect(bob.path)
        root_sub = store.connect()
        alice_sub.sendall(command("SUBSCRIBE", "news"))
        bob_sub.sendall(command("SUBSCRIBE", "news"))
        root_sub.sendall(command("SUBSCRIBE", "alice:news"))
        expect_equal(receive_exactly(alice_sub, 33), b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
                     "alice's subscribe confirmation")
        receive_exactly(bob_sub, 33)
        receive_exactly(root_sub, 40)
        expect_equal(alice.cli(store, "PUBLISH", "news", '{"from":"alice"}'), "2", "alice PUBLISH count")
        expected = message_frame("news", '{"from":"alice"}')
        expect_equal(receive_exactly(alice_sub, len(expected)), expected, "alice's subscriber")
        expected = message_frame("alice:news", '{"from":"alice"}')
        expect_equal(receive_exactly(root_sub, len(expected)), expected, "operator's subscriber of alice:news")
        expect_equal(bob.cli(store, "PUBLISH", "news", '{"from":"bob"}'), "1", "bob PUBLISH count")
        # Bob's first message is his own: alice's never reached him.
        expected = message_frame("news", '{"from":"bob"}')
        expect_equal(receive_exactly(bob_sub, len(expected)), expected, "bob's subscriber")
        expect_equal(store.cli("PUBLISH", "alice:news", "3"), "2", "operator PUBLISH alice:news")
        expected = message_frame("news", "3")
        expect_equal(receive_exactly(alice_sub, len(expected)), expected, "alice's subscriber, from the operator")
        root_sub.close()

        print("    quota", flush=True)
        value = '"' + "x" * 1000 + '"'
        writer = store.connect(alice.path)
        oom = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        stored = 0
        while True:
            writer.sendall(command("SET", "k%d" % stored, value))
            reply = receive_frame_lines(writer, 1)
            if reply == oom:
                break
            expect_equal(reply, b"+OK\r\n", "alice SET under her quota")
            stored += 1
            check(stored < 100, "alice's quota of 64 KiB took 100 keys of 1 KB")
        check(stored > 30, f"only {stored} keys of 1 KB in 64 KiB")
        store.wait_for_log("event=store-scope-full")
        expect_equal(alice.cli(store, "SET", "more", value), "OOM command not allowed when used memory > 'maxmemory'.",
                     "alice's redis-cli at her quota")
        expect_equal(store.cli("SET", "alice:more", value),
                     "OOM command not allowed when used memory > 'maxmemory'.", "operator writing alice's key")
        # Three times alice's quota: bob's is his own.
        bob_writer = store.connect(bob.path)
        bob_writer.sendall(b"".join(command("SET", "k%d" % i, value) for i in range(200)))
        expect_equal(receive_exactly(bob_writer, 5 * 200), b"+OK\r\n" * 200, "bob's writes while alice is full")
        bob_writer.close()
        expect_equal(store.cli("SET", "operator-key", value), "OK", "the operator's own key")
        expect_equal(alice.cli(store, "GET", "count"), "1", "alice reads when full")
        expect_equal(alice.cli(store, "DEL", "k0", "k1"), "2", "alice DEL")
        expect_equal(alice.cli(store, "SET", "more", value), "OK", "alice SET after DEL")
        # A new quota, sent as an update without a descriptor.
        store.add_scope("alice", 1 << 20)
        expect_equal(alice.cli(store, "SET", "k0", value), "OK", "alice SET under a larger quota")
        writer.close()

        print("    a scope added at runtime", flush=True)
        carol = Tenant(store, "carol")
        store.add_scope("carol", 1 << 20, carol.listener)
        carol.listener.close()
        expect_equal(carol.cli(store, "SET", "count", "9"), "OK", "carol SET")
        expect_equal(carol.cli(store, "KEYS", "*"), "count", "carol KEYS")
        expect_equal(store.cli("GET", "carol:count"), "9", "operator GET carol:count")

        print("    a scope removed", flush=True)
        bob_client = store.connect(bob.path)
        bob_client.sendall(command("PING"))
        expect_equal(receive_exactly(bob_client, 7), b"+PONG\r\n", "bob before removal")
        store.remove_scope("bob")
        expect_equal(receive_until_closed(bob_client), b"", "bob's client after removal")
        expect_equal(receive_until_closed(bob_sub), b"", "bob's subscriber after removal")
        bob_client.close()
        bob_sub.close()
        # Its listener is closed (the supervisor also removes the socket file).
        try:
            store.connect(bob.path).close()
            raise AssertionError("bob's socket still accepts connections")
        except ConnectionRefusedError:
            pass
        expect_equal(bob.cli(store, "PING"), "", "redis-cli on bob's old socket")
        expect_equal(store.cli("GET", "bob:count"), "2", "bob's keys kept for the operator")
        expect_equal(alice.cli(store, "GET", "count"), "1", "alice after bob's removal")

        print("    bad control messages", flush=True)
        refused = store.count_log("event=store-control-refused")
        not_listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        spare = Tenant(store, "x1")
        bad = [
            (scope_message("Bad:Name", 1), [spare.listener.fileno()]),
            (scope_message("dave", 1), [not_listening.fileno()]),
            (scope_message("dave", 1), []),
            (scope_message("dave", 1)[:-3], []),
            (struct.pack("<H", 999), []),
            (struct.pack("<HI", 202, 4) + b"nope", []),
        ]
        for message, fds in bad:
            store.send_control(message, fds)
        deadline = time.monotonic() + 10
        while store.count_log("event=store-control-refused") < refused + len(bad):
            check(time.monotonic() < deadline, "bad control messages not all refused:\n" + "\n".join(store.log_lines))
            time.sleep(0.02)
        not_listening.close()
        spare.listener.close()
        expect_equal(alice.cli(store, "GET", "count"), "1", "alice after bad control messages")
        expect_equal(store.cli("PING"), "PONG", "operator after bad control messages")
        check(store.process.poll() is None, "the store died")

        # The supervisor's end closing leaves the store serving.
        store.control.close()
        store.wait_for_log("event=store-control-closed")
        expect_equal(carol.cli(store, "GET", "count"), "9", "carol after the control channel closed")
        alice_sub.close()
    finally:
        expect_equal(store.stop(), 0, "exit code after SIGTERM")


def main():
    if REDIS_CLI is None:
        print("SKIP: redis-cli not installed (Debian package redis-tools)")
        return 0
    check(os.access(STORE, os.X_OK), f"{STORE} is not built")
    with tempfile.TemporaryDirectory(prefix="portbroker-store-") as directory:
        store = Store(directory)
        try:
            check(oct(os.stat(store.path).st_mode & 0o777) == "0o600", "socket mode")
            for test in (test_redis_cli, test_pubsub, test_half_close_still_gets_replies,
                         test_protocol_errors_close_only_that_client, test_oversized_input_is_disconnected,
                         test_lagging_subscriber_keeps_its_connection, test_pipelining_reader_is_paused_not_dropped,
                         test_keys_with_a_pathological_pattern_does_not_stall_others):
                print(f"--- {test.__name__}", flush=True)
                test(store)
            # SIGTERM with a client still connected: it is closed, the store exits 0.
            lingering = store.connect()
            lingering.sendall(command("SUBSCRIBE", "news"))
            receive_exactly(lingering, 33)
            expect_equal(store.stop(), 0, "exit code after SIGTERM")
            expect_equal(receive_until_closed(lingering), b"", "client after SIGTERM")
            store.wait_for_log("event=store-stopped")
        finally:
            if store.process.poll() is None:
                store.process.kill()
                store.process.wait()
        memory_directory = os.path.join(directory, "memory")
        os.mkdir(memory_directory)
        print("--- test_memory_limit", flush=True)
        test_memory_limit(memory_directory)
        tiny_directory = os.path.join(directory, "tiny")
        os.mkdir(tiny_directory)
        print("--- test_tiny_keys_hit_the_limit_at_their_real_cost", flush=True)
        test_tiny_keys_hit_the_limit_at_their_real_cost(tiny_directory)
        scopes_directory = os.path.join(directory, "scopes")
        os.mkdir(scopes_directory)
        print("--- test_scopes", flush=True)
        test_scopes(scopes_directory)
        print("--- test_bad_arguments", flush=True)
        test_bad_arguments(directory)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
