#!/usr/bin/env python3
"""Ordinary JavaScript never ends in the sandbox's SIGSYS, and gives Node's
answers. tests/integration/corpus/builtins.js runs a large table of built-in
operations (Date local and UTC, every Intl constructor in several locales and
time zones, normalisation and collation, Unicode property escapes, typed
arrays, BigInt, Atomics, Proxy, Reflect, generators, async iteration, JSON,
Math, WebAssembly) inside a confined worker and under Node 20, under several
TZ values, and compares them case by case. Differences the engine cannot
avoid are listed in KNOWN_DIFFERENCES with the reason (and in
NODE_DIFFERENCES.md); anything else fails."""

import contextlib
import os
import shutil
import tempfile
import unittest

import harness

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "builtins.js")

# Case name -> why SpiderMonkey 102 answers differently from Node 20 (V8 with
# its own ICU). Every entry is in NODE_DIFFERENCES.md too.
CLDR = "locale data: the ICU 71 built into Debian's libmozjs-102 (CLDR 41) against Node 20's ICU 78 (CLDR 48)"
KNOWN_DIFFERENCES = {
    "intl.nf-compact.en-GB": CLDR,
    "intl.nf-currency.ar-EG": CLDR,
    "intl.display-language.ar-EG": CLDR,
    "intl.date-toLocaleString.ar-EG": CLDR,
    "intl.dtf.hi-IN": CLDR,
    "intl.dtf.ru-RU": CLDR,
    "intl.dtf.es-MX": CLDR,
    "intl.display-currency.es-MX": CLDR,
    "intl.date-toLocaleString.es-MX": CLDR,
    "intl.dtf-range": CLDR,
    # V8 returns ICU's canonical (CLDR) zone ID, SpiderMonkey the IANA
    # primary name, as ECMA-402 now requires.
    "intl.zone-resolved.Asia/Kolkata": "Asia/Calcutta (V8) against Asia/Kolkata (SpiderMonkey)",
    "date.default-zone": "Asia/Calcutta (V8) against Asia/Kolkata (SpiderMonkey) when TZ=Asia/Kolkata",
    # Outside ISO 8601, Date.parse is implementation-defined: V8 rolls
    # February 30 over to March 2, SpiderMonkey refuses it.
    "date.parse 2021-02-30": "V8 rolls an out-of-range day over; SpiderMonkey returns NaN",
    # Resizable ArrayBuffer (ES2024) arrived in V8 11; SpiderMonkey 102
    # predates it and it cannot be written in JavaScript.
    "typed.resizable": "ArrayBuffer.prototype.resize does not exist in SpiderMonkey 102",
    # The v flag (ES2024) is decided by the engine's regular expression parser,
    # which SpiderMonkey 102 runs before any JavaScript could intervene.
    "regexp.v-flag": "SpiderMonkey 102 refuses the v flag with a SyntaxError",
}

ZONES = [None, "Europe/Paris", "America/New_York", "Asia/Kolkata"]


def parse(transcript):
    results = {}
    for line in transcript.decode("utf-8").splitlines():
        name, _, value = line.partition("\t")
        results[name] = value
    return results


class BuiltinsCorpusTest(unittest.TestCase):
    def run_corpus(self, zone):
        env = dict(os.environ)
        env.pop("TZ", None)
        if zone:
            env["TZ"] = zone
        node_port, broker_port = harness.free_port(), harness.free_port()
        node_dir = tempfile.mkdtemp(prefix="portbroker-corpus-node-")
        self.addCleanup(shutil.rmtree, node_dir, True)
        shutil.copy(CORPUS, os.path.join(node_dir, f"corpus.tcp.{node_port}.port.js"))
        broker = harness.Broker(env={"TZ": zone} if zone else None)
        if not zone:
            broker.env.pop("TZ", None)
        self.addCleanup(broker.close)
        shutil.copy(CORPUS, os.path.join(broker.handlers, f"corpus.tcp.{broker_port}.port.js"))
        with harness.NodeRunner(node_dir, env=env) as node:
            expected = parse(harness.transcript(node_port))
        broker.start()
        actual = parse(harness.transcript(broker_port))
        # Nothing a handler does in plain JavaScript ends in SIGSYS.
        self.assertEqual(broker.events(event="seccomp-violation"), [])
        self.assertEqual(broker.handler("corpus")["worker"]["restarts"], 0)
        self.assertEqual(actual.get("cases"), expected.get("cases"), "the corpus did not run to its end")
        self.assertGreater(int(expected["cases"]), 300)
        return expected, actual

    def test_builtins_give_nodes_answers_in_every_zone(self):
        seen_differing = set()
        for zone in ZONES:
            with self.subTest(zone=zone or "host"):
                expected, actual = self.run_corpus(zone)
                differences = []
                for name, value in expected.items():
                    if actual.get(name) == value:
                        continue
                    seen_differing.add(name)
                    if name not in KNOWN_DIFFERENCES:
                        differences.append(f"{name}\n    node:       {value}\n    portbroker: {actual.get(name)}")
                self.assertEqual(differences, [], f"{len(differences)} cases differ from Node:\n" + "\n".join(differences))
        # A known difference that went away in every zone leaves the list too.
        self.assertEqual(sorted(set(KNOWN_DIFFERENCES) - seen_differing), [], "known differences that now match Node")

    def test_finalization_callbacks_run_in_a_worker(self):
        # When a collection runs is the engine's choice, so this allocates
        # until one has (bounded), then awaits the cleanup job the embedding
        # must schedule: without it, a registry never calls back.
        port = harness.free_port()
        broker = harness.Broker({f"finreg.tcp.{port}.port.js": FINALIZATION_HANDLER})
        self.addCleanup(broker.close)
        broker.start()
        with contextlib.closing(harness.connect(port, timeout=30)) as sock:
            answer = harness.recv_all(sock).decode().split()
        self.assertEqual(answer[0], "collected", answer)
        self.assertGreater(int(answer[1]), 0)
        self.assertEqual(answer[2], "cleared")
        self.assertEqual(broker.handler("finreg")["worker"]["restarts"], 0)


# Registers objects it drops at once, then allocates garbage in slices
# until the registry has called back (or 20 s went by); a WeakRef to a
# dropped object is cleared by then too.
FINALIZATION_HANDLER = """
export async function handle(conn) {
  let called = 0;
  const registry = new FinalizationRegistry(() => { called++; });
  let ref;
  (() => {
    for (let i = 0; i < 10000; i++) registry.register({ i }, i);
    ref = new WeakRef({ dropped: true });
  })();
  const deadline = Date.now() + 20000;
  while (called === 0 && Date.now() < deadline) {
    let garbage = [];
    for (let i = 0; i < 20000; i++) garbage.push({ i, s: "x".repeat(32) });
    garbage = null;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  conn.end(`${called > 0 ? "collected" : "never"} ${called} ${ref.deref() === undefined ? "cleared" : "kept"}\n`);
}
"""

if __name__ == "__main__":
    harness.main()
