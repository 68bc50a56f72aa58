#!/usr/bin/env python3
"""One broker, the operator's folder and two tenants, with real uids: alice
runs as the system user `daemon`, bob as a uid the broker allocates. The
broker runs in a network namespace this test makes (its firewall on); the
tenants' users run `redis-cli` and `portbrokerctl` through `setpriv`. Each
tenant is kept apart: ports, identities, store keys and channels, quotas,
egress (a tenant's cap narrows its handlers' `connect` lists) and what the
control socket shows."""

import contextlib
import json
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
import textwrap
import time
import unittest

import harness

SUFFIX = str(os.getpid())
NAMESPACE = "pbt" + SUFFIX
CTL = os.path.join(harness.BIN, "portbrokerctl")

# Counts in the shared store, answers, and keeps the connection open until
# the client closes it (so connections can be held).
COUNTER = """export async function handle(conn, ctx) {
  const n = (await ctx.shared.get("count")) ?? 0;
  await ctx.shared.set("count", n + 1);
  conn.write(`${ctx.name} ${n}\\n`);
  conn.on("data", () => {});
}
"""
# Allocates (and touches) memory on request, until something stops it.
HOG = """const kept = [];
export function handle(conn) {
  conn.on("data", () => { for (let i = 0; i < 40; i++) kept.push(Buffer.alloc(16 * 1024 * 1024, 1)); conn.write("ate\\n"); });
  conn.write("ready\\n");
}
"""
GREET = 'export function handle(conn) { conn.end("hi from %s\\n"); }\n'
# Connects out through the broker to the port the client names; answers
# with the upstream's first line, or the error's code.
OUT = """import net from "node:net";
export function handle(conn) {
  conn.once("data", (line) => {
    const upstream = net.connect(Number(line.toString()), "127.0.0.1");
    upstream.once("data", (data) => conn.end(data));
    upstream.on("error", (error) => conn.end(`${error.code}\\n`));
  });
}
"""

CLIENT = textwrap.dedent("""
    import socket, sys
    port, send = int(sys.argv[1]), sys.argv[2].encode()
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        print("refused"); sys.exit()
    if send:
        s.sendall(send)
    data = b""
    try:
        while not data.endswith(b"\\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    print(data.decode().strip() or "closed")
""")


def run(*args, check=True, user=None, timeout=30, input=None):
    command = list(args)
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + command
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed: {result.stderr}")
    return result


def in_namespace(*args, **kwargs):
    return run("ip", "netns", "exec", NAMESPACE, *args, **kwargs)


def request(port, send=""):
    return in_namespace("python3", "-c", CLIENT, str(port), send).stdout.strip()


class HeldConnection:
    """A client connection held open from inside the namespace."""

    def __init__(self, port):
        script = CLIENT.replace('print(data.decode().strip() or "closed")',
                                'print(data.decode().strip() or "closed", flush=True); sys.stdin.read()')
        self.process = subprocess.Popen(["ip", "netns", "exec", NAMESPACE, "python3", "-c", script, str(port), ""],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.greeting = self.process.stdout.readline().strip()

    def close(self):
        self.process.stdin.close()
        self.process.wait(10)


@unittest.skipUnless(os.geteuid() == 0, "needs root: real uids, a network namespace, nftables")
class TenantsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run("ip", "netns", "add", NAMESPACE)
        in_namespace("ip", "link", "set", "lo", "up")
        cls.root = tempfile.mkdtemp(prefix="portbroker-tenants-")
        os.chmod(cls.root, 0o755)
        cls.dirs = {name: os.path.join(cls.root, name) for name in ("op", "alice", "bob", "state")}
        for path in cls.dirs.values():
            os.makedirs(path)
            os.chmod(path, 0o755)
        cls.alice_uid = pwd.getpwnam("daemon").pw_uid
        cls.write("op", "op.tcp.7400.port.js", GREET % "op")
        # Claim order is by age: the third of alice's files is past her quota of two.
        cls.write("alice", "count.tcp.20001.port.js", COUNTER, mtime=1_000_000)
        cls.write("alice", "hog.tcp.20002.port.js", HOG, mtime=1_000_001)
        cls.write("alice", "extra.tcp.20003.port.js", GREET % "extra", mtime=1_000_002)
        cls.write("alice", "ssh.tcp.22.port.js", GREET % "not alice's port")
        cls.write("bob", "count.tcp.21001.port.js", COUNTER)
        # Bob's manifest asks for all of loopback; his tenant's cap allows
        # only 21090-21099 there. Alice has no cap: no egress at all.
        cls.write("bob", "out.tcp.21002.port.js", OUT)
        cls.write("bob", "out.tcp.21002.port.json", json.dumps({"connect": ["127.0.0.0/8:*"]}))
        cls.write("bob", "up.tcp.21095.port.js", GREET % "up")
        cls.config = {
            "handlers_dir": cls.dirs["op"],
            "state_dir": cls.dirs["state"],
            "tenants": {
                "alice": {"handlers": cls.dirs["alice"], "ports": ["20000-20099"], "user": "daemon",
                          "limits": {"handlers": 2, "connections": 2, "memory_mb": 128, "store_mb": 1}},
                "bob": {"handlers": cls.dirs["bob"], "ports": ["21000-21099"], "egress": ["127.0.0.1:21090-21099"]},
            },
        }
        # nsenter, not `ip netns exec`: the latter mounts a fresh /sys, which
        # hides the cgroup hierarchies the tenants' limits live in.
        cls.broker = harness.Broker(config=cls.config, command_prefix=["nsenter", f"--net=/run/netns/{NAMESPACE}"],
                                    firewall=True)
        os.chmod(cls.broker.tmp, 0o755)  # tenants' users reach the run directory's sockets
        cls.broker.handlers = cls.dirs["op"]
        cls.broker.start()
        status = cls.broker.status()
        cls.bob_uid = next(t["uid"] for t in status["tenants"] if t["name"] == "bob")

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        run("ip", "netns", "delete", NAMESPACE, check=False)
        shutil.rmtree(cls.root, ignore_errors=True)

    @classmethod
    def write(cls, folder, name, text, mtime=None):
        path = os.path.join(cls.dirs[folder], name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        if mtime is not None:
            os.utime(path, (mtime, mtime))

    def handler(self, tenant, name):
        for handler in self.broker.status()["handlers"]:
            if handler["tenant"] == tenant and handler["name"] == name:
                return handler
        raise AssertionError(f"no handler {tenant}/{name}")

    def redis(self, tenant, *args, uid=None, stdin=None):
        socket_path = os.path.join(self.broker.run_dir, "tenants", tenant, "store.sock") if tenant else \
            os.path.join(self.broker.run_dir, "store.sock")
        # -x: the last argument from stdin (a value too long for argv).
        return run("redis-cli", "-s", socket_path, *(["-x"] if stdin else []), *args, user=uid, check=False,
                   input=stdin)

    def test_a_port_outside_the_allowance_is_refused_and_never_in_the_firewall(self):
        ssh = self.handler("alice", "ssh")
        self.assertEqual(ssh["state"], "refused")
        self.assertIn("tcp port 22 is outside tenant alice's ports (20000-20099)", ssh["reason"])
        ports = in_namespace("nft", "-j", "list", "set", "inet", "portbroker", "tcp_ports").stdout
        elements = json.loads(ports)["nftables"][1]["set"].get("elem", [])
        self.assertNotIn(22, elements)
        self.assertIn(20001, elements)
        self.assertIn(21001, elements)
        self.assertEqual(request(22), "refused")

    def test_each_tenant_runs_under_its_own_uid(self):
        uids = {}
        for tenant, name in ((None, "op"), ("alice", "count"), ("bob", "count")):
            handler = self.handler(tenant, name)
            with open(f"/proc/{handler['worker']['pid']}/status") as f:
                line = next(l for l in f if l.startswith("Uid:"))
            uids[tenant] = int(line.split()[1])
            self.assertEqual(handler["worker"]["uid"], uids[tenant])
        self.assertEqual(uids["alice"], self.alice_uid)
        self.assertTrue(196608 <= uids["bob"] <= 262143, uids["bob"])
        self.assertEqual(len(set(uids.values())), 3)
        # The same name, the same uid across restarts: it is on record.
        with open(os.path.join(self.dirs["state"], "tenant-uids.json")) as f:
            self.assertEqual(json.load(f)["bob"], uids["bob"])

    def test_the_same_key_and_channel_names_are_kept_apart(self):
        before = int(self.redis("alice", "GET", "count", uid=self.alice_uid).stdout.strip() or 0)
        self.assertEqual(request(20001), f"count {before}")
        self.assertEqual(request(20001), f"count {before + 1}")
        self.assertTrue(request(21001).startswith("count "))
        # Root's view: both, under their tenants' names.
        keys = self.redis(None, "KEYS", "*").stdout.split()
        self.assertIn("alice:count", keys)
        self.assertIn("bob:count", keys)
        # Each tenant's user on its own socket sees only its own keys, by their own names.
        self.assertEqual(self.redis("alice", "KEYS", "*", uid=self.alice_uid).stdout.split(), ["count"])
        self.assertEqual(self.redis("alice", "GET", "count", uid=self.alice_uid).stdout.strip(), str(before + 2))
        self.assertEqual(self.redis("bob", "KEYS", "*", uid=self.bob_uid).stdout.split(), ["count"])
        self.assertEqual(self.redis("bob", "DBSIZE", uid=self.bob_uid).stdout.strip(), "1")
        # redis-cli --scan (SCAN, one reply from cursor 0) too; root's sees every tenant's.
        self.assertEqual(self.redis("alice", "--scan", uid=self.alice_uid).stdout.split(), ["count"])
        self.assertEqual(self.redis("alice", "--scan", "--pattern", "*bob*", uid=self.alice_uid).stdout.split(), [])
        self.assertIn("bob:count", self.redis(None, "--scan", "--pattern", "*:count").stdout.split())
        # One tenant's user cannot even open the other's socket.
        denied = self.redis("bob", "GET", "count", uid=self.alice_uid)
        self.assertIn("Permission denied", denied.stdout + denied.stderr)
        # Channels: a subscriber in alice's part hears alice's "news", never bob's.
        listener = subprocess.Popen(["setpriv", f"--reuid={self.alice_uid}", f"--regid={self.alice_uid}", "--clear-groups",
                                     "redis-cli", "-s", os.path.join(self.broker.run_dir, "tenants", "alice", "store.sock"),
                                     "SUBSCRIBE", "news"], stdout=subprocess.PIPE, text=True)
        try:
            harness.wait_until(lambda: self.redis("alice", "PUBLISH", "news", '"ping"', uid=self.alice_uid).stdout.strip() == "1",
                               what="alice's subscriber")
            self.assertEqual(self.redis("bob", "PUBLISH", "news", '"from bob"', uid=self.bob_uid).stdout.strip(), "0")
            self.assertEqual(self.redis(None, "PUBLISH", "alice:news", '"from root"').stdout.strip(), "1")
        finally:
            listener.kill()
            listener.wait()

    def test_quotas_each_refuse_with_their_reason_while_the_other_tenant_serves(self):
        # handlers: the third file is refused.
        extra = self.handler("alice", "extra")
        self.assertEqual(extra["state"], "refused")
        self.assertIn("limits.handlers", extra["reason"])
        # connections: two held, the third refused and counted.
        held = [HeldConnection(20001) for _ in range(2)]
        try:
            self.assertTrue(all(h.greeting.startswith("count") for h in held), [h.greeting for h in held])
            self.assertEqual(request(20001), "closed")
            self.assertGreaterEqual(self.handler("alice", "count")["refused_by"]["tenant-connections"], 1)
            self.assertTrue(request(21001).startswith("count"))
        finally:
            for h in held:
                h.close()
        # store: one megabyte of keys, then Redis's OOM error; bob's writes go on.
        big = '"' + "x" * 600_000 + '"'
        self.assertEqual(self.redis("alice", "SET", "big1", uid=self.alice_uid, stdin=big).stdout.strip(), "OK")
        refused = self.redis("alice", "SET", "big2", uid=self.alice_uid, stdin=big)
        self.assertIn("OOM", refused.stdout + refused.stderr)
        self.assertEqual(self.redis("bob", "SET", "big2", uid=self.bob_uid, stdin=big).stdout.strip(), "OK")
        self.assertEqual(self.redis("alice", "DEL", "big1", uid=self.alice_uid).stdout.strip(), "1")
        self.assertEqual(self.redis("alice", "SET", "big2", uid=self.alice_uid, stdin=big).stdout.strip(), "OK")
        for tenant, uid in (("alice", self.alice_uid), ("bob", self.bob_uid)):
            self.redis(tenant, "DEL", "big2", uid=uid)
        # memory: the kernel ends the worker that takes more than the tenant's group allows.
        tenant = next(t for t in self.broker.status()["tenants"] if t["name"] == "alice")
        self.assertIsNotNone(tenant["cgroup"]["version"], tenant["cgroup"])
        pid = self.handler("alice", "hog")["worker"]["pid"]
        self.assertIn(request(20002, "eat\n"), ("closed", "ready"))
        hog = harness.wait_until(lambda: (h := self.handler("alice", "hog"))["worker"]["last_exit"] and h,
                                 what="the hog to be stopped")
        self.assertIn("SIGKILL", hog["worker"]["last_exit"])
        self.assertIn("tenant alice's memory limit", hog["worker"]["last_exit"])
        self.assertNotEqual(hog["worker"]["pid"], pid)
        self.assertTrue(request(21001).startswith("count"))

    def test_the_tenants_egress_cap_narrows_its_handlers_connect_lists(self):
        harness.wait_until(lambda: self.handler("bob", "out")["state"] == "active", what="bob's out handler")
        harness.wait_until(lambda: self.handler("bob", "up")["state"] == "active", what="bob's up handler")
        self.assertEqual(request(21002, "21095"), "hi from up")       # manifest and cap both admit it
        self.assertEqual(request(21002, "21001"), "EACCES")           # the manifest would, the cap does not
        egress = self.handler("bob", "out")["egress"]
        self.assertEqual(egress["connect"], ["127.0.0.0/8:*"])
        self.assertEqual(egress["tenant_cap"], ["127.0.0.1:21090-21099"])
        self.assertEqual(egress["refused"]["not-allowed"], 1)
        self.broker.wait_for(event="egress-refused", tenant="bob", destination="127.0.0.1:21001")

    def test_a_tenant_sees_only_itself(self):
        status = json.loads(run(CTL, "--run-dir", self.broker.run_dir, "status", "--json", user=self.alice_uid).stdout)
        self.assertEqual({h["tenant"] for h in status["handlers"]}, {"alice"})
        self.assertEqual([t["name"] for t in status["tenants"]], ["alice"])
        self.assertNotIn("config", status["broker"])
        ca = run(CTL, "--run-dir", self.broker.run_dir, "ca", user=self.alice_uid, check=False)
        self.assertNotEqual(ca.returncode, 0)
        self.assertIn("operator's", ca.stderr)
        stranger = run(CTL, "--run-dir", self.broker.run_dir, "status", user=65000, check=False)
        self.assertIn("permission denied", stranger.stderr)
        # Root sees everyone, and one with --tenant.
        table = self.broker.ctl("status").stdout
        self.assertIn("TENANT", table)
        only_bob = json.loads(self.broker.ctl("status", "--tenant", "bob", "--json").stdout)
        self.assertEqual({h["tenant"] for h in only_bob["handlers"]}, {"bob"})
        # Every metric says whose it is.
        metrics = self.broker.ctl("metrics").stdout
        self.assertIn('tenant="alice",handler="count"', metrics)
        self.assertIn('tenant="",handler="op"', metrics)
        # And every log line about a tenant's handler.
        self.assertTrue(self.broker.events(event="handler-active", handler="count", tenant="bob"))

    def test_a_tenants_user_gets_its_own_connections_metrics_and_reload(self):
        as_alice = lambda *args: run(CTL, "--run-dir", self.broker.run_dir, *args, user=self.alice_uid)
        held = [HeldConnection(20001), HeldConnection(21001)]
        try:
            conns = json.loads(as_alice("conns", "--json").stdout)["connections"]
            self.assertTrue(conns)
            self.assertEqual({c["tenant"] for c in conns}, {"alice"})
            everyone = json.loads(self.broker.ctl("conns", "--json").stdout)["connections"]
            self.assertIn("bob", {c["tenant"] for c in everyone})
        finally:
            for connection in held:
                connection.close()
        metrics = as_alice("metrics").stdout
        self.assertIn('tenant="alice"', metrics)
        self.assertNotIn('tenant="bob"', metrics)
        self.assertNotIn('tenant=""', metrics)
        # A tenant's reload rescans its own folder; bob's worker is untouched.
        bob_pid = next(h for h in self.broker.status()["handlers"] if h["tenant"] == "bob")["worker"]["pid"]
        as_alice("reload")
        self.assertEqual(next(h for h in self.broker.status()["handlers"] if h["tenant"] == "bob")["worker"]["pid"],
                         bob_pid)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class TenantConfigTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="portbroker-tenant-config-")
        os.chmod(self.root, 0o755)
        self.addCleanup(shutil.rmtree, self.root, True)
        for name in ("op", "alice", "bob", "carol", "state"):
            os.makedirs(os.path.join(self.root, name))
            os.chmod(os.path.join(self.root, name), 0o755)
        for name, port in (("alice", 20101), ("bob", 21101), ("carol", 22101)):
            path = os.path.join(self.root, name, f"g.tcp.{port}.port.js")
            with open(path, "w") as f:
                f.write(GREET % name)
            os.chmod(path, 0o644)

    def tenants(self, *names):
        ports = {"alice": "20100-20199", "bob": "21100-21199", "carol": "22100-22199"}
        return {name: {"handlers": os.path.join(self.root, name), "ports": [ports[name]]} for name in names}

    def start_broker(self, *tenants, **extra):
        config = {"handlers_dir": os.path.join(self.root, "op"), "state_dir": os.path.join(self.root, "state"),
                  "tenants": self.tenants(*tenants), **extra}
        broker = harness.Broker(config=config)
        self.addCleanup(broker.close)
        broker.handlers = os.path.join(self.root, "op")
        broker.start()
        return broker

    @staticmethod
    def reload_with(broker, tenants=None, text=None):
        """Writes the broker's config with these tenants (or `text` as it is), reloads, and returns the status."""
        broker.config["tenants"] = tenants
        with open(os.path.join(broker.tmp, "portbroker.json"), "w") as f:
            f.write(text if text is not None else json.dumps(broker.config))
        broker.ctl("reload")
        return broker.status()

    def test_a_bad_tenant_config_is_refused_with_the_field_named(self):
        path = os.path.join(self.root, "bad.json")

        def with_tenants(tenants):
            """portbrokerd started on a config with these tenants, and `check --config` on it."""
            with open(path, "w") as f:
                json.dump({"handlers_dir": os.path.join(self.root, "op"), "state_dir": os.path.join(self.root, "state"),
                           "tenants": tenants}, f)
            daemon = run(os.path.join(harness.BIN, "portbrokerd"), "--config", path, "--run-dir",
                         os.path.join(self.root, "run"), "--no-firewall", check=False)
            return daemon, run(CTL, "check", "--config", path, os.path.join(self.root, "op"), check=False)

        daemon, check = with_tenants({**self.tenants("alice"), "bob": {"handlers": os.path.join(self.root, "bob"),
                                                                        "ports": ["20150-21200"]}})
        self.assertEqual(daemon.returncode, 1)
        self.assertIn("field=/tenants/bob/ports", daemon.stderr)
        self.assertIn("overlap tenant alice's 20100-20199", daemon.stderr)
        self.assertIn("/tenants/bob/ports", check.stdout)
        # What only this host can answer: `check --config` reports it as the broker does.
        missing = os.path.join(self.root, "nope")
        daemon, check = with_tenants({**self.tenants("alice"), "bob": {"handlers": missing, "ports": ["21100-21199"]}})
        for output in (daemon.stderr, check.stdout):
            self.assertIn(f"/tenants/bob/handlers: {missing} is not a folder", output)
        daemon, check = with_tenants({**self.tenants("alice"), "bob": {"handlers": os.path.join(self.root, "bob"),
                                                                        "ports": ["21100-21199"], "user": "nosuchuser"}})
        self.assertNotEqual(check.returncode, 0)
        for output in (daemon.stderr, check.stdout):
            self.assertIn("/tenants/bob/user: no user named 'nosuchuser'", output)
        # Two tenants as one user would share its process limit, /proc and signals.
        daemon, check = with_tenants({name: {**tenant, "user": "daemon"}
                                      for name, tenant in self.tenants("alice", "bob").items()})
        self.assertEqual(daemon.returncode, 1)
        for output in (daemon.stderr, check.stdout):
            self.assertIn("/tenants/bob/user: uid collision", output)

    def test_tenants_are_added_and_removed_live_and_a_bad_reload_keeps_the_config(self):
        broker = self.start_broker("alice", "bob")
        self.assertEqual(harness.transcript(20101), b"hi from alice\n")
        self.assertEqual(harness.transcript(21101), b"hi from bob\n")
        alice_pid = next(h for h in broker.status()["handlers"] if h["tenant"] == "alice")["worker"]["pid"]
        # bob leaves, carol comes.
        self.reload_with(broker, self.tenants("alice", "carol"))
        broker.wait_for(event="tenant-retired", tenant="bob")
        self.assertEqual(harness.transcript(22101), b"hi from carol\n")
        with self.assertRaises(ConnectionRefusedError):
            harness.connect(21101).close()
        status = broker.status()
        self.assertEqual(sorted(t["name"] for t in status["tenants"]), ["alice", "carol"])
        # alice was not touched.
        self.assertEqual(next(h for h in status["handlers"] if h["tenant"] == "alice")["worker"]["pid"], alice_pid)
        # A broken config keeps what is in force, with the error in status.
        status = self.reload_with(broker, text='{"tenants": {"Carol!": {}}}')
        self.assertIn("/tenants/Carol!", status["broker"]["config_error"])
        self.assertEqual(sorted(t["name"] for t in status["tenants"]), ["alice", "carol"])
        self.assertEqual(harness.transcript(22101), b"hi from carol\n")

    def test_a_reload_naming_what_this_host_lacks_keeps_every_tenant_running(self):
        broker = self.start_broker("alice", "bob")
        pids = {h["tenant"]: h["worker"]["pid"] for h in broker.status()["handlers"] if h["tenant"]}

        def assert_untouched(status):
            self.assertEqual(sorted(t["name"] for t in status["tenants"]), ["alice", "bob"])
            self.assertEqual({h["tenant"]: h["worker"]["pid"] for h in status["handlers"] if h["tenant"]}, pids)
            self.assertEqual(harness.transcript(20101), b"hi from alice\n")
            self.assertEqual(harness.transcript(21101), b"hi from bob\n")

        # bob's new user does not exist: bob keeps running as he was.
        tenants = self.tenants("alice", "bob")
        tenants["bob"]["user"] = "nosuchuser"
        status = self.reload_with(broker, tenants)
        self.assertIn("/tenants/bob/user: no user named 'nosuchuser'", status["broker"]["config_error"])
        self.assertIn("the configuration in force stays", status["broker"]["config_error"])
        assert_untouched(status)
        # carol's folder is missing: nobody is touched, carol does not come.
        carol = os.path.join(self.root, "carol")
        os.rename(carol, carol + ".away")
        status = self.reload_with(broker, self.tenants("alice", "bob", "carol"))
        self.assertIn("/tenants/carol/handlers", status["broker"]["config_error"])
        assert_untouched(status)
        # Limits alone change in place: bob's worker keeps running.
        tenants = self.tenants("alice", "bob")
        tenants["bob"]["limits"] = {"handlers": 5}
        status = self.reload_with(broker, tenants)
        self.assertIsNone(status["broker"]["config_error"])
        broker.wait_for(event="tenant-updated", tenant="bob")
        assert_untouched(status)
        # Once the folder is there, the same file reloads: carol comes, the error goes.
        os.rename(carol + ".away", carol)
        tenants = self.tenants("alice", "bob", "carol")
        tenants["bob"]["limits"] = {"handlers": 5}
        status = self.reload_with(broker, tenants)
        self.assertIsNone(status["broker"]["config_error"])
        self.assertEqual(harness.transcript(22101), b"hi from carol\n")
        self.assertEqual({h["tenant"]: h["worker"]["pid"] for h in status["handlers"] if h["tenant"] in pids}, pids)

    def test_key_files_and_certificate_names_are_each_tenants_own(self):
        keys = {}
        for owner, name in (("op", "op.test"), ("alice", "alice.test"), ("bob", "bob.test")):
            folder = keys[owner] = os.path.join(self.root, f"{owner}-keys")
            os.makedirs(folder)
            os.chmod(folder, 0o755)
            run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{folder}/key.pem", "-out", f"{folder}/cert.pem", "-days", "2", "-subj", f"/CN={name}",
                "-addext", f"subjectAltName=DNS:{name}")
            os.chmod(f"{folder}/key.pem", 0o600)
        files = lambda owner: {"cert": f"{keys[owner]}/cert.pem", "key": f"{keys[owner]}/key.pem"}
        for name, port, tls in (("own", 21102, files("bob")), ("alices", 21103, files("alice")),
                                ("operators", 21104, files("op")),
                                ("demand", 21105, {"cert": "on-demand", "names": ["*.bob.test"]}),
                                ("grab", 21106, {"cert": "on-demand", "names": ["www.alice.test"]})):
            for suffix, text in (("js", GREET % name), ("json", json.dumps({"tls": {"enabled": True, **tls}}))):
                path = os.path.join(self.root, "bob", f"{name}.tcp.{port}.port.{suffix}")
                with open(path, "w") as f:
                    f.write(text)
                os.chmod(path, 0o644)
        tenants = self.tenants("alice", "bob")
        tenants["alice"]["tls"] = {"key_dirs": [keys["alice"]], "domains": ["alice.test", "*.alice.test"]}
        tenants["bob"]["tls"] = {"key_dirs": [keys["bob"]], "domains": ["*.bob.test"]}
        broker = self.start_broker(tenants=tenants, tls={"key_dirs": [keys["op"]], "domains": ["*.op.test"]})

        def handler(name):
            return next(h for h in broker.status()["handlers"] if h["tenant"] == "bob" and h["name"] == name)

        def greeting(port, name, cafile=None, cadata=None):
            context = ssl.create_default_context(cafile=cafile, cadata=cadata)
            with contextlib.closing(harness.connect(port)) as raw, context.wrap_socket(raw, server_hostname=name) as tls:
                return harness.recv_until(tls, b"\n"), tls.getpeercert()["subjectAltName"]

        # Bob's own key directory serves, verified by a client that trusts his certificate.
        self.assertEqual(greeting(21102, "bob.test", cafile=f"{keys['bob']}/cert.pem"),
                         (b"hi from own\n", (("DNS", "bob.test"),)))
        # Alice's and the operator's key files are out of bob's reach, and his
        # manifest's error says whose allowance it is.
        for name, owner in (("alices", "alice"), ("operators", "op")):
            refused = handler(name)
            self.assertEqual(refused["state"], "failed")
            self.assertIn(f"/tls/cert: '{keys[owner]}/cert.pem' is outside the key directories "
                          f"(tenant bob's tls.key_dirs: {keys['bob']})", refused["reason"])
            with self.assertRaises(ConnectionRefusedError):
                harness.connect({"alices": 21103, "operators": 21104}[name]).close()
        # On demand: a name of bob's is signed by the broker's CA; one of alice's is not even asked for.
        grab = handler("grab")
        self.assertEqual(grab["state"], "failed")
        self.assertIn("/tls/names/0: 'www.alice.test' is not among the names this broker issues certificates for "
                      "(tenant bob's tls.domains: *.bob.test)", grab["reason"])
        ca = broker.ctl("ca").stdout
        self.assertEqual(greeting(21105, "www.bob.test", cadata=ca), (b"hi from demand\n", (("DNS", "www.bob.test"),)))
        with self.assertRaises(ssl.SSLError):
            greeting(21105, "www.alice.test", cadata=ca)
        self.assertEqual([n for c in handler("demand")["tls"]["certificates"] for n in c["names"]], ["www.bob.test"])
        # The CA is constrained to every tenant's domains and the operator's (one CA for the host).
        constraints = run("openssl", "x509", "-noout", "-ext", "nameConstraints", input=ca).stdout
        for domain in ("DNS:.bob.test", "DNS:alice.test", "DNS:.alice.test", "DNS:.op.test"):
            self.assertIn(domain, constraints)

    def test_a_tenant_at_its_process_limit_is_told_so_and_the_others_serve(self):
        # Each worker needs a few threads: eight handlers cannot all start
        # within 16 processes and threads.
        for i in range(8):
            path = os.path.join(self.root, "carol", f"c{i}.tcp.{22110 + i}.port.js")
            with open(path, "w") as f:
                f.write(GREET % f"c{i}")
            os.chmod(path, 0o644)
        tenants = self.tenants("alice", "carol")
        tenants["carol"]["limits"] = {"pids": 16}
        broker = self.start_broker(tenants=tenants)
        carol = next(t for t in broker.status()["tenants"] if t["name"] == "carol")
        if carol["cgroup"]["version"] is None:
            self.skipTest(harness.SITUATIONAL + f"no control group for tenants here: {carol['cgroup']}")
        # The crash a starved runtime makes is put down to the limit, and retried with a back-off.
        event = broker.wait_for(event="worker-restarting", tenant="carol")
        self.assertIn("tenant carol's process limit, limits.pids, refused it a thread or process", event["reason"])
        # The other tenant is not touched.
        self.assertEqual(harness.transcript(20101), b"hi from alice\n")
        alice = next(h for h in broker.status()["handlers"] if h["tenant"] == "alice")
        self.assertEqual((alice["state"], alice["worker"]["restarts"]), ("active", 0))

    def test_a_restarted_store_gets_every_tenants_scope_again(self):
        broker = self.start_broker("alice", "bob")
        alice = os.path.join(broker.run_dir, "tenants", "alice", "store.sock")
        tenant_cli = lambda *args: run("redis-cli", "-s", alice, *args, check=False).stdout.strip()
        self.assertEqual(tenant_cli("SET", "k", "1"), "OK")
        store = broker.status()["broker"]["store"]["pid"]
        os.kill(store, signal.SIGKILL)
        harness.wait_until(lambda: broker.status()["broker"]["store"]["pid"] not in (None, store),
                           what="the store restarted")
        # The new store is told every scope again, with its socket: alice's
        # commands are alice's again (the embedded store starts empty).
        harness.wait_until(lambda: tenant_cli("SET", "k", "2") == "OK", what="alice's socket served again")
        self.assertEqual(broker.redis("GET", "alice:k"), "2")
        self.assertEqual(tenant_cli("KEYS", "*"), "k")


if __name__ == "__main__":
    harness.main()
