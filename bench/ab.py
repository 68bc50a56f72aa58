#!/usr/bin/env python3
"""Two builds of portbroker against each other, same handler, same machine,
same run: for measuring a change (docs/performance.md, "What was changed").

    bench/ab.py BEFORE_BUILD_DIR AFTER_BUILD_DIR [--repeats N] [--seconds S] [--only WORDS]

Serves the spec's echo handler with each build's portbrokerd at once, then
runs every measurement alternately against the two (before, then after),
--repeats times, and prints medians and the after/before ratio of the
medians and the median of the paired ratios. The idle-connection memory is
measured on freshly started brokers; file to answer (and the new worker's
start-up CPU time and RSS) on the brokers that served the rates. The load
generator is the AFTER build's. Loopback only; every process it starts is
stopped by its PID at the end. Results inform; nothing asserts them."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import (REPO, file_to_answer_ms as file_to_answer, free_port, idle_growth_kib, loadgen,
                          rss_kib, stop, wait_for_port)

class Broker:
    def __init__(self, build):
        self.bin = os.path.join(build, "bin")
        self.tmp = tempfile.mkdtemp(prefix="portbroker-ab-")
        os.chmod(self.tmp, 0o755)
        self.handlers = os.path.join(self.tmp, "handlers")
        os.makedirs(self.handlers)
        self.port = free_port()
        path = os.path.join(self.handlers, f"echo.tcp.{self.port}.port.js")
        shutil.copy(os.path.join(REPO, "examples", "echo.tcp.7000.port.js"), path)
        os.chmod(path, 0o644)
        # The caps in the handler's manifest, not the config: a manifest
        # field is understood by older builds too (screening's per-source
        # default came later), so any two builds can be compared.
        with open(path[:-len(".js")] + ".json", "w") as f:
            json.dump({"maxConnections": 100000, "maxConnectionsPerIp": 100000}, f)
        os.chmod(path[:-len(".js")] + ".json", 0o644)
        config = os.path.join(self.tmp, "portbroker.json")
        with open(config, "w") as f:
            json.dump({"screening": {"max_connections": 100000}, "log_level": "warn"}, f)
        self.run_dir = os.path.join(self.tmp, "run")
        self.process = subprocess.Popen([os.path.join(self.bin, "portbrokerd"), "--config", config, "--handlers",
                                         self.handlers, "--run-dir", self.run_dir, "--no-firewall"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def worker_pid(self, name):
        status = json.loads(subprocess.run([os.path.join(self.bin, "portbrokerctl"), "--run-dir", self.run_dir,
                                            "status", "--json"], capture_output=True, text=True).stdout)
        return next(h for h in status["handlers"] if h["name"] == name)["worker"]["pid"]

    def pids(self):
        return [self.process.pid, self.worker_pid("echo")]

    def close(self):
        stop(self.process)
        shutil.rmtree(self.tmp, ignore_errors=True)


def cpu_seconds(pid):
    """User plus system CPU time of a process so far; NaN once it is gone
    (the memory watchdog restarts a worker that echoes without backpressure
    into more memory than its limit: the spec's echo ignores write()'s result)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def file_to_answer_ms(broker):
    """Wall time from a handler file appearing to its port greeting, and the
    new worker's CPU time and RSS once it has greeted: the CPU time is its
    start-up work (engine, runtime library, handler, one connection), which a
    busy shared machine stretches in wall time but not in CPU time."""
    def worker_figures(name):
        worker = broker.worker_pid(name)
        return cpu_ns(worker) / 1e6, rss_kib(worker)
    elapsed, (start_cpu_ms, start_rss) = file_to_answer(broker.handlers, worker_figures)
    return elapsed, start_cpu_ms, start_rss


def cpu_ns(pid):
    """CPU time a process's threads have run so far, in ns (schedstat: exact,
    where the clock-tick counts of /proc/<pid>/stat are 10 ms coarse)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


MEASUREMENTS = [
    ("ping-pong round trips/s, 1 connection", "rate", "pingpong", {"connections": 1}),
    ("ping-pong round trips/s, 32 connections", "rate", "pingpong", {"connections": 32}),
    ("streaming echo MB/s", "mbps", "stream", {"connections": 1}),
    ("TCP connections/s, 32 clients", "rate", "connect", {"connections": 32}),
]


def value_of(result, metric):
    if metric == "mbps":
        return result["bytes_per_s"] / 1e6
    return result["rate"]


def summary(label, before, after):
    pairs = [a / b for b, a in zip(before, after) if b and a == a and b == b]
    before = [v for v in before if v == v] or [float("nan")]
    after = [v for v in after if v == v] or [float("nan")]
    mb, ma = statistics.median(before), statistics.median(after)
    paired = statistics.median(pairs) if pairs else float("nan")
    return f"| {label} | {mb:,.1f} | {ma:,.1f} | {ma / mb if mb else float('nan'):.3f} | {paired:.3f} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--only", metavar="WORDS")
    args = parser.parse_args()
    loadgen_path = os.path.join(args.after, "bin", "portbroker-loadgen")
    lines = []
    brokers = {"before": Broker(args.before), "after": Broker(args.after)}
    try:
        for label, metric, mode, options in MEASUREMENTS:
            if args.only and args.only not in label:
                continue
            samples = {"before": [], "after": []}
            cpu = {"before": [], "after": []}
            for _ in range(args.repeats):
                for side in ("before", "after"):
                    worker = brokers[side].pids()[1]
                    used = cpu_seconds(worker)
                    result = loadgen(loadgen_path, mode, brokers[side].port, args.seconds, **options)
                    used = cpu_seconds(worker) - used
                    samples[side].append(value_of(result, metric))
                    # The worker's CPU per unit of work: robust to a busy machine.
                    work = result["bytes_per_s"] / 1e6 if metric == "mbps" else result["rate"]
                    cpu[side].append(used * 1e6 / (work * (args.seconds + 0.3)) if work else float("nan"))
            lines.append(summary(label, samples["before"], samples["after"]))
            unit = "MB" if metric == "mbps" else "operation"
            lines.append(summary(f"worker CPU µs per {unit} ({label})", cpu["before"], cpu["after"]))
            print(lines[-2], file=sys.stderr)
            print(lines[-1], file=sys.stderr)
        if not args.only:
            starts = {"before": [], "after": []}
            for _ in range(args.repeats):
                for side in ("before", "after"):
                    starts[side].append(file_to_answer_ms(brokers[side]))
            for index, label in enumerate(("handler file appearing → port answering, ms",
                                           "worker CPU ms from exec to its first connection answered",
                                           "worker RSS KiB after its first connection")):
                lines.append(summary(label, [s[index] for s in starts["before"]], [s[index] for s in starts["after"]]))
                print(lines[-1], file=sys.stderr)
    finally:
        for broker in brokers.values():
            broker.close()
    if not args.only:
        memory = {"before": [], "after": []}
        for _ in range(max(3, args.repeats // 2)):
            for side in ("before", "after"):
                fresh = Broker(args.before if side == "before" else args.after)
                try:
                    memory[side].append(idle_growth_kib(loadgen_path, fresh.pids, fresh.port))
                finally:
                    fresh.close()
        lines.append(summary("RSS growth per idle TCP connection, KiB", memory["before"], memory["after"]))
    print(f"| measurement (medians of {args.repeats} alternating runs) | before | after | after/before "
          "| paired |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
