"""What the benchmark scripts share: ports, processes, the load generator,
and the two start-up and memory measurements. Loopback only."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDLE_CONNECTIONS = 2000


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def greets(port):
    """True once something listens on `port` and says something first."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return bool(s.recv(64))
    except OSError:
        return False


def wait_until(predicate, what, deadline_s=15, pause_s=0.01):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(pause_s)
    raise RuntimeError(f"timed out waiting for {what}")


def wait_for_port(port, deadline_s=15):
    wait_until(lambda: greets(port), f"port {port} to answer", deadline_s)


def stop(process):
    """SIGTERM, then SIGKILL if it does not end within 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def loadgen(loadgen_path, mode, port, seconds, **options):
    """One run of portbroker-loadgen; its final JSON line."""
    args = [loadgen_path, mode, "--port", str(port), "--seconds", str(seconds), "--warmup", "0.3"]
    for key, value in options.items():
        args += [f"--{key}", str(value)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30).stdout
    return json.loads(out.splitlines()[-1])


def idle_growth_kib(loadgen_path, pids_of, port):
    """RSS growth per idle TCP connection, in KiB, across the processes `pids_of()` names."""
    before = sum(rss_kib(pid) for pid in pids_of())
    holder = subprocess.Popen([loadgen_path, "idle", "--port", str(port), "--connections", str(IDLE_CONNECTIONS),
                               "--seconds", "4", "--warmup", "0"], stdout=subprocess.PIPE, text=True)
    first = json.loads(holder.stdout.readline())
    time.sleep(1.0)
    during = sum(rss_kib(pid) for pid in pids_of())
    holder.wait(30)
    return (during - before) / max(1, first["held"])


def file_to_answer_ms(handlers_dir, once_answered=None):
    """A new echo handler file dropped into `handlers_dir` (renamed in whole),
    until its port greets: (milliseconds, what once_answered(name) returned
    while it still serves). The file is then removed, and its removal given
    time to drain before the next measurement."""
    port = free_port()
    path = os.path.join(handlers_dir, f"fresh.tcp.{port}.port.js")
    tmp = path + ".tmp"
    shutil.copy(os.path.join(REPO, "examples", "echo.tcp.7000.port.js"), tmp)
    os.chmod(tmp, 0o644)
    started = time.monotonic()
    os.rename(tmp, path)
    wait_until(lambda: greets(port), "the new handler to answer", pause_s=0.002)
    elapsed = (time.monotonic() - started) * 1000
    extra = once_answered("fresh") if once_answered else None
    os.unlink(path)
    time.sleep(1.5)
    return elapsed, extra
