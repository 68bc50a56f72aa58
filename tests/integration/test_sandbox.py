"""Worker sandbox and supervision: every worker (and the store) runs
unprivileged, under seccomp, in namespaces of its own with a minimal root;
forbidden system calls end it; misbehaving handlers are stopped with a clear
reason while a well-behaved handler keeps serving; crashed workers restart.

What is checked is what the kernel reports (/proc/<pid>/status, ns, root,
fd, limits), what the sandbox probe (tests/tools/sandbox_probe.cc, confined
by the worker's own code) observes, and what status and clients see."""

import contextlib
import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import shutil
import threading
import time
import unittest

import harness

PROBE = os.path.join(harness.BUILD, "tests", "portbroker-sandbox-probe")
NAMESPACES = ("mnt", "net", "pid", "ipc", "uts")
CAPABILITY_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
# From linux/capability.h: the ones the supervisor keeps, and some it must not.
CAPABILITY_NUMBERS = {
    "cap_chown": 0, "cap_dac_override": 1, "cap_dac_read_search": 2, "cap_kill": 5, "cap_setgid": 6, "cap_setuid": 7,
    "cap_setpcap": 8, "cap_net_bind_service": 10, "cap_net_admin": 12, "cap_sys_admin": 21,
}
NEVER_KEPT = {"cap_fowner": 3, "cap_net_raw": 13, "cap_sys_module": 16, "cap_sys_rawio": 17,
              "cap_sys_ptrace": 19, "cap_sys_boot": 22, "cap_sys_resource": 24, "cap_mknod": 27, "cap_bpf": 39}

ECHO = """export function handle(conn) {
  conn.on("data", (chunk) => conn.write(chunk));
}
"""


SYS_SCHED_SETATTR, SYS_SCHED_GETATTR = 314, 315  # x86_64
SCHED_ATTR = "<IIQiIQQQII"  # struct sched_attr, first version (56 bytes)
LIBC = ctypes.CDLL(None, use_errno=True)


def time_slice_ns(pid):
    """The scheduler slice of `pid` (0: this process), as sched_getattr reports it."""
    buffer = ctypes.create_string_buffer(56)
    if LIBC.syscall(SYS_SCHED_GETATTR, pid, buffer, 56, 0) != 0:
        raise OSError(ctypes.get_errno(), "sched_getattr")
    return struct.unpack(SCHED_ATTR, buffer.raw)[5]


def kernel_has_custom_slices():
    """Whether a normal task may ask for its own slice (Linux 6.12+): tried in a child."""
    pid = os.fork()
    if pid == 0:
        attr = ctypes.create_string_buffer(struct.pack(SCHED_ATTR, 56, 0, 0, os.getpriority(os.PRIO_PROCESS, 0), 0,
                                                       100_000, 0, 0, 0, 0), 56)
        ok = LIBC.syscall(SYS_SCHED_SETATTR, 0, attr, 0) == 0 and time_slice_ns(0) == 100_000
        os._exit(0 if ok else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def namespace_of(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def limits_of(pid):
    """{"Max open files": ("256", "256"), ...} from /proc/<pid>/limits."""
    limits = {}
    with open(f"/proc/{pid}/limits") as f:
        next(f)
        for line in f:
            name = line[:26].strip()
            soft, hard = line[26:].split()[:2]
            limits[name] = (soft, hard)
    return limits


def assert_address_space(test, limits, expected, sandbox):
    """RLIMIT_AS as configured; under AddressSanitizer none, and a note says why."""
    if harness.ADDRESS_SANITIZER:
        test.assertEqual(limits["Max address space"], ("unlimited", "unlimited"))
        test.assertTrue(any("AddressSanitizer" in note for note in sandbox["notes"]), sandbox)
    else:
        test.assertEqual(limits["Max address space"], (str(expected),) * 2)


def listening_socket_inode(port):
    """The inode of the socket listening on `port` (from /proc/net/tcp{,6})."""
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        with open(table) as f:
            next(f)
            for line in f:
                parts = line.split()
                local_port = int(parts[1].rsplit(":", 1)[1], 16)
                if local_port == port and parts[3] == "0A":
                    return parts[9]
    return None




class ConfinementTest(unittest.TestCase):
    """Workers and the store as the kernel sees them."""

    @classmethod
    def setUpClass(cls):
        cls.tcp = harness.free_port()
        cls.udp = harness.free_port()
        cls.broker = harness.Broker()
        cls.broker.write(f"echo.tcp.{cls.tcp}.port.js", ECHO)
        cls.broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{cls.udp}.port.js")
        cls.broker.start()
        cls.status = cls.broker.status()
        cls.workers = {h["name"]: h["worker"]["pid"] for h in cls.status["handlers"]}
        cls.store = cls.status["broker"]["store"]["pid"]
        cls.supervisor = cls.broker.process.pid

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        cls.broker.close()

    def confined_pids(self):
        return dict(self.workers, store=self.store)

    def test_workers_and_store_run_unprivileged_under_seccomp(self):
        worker_user = self.status["broker"]["worker_user"]
        self.assertNotEqual(worker_user["uid"], 0)
        for name, pid in self.confined_pids().items():
            with self.subTest(process=name):
                status = harness.proc_status(pid)
                self.assertEqual(status["Uid"].split(), [str(worker_user["uid"])] * 4)
                self.assertEqual(status["Gid"].split(), [str(worker_user["gid"])] * 4)
                self.assertEqual(status["Groups"], "")
                self.assertEqual(status["NoNewPrivs"], "1")
                self.assertEqual(status["Seccomp"], "2")
                for capability_set in CAPABILITY_SETS:
                    self.assertEqual(int(status[capability_set], 16), 0, capability_set)

    def test_each_worker_has_namespaces_of_its_own(self):
        for name, pid in self.confined_pids().items():
            for kind in NAMESPACES:
                with self.subTest(process=name, namespace=kind):
                    self.assertNotEqual(namespace_of(pid, kind), namespace_of(self.supervisor, kind))
        echo, ping = self.workers["echo"], self.workers["ping"]
        self.assertNotEqual(namespace_of(echo, "net"), namespace_of(ping, "net"))

    def test_worker_network_has_no_interfaces_but_loopback(self):
        for name, pid in self.workers.items():
            with open(f"/proc/{pid}/net/dev") as f:
                interfaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
            self.assertEqual(interfaces, ["lo"], name)
            with open(f"/proc/{pid}/net/route") as f:
                self.assertEqual(f.readlines()[1:], [], name)

    def test_worker_sees_only_a_minimal_read_only_root(self):
        pid = self.workers["echo"]
        root = f"/proc/{pid}/root"
        self.assertEqual(sorted(os.listdir(root)), ["dev", "etc", "handlers", "proc", "sys", "usr"])
        self.assertEqual(os.listdir(f"{root}/dev"), ["null"])
        # Of /usr, only the time-zone database, read-only.
        self.assertEqual(os.listdir(f"{root}/usr"), ["share"])
        self.assertEqual(os.listdir(f"{root}/usr/share"), ["zoneinfo"])
        self.assertIn(f"echo.tcp.{self.tcp}.port.js", os.listdir(f"{root}/handlers"))
        self.assertFalse(os.path.exists(f"{root}/etc/passwd"))
        self.assertFalse(os.path.exists(f"{root}{self.broker.handlers}"))
        with open(f"/proc/{pid}/mountinfo") as f:
            mounts = {line.split()[4]: line.split()[5] for line in f}
        for point in ("/", "/handlers", "/usr/share/zoneinfo"):
            self.assertIn("ro", mounts[point].split(","), point)
        # The handlers folder seen from inside is the host's.
        self.assertEqual(os.stat(f"{root}/handlers").st_ino, os.stat(self.broker.handlers).st_ino)

    def test_worker_holds_only_its_own_descriptors(self):
        listening = listening_socket_inode(self.tcp)
        self.assertIsNotNone(listening)
        for name, pid in self.workers.items():
            fd_dir = f"/proc/{pid}/fd"
            targets = [os.readlink(f"{fd_dir}/{fd}") for fd in os.listdir(fd_dir)]
            with self.subTest(worker=name):
                self.assertNotIn(f"socket:[{listening}]", targets)
                for target in targets:
                    # Paths as the worker sees them: its /dev/null, its handlers
                    # folder (module loading), its own memory figures (watchdog).
                    self.assertTrue(target.startswith(("socket:", "pipe:", "anon_inode:"))
                                    or target in ("/dev/null", "/handlers", "/proc/1/statm"), target)
                # stdin/stdout/stderr, the channel, two store connections, the event
                # loop's own, and fetch()'s libcurl wake-up pair (made before confinement).
                self.assertLess(len(targets), 18, targets)

    def test_status_shows_each_workers_sandbox_and_limits(self):
        defaults = {"open_files": 4096, "processes": 16384, "address_space_bytes": 16384 << 20}
        for handler in self.status["handlers"]:
            with self.subTest(handler=handler["name"]):
                sandbox = handler["worker"]["sandbox"]
                self.assertTrue(sandbox["confined"])
                self.assertTrue(sandbox["seccomp"])
                self.assertTrue(sandbox["no_new_privs"])
                self.assertTrue(sandbox["minimal_root"])
                self.assertEqual(sandbox["capabilities"], "none")
                self.assertEqual(sandbox["uid"], self.status["broker"]["worker_user"]["uid"])
                self.assertEqual(set(sandbox["namespaces"]), set(NAMESPACES))
                self.assertEqual(sandbox["missing"], [])
                self.assertEqual(sandbox["limits"], defaults)
                limits = limits_of(handler["worker"]["pid"])
                self.assertEqual(limits["Max open files"], ("4096", "4096"))
                self.assertEqual(limits["Max processes"], ("16384", "16384"))
                self.assertEqual(limits["Max core file size"], ("0", "0"))
                assert_address_space(self, limits, 16384 << 20, sandbox)
        table = self.broker.ctl("status").stdout
        self.assertRegex(table, r"(?m)^echo\s+tcp\s+%d\s+active\s+\d+\s+0\s+full\s" % self.tcp)
        self.assertIn("workers user", table)
        self.assertNotIn("SANDBOX GAPS", table)

    def test_supervisor_keeps_only_the_capabilities_it_needs(self):
        kept = self.status["broker"]["capabilities"]
        self.assertEqual(set(kept), set(CAPABILITY_NUMBERS) & set(kept))
        self.assertIn("cap_net_admin", kept)
        status = harness.proc_status(self.supervisor)
        effective = int(status["CapEff"], 16)
        expected = sum(1 << CAPABILITY_NUMBERS[name] for name in kept)
        self.assertEqual(effective, expected)
        self.assertEqual(int(status["CapBnd"], 16), expected)
        for name, number in NEVER_KEPT.items():
            self.assertFalse(effective & (1 << number), name)


    def test_supervisor_and_store_ask_for_a_short_time_slice_workers_do_not(self):
        latency_slice = self.status["broker"]["latency_slice"]
        default_slice = time_slice_ns(0)  # this test's own: the kernel's default
        if not kernel_has_custom_slices():
            self.assertIsNone(latency_slice["slice_us"])
            self.assertIn("Linux 6.12", latency_slice["reason"])
            return
        self.assertEqual(latency_slice, {"slice_us": 100, "reason": None})
        self.assertIn("\ntime slice 100 us (supervisor and store)\n", self.broker.ctl("status").stdout)
        self.broker.wait_for(event="latency-slice", slice_us="100")
        self.assertNotEqual(default_slice, 100_000)
        self.assertEqual(time_slice_ns(self.supervisor), 100_000)
        self.assertEqual(time_slice_ns(self.store), 100_000)
        for name, pid in self.workers.items():
            with self.subTest(worker=name):
                self.assertEqual(time_slice_ns(pid), default_slice)


class LatencySliceTest(unittest.TestCase):
    def test_a_slice_of_zero_keeps_the_kernels_default(self):
        with harness.Broker(config={"scheduling": {"latency_slice_us": 0}}) as broker:
            port = harness.free_port()
            broker.write(f"echo.tcp.{port}.port.js", ECHO)
            broker.start()
            latency_slice = broker.status()["broker"]["latency_slice"]
            self.assertIsNone(latency_slice["slice_us"])
            self.assertIn("latency_slice_us is 0", latency_slice["reason"])
            self.assertIn("\ntime slice kernel default (not requested", broker.ctl("status").stdout)
            self.assertEqual(time_slice_ns(broker.process.pid), time_slice_ns(0))

    def test_an_invalid_slice_stops_the_broker_naming_the_field(self):
        with harness.Broker(config={"scheduling": {"latency_slice_us": 50}}) as broker:
            broker.start(wait_ready=False)
            self.assertEqual(broker.process.wait(timeout=harness.DEFAULT_TIMEOUT), 1)
            line = broker.wait_for(event="config-invalid")
            self.assertEqual(line["field"], "/scheduling/latency_slice_us")
            self.assertIn("from 100 to 100000", line["reason"])


class UnprivilegedBrokerTest(unittest.TestCase):
    """A broker started by a normal user confines workers with what it can."""

    def test_workers_are_confined_through_a_user_namespace(self):
        unprivileged = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all"]
        with harness.Broker(command_prefix=unprivileged) as broker:
            for path in (broker.tmp, broker.handlers):
                os.chown(path, 65534, 65534)
            port = harness.free_port()
            broker.write(f"echo.tcp.{port}.port.js", ECHO)
            broker.start()
            with contextlib.closing(harness.connect(port)) as sock:
                sock.sendall(b"hello")
                self.assertEqual(harness.recv_exactly(sock, 5), b"hello")
            status = broker.status()
            self.assertEqual(status["broker"]["capabilities"], [])
            handler = status["handlers"][0]
            sandbox = handler["worker"]["sandbox"]
            self.assertTrue(sandbox["confined"])
            self.assertTrue(sandbox["minimal_root"])
            self.assertEqual(set(sandbox["namespaces"]), {"user", *NAMESPACES})
            self.assertEqual(sandbox["uid"], 65534)
            self.assertTrue(any("user namespace" in note for note in sandbox["notes"]), sandbox)
            kernel = harness.proc_status(handler["worker"]["pid"])
            self.assertEqual(kernel["Seccomp"], "2")
            self.assertEqual(kernel["NoNewPrivs"], "1")
            self.assertEqual(kernel["Uid"].split(), ["65534"] * 4)
            for capability_set in CAPABILITY_SETS:
                self.assertEqual(int(kernel[capability_set], 16), 0, capability_set)
            self.assertNotEqual(namespace_of(handler["worker"]["pid"], "net"), namespace_of(os.getpid(), "net"))

    def test_a_disabled_sandbox_is_shown_not_hidden(self):
        with harness.Broker(config={"worker": {"sandbox": False}}) as broker:
            # Without the minimal root the worker user reaches the folder by its host path.
            os.chmod(broker.tmp, 0o755)
            port = harness.free_port()
            broker.write(f"echo.tcp.{port}.port.js", ECHO)
            broker.start()
            handler = broker.handler("echo")
            self.assertFalse(handler["worker"]["sandbox"]["confined"])
            kernel = harness.proc_status(handler["worker"]["pid"])
            self.assertEqual(kernel["Seccomp"], "0")
            # Still never root, never with capabilities.
            self.assertEqual(kernel["Uid"].split(), [str(broker.status()["broker"]["worker_user"]["uid"])] * 4)
            self.assertEqual(int(kernel["CapEff"], 16), 0)
            table = broker.ctl("status").stdout
            self.assertIn("SANDBOX DISABLED", table)
            self.assertRegex(table, r"(?m)^echo\s+tcp\s+%d\s+active\s+\d+\s+0\s+OFF\s" % port)
            self.assertRegex(table, r"(?m)^SANDBOX GAPS\s+MISSING\n^echo\s+everything: disabled in the configuration")
            broker.wait_for(event="sandbox-disabled", handler="echo")


class ProbeTest(unittest.TestCase):
    """Forbidden operations, attempted after the worker's own confinement code."""

    # operation -> the system call the kill is reported for
    KILLED = {
        "open_for_write": "openat", "socket": "socket", "socket_unix": "socket",
        "bind": "bind", "listen": "listen", "execve": "execve", "fork": "clone",
        "thread_in_new_namespace": "clone", "mount": "mount", "ptrace": "ptrace", "setuid_root": "setuid",
        "unshare": "unshare", "kill": "kill", "init_module": "init_module", "keyctl": "keyctl", "bpf": "bpf",
        "raise_open_files": "prlimit64", "terminal_injection": "ioctl", "chroot": "chroot",
        "openat2_elsewhere": "openat2", "open_truncate": "openat", "set_linger": "setsockopt",
        "signal_owner": "fcntl", "signal_other_process": "tgkill", "replace_sigsys_handler": "rt_sigaction",
    }
    # connect never runs: "in progress" (sandbox/seccomp_policy.cc says why).
    REFUSED = {"connect": "EINPROGRESS", "open_host_file": "ENOENT", "open_host_handlers_path": "ENOENT",
               "create_in_handlers": "EROFS"}
    ALLOWED = ("read_handler_file", "thread", "use_passed_socket")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="portbroker-probe-")
        cls.handlers = os.path.join(cls.tmp, "handlers")
        os.makedirs(cls.handlers)
        os.chmod(cls.tmp, 0o755)
        with open(os.path.join(cls.handlers, "probe.txt"), "w") as f:
            f.write("readable\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def probe(self, operation, unprivileged=False, read_after_exit=False):
        command = [PROBE, "--operation", operation, "--handlers", self.handlers]
        if read_after_exit:
            command += ["--read", "after-exit"]
        if unprivileged:
            # A supervisor that is not root: a user namespace replaces root's powers.
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                       "--bounding-set=-all"] + command
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertIsNone(report["failed"], report)
        self.assertTrue(report["sandbox"]["confined"], report)
        return report

    def test_forbidden_system_calls_end_the_process(self):
        for operation, syscall in self.KILLED.items():
            with self.subTest(operation=operation):
                report = self.probe(operation)
                self.assertIsNone(report["outcome"], report)
                self.assertEqual(report["exit"], f"killed by signal SIGSYS (seccomp: {syscall})")

    def test_host_files_are_out_of_reach(self):
        for operation, errno_name in self.REFUSED.items():
            with self.subTest(operation=operation):
                report = self.probe(operation)
                self.assertEqual(report["outcome"], {"result": "refused", "errno": errno_name})
                self.assertEqual(report["exit"], "exited with status 0")

    def test_what_a_worker_needs_still_works(self):
        for operation in self.ALLOWED:
            with self.subTest(operation=operation):
                report = self.probe(operation)
                self.assertEqual(report["outcome"], {"result": "succeeded"})
                sandbox = report["sandbox"]
                self.assertEqual(sandbox["missing"], [])
                self.assertEqual(sandbox["uid"], 65534)

    def test_what_a_worker_sent_before_its_exit_counts_when_the_exit_is_seen_first(self):
        # A busy supervisor may see the exit before it reads the channel (CI
        # caught it): the reports still count, in order; they used to be lost.
        report = self.probe("read_handler_file", read_after_exit=True)
        self.assertEqual(report["outcome"], {"result": "succeeded"})
        self.assertEqual(report["exit"], "exited with status 0")
        report = self.probe("socket", read_after_exit=True)
        self.assertIsNone(report["outcome"], report)
        self.assertEqual(report["exit"], "killed by signal SIGSYS (seccomp: socket)")

    def test_unprivileged_supervisor_still_confines_through_a_user_namespace(self):
        report = self.probe("thread", unprivileged=True)
        self.assertEqual(report["outcome"], {"result": "succeeded"})
        self.assertEqual(set(report["sandbox"]["namespaces"]), {"user", *NAMESPACES})
        self.assertTrue(report["sandbox"]["minimal_root"])
        self.assertEqual(report["sandbox"]["uid"], 65534)
        self.assertEqual(self.probe("open_host_file", unprivileged=True)["outcome"],
                         {"result": "refused", "errno": "ENOENT"})
        for operation in ("socket", "execve", "mount", "setuid_root"):
            with self.subTest(operation=operation):
                report = self.probe(operation, unprivileged=True)
                self.assertIsNone(report["outcome"])
                self.assertEqual(report["exit"], f"killed by signal SIGSYS (seccomp: {self.KILLED[operation]})")


class Traffic(threading.Thread):
    """Keeps talking to a well-behaved handler and records every failure."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.exchanges = 0
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                with contextlib.closing(harness.connect(self.port, timeout=5)) as sock:
                    sock.sendall(b"still here")
                    if harness.recv_exactly(sock, 10) != b"still here":
                        raise AssertionError("wrong echo")
                self.exchanges += 1
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                self.failures.append(repr(error))
            self.stopping.wait(0.05)


class MisbehavingHandlersTest(unittest.TestCase):
    """Each is stopped or refused with a clear reason; `good` serves throughout."""

    CONFIG = {"worker": {"cpu_limit_ms": 1000, "memory_mb": 96, "heap_mb": 64, "max_restarts": 2,
                         "open_files": 256, "processes": 2048, "address_space_mb": 8192}}

    FILES = {
        "loop": 'export function handle(conn) { conn.on("data", () => { for (;;) {} }); }\n',
        "bomb": """export function handle(conn) {
  conn.on("data", () => {
    const hoard = [];
    for (;;) hoard.push(new Uint8Array(16 << 20).fill(1));
  });
}
""",
        "passwd": 'import text from "/etc/passwd";\nexport function handle(conn) { conn.end(String(text)); }\n',
        "outside": 'import { secret } from "../outside.js";\nexport function handle(conn) { conn.end(String(secret)); }\n',
        "escape": 'import { secret } from "./escape-link.js";\nexport function handle(conn) { conn.end(String(secret)); }\n',
        "throws": 'throw new Error("refusing to load");\nexport function handle(conn) { conn.end(); }\n',
        "spins": 'while (true) {}\nexport function handle(conn) { conn.end(); }\n',
        "crashloop": 'setTimeout(() => { for (;;) {} }, 50);\nexport function handle(conn) { conn.end(); }\n',
    }

    @classmethod
    def setUpClass(cls):
        cls.broker = harness.Broker(config=cls.CONFIG)
        os.chmod(cls.broker.tmp, 0o755)
        # Exists, and is readable by the worker user: only the sandbox keeps it out.
        with open(os.path.join(cls.broker.tmp, "outside.js"), "w") as f:
            f.write("export const secret = 42;\n")
        os.symlink("../outside.js", os.path.join(cls.broker.handlers, "escape-link.js"))
        cls.ports = {}
        for name in ("good", "victim", "paused", *cls.FILES):
            cls.ports[name] = harness.free_port()
            cls.broker.write(f"{name}.tcp.{cls.ports[name]}.port.js", cls.FILES.get(name, ECHO))
        cls.broker.start()
        cls.traffic = Traffic(cls.ports["good"])
        cls.traffic.start()

    @classmethod
    def tearDownClass(cls):
        cls.traffic.stopping.set()
        cls.traffic.join(10)
        cls.broker.stop()
        cls.broker.close()

    def tearDown(self):
        # Whatever the others did, the well-behaved handler kept answering.
        self.assertEqual(self.traffic.failures, [])
        self.assertEqual(self.broker.handler("good")["worker"]["restarts"], 0)

    def handler(self, name):
        return self.broker.handler(name)

    def wait_for_restart(self, name, old_pid):
        def restarted():
            handler = self.handler(name)
            worker = handler["worker"]
            if handler["state"] == "active" and worker["pid"] not in (None, old_pid) and worker["restarts"] >= 1:
                return handler
            return None
        return harness.wait_until(restarted, what=f"{name} to restart")

    def provoke(self, name):
        """Sends one request; the worker dies under it, so the connection ends."""
        with contextlib.closing(harness.connect(self.ports[name])) as sock:
            sock.sendall(b"go")
            sock.settimeout(harness.DEFAULT_TIMEOUT)
            with contextlib.suppress(ConnectionResetError):
                self.assertEqual(sock.recv(16), b"")

    def assert_failed(self, name, *fragments):
        handler = harness.wait_until(lambda: (h := self.handler(name))["state"] == "failed" and h, what=f"{name} to fail")
        for fragment in fragments:
            self.assertIn(fragment, handler["reason"])
        with self.assertRaises(ConnectionRefusedError):
            harness.connect(self.ports[name]).close()
        return handler

    def test_infinite_loop_is_stopped_by_the_cpu_watchdog(self):
        old_pid = self.handler("loop")["worker"]["pid"]
        before = self.traffic.exchanges
        self.provoke("loop")
        handler = self.wait_for_restart("loop", old_pid)
        self.assertIn("CPU watchdog stopped a callback that ran for more than 1000 ms", handler["worker"]["last_exit"])
        self.assertGreater(self.traffic.exchanges, before)
        self.broker.wait_for(event="worker-exited", handler="loop")

    def test_memory_bomb_is_stopped_by_the_memory_watchdog(self):
        old_pid = self.handler("bomb")["worker"]["pid"]
        self.provoke("bomb")
        handler = self.wait_for_restart("bomb", old_pid)
        self.assertIn("memory watchdog stopped the worker", handler["worker"]["last_exit"])
        self.assertIn("over the limit of 96 MiB", handler["worker"]["last_exit"])

    def test_imports_outside_the_handlers_folder_are_refused(self):
        self.assert_failed("passwd", "Cannot import '/etc/passwd'", "absolute paths are not allowed")
        self.assert_failed("outside", "Cannot import '../outside.js'", "leaves the handlers folder")
        self.assert_failed("escape", "resolves outside the handlers folder")

    def test_module_that_throws_at_load_fails_with_its_error(self):
        handler = self.assert_failed("throws", "Error: refusing to load")
        self.assertIn(f"throws.tcp.{self.ports['throws']}.port.js:1", handler["reason"])
        self.assertEqual(handler["worker"]["restarts"], 0)

    def test_module_that_never_finishes_loading_is_stopped(self):
        self.assert_failed("spins", "CPU watchdog stopped a callback that ran for more than 1000 ms")

    def test_handler_that_keeps_crashing_ends_failed(self):
        handler = self.assert_failed("crashloop", "crashed 3 times in a row", "CPU watchdog")
        self.assertEqual(handler["worker"]["restarts"], 2)
        attempts = [int(e["attempt"]) for e in self.broker.events(event="worker-restarting", handler="crashloop")]
        self.assertEqual(attempts, [1, 2])
        delays = [int(e["delay_ms"]) for e in self.broker.events(event="worker-restarting", handler="crashloop")]
        self.assertEqual(delays, [250, 500])

    def test_killed_worker_is_restarted_and_its_port_keeps_working(self):
        victim = self.handler("victim")
        old_pid = victim["worker"]["pid"]
        held = harness.connect(self.ports["victim"])
        held.sendall(b"before")
        self.assertEqual(harness.recv_exactly(held, 6), b"before")
        os.kill(old_pid, signal.SIGKILL)
        # Its connections go with it.
        held.settimeout(harness.DEFAULT_TIMEOUT)
        with contextlib.suppress(ConnectionResetError):
            self.assertEqual(held.recv(16), b"")
        held.close()
        handler = self.wait_for_restart("victim", old_pid)
        self.assertEqual(handler["worker"]["restarts"], 1)
        self.assertEqual(handler["worker"]["last_exit"], "killed by signal SIGKILL")
        self.assertEqual(handler["worker"]["sandbox"]["confined"], True)
        with contextlib.closing(harness.connect(self.ports["victim"])) as sock:
            sock.sendall(b"after")
            self.assertEqual(harness.recv_exactly(sock, 5), b"after")

    def test_stopped_and_continued_worker_keeps_serving(self):
        # A stop/continue (an operator's kill -STOP/-CONT, a tracer attaching)
        # makes the kernel resume interrupted sleeps through restart_syscall,
        # which the seccomp policy must allow.
        pid = self.handler("paused")["worker"]["pid"]
        with contextlib.closing(harness.connect(self.ports["paused"])) as held:
            os.kill(pid, signal.SIGSTOP)
            time.sleep(0.3)
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.5)  # room for a wrongly trapped call to end the process
            held.sendall(b"still here")
            self.assertEqual(harness.recv_exactly(held, 10), b"still here")
        handler = self.handler("paused")
        self.assertEqual(handler["worker"]["pid"], pid)
        self.assertEqual(handler["worker"]["restarts"], 0)
        self.assertEqual(self.broker.events(event="seccomp-violation", handler="paused"), [])

    def test_configured_limits_reach_the_worker(self):
        pid = self.handler("good")["worker"]["pid"]
        limits = limits_of(pid)
        self.assertEqual(limits["Max open files"], ("256", "256"))
        self.assertEqual(limits["Max processes"], ("2048", "2048"))
        assert_address_space(self, limits, 8192 << 20, self.handler("good")["worker"]["sandbox"])
        self.assertEqual(self.handler("good")["worker"]["sandbox"]["limits"],
                         {"open_files": 256, "processes": 2048, "address_space_bytes": 8192 << 20})


if __name__ == "__main__":
    harness.main()
