"""The live folder: files arrive, change and disappear while the broker runs,
and every change takes effect on its own without refusing a connection.

Each test drives a real portbrokerd through the files of its handlers folder
(the way sync tools, editors and Kubernetes ConfigMaps change them) and
observes what clients see and what status says."""

import contextlib
import os
import shutil
import signal
import socket
import threading
import time
import unittest

import harness

# Greets with its version on connect, then echoes.
VERSIONED = """export function handle(conn, ctx) {{
  conn.write("{version}\\n");
  conn.on("data", (chunk) => conn.write(chunk));
}}
"""


def versioned(version):
    return VERSIONED.format(version=version)


def greeting(port, source=None):
    """The first line the handler sends on a new connection."""
    with contextlib.closing(harness.connect(port, source=source)) as sock:
        return harness.recv_until(sock, b"\n").decode().strip()




def greets_with(port, version, source=None):
    """A predicate: a new connection (from `source`) is greeted by `version`."""
    def check():
        try:
            return greeting(port, source) == version
        except (OSError, AssertionError):  # refused, reset, or closed unanswered
            return False
    return check


def screened_out(port, source):
    """A connection from `source` is accepted by the kernel (no firewall in
    these tests) and closed by the supervisor's screening, unanswered."""
    with contextlib.closing(harness.connect(port, source=source)) as sock:
        sock.settimeout(harness.DEFAULT_TIMEOUT)
        try:
            return sock.recv(16) == b""
        except ConnectionResetError:
            return True


def write_atomically(path, text):
    """Write beside, then rename into place (what sync tools do)."""
    temporary = path + ".partial"
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


class ContinuousClients(threading.Thread):
    """Connects over and over (one at a time, on loopback, bounded by `stop`)
    and records every greeting and every failure."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.greetings = []
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self.greetings.append(greeting(self.port))
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                self.failures.append(repr(error))


class ReloadTest(unittest.TestCase):
    def setUp(self):
        # drain_ms bounds how long a retired version's connections may stay.
        self.broker = harness.Broker(config={"timeouts": {"drain_ms": 3000, "close_ms": 1000}})
        os.chmod(self.broker.tmp, 0o755)
        self.port = harness.free_port()
        self.file = f"v.tcp.{self.port}.port.js"
        self.path = os.path.join(self.broker.handlers, self.file)

    def tearDown(self):
        self.broker.stop()
        self.broker.close()

    def handler(self):
        return self.broker.handler("v")

    def wait_reloads(self, count):
        return harness.wait_until(lambda: self.handler()["reload"]["reloads"] >= count and self.handler(),
                          what=f"reload number {count}")

    def test_twenty_rewrites_under_continuous_connections_lose_none(self):
        self.broker.write(self.file, versioned("v0"))
        self.broker.start()
        long_lived = harness.connect(self.port)
        self.assertEqual(harness.recv_until(long_lived, b"\n"), b"v0\n")
        clients = ContinuousClients(self.port)
        clients.start()
        try:
            for n in range(1, 21):
                write_atomically(self.path, versioned(f"v{n}"))
                self.wait_reloads(n)
                if n == 1:
                    # Opened before the reload, still served by the old code.
                    long_lived.sendall(b"still there")
                    self.assertEqual(harness.recv_exactly(long_lived, 11), b"still there")
            # A connection accepted just before the last switch is still
            # v19's: the clients go on until they meet v20.
            harness.wait_until(lambda: clients.greetings and clients.greetings[-1] == "v20",
                               what="the continuous clients to meet v20")
        finally:
            clients.stopping.set()
            clients.join(30)
        self.assertEqual(clients.failures, [])
        self.assertGreater(len(clients.greetings), 20)
        self.assertTrue(set(clients.greetings) <= {f"v{n}" for n in range(21)}, set(clients.greetings))
        self.assertEqual(clients.greetings[-1], "v20")
        self.assertEqual(greeting(self.port), "v20")
        handler = self.handler()
        self.assertEqual(handler["state"], "active")
        self.assertIsNone(handler["reload"]["error"])
        self.assertEqual(handler["worker"]["restarts"], 0)
        self.assertEqual(handler["connections"]["refused"], 0)
        # The long-lived connection ends once the drain period is over.
        long_lived.settimeout(harness.DEFAULT_TIMEOUT)
        with contextlib.suppress(ConnectionResetError):
            self.assertEqual(long_lived.recv(16), b"")
        long_lived.close()
        harness.wait_until(lambda: self.handler()["reload"]["retiring_pids"] == [], what="old workers to exit")

    def test_broken_edit_keeps_the_old_code_until_fixed(self):
        self.broker.write(self.file, versioned("good"))
        self.broker.start()
        write_atomically(self.path, 'export function handle(conn) {\n  conn.end("half"\n')
        handler = harness.wait_until(lambda: (h := self.handler())["reload"]["error"] and h, what="the reload error")
        self.assertIn(f"{self.file}:3", handler["reload"]["error"])
        self.assertIn("SyntaxError", handler["reload"]["error"])
        self.assertEqual(handler["state"], "active")
        self.assertEqual(greeting(self.port), "good")
        self.assertIn("reload failed", self.broker.ctl("status").stdout)
        with open(self.path, "w") as f:
            f.write(versioned("fixed"))
        harness.wait_until(greets_with(self.port, "fixed"), what="the fixed version")
        self.assertIsNone(self.handler()["reload"]["error"])

    def test_partial_write_in_place_then_completed(self):
        text = versioned("complete")
        self.broker.write(self.file, versioned("before"))
        self.broker.start()
        with open(self.path, "w") as f:
            f.write(text[: len(text) // 2])
            f.flush()
            harness.wait_until(lambda: self.handler()["reload"]["error"], what="the half file to be tried")
            self.assertEqual(greeting(self.port), "before")
            f.write(text[len(text) // 2:])
        harness.wait_until(greets_with(self.port, "complete"), what="the completed file")
        self.assertIsNone(self.handler()["reload"]["error"])

    def test_rename_into_place(self):
        self.broker.write(self.file, versioned("old"))
        self.broker.start()
        write_atomically(self.path, versioned("renamed"))
        harness.wait_until(greets_with(self.port, "renamed"), what="the renamed file")
        self.assertEqual(self.handler()["reload"]["reloads"], 1)

    def test_imported_module_change_reloads_the_handler(self):
        self.broker.write("lib/message.js", 'export const message = "from lib 1";\n')
        self.broker.write(self.file, 'import { message } from "./lib/message.js";\n'
                                     'export function handle(conn) { conn.end(message + "\\n"); }\n')
        self.broker.start()
        self.assertEqual(greeting(self.port), "from lib 1")
        self.broker.write("lib/message.js", 'export const message = "from lib 2";\n')
        harness.wait_until(greets_with(self.port, "from lib 2"), what="the changed import")

    def test_configmap_style_symlink_swap(self):
        handlers = self.broker.handlers
        first = os.path.join(handlers, "..2026_11_22_01")
        os.makedirs(first)
        with open(os.path.join(first, self.file), "w") as f:
            f.write(versioned("configmap 1"))
        os.symlink("..2026_11_22_01", os.path.join(handlers, "..data"))
        os.symlink(f"..data/{self.file}", self.path)
        # A link that leaves the folder is refused.
        outside = os.path.join(self.broker.tmp, "outside.js")
        with open(outside, "w") as f:
            f.write(versioned("outside"))
        escape_port = harness.free_port()
        os.symlink(outside, os.path.join(handlers, f"escape.tcp.{escape_port}.port.js"))
        self.broker.start()
        self.assertEqual(greeting(self.port), "configmap 1")
        ignored = {entry["file"]: entry["reason"] for entry in self.broker.status()["ignored"]}
        self.assertEqual(ignored[f"escape.tcp.{escape_port}.port.js"], "symlink resolves outside the handlers folder")
        # The kubelet's update: a new timestamped folder, then ..data swapped atomically.
        second = os.path.join(handlers, "..2026_11_22_02")
        os.makedirs(second)
        with open(os.path.join(second, self.file), "w") as f:
            f.write(versioned("configmap 2"))
        os.symlink("..2026_11_22_02", os.path.join(handlers, "..data_tmp"))
        os.rename(os.path.join(handlers, "..data_tmp"), os.path.join(handlers, "..data"))
        shutil.rmtree(first)
        harness.wait_until(greets_with(self.port, "configmap 2"), what="the swapped version")
        self.assertIsNone(self.handler()["reload"]["error"])

    def test_delete_then_add_again(self):
        self.broker.write(self.file, versioned("first"))
        self.broker.start()
        os.unlink(self.path)
        self.broker.wait_for(event="handler-stopped", handler="v")

        def closed():
            try:
                greeting(self.port)
                return False
            except ConnectionRefusedError:
                return True
        harness.wait_until(closed, what="the port to close")
        harness.wait_until(lambda: all(h["name"] != "v" for h in self.broker.status()["handlers"]), what="v to leave status")
        self.broker.write(self.file, versioned("second"))
        harness.wait_until(greets_with(self.port, "second"), what="the re-added file")

    def test_waiting_claimant_takes_the_port_over(self):
        self.broker.write(f"a.tcp.{self.port}.port.js", versioned("a"), mtime=1_000_000)
        self.broker.write(f"b.tcp.{self.port}.port.js", versioned("b"), mtime=2_000_000)
        self.broker.write(f"c.tcp.{self.port}.port.js", versioned("c"), mtime=3_000_000)
        self.broker.start()
        self.assertEqual(greeting(self.port), "a")
        self.assertEqual(self.broker.handler("b")["state"], "refused")
        open_to_a = harness.connect(self.port)
        self.assertEqual(harness.recv_until(open_to_a, b"\n"), b"a\n")
        os.unlink(os.path.join(self.broker.handlers, f"a.tcp.{self.port}.port.js"))
        # b takes the port as soon as a's listener closes, while a's open
        # connection still drains (drain_ms is 3 s here).
        harness.wait_until(greets_with(self.port, "b"), what="b to take the port over")
        open_to_a.sendall(b"still a")
        self.assertEqual(harness.recv_exactly(open_to_a, 7), b"still a")
        open_to_a.close()
        self.assertEqual(self.broker.handler("b")["state"], "active")
        self.broker.wait_for(event="claim-taken-over", handler="b")
        # The one still waiting now names the new holder.
        self.assertEqual(self.broker.handler("c")["held_by"], f"b.tcp.{self.port}.port.js")

    def test_holder_and_first_claimant_removed_together(self):
        for name, mtime in (("a", 1_000_000), ("b", 2_000_000), ("c", 3_000_000)):
            self.broker.write(f"{name}.tcp.{self.port}.port.js", versioned(name), mtime=mtime)
        self.broker.start()
        self.assertEqual(greeting(self.port), "a")
        for name in ("a", "b"):
            os.unlink(os.path.join(self.broker.handlers, f"{name}.tcp.{self.port}.port.js"))
        harness.wait_until(greets_with(self.port, "c"), what="c to take the port over")
        self.broker.wait_for(event="claim-taken-over", handler="c")  # the log may follow the port
        self.assertEqual([e["handler"] for e in self.broker.events(event="claim-taken-over")], ["c"])
        # a may still be listed while its worker drains (its port already c's).
        harness.wait_until(lambda: [h["name"] for h in self.broker.status()["handlers"]] == ["c"],
                           what="a to finish draining")

    def test_new_file_opens_its_port(self):
        self.broker.start()
        self.broker.write(self.file, versioned("appeared"))
        harness.wait_until(greets_with(self.port, "appeared"), what="the new handler")
        self.broker.wait_for(event="handler-found", handler="v")

    def test_manifest_tightened_live_without_a_restart(self):
        self.broker.write(self.file, versioned("guarded"))
        self.broker.start()
        pid = self.handler()["worker"]["pid"]
        self.assertEqual(greeting(self.port, source="127.0.0.2"), "guarded")
        manifest = os.path.join(self.broker.handlers, f"v.tcp.{self.port}.port.json")
        write_atomically(manifest, '{"deny": ["127.0.0.2/32"]}')
        self.broker.wait_for(event="manifest-applied", handler="v")

        def refused_from_denied():
            return screened_out(self.port, "127.0.0.2")
        self.assertTrue(refused_from_denied())
        self.assertEqual(greeting(self.port, source="127.0.0.1"), "guarded")
        handler = self.handler()
        self.assertEqual(handler["worker"]["pid"], pid)
        self.assertEqual(handler["policy"]["deny"], ["127.0.0.2/32"])
        self.assertEqual(handler["refused_by"]["deny"], 1)
        # An invalid manifest keeps the policy in force, and says why.
        write_atomically(manifest, '{"deny": ["not an address"]}')
        handler = harness.wait_until(lambda: (h := self.handler())["reload"]["error"] and h, what="the manifest error")
        self.assertIn("invalid manifest", handler["reload"]["error"])
        self.assertIn("/deny/0", handler["reload"]["error"])
        self.assertEqual(handler["policy"]["deny"], ["127.0.0.2/32"])
        self.assertTrue(refused_from_denied())
        # Loosened again: the error clears and the source is served.
        os.unlink(manifest)
        harness.wait_until(greets_with(self.port, "guarded", source="127.0.0.2"), what="the manifest removal to apply")
        handler = self.handler()
        self.assertIsNone(handler["reload"]["error"])
        self.assertEqual(handler["worker"]["pid"], pid)

    def test_udp_handler_reloads_without_losing_a_request(self):
        udp_file = f"u.udp.{self.port}.port.js"
        path = os.path.join(self.broker.handlers, udp_file)

        def udp_version(version):
            return (f'export function message(msg, rinfo, ctx) {{ ctx.reply(Buffer.from("{version}:" + msg), rinfo); }}\n')
        self.broker.write(udp_file, udp_version("u0"))
        # One client asking as fast as it can: far past the per-source
        # default (1000 datagrams a second), which is not what this tests.
        self.broker.config["screening"] = {"udp_rate_limit": {"per_ip": 1000000, "window_s": 1}}
        self.broker.start()
        answers = []
        for n in range(1, 6):
            write_atomically(path, udp_version(f"u{n}"))
            # Requests keep going while the new version loads and takes over.
            deadline = time.monotonic() + harness.DEFAULT_TIMEOUT
            while True:
                answer = harness.udp_request(self.port, b"q").decode()
                answers.append(answer)
                if answer == f"u{n}:q":
                    break
                self.assertLess(time.monotonic(), deadline, f"u{n} never answered")
        self.assertTrue(all(answer.endswith(":q") for answer in answers))
        self.assertEqual(self.broker.handler("u")["datagrams"]["dropped"], 0)

    def test_a_file_loaded_by_dynamic_import_reloads_like_a_static_import(self):
        self.broker.write("lib/late.js", 'export const word = "first";\n')
        self.broker.write(self.file, """
export async function handle(conn) {
  // Loaded on first use, after the worker was ready.
  const { word } = await import("./lib/late.js");
  const { basename } = await import("node:path");
  let unknown = "none";
  try { await import("node:nope"); } catch (error) { unknown = error.code; }
  conn.end(`${word} ${basename("/a/b.js")} ${unknown}\\n`);
}
""")
        self.broker.start()
        self.assertEqual(greeting(self.port), "first b.js ERR_UNKNOWN_BUILTIN_MODULE")
        pid = self.handler()["worker"]["pid"]
        # The worker told the supervisor what it read (before it answered): a
        # change reloads it.
        write_atomically(os.path.join(self.broker.handlers, "lib", "late.js"), 'export const word = "second";\n')
        harness.wait_until(greets_with(self.port, "second b.js ERR_UNKNOWN_BUILTIN_MODULE"),
                           what="the changed dynamic import to load")
        self.assertNotEqual(self.handler()["worker"]["pid"], pid)

    def test_a_broken_import_fixed_brings_the_handler_up(self):
        self.broker.write("lib/part.js", "export const part = ;\n")
        self.broker.write(self.file, 'import { part } from "./lib/part.js";\n'
                                     'export function handle(conn) { conn.end(part + "\\n"); }\n')
        self.broker.start()
        handler = self.handler()
        self.assertEqual(handler["state"], "failed")
        self.assertIn("lib/part.js", handler["reason"])
        # Only the import changes: the failed handler is tried again.
        self.broker.write("lib/part.js", 'export const part = "fixed part";\n')
        harness.wait_until(greets_with(self.port, "fixed part"), what="the handler with its fixed import")
        # A new version importing a broken module from another folder fails
        # to load; fixing that module alone brings the new version in.
        self.broker.write("extra/more.js", "export const more = ;\n")
        write_atomically(self.path, 'import { more } from "./extra/more.js";\n'
                                    'export function handle(conn) { conn.end(more + "\\n"); }\n')
        handler = harness.wait_until(lambda: (h := self.handler())["reload"]["error"] and h, what="the reload error")
        self.assertIn("extra/more.js", handler["reload"]["error"])
        self.assertEqual(greeting(self.port), "fixed part")
        self.broker.write("extra/more.js", 'export const more = "more";\n')
        harness.wait_until(greets_with(self.port, "more"), what="the new version once its import is fixed")
        self.assertIsNone(self.handler()["reload"]["error"])

    def test_a_missing_import_created_later_is_picked_up(self):
        self.broker.write(self.file, versioned("first"))
        self.broker.start()
        write_atomically(self.path, 'import { late } from "./late/value.js";\n'
                                    'export function handle(conn) { conn.end(late + "\\n"); }\n')
        harness.wait_until(lambda: self.handler()["reload"]["error"], what="the reload error")
        self.assertEqual(greeting(self.port), "first")
        self.broker.write("late/value.js", 'export const late = "arrived";\n')
        harness.wait_until(greets_with(self.port, "arrived"), what="the version whose import now exists")

    def test_a_failed_reload_is_not_retried_until_a_file_changes(self):
        self.broker.write(self.file, versioned("good"))
        self.broker.start()
        write_atomically(self.path, "export function handle(conn) {\n")
        harness.wait_until(lambda: self.handler()["reload"]["error"], what="the reload error")
        # Unrelated changes and forced rescans do not load the broken file again.
        self.broker.write("notes.txt", "unrelated\n")
        self.broker.ctl("reload")
        self.broker.process.send_signal(signal.SIGHUP)
        self.broker.wait_for(event="reload-requested", by="SIGHUP")
        self.broker.ctl("reload")
        self.assertEqual(len(self.broker.events(event="reload-started", handler="v")), 1)
        self.assertEqual(greeting(self.port), "good")

    def test_a_manifest_missing_for_a_moment_keeps_its_policy(self):
        manifest = os.path.join(self.broker.handlers, f"v.tcp.{self.port}.port.json")
        self.broker.write(self.file, versioned("guarded"))
        self.broker.write(os.path.basename(manifest), '{"deny": ["127.0.0.2/32"]}')
        self.broker.start()

        def denied():
            return screened_out(self.port, "127.0.0.2")
        self.assertTrue(denied())
        # An editor's delete-and-write: gone for less than the confirmation
        # delay, so the port never opens to the denied source.
        os.unlink(manifest)
        time.sleep(0.05)
        self.assertTrue(denied())
        self.broker.write(os.path.basename(manifest), '{"deny": ["127.0.0.2/32"]}')
        time.sleep(1.0)
        self.assertTrue(denied())
        self.assertEqual(self.broker.events(event="manifest-applied"), [])
        self.assertEqual(self.handler()["policy"]["deny"], ["127.0.0.2/32"])
        # Removed for good: the policy goes once the absence is confirmed.
        os.unlink(manifest)
        harness.wait_until(greets_with(self.port, "guarded", source="127.0.0.2"), what="the removal to apply")

    def test_a_candidate_failing_after_the_serving_worker_died_restarts_the_handler(self):
        self.broker.write(self.file, versioned("one"))
        self.broker.start()
        pid = self.handler()["worker"]["pid"]
        # The new version fails its first load (slowly), then loads.
        write_atomically(self.path, """export async function open(ctx) {
  if (await ctx.shared.get("tried")) return;
  await ctx.shared.set("tried", "yes");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  throw new Error("first load fails");
}
export function handle(conn) { conn.end("two\\n"); }
""")
        harness.wait_until(lambda: self.handler()["reload"]["loading_pid"], what="the new version to load")
        os.kill(pid, signal.SIGKILL)  # the serving worker dies while the new one loads
        harness.wait_until(greets_with(self.port, "two"), what="the handler to serve again")
        handler = self.handler()
        self.assertEqual(handler["state"], "active")
        self.assertGreaterEqual(handler["worker"]["restarts"], 1)
        self.broker.wait_for(event="reload-failed", handler="v")

    def test_reload_command_and_sighup_rescan(self):
        self.broker.write(self.file, versioned("steady"))
        self.broker.start()
        result = self.broker.ctl("reload")
        self.assertEqual(result.stdout.strip(), "reloaded: 1 handlers")
        self.broker.wait_for(event="reload-requested", by="portbrokerctl")
        self.broker.process.send_signal(signal.SIGHUP)
        self.broker.wait_for(event="reload-requested", by="SIGHUP")
        # Nothing changed, so nothing reloaded.
        self.assertEqual(self.handler()["reload"]["reloads"], 0)
        self.assertEqual(greeting(self.port), "steady")


if __name__ == "__main__":
    harness.main()
