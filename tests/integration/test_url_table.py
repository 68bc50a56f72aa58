#!/usr/bin/env python3
"""The global URL inside a confined worker gives Node 20's answer for every
case of tests/data/url_table.json: the web-platform-tests URL inputs with the
href and components (or the failure) Node produced for each, recorded by
tests/tools/record_url_table.mjs. IDNA runs through the worker's ICU here, so
this is also the check of the native UTS #46 step under the sandbox."""

import json
import os
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "data", "url_table.json")
HANDLER = os.path.join(HERE, "corpus", "url_table.js")

# Input -> why portbroker's answer differs from Node's (also in
# worker/js/NODE_DIFFERENCES.md). Empty: every case matches.
KNOWN_DIFFERENCES = {}


class UrlTableTest(unittest.TestCase):
    def test_every_case_matches_node(self):
        with open(TABLE, encoding="utf-8") as f:
            table = json.load(f)
        port = harness.free_port()
        broker = harness.Broker()
        self.addCleanup(broker.close)
        with open(HANDLER, encoding="utf-8") as f:
            broker.write(f"urltable.tcp.{port}.port.js", f.read())
        # The worker reads only its handlers folder: the table goes there as a module.
        broker.write("lib/url_table_data.js", "export default " + json.dumps(table) + ";\n")
        broker.start()
        lines = harness.transcript(port).decode("utf-8").splitlines()
        self.assertEqual(broker.events(event="seccomp-violation"), [])
        self.assertEqual(lines[-1], f"cases\t{len(table['cases'])}", "the table did not run to its end")
        differences = []
        for expected, line in zip(table["cases"], lines[:-1]):
            actual = json.loads(line)
            if actual == expected or expected["input"] in KNOWN_DIFFERENCES:
                continue
            differences.append(f"{json.dumps(expected['input'])} (base {json.dumps(expected['base'])})\n"
                               f"    node:       {json.dumps(expected, ensure_ascii=False)}\n"
                               f"    portbroker: {json.dumps(actual, ensure_ascii=False)}")
        passed = len(table["cases"]) - len(differences)
        print(f"url table: {passed}/{len(table['cases'])} cases match Node")
        self.assertEqual(differences, [], f"{len(differences)} cases differ from Node:\n" + "\n".join(differences))


if __name__ == "__main__":
    harness.main()
