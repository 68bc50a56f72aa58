"""What the broker makes of the files in its folder: entry points, conflicts,
ignored names, supporting modules, confinement of imports, and the handler
contract."""

import contextlib
import os
import unittest

import harness

GREETER = """
import { greet } from "./lib/greeting.js";
export function handle(conn, ctx) {
  conn.end(greet(ctx.name) + "\\n");
}
"""

GREETING = """
import { shout } from "./deep/words.js";
export function greet(name) { return shout(`hello ${name}`); }
"""

WORDS = """
export const shout = (text) => text.toUpperCase() + "!";
"""

NAMED = """
export function handle(conn, ctx) { conn.end(`${ctx.name} ${ctx.protocol} ${ctx.port}\\n`); }
"""


class HandlersFolderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = {name: harness.free_port() for name in
                    ("greeter", "conflict", "escape", "symlink", "absolute", "package", "nohandle", "nomessage",
                     "tie", "nope", "fs", "barefs")}
        p = cls.port
        cls.outside = None
        broker = cls.broker = harness.Broker()
        broker.write(f"greeter.tcp.{p['greeter']}.port.js", GREETER)
        broker.write("lib/greeting.js", GREETING)
        broker.write("lib/deep/words.js", WORDS)
        # A conflict: the older file keeps the port whatever the names.
        broker.write(f"zulu.tcp.{p['conflict']}.port.js", NAMED, mtime=1_600_000_000)
        broker.write(f"alpha.tcp.{p['conflict']}.port.js", NAMED, mtime=1_700_000_000)
        # Same modification time: the name decides.
        broker.write(f"beta.tcp.{p['tie']}.port.js", NAMED, mtime=1_650_000_000)
        broker.write(f"gamma.tcp.{p['tie']}.port.js", NAMED, mtime=1_650_000_000)
        # Imports that try to leave the folder.
        outside = os.path.join(broker.tmp, "outside.js")
        with open(outside, "w") as f:
            f.write("export const secret = 42;\n")
        broker.write(f"escape.tcp.{p['escape']}.port.js",
                     'import { secret } from "../outside.js";\nexport function handle(c) { c.end(String(secret)); }\n')
        os.symlink(outside, os.path.join(broker.handlers, "lib", "link.js"))
        broker.write(f"symlink.tcp.{p['symlink']}.port.js",
                     'import { secret } from "./lib/link.js";\nexport function handle(c) { c.end(String(secret)); }\n')
        broker.write(f"absolute.tcp.{p['absolute']}.port.js",
                     'import x from "/etc/passwd";\nexport function handle(c) { c.end(); }\n')
        broker.write(f"package.tcp.{p['package']}.port.js",
                     'import x from "left-pad";\nexport function handle(c) { c.end(); }\n')
        # Built-in modules: one Node does not have, one portbroker does not provide.
        broker.write(f"nope.tcp.{p['nope']}.port.js", 'import x from "node:nope";\nexport function handle(c) { c.end(); }\n')
        broker.write(f"fs.tcp.{p['fs']}.port.js", 'import fs from "node:fs";\nexport function handle(c) { c.end(); }\n')
        broker.write(f"barefs.tcp.{p['barefs']}.port.js", 'import fs from "fs";\nexport function handle(c) { c.end(); }\n')
        # Contract violations.
        broker.write(f"nohandle.tcp.{p['nohandle']}.port.js", "export function message() {}\n")
        broker.write(f"nomessage.udp.{p['nomessage']}.port.js", "export const handle = 1;\n")
        # Names that look like attempts but break the grammar.
        for name in ("zero.tcp.0.port.js", "big.tcp.70000.port.js", "lead.tcp.07000.port.js",
                     "proto.sctp.5000.port.js", ".tcp.5001.port.js", "tcp.5002.port.js"):
            broker.write(name, NAMED)
        # Not attempts at all: supporting code, a nested file, editor leftovers.
        broker.write("sub/nested.tcp.5003.port.js", NAMED)
        broker.write(f"greeter.tcp.{p['greeter']}.port.js.swp", "junk")
        broker.write("notes.txt", "hello")
        broker.start()
        cls.status = broker.status()

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()

    def handler(self, name):
        for handler in self.status["handlers"]:
            if handler["name"] == name:
                return handler
        self.fail(f"no handler {name}; status: {self.status}")

    def test_nested_supporting_modules_are_imported(self):
        self.assertEqual(harness.transcript(self.port["greeter"]), b"HELLO GREETER!\n")

    def test_conflict_older_file_keeps_the_port(self):
        self.assertEqual(self.handler("zulu")["state"], "active")
        alpha = self.handler("alpha")
        self.assertEqual(alpha["state"], "refused")
        self.assertEqual(alpha["held_by"], f"zulu.tcp.{self.port['conflict']}.port.js")
        self.assertIn("zulu.tcp", alpha["reason"])
        self.assertEqual(harness.transcript(self.port["conflict"]), f"zulu tcp {self.port['conflict']}\n".encode())
        refusals = self.broker.events(event="handler-refused", handler="alpha")
        self.assertEqual(len(refusals), 1)

    def test_conflict_with_equal_mtime_goes_by_name(self):
        self.assertEqual(self.handler("beta")["state"], "active")
        self.assertEqual(self.handler("gamma")["state"], "refused")

    def test_imports_cannot_leave_the_handlers_folder(self):
        for name, expected in (("escape", "leaves the handlers folder"),
                               ("symlink", "outside the handlers folder"),
                               ("absolute", "absolute paths are not allowed"),
                               ("package", "packages are not resolved")):
            with self.subTest(name=name):
                handler = self.handler(name)
                self.assertEqual(handler["state"], "failed")
                self.assertIn(expected, handler["reason"])
                self.assertIn(f"{name}.tcp.{self.port[name]}.port.js", handler["reason"])
                with self.assertRaises(ConnectionRefusedError):
                    harness.connect(self.port[name], timeout=2).close()

    def test_built_ins_node_lacks_or_portbroker_lacks(self):
        # Node's ERR_UNKNOWN_BUILTIN_MODULE message, at the importing file.
        nope = self.handler("nope")
        self.assertEqual(nope["state"], "failed")
        self.assertIn(f"nope.tcp.{self.port['nope']}.port.js: Error: No such built-in module: node:nope", nope["reason"])
        for name, specifier in (("fs", "node:fs"), ("barefs", "fs")):
            with self.subTest(name=name):
                handler = self.handler(name)
                self.assertEqual(handler["state"], "failed")
                self.assertIn(f"Cannot import '{specifier}'", handler["reason"])
                self.assertIn("not a module available to handlers", handler["reason"])

    def test_contract_violations_fail_with_the_reason(self):
        nohandle = self.handler("nohandle")
        self.assertEqual(nohandle["state"], "failed")
        self.assertIn('must export a function "handle"', nohandle["reason"])
        nomessage = self.handler("nomessage")
        self.assertEqual(nomessage["state"], "failed")
        self.assertIn('must export a function "message"', nomessage["reason"])
        self.assertTrue(self.broker.events(event="handler-failed", handler="nohandle"))

    def test_bad_names_are_ignored_with_reasons(self):
        ignored = {entry["file"]: entry["reason"] for entry in self.status["ignored"]}
        expectations = {
            "zero.tcp.0.port.js": "out of range",
            "big.tcp.70000.port.js": "out of range",
            "lead.tcp.07000.port.js": "leading zero",
            "proto.sctp.5000.port.js": "'sctp' is not tcp or udp",
            ".tcp.5001.port.js": "empty handler name",
            "tcp.5002.port.js": "empty handler name",
        }
        for file, reason in expectations.items():
            with self.subTest(file=file):
                self.assertIn(file, ignored)
                self.assertIn(reason, ignored[file])
                self.assertTrue(self.broker.events(event="file-ignored", file=file))
        self.assertEqual(set(ignored), set(expectations))

    def test_only_top_level_files_are_entry_points(self):
        names = {handler["file"] for handler in self.status["handlers"]}
        self.assertNotIn("sub/nested.tcp.5003.port.js", names)
        self.assertFalse(any("nested" in name for name in names))

    def test_other_handlers_serve_despite_the_failures(self):
        self.assertEqual(self.handler("greeter")["state"], "active")
        self.assertEqual(harness.transcript(self.port["greeter"]), b"HELLO GREETER!\n")


if __name__ == "__main__":
    harness.main()
