#!/usr/bin/env python3
"""ctx.shared on the embedded store against ctx.shared on Redis (through the
store relay), same handlers, same machine, same run.

Starts Debian's redis-server on a loopback port and two brokers on the same
handler files: one with the embedded store, one with `store.url` pointing at
that Redis. Then runs each measurement alternately against the two,
`--repeats` times, and prints medians and the redis/embedded ratio:

- the spec's UDP counter (`ping.udp`): two store round trips per datagram,
  32 datagrams in flight;
- a store-heavy TCP handler: each 32-byte message costs a get and a set
  before the echo (ping-pong, 8 connections).

    bench/store_backends.py [--repeats N] [--seconds S] [--json FILE]

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
from bench_common import REPO, free_port, greets as answers, stop, wait_until

BUILD = os.environ.get("PORTBROKER_BUILD_DIR", os.path.join(REPO, "build"))
BIN = os.path.join(BUILD, "bin")
LOADGEN = os.path.join(BIN, "portbroker-loadgen")

# Echoes each chunk after a get and a set of a per-connection counter.
STORE_ECHO = """let next = 0;
export function handle(conn, ctx) {
  const key = `conn:${next++}`;
  conn.on("data", async (chunk) => {
    const n = (await ctx.shared.get(key)) ?? 0;
    await ctx.shared.set(key, n + 1);
    conn.write(chunk);
  });
  conn.write("ready\\n");
}
"""


class Setup:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="portbroker-bench-store-")
        os.chmod(self.tmp, 0o755)
        self.processes = []
        self.redis_port = free_port()
        redis_dir = os.path.join(self.tmp, "redis")
        os.makedirs(redis_dir)
        self.redis = subprocess.Popen(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", redis_dir],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(self.redis)
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(self.redis_port), "PING"], capture_output=True,
                                          text=True).stdout.strip() == "PONG", "redis-server")
        self.ports = {}
        for side in ("embedded", "redis"):
            handlers = os.path.join(self.tmp, side, "handlers")
            os.makedirs(handlers)
            ports = {"ping": free_port(socket.SOCK_DGRAM), "echo": free_port()}
            self.ports[side] = ports
            shutil.copy(os.path.join(REPO, "examples", "ping.udp.9000.port.js"),
                        os.path.join(handlers, f"ping.udp.{ports['ping']}.port.js"))
            with open(os.path.join(handlers, f"echo.tcp.{ports['echo']}.port.js"), "w") as f:
                f.write(STORE_ECHO)
            config = {"screening": {"max_connections": 100000, "max_connections_per_ip": 100000,
                                    "udp_rate_limit": {"per_ip": 1000000, "window_s": 1},
                                    "udp_max_reply_rate": 1000000},
                      "log_level": "warn"}
            if side == "redis":
                config["store"] = {"url": f"redis://127.0.0.1:{self.redis_port}", "prefix": "bench:"}
            path = os.path.join(self.tmp, side, "portbroker.json")
            with open(path, "w") as f:
                json.dump(config, f)
            self.processes.append(subprocess.Popen(
                [os.path.join(BIN, "portbrokerd"), "--config", path, "--handlers", handlers, "--run-dir",
                 os.path.join(self.tmp, side, "run"), "--no-firewall"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_until(lambda: answers(ports["echo"]), f"the {side} broker")

    def close(self):
        for process in reversed(self.processes):
            stop(process)
        shutil.rmtree(self.tmp, ignore_errors=True)


def loadgen(mode, port, seconds, **options):
    return bench_common.loadgen(LOADGEN, mode, port, seconds, **options)


MEASUREMENTS = [
    ("UDP counter (ping.udp) replies/s", "udp", "ping", {"window": 32, "payload": 32, "match": "any"}),
    ("store-heavy TCP ping-pong round trips/s", "pingpong", "echo", {"connections": 8, "payload": 32}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    setup = Setup()
    results = {}
    try:
        for label, mode, key, options in MEASUREMENTS:
            samples = {"embedded": [], "redis": []}
            for _ in range(args.repeats):
                for side in ("embedded", "redis"):
                    samples[side].append(loadgen(mode, setup.ports[side][key], args.seconds, **options)["rate"])
            results[label] = {side: statistics.median(values) for side, values in samples.items()}
            results[label]["ratio"] = results[label]["redis"] / results[label]["embedded"]
    finally:
        setup.close()
    print(f"| measurement (medians of {args.repeats} alternating runs of {args.seconds:g} s) | embedded | Redis | ratio |")
    print("| --- | --- | --- | --- |")
    for label, row in results.items():
        print(f"| {label} | {row['embedded']:.0f} | {row['redis']:.0f} | {row['ratio']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
