"""Drives the built portbroker binaries for integration tests.

Every test gets its own handlers folder and run directory in a temp dir, ports
chosen free by the test, and a broker that is stopped (by PID, SIGTERM, then
SIGKILL) when the test ends. Nothing here talks to anything but loopback.
"""

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PORTBROKER_BUILD_DIR", os.path.join(REPO, "build"))
BIN = os.path.join(BUILD, "bin")
EXAMPLES = os.path.join(REPO, "examples")
NODE_RUNNER = os.path.join(REPO, "bench", "node-reference-runner.mjs")

DEFAULT_TIMEOUT = 15.0
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000


def _sanitizers():
    """PORTBROKER_SANITIZE of the build under test: "" for a normal build."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("PORTBROKER_SANITIZE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


# Sanitizer builds behave differently in documented places (docs/testing.md,
# "Sanitizers"): workers have no RLIMIT_AS under AddressSanitizer.
SANITIZERS = _sanitizers()
ADDRESS_SANITIZER = "address" in SANITIZERS


# Ports already given out by this process: a port is free only until its
# broker binds it, so two calls before a start could otherwise return the same.
_handed_out = set()


def free_port():
    """A port free for both TCP and UDP on every address, never given twice."""
    for _ in range(100):
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as tcp:
            tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            tcp.bind(("::", 0))
            port = tcp.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as udp:
                    udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    udp.bind(("::", port))
            except OSError:
                continue
            if port in _handed_out:
                continue
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port")


def parse_logfmt(line):
    """key=value pairs of one log line; quoted values unescaped."""
    fields = {}
    for match in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line):
        key, value = match.group(1), match.group(2)
        if value.startswith('"'):
            value = bytes(value[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        fields[key] = value
    return fields


class LogLines(list):
    """The broker's log lines; clear() starts a new generation, so parsed
    lines cached for the old one are not reused."""

    generation = 0

    def clear(self):
        super().clear()
        self.generation += 1


class Broker:
    """A portbrokerd on a temporary handlers folder."""

    def __init__(self, files=None, config=None, extra_args=(), log_level="debug", env=None, command_prefix=(),
                 firewall=False, bin_dir=BIN, sbin_dir=BIN):
        self.tmp = tempfile.mkdtemp(prefix="portbroker-test-")
        self.handlers = os.path.join(self.tmp, "handlers")
        self.run_dir = os.path.join(self.tmp, "run")
        os.makedirs(self.handlers)
        self.config = config
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.env = dict(os.environ, **(env or {}))
        # e.g. ["ip", "netns", "exec", name]: where the broker runs.
        self.command_prefix = list(command_prefix)
        self.firewall = firewall
        # Installed binaries live in /usr/sbin and /usr/bin; built ones together.
        self.daemon = os.path.join(sbin_dir, "portbrokerd")
        self.ctl_path = os.path.join(bin_dir, "portbrokerctl")
        self.process = None
        self.lines = LogLines()
        # Parsed once each: a test waiting on a broker that logs tens of
        # thousands of lines would otherwise re-parse them all on every new
        # line, starve the thread reading the broker's stderr, and so stall
        # the broker on a full pipe.
        self._parsed, self._parsed_generation = [], 0
        self._lines_changed = threading.Condition()
        # Cleared: the broker's stderr is not read (a stalled log reader).
        self._reading = threading.Event()
        self._reading.set()
        for name, content in (files or {}).items():
            self.write(name, content)

    # --- files -------------------------------------------------------------

    def write(self, name, content, mtime=None):
        path = os.path.join(self.handlers, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def copy_example(self, example, name):
        shutil.copy(os.path.join(EXAMPLES, example), os.path.join(self.handlers, name))

    # --- process -----------------------------------------------------------

    def start(self, wait_ready=True):
        args = self.command_prefix + [self.daemon, "--handlers", self.handlers,
                                      "--run-dir", self.run_dir, "--log-level", self.log_level] + self.extra_args
        if not self.firewall:
            args.append("--no-firewall")
        if self.config is not None:
            path = os.path.join(self.tmp, "portbroker.json")
            with open(path, "w") as f:
                json.dump(self.config, f)
            args += ["--config", path]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, errors="replace", env=self.env)
        threading.Thread(target=self._read_log, daemon=True).start()
        if wait_ready:
            self.wait_for(event="ready")
        return self

    def _read_log(self):
        while True:
            self._reading.wait()
            line = self.process.stderr.readline()
            if not line:
                return
            sys.stderr.write(line)
            with self._lines_changed:
                self.lines.append(line.rstrip("\n"))
                self._lines_changed.notify_all()

    def pause_log_reading(self):
        """Stops reading the broker's stderr (after the line being read), as a
        stalled journald would: the pipe fills and stays full."""
        self._reading.clear()

    def resume_log_reading(self):
        self._reading.set()

    def events(self, **match):
        """Parsed log lines whose fields include every key=value in `match`."""
        with self._lines_changed:
            if self._parsed_generation != self.lines.generation or len(self._parsed) > len(self.lines):
                self._parsed, self._parsed_generation = [], self.lines.generation
            new = self.lines[len(self._parsed):]
        self._parsed.extend(parse_logfmt(line) for line in new)
        return [fields for fields in self._parsed if all(fields.get(k) == str(v) for k, v in match.items())]

    def wait_for(self, timeout=DEFAULT_TIMEOUT, **match):
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(**match)
            if found:
                return found[0]
            if self.process.poll() is not None and not found:
                time.sleep(0.2)  # let the reader thread catch up
                found = self.events(**match)
                if found:
                    return found[0]
                raise AssertionError(f"broker exited ({self.process.returncode}) before logging {match}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no log line with {match} within {timeout}s")
            with self._lines_changed:
                self._lines_changed.wait(min(remaining, 0.2))

    def ctl(self, *args, check=True):
        result = subprocess.run([self.ctl_path, "--run-dir", self.run_dir, *args],
                                capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
        if check and result.returncode != 0:
            raise AssertionError(f"portbrokerctl {args} failed: {result.stderr}")
        return result

    def status(self):
        return json.loads(self.ctl("status", "--json").stdout)

    def handler(self, name):
        for handler in self.status()["handlers"]:
            if handler["name"] == name:
                return handler
        raise AssertionError(f"no handler {name} in status")

    def redis(self, *args):
        result = subprocess.run(["redis-cli", "-s", os.path.join(self.run_dir, "store.sock"), *args],
                                capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
        return result.stdout.strip()

    def stop(self, timeout=DEFAULT_TIMEOUT):
        """SIGTERM and wait; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("broker did not stop within the timeout after SIGTERM")

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stop_process(process, timeout=10):
    """SIGTERM to a process this test started (by its PID), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def enter_private_namespaces(mounts=False, local_block=None):
    """This test process, and every child it starts from now on, gets a
    network namespace of its own with loopback up (and, with `mounts`, a
    mount namespace whose mounts propagate nowhere). `local_block` (a CIDR)
    becomes the namespace's own addresses (AnyIP), so a test can send from
    any of them. Call it first thing in the main thread: setns-style calls
    change only the calling thread."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET | (CLONE_NEWNS if mounts else 0)) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    if mounts:
        subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    if local_block:
        subprocess.run(["ip", "route", "add", "local", local_block, "dev", "lo"], check=True)


def proc_status(pid):
    """/proc/<pid>/status as a dict of its fields (values stripped)."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def run(*args, namespace=None, check=True, timeout=30):
    """A command, inside network namespace `namespace` if given; fails the test if it fails (with check)."""
    command = (["ip", "netns", "exec", namespace] if namespace else []) + list(args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed: {result.stderr}")
    return result


class VethNamespaces:
    """Two network namespaces made by a test, joined by a veth pair: the
    server side with one address, the client side with several (so a test can
    connect from allowed and refused sources). Nothing of the host's changes."""

    def __init__(self, server, client, server_ip, client_ips):
        self.server, self.client = server, client
        self.server_ip, self.client_ips = server_ip, list(client_ips)

    def create(self):
        for namespace in (self.server, self.client):
            run("ip", "netns", "add", namespace)
        run("ip", "link", "add", "v" + self.server, "type", "veth", "peer", "name", "v" + self.client)
        run("ip", "link", "set", "v" + self.server, "netns", self.server)
        run("ip", "link", "set", "v" + self.client, "netns", self.client)
        run("ip", "addr", "add", self.server_ip + "/24", "dev", "v" + self.server, namespace=self.server)
        for address in self.client_ips:
            run("ip", "addr", "add", address + "/24", "dev", "v" + self.client, namespace=self.client)
        for namespace in (self.server, self.client):
            run("ip", "link", "set", "lo", "up", namespace=namespace)
            run("ip", "link", "set", "v" + namespace, "up", namespace=namespace)

    def delete(self):
        for namespace in (self.server, self.client):
            run("ip", "netns", "del", namespace, check=False)


class NamespacesTest(unittest.TestCase):
    """A test class whose `namespaces` (a VethNamespaces) exist while its tests run."""

    namespaces = None

    @classmethod
    def setUpClass(cls):
        cls.namespaces.create()

    @classmethod
    def tearDownClass(cls):
        cls.namespaces.delete()


# The Node whose semantics portbroker matches: parity against another major
# would compare with the wrong answers.
NODE_MAJOR = 20


def check_node_version():
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    if not version.startswith(f"v{NODE_MAJOR}."):
        raise AssertionError(f"these tests compare with Node {NODE_MAJOR}, and `node` here is {version or 'missing'}")


class NodeRunner:
    """The same handler files under plain Node (bench/node-reference-runner.mjs)."""

    def __init__(self, handlers_dir, port_overrides=None, env=None):
        check_node_version()
        args = ["node", NODE_RUNNER]
        for file, port in (port_overrides or {}).items():
            args += ["--port-override", f"{file}={port}"]
        args.append(handlers_dir)
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise AssertionError(f"node reference runner did not start: {self.process.stderr.read()}")
        # Node writes to pipes synchronously: an unread pipe would stall it.
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=lambda s=stream: [sys.stderr.write("node: " + l) for l in s], daemon=True).start()

    def close(self):
        stop_process(self.process)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- clients -------------------------------------------------------------------

def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what="condition"):
    """Polls `predicate` until it returns something true, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def connect(port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT, source=None):
    """A TCP connection to host:port, from the `source` address if given."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if source is not None:
        sock.bind((source, 0))
    sock.connect((host, port))
    return sock


def recv_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"connection closed after {len(data)} of {size} bytes: {data!r}")
        data += chunk
    return data


def recv_until(sock, marker):
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before {marker!r}; got {data!r}")
        data += chunk
    return data


def recv_all(sock):
    """Everything until the peer closes."""
    data = bytearray()  # bytes += would copy quadratically on large transcripts
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(data)
        data += chunk


def transcript(port, send=b"", host="127.0.0.1"):
    with contextlib.closing(connect(port, host)) as sock:
        if send:
            sock.sendall(send)
        return recv_all(sock)


def udp_request(port, payload, host="127.0.0.1", timeout=5.0, source_host=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        if source_host:
            sock.bind((source_host, 0))
        sock.sendto(payload, (host, port))
        data, _ = sock.recvfrom(65536)
        return data


# The reason of a skip that depends on the machine a run is on, not on
# what scripts/install-deps provides (see main).
SITUATIONAL = "situational: "


def main():
    """unittest's main, except that under CI (CI=true) a skipped test fails
    the run: CI runs as root with everything scripts/install-deps installs,
    so a test that skips for want of a server, a tool or root there has
    proved nothing while the run looks green. Skips whose reason starts
    with SITUATIONAL (the machine decides, not the set-up) stay skips."""
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    unexpected = [(test, reason) for test, reason in result.skipped if not reason.startswith(SITUATIONAL)]
    if os.environ.get("CI") == "true" and unexpected:
        for test, reason in unexpected:
            print(f"FAIL (skipped under CI): {test.id()}: {reason}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if result.wasSuccessful() else 1)
