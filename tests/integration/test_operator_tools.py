"""What operators run besides `status`: `portbrokerctl check` on a folder
without a broker, `conns` and `metrics` against a running one (and metrics
over HTTP), and the service manager's notifications (Type=notify)."""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import harness

CTL = os.path.join(harness.BIN, "portbrokerctl")
ECHO = 'export function handle(conn) { conn.write("hi\\n"); conn.on("data", (d) => conn.write(d)); }\n'


def ctl(*args):
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=60)


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="portbroker-check-")
        os.chmod(self.tmp, 0o755)  # the check parses as an unprivileged user
        self.dir = os.path.join(self.tmp, "handlers")
        os.makedirs(os.path.join(self.dir, "lib"))

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def write(self, name, text, mtime=None):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        if mtime is not None:
            os.utime(path, (mtime, mtime))

    def check(self, *extra):
        result = ctl("check", self.dir, "--json", *extra)
        return result.returncode, json.loads(result.stdout)

    def test_a_good_folder_passes(self):
        self.write("lib/greeting.js", 'export const greeting = "hi";\n')
        self.write("echo.tcp.7000.port.js", 'import { greeting } from "./lib/greeting.js";\n'
                                            'export function handle(conn) { conn.end(greeting); }\n')
        self.write("echo.tcp.7000.port.json", '{"allow": ["10.0.0.0/8"]}')
        self.write("ping.udp.9000.port.js", "export function message(m, r, ctx) { ctx.reply(m, r); }\n")
        code, result = self.check()
        self.assertEqual(code, 0, result)
        self.assertEqual({f["file"]: f["status"] for f in result["files"]},
                         {"echo.tcp.7000.port.js": "ok", "ping.udp.9000.port.js": "ok"})
        self.assertIn("manifest echo.tcp.7000.port.json", result["files"][0]["detail"])
        human = ctl("check", self.dir)
        self.assertEqual(human.returncode, 0)
        self.assertIn("0 errors, 0 warnings: ok", human.stdout)

    def test_handler_code_is_compiled_in_a_worker_sandbox(self):
        # The folder's files may be hostile, and check often runs as root: the
        # compile happens in a worker confined as the broker confines one.
        self.write("echo.tcp.7000.port.js", ECHO)
        code, result = self.check()
        self.assertEqual(code, 0, result)
        sandbox = result["sandbox"]
        self.assertTrue(sandbox["confined"], sandbox)
        self.assertTrue(sandbox["seccomp"])
        self.assertTrue(sandbox["minimal_root"])
        self.assertTrue(sandbox["no_new_privs"])
        self.assertNotEqual(sandbox["uid"], 0)
        self.assertIn("net", sandbox["namespaces"])
        self.assertIn("javascript checked in a worker sandbox: uid", ctl("check", self.dir).stdout)

    def test_every_problem_is_named_and_fails_the_check(self):
        self.write("syntax.tcp.7001.port.js", "export function handle(conn) {\n  conn.end(\n")
        self.write("noexport.udp.7002.port.js", "export function handle() {}\n")
        self.write("badimport.tcp.7003.port.js", 'import { nope } from "./lib/util.js";\nexport function handle() {}\n')
        self.write("lib/util.js", "export const yes = 1;\n")
        self.write("missing.tcp.7004.port.js", 'import "./lib/gone.js";\nexport function handle() {}\n')
        self.write("guarded.tcp.7005.port.js", ECHO)
        self.write("guarded.tcp.7005.port.json", '{"allow": ["10.1.2.3/8"]}')
        self.write("first.tcp.7006.port.js", ECHO, mtime=1_000_000)
        self.write("second.tcp.7006.port.js", ECHO, mtime=2_000_000)
        self.write("zero.tcp.0.port.js", ECHO)
        self.write("alone.tcp.7007.port.json", "{}")
        # Checking never runs handler code: a throw at load is not seen.
        self.write("throws.tcp.7008.port.js", 'throw new Error("at load");\nexport function handle() {}\n')
        code, result = self.check()
        self.assertEqual(code, 1)
        files = {f["file"]: f for f in result["files"]}
        expected = {
            "syntax.tcp.7001.port.js": ("error", "syntax.tcp.7001.port.js:3:1: SyntaxError"),
            "noexport.udp.7002.port.js": ("error", 'must export a function "message"'),
            "badimport.tcp.7003.port.js": ("error", "import not found: nope"),
            "missing.tcp.7004.port.js": ("error", "lib/gone.js"),
            "guarded.tcp.7005.port.js": ("error", "guarded.tcp.7005.port.json: /allow/0"),
            "second.tcp.7006.port.js": ("error", "already claimed by first.tcp.7006.port.js"),
            "zero.tcp.0.port.js": ("error", "port 0"),
            "alone.tcp.7007.port.json": ("warning", "manifest without a handler"),
            "first.tcp.7006.port.js": ("ok", "tcp 7006"),
            "throws.tcp.7008.port.js": ("ok", "tcp 7008"),
        }
        for name, (status, detail) in expected.items():
            with self.subTest(file=name):
                self.assertEqual(files[name]["status"], status, files[name])
                self.assertIn(detail, files[name]["detail"])
        self.assertEqual(result["errors"], 7)
        self.assertEqual(result["warnings"], 1)

    def test_the_config_file_is_checked_too(self):
        self.write("echo.tcp.7000.port.js", ECHO)
        config = os.path.join(self.tmp, "portbroker.json")
        with open(config, "w") as f:
            json.dump({"handlers_dir": self.dir, "timeouts": {"open_ms": 0}}, f)
        code, result = ctl("check", "--config", config, "--json").returncode, None
        self.assertEqual(code, 1)
        result = json.loads(ctl("check", self.dir, "--config", config, "--json").stdout)
        self.assertIn("/timeouts/open_ms", result["config"]["error"])
        with open(config, "w") as f:
            json.dump({"handlers_dir": self.dir}, f)
        # Without DIR, the config's handlers folder is checked.
        result = ctl("check", "--config", config, "--json")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertEqual(json.loads(result.stdout)["handlers_dir"], self.dir)


class RunningBrokerToolsTest(unittest.TestCase):
    def setUp(self):
        self.port = harness.free_port()
        self.udp_port = harness.free_port()
        self.metrics_port = harness.free_port()
        self.broker = harness.Broker(config={"metrics": {"listen": f"127.0.0.1:{self.metrics_port}"}})
        self.broker.write(f"echo.tcp.{self.port}.port.js", ECHO)
        self.broker.copy_example("ping.udp.9000.port.js", f"ping.udp.{self.udp_port}.port.js")

    def tearDown(self):
        self.broker.stop()
        self.broker.close()

    def test_conns_lists_live_connections_with_their_bytes(self):
        self.broker.start()
        with contextlib.closing(harness.connect(self.port)) as sock:
            self.assertEqual(harness.recv_until(sock, b"\n"), b"hi\n")
            sock.sendall(b"12345")
            self.assertEqual(harness.recv_exactly(sock, 5), b"12345")
            local_port = sock.getsockname()[1]

            def listed():
                conns = json.loads(self.broker.ctl("conns", "--json").stdout)["connections"]
                return conns and conns[0]["bytes_received"] == 5 and conns[0]["bytes_sent"] == 8 and conns
            conns = harness.wait_until(listed, what="the connection's counters")
            self.assertEqual(len(conns), 1)
            self.assertEqual(conns[0]["handler"], "echo")
            self.assertTrue(conns[0]["peer"].endswith(f":{local_port}"), conns[0])
            self.assertEqual(conns[0]["worker_pid"], self.broker.handler("echo")["worker"]["pid"])
            table = self.broker.ctl("conns", "echo").stdout
            self.assertRegex(table, r"HANDLER\s+PEER\s+AGE\s+IDLE\s+IN\s+OUT")
            self.assertRegex(table, rf"echo\s+\S+:{local_port}\s+\d+s\s+\d+s\s+5 B\s+8 B")
            self.assertEqual(json.loads(self.broker.ctl("conns", "ping", "--json").stdout)["connections"], [])
        harness.wait_until(lambda: json.loads(self.broker.ctl("conns", "--json").stdout)["connections"] == [],
                           what="the closed connection to leave the list")
        unknown = self.broker.ctl("conns", "nosuch", check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("no handler named 'nosuch'", unknown.stderr)

    def test_bash_completion_offers_commands_options_and_handler_names(self):
        self.broker.start()
        script = os.path.join(harness.REPO, "packaging", "completion", "portbrokerctl.bash")

        def complete(*words):
            line = " ".join(f"'{w}'" for w in words)
            program = (f"source '{script}'; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                       'COMPREPLY=(); _portbrokerctl; echo "${COMPREPLY[*]}"')
            env = dict(os.environ, PATH=harness.BIN + os.pathsep + os.environ["PATH"])
            return subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env,
                                  timeout=30).stdout.split()
        self.assertEqual(complete("portbrokerctl", ""), ["status", "check", "reload", "conns", "metrics", "ca"])
        self.assertEqual(complete("portbrokerctl", "co"), ["conns"])
        self.assertIn("--config", complete("portbrokerctl", "check", "--"))
        self.assertEqual(sorted(complete("portbrokerctl", "--run-dir", self.broker.run_dir, "conns", "")),
                         ["echo", "ping"])

    def test_metrics_from_ctl_and_over_http(self):
        self.broker.start()
        self.assertEqual(harness.udp_request(self.udp_port, b"ping"), b"pong #1\n")
        with contextlib.closing(harness.connect(self.port)) as sock:
            harness.recv_until(sock, b"\n")
        text = self.broker.ctl("metrics").stdout
        sample = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? \d+$')
        for line in text.splitlines():
            if not line.startswith("#"):
                self.assertRegex(line, sample)
        self.assertIn("portbroker_up 1", text)
        self.assertIn(f'portbroker_handler_active{{tenant="",handler="echo",protocol="tcp",port="{self.port}"}} 1', text)
        self.assertIn(f'portbroker_connections_accepted_total{{tenant="",handler="echo",protocol="tcp",port="{self.port}"}} 1',
                      text)
        self.assertIn(f'portbroker_datagrams_total{{tenant="",handler="ping",protocol="udp",port="{self.udp_port}",'
                      f'outcome="received"}} 1', text)
        # The counter the ping handler keeps; the store is asked every second,
        # never while a metrics request waits.
        harness.wait_until(lambda: "portbroker_store_keys 1" in self.broker.ctl("metrics").stdout,
                           what="the key count in metrics")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            served = response.read().decode()
        self.assertIn("portbroker_store_keys 1", served)
        self.assertIn("# TYPE portbroker_worker_restarts_total counter", served)
        with self.assertRaises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/other", timeout=10)
        self.assertEqual(missing.exception.code, 404)
        # A store that stops answering (stopped here, resumed below) holds
        # up no metrics request: the last count it gave stands, and the
        # handlers that do not use the store serve on.
        store_pid = self.broker.status()["broker"]["store"]["pid"]
        os.kill(store_pid, signal.SIGSTOP)
        try:
            for _ in range(3):
                text = self.broker.ctl("metrics").stdout
                self.assertIn("portbroker_up 1", text)
                self.assertIn("portbroker_store_keys 1", text)
            with contextlib.closing(harness.connect(self.port)) as sock:
                self.assertTrue(harness.recv_until(sock, b"\n"))
        finally:
            os.kill(store_pid, signal.SIGCONT)


class ServiceNotificationTest(unittest.TestCase):
    def test_ready_reloading_and_stopping_reach_the_service_manager(self):
        with tempfile.TemporaryDirectory(prefix="portbroker-notify-") as tmp:
            path = os.path.join(tmp, "notify.sock")
            manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            manager.bind(path)
            manager.settimeout(harness.DEFAULT_TIMEOUT)
            port = harness.free_port()
            broker = harness.Broker(files={f"echo.tcp.{port}.port.js": ECHO}, env={"NOTIFY_SOCKET": path})
            try:
                broker.start()

                def next_message():
                    return dict(line.split("=", 1) for line in manager.recv(4096).decode().splitlines())
                ready = next_message()
                self.assertEqual(ready["READY"], "1")
                self.assertEqual(ready["STATUS"], "1 handlers, 1 active")
                broker.process.send_signal(signal.SIGHUP)
                reloading = next_message()
                self.assertEqual(reloading["RELOADING"], "1")
                self.assertGreater(int(reloading["MONOTONIC_USEC"]), 0)
                self.assertEqual(next_message()["READY"], "1")
                broker.ctl("reload")
                self.assertEqual(next_message()["RELOADING"], "1")
                self.assertEqual(next_message()["READY"], "1")
                # Children never see the variable.
                pid = broker.handler("echo")["worker"]["pid"]
                with open(f"/proc/{pid}/environ", "rb") as f:
                    self.assertNotIn(b"NOTIFY_SOCKET", f.read())
                self.assertEqual(broker.stop(), 0)
                self.assertEqual(next_message()["STOPPING"], "1")
            finally:
                broker.close()
                manager.close()

    def test_status_follows_handlers_the_folder_watcher_adds_and_removes(self):
        # Under systemd, `systemctl status` showed "0 handlers, 0 active" for
        # as long as the broker ran when handlers arrived by the watcher
        # (scripts/systemd-boot-test found it): STATUS= went out with READY=1 only.
        with tempfile.TemporaryDirectory(prefix="portbroker-notify-") as tmp:
            path = os.path.join(tmp, "notify.sock")
            manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            manager.bind(path)
            manager.settimeout(harness.DEFAULT_TIMEOUT)
            broker = harness.Broker(env={"NOTIFY_SOCKET": path})
            try:
                broker.start()

                def next_message():
                    return dict(line.split("=", 1) for line in manager.recv(4096).decode().splitlines())

                def statuses_until(wanted):
                    seen = []
                    while not seen or seen[-1].get("STATUS") != wanted:
                        seen.append(next_message())
                    return seen
                ready = next_message()
                self.assertEqual((ready["READY"], ready["STATUS"]), ("1", "0 handlers, 0 active"))
                handler = broker.write(f"echo.tcp.{harness.free_port()}.port.js", ECHO)
                seen = statuses_until("1 handlers, 1 active")
                # Status only: the service was ready all along.
                self.assertTrue(all(set(message) == {"STATUS"} for message in seen), seen)
                os.remove(handler)
                seen = statuses_until("0 handlers, 0 active")
                self.assertTrue(all(set(message) == {"STATUS"} for message in seen), seen)
                self.assertEqual(broker.stop(), 0)
                self.assertEqual(next_message()["STOPPING"], "1")
            finally:
                broker.close()
                manager.close()


if __name__ == "__main__":
    harness.main()
