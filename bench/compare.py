#!/usr/bin/env python3
"""portbroker against plain Node.js, same handler files, same machine, same run.

Serves the spec's example handlers (echo.tcp, ping.udp with its two store
round trips per datagram) and a UDP reply handler that does not touch the
store, with portbrokerd and with bench/node-reference-runner.mjs at the same
time on other ports, then runs each measurement alternately against the two,
several times, and prints medians and portbroker/Node ratios: the ratio of
the medians, and the median of each run's ratio to the Node run right after
it (which cancels a shared machine's drift).

    bench/compare.py [--repeats N] [--seconds S] [--json FILE] [--only WORDS]

Loopback only; every process it starts is stopped by its PID at the end.
Results inform; nothing asserts them."""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

import bench_common
from bench_common import REPO, free_port, idle_growth_kib, stop, wait_for_port

BUILD = os.environ.get("PORTBROKER_BUILD_DIR", os.path.join(REPO, "build"))
BIN = os.path.join(BUILD, "bin")
LOADGEN = os.path.join(BIN, "portbroker-loadgen")
REPLY_HANDLER = "export function message(msg, rinfo, ctx) { ctx.reply(msg, rinfo); }\n"


class Servers:
    """portbrokerd and the Node runner on the same three handler files."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="portbroker-bench-")
        os.chmod(self.tmp, 0o755)
        self.handlers = os.path.join(self.tmp, "handlers")
        os.makedirs(self.handlers)
        self.ports = {side: {"echo": free_port(), "ping": free_port(socket.SOCK_DGRAM),
                             "reply": free_port(socket.SOCK_DGRAM)} for side in ("portbroker", "node")}
        names = {}
        for handler, source in (("echo", "echo.tcp.7000.port.js"), ("ping", "ping.udp.9000.port.js")):
            proto = "tcp" if handler == "echo" else "udp"
            name = f"{handler}.{proto}.{self.ports['portbroker'][handler]}.port.js"
            shutil.copy(os.path.join(REPO, "examples", source), os.path.join(self.handlers, name))
            names[handler] = name
        names["reply"] = f"reply.udp.{self.ports['portbroker']['reply']}.port.js"
        with open(os.path.join(self.handlers, names["reply"]), "w") as f:
            f.write(REPLY_HANDLER)
        for name in os.listdir(self.handlers):
            os.chmod(os.path.join(self.handlers, name), 0o644)
        config = os.path.join(self.tmp, "portbroker.json")
        with open(config, "w") as f:
            # One load generator is one source: the per-source defaults that
            # protect a real service would throttle the benchmark itself.
            json.dump({"screening": {"max_connections": 100000, "max_connections_per_ip": 100000,
                                     "udp_rate_limit": {"per_ip": 1000000, "window_s": 1},
                                     "udp_max_reply_rate": 1000000},
                       "log_level": "warn"}, f)
        self.broker = subprocess.Popen([os.path.join(BIN, "portbrokerd"), "--config", config, "--handlers",
                                        self.handlers, "--run-dir", os.path.join(self.tmp, "run"), "--no-firewall"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        overrides = []
        for handler, name in names.items():
            overrides += ["--port-override", f"{name}={self.ports['node'][handler]}"]
        self.node = subprocess.Popen(["node", os.path.join(REPO, "bench", "node-reference-runner.mjs"), *overrides,
                                      self.handlers], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.ports["portbroker"]["echo"])
        wait_for_port(self.ports["node"]["echo"])
        self.run_dir = os.path.join(self.tmp, "run")

    def broker_pids(self):
        """The supervisor and the echo handler's worker."""
        status = json.loads(subprocess.run([os.path.join(BIN, "portbrokerctl"), "--run-dir", self.run_dir,
                                            "status", "--json"], capture_output=True, text=True).stdout)
        echo = next(h for h in status["handlers"] if h["name"] == "echo")
        return [self.broker.pid, echo["worker"]["pid"]]

    def close(self):
        for process in (self.broker, self.node):
            stop(process)
        shutil.rmtree(self.tmp, ignore_errors=True)


def loadgen(mode, port, seconds, **options):
    return bench_common.loadgen(LOADGEN, mode, port, seconds, **options)


def file_to_answer_ms(servers):
    """A new handler file dropped into the folder, until its port answers."""
    return bench_common.file_to_answer_ms(servers.handlers)[0]



MEASUREMENTS = [
    # (label, metric, loadgen mode, port key, options)
    ("TCP connections/s, 1 client", "rate", "connect", "echo", {"connections": 1}),
    ("TCP connections/s, 32 clients", "rate", "connect", "echo", {"connections": 32}),
    ("ping-pong round trips/s, 1 connection", "rate", "pingpong", "echo", {"connections": 1}),
    ("ping-pong p99 latency µs, 1 connection", "p99", "pingpong", "echo", {"connections": 1}),
    ("ping-pong round trips/s, 32 connections", "rate", "pingpong", "echo", {"connections": 32}),
    ("ping-pong p99 latency µs, 32 connections", "p99", "pingpong", "echo", {"connections": 32}),
    ("streaming echo MB/s", "mbps", "stream", "echo", {"connections": 1}),
    ("UDP request/reply/s (no store)", "rate", "udp", "reply", {"window": 32}),
    ("UDP counter requests/s (2 store round trips)", "rate", "udp", "ping", {"window": 32, "match": "any"}),
]


def value_of(result, metric):
    if metric == "p99":
        return result["latency_us"]["p99"]
    if metric == "mbps":
        return result["bytes_per_s"] / 1e6
    return result["rate"]


def row(label, samples):
    """(label, median of ours, median of Node's, median of the per-run ratios).

    Each run of portbroker is followed at once by one of Node, so the ratio of
    each pair sees the same machine; its median cancels the slow drift of a
    shared VM better than the ratio of the two medians does."""
    pairs = [ours / theirs for ours, theirs in zip(samples["portbroker"], samples["node"]) if theirs]
    return (label, statistics.median(samples["portbroker"]), statistics.median(samples["node"]),
            statistics.median(pairs) if pairs else float("nan"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--only", metavar="WORDS",
                        help="only the rate measurements whose label contains WORDS (e.g. 'ping-pong'); "
                             "skips memory and file timing")
    args = parser.parse_args()
    selected = [m for m in MEASUREMENTS if not args.only or args.only in m[0]]
    if not selected:
        parser.error(f"--only {args.only!r} matches no measurement")
    servers = Servers()
    rows = []
    try:
        for label, metric, mode, key, options in selected:
            samples = {"portbroker": [], "node": []}
            for _ in range(args.repeats):
                for side in ("portbroker", "node"):  # alternating, same conditions
                    samples[side].append(value_of(loadgen(mode, servers.ports[side][key], args.seconds, **options),
                                                  metric))
            rows.append(row(label, samples))
            print(f"{label}: portbroker {rows[-1][1]:.1f}, node {rows[-1][2]:.1f}", file=sys.stderr)
        memory = {"portbroker": [], "node": []}
        for _ in range(0 if args.only else max(1, args.repeats // 2)):
            # Fresh processes each time: the rate runs above leave both sides'
            # allocators grown, which would hide what a connection costs.
            fresh = Servers()
            try:
                memory["portbroker"].append(idle_growth_kib(LOADGEN, fresh.broker_pids, fresh.ports["portbroker"]["echo"]))
                memory["node"].append(idle_growth_kib(LOADGEN, lambda: [fresh.node.pid], fresh.ports["node"]["echo"]))
            finally:
                fresh.close()
        if not args.only:
            rows.append(row("RSS growth per idle TCP connection, KiB", memory))
        appear = None if args.only else statistics.median(file_to_answer_ms(servers) for _ in range(args.repeats))
    finally:
        servers.close()
    print(f"| measurement (medians of {args.repeats} alternating runs of {args.seconds:g} s) | portbroker | Node | ratio "
          "| paired ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, ours, theirs, paired in rows:
        ratio = ours / theirs if theirs else float("nan")
        print(f"| {label} | {ours:,.1f} | {theirs:,.1f} | {ratio:.2f} | {paired:.2f} |")
    if appear is not None:
        print(f"| handler file appearing → port answering, ms | {appear:.0f} | - | - | - |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "file_to_answer_ms": appear, "repeats": args.repeats, "seconds": args.seconds}, f,
                      indent=2)


if __name__ == "__main__":
    main()
