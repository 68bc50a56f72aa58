"""Real Redis nodes for integration tests: `redis-server` and `redis-sentinel`
from Debian, on loopback ports the test picked free (and a Unix socket),
with no persistence, in a temporary directory. Each is started by this
module and stopped by its PID (SIGTERM, then SIGKILL), never by name.
`redis-cli` checks what the broker wrote."""

import atexit
import os
import signal
import subprocess
import tempfile
import time

import harness

REDIS_SERVER = "redis-server"
REDIS_SENTINEL = "redis-sentinel"
START_TIMEOUT = 10.0


def cli(*args, port=None, socket_path=None, user=None, password=None, tls=None, timeout=5.0):
    """redis-cli against a node; returns its stdout, stripped."""
    command = ["redis-cli"]
    if socket_path:
        command += ["-s", socket_path]
    else:
        command += ["-h", "127.0.0.1", "-p", str(port)]
    if user:
        command += ["--user", user]
    env = dict(os.environ)
    if password:
        env["REDISCLI_AUTH"] = password  # not on the command line
    if tls:
        command += ["--tls", "--cacert", tls["ca"], "--cert", tls["cert"], "--key", tls["key"]]
    result = subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                            env=env)
    return result.stdout.strip()


class Node:
    """One redis-server or redis-sentinel process."""

    def __init__(self, workdir, name, port, sentinel=False, extra=(), tls=None, bind="127.0.0.1", password=None,
                 tls_auth_clients=False):
        self.password = password  # the default user's (requirepass), for redis-cli here
        self.bind = bind  # addresses, space-separated; the first is where redis-cli checks
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.port = port
        self.sentinel = sentinel
        self.extra = list(extra)
        self.tls = tls  # {"ca", "cert", "key"}: the node listens with TLS on `port`
        self.tls_auth_clients = tls_auth_clients  # clients must present a certificate the CA signed
        self.socket_path = os.path.join(self.dir, "redis.sock")
        self.process = None
        self.log_path = os.path.join(self.dir, "node.log")

    def config_lines(self):
        lines = [f"bind {self.bind}", f"dir {self.dir}", f"logfile {self.log_path}", "protected-mode no"]
        if self.tls:
            lines += ["port 0", f"tls-port {self.port}", f"tls-cert-file {self.tls['cert']}",
                      f"tls-key-file {self.tls['key']}", f"tls-ca-cert-file {self.tls['ca']}",
                      f"tls-auth-clients {'yes' if self.tls_auth_clients else 'no'}",
                      # What it dials (a sentinel its master and the other sentinels) is TLS too.
                      "tls-replication yes"]
        else:
            lines.append(f"port {self.port}")
        if self.password:
            lines.append(f"requirepass {self.password}")
        if not self.sentinel:
            lines += ['save ""', "appendonly no", f"unixsocket {self.socket_path}", "unixsocketperm 700"]
        return lines + self.extra

    def start(self):
        config = os.path.join(self.dir, "node.conf")
        # Sentinel rewrites its config file: written afresh on each start
        # only the first time (a restarted sentinel keeps what it learnt).
        if not (self.sentinel and os.path.exists(config)):
            with open(config, "w") as f:
                f.write("\n".join(self.config_lines()) + "\n")
        binary = REDIS_SENTINEL if self.sentinel else REDIS_SERVER
        self.process = subprocess.Popen([binary, config], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while self.ping() != "PONG":
            if self.process.poll() is not None:
                raise AssertionError(f"{binary} {self.name} exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{binary} {self.name} did not answer within {START_TIMEOUT}s")
            time.sleep(0.05)
        return self

    def ping(self):
        try:
            return self.cli("PING")
        except subprocess.TimeoutExpired:
            return ""

    def cli(self, *args, **kwargs):
        kwargs.setdefault("password", self.password)
        return cli(*args, port=self.port, tls=self.tls, **kwargs)

    def log_tail(self):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def running(self):
        return self.process is not None and self.process.poll() is None


class Nodes:
    """Every node a test started, stopped together when it ends."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="portbroker-redis-")
        self.nodes = []
        # Also when a test's set-up fails (unittest then skips its tear-down)
        # or the script ends early: no server outlives the test process.
        atexit.register(self.close)

    def server(self, name="redis", **kwargs):
        node = Node(self.workdir, name, harness.free_port(), **kwargs)
        self.nodes.append(node)
        return node.start()

    def sentinel(self, name, master_port, master_name="mymaster", quorum=2, password=None, **kwargs):
        extra = [f"sentinel sentinel-pass {password}"] if password else []
        node = Node(self.workdir, name, harness.free_port(), sentinel=True, password=password, **kwargs, extra=extra + [
            f"sentinel monitor {master_name} 127.0.0.1 {master_port} {quorum}",
            f"sentinel down-after-milliseconds {master_name} 1000",
            f"sentinel failover-timeout {master_name} 5000",
            f"sentinel parallel-syncs {master_name} 1",
        ])
        self.nodes.append(node)
        return node.start()

    def close(self):
        for node in self.nodes:
            node.stop(signal.SIGKILL)
        self.nodes = []
        subprocess.run(["rm", "-rf", self.workdir], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_secret(directory, name, text):
    """A root-only file (0600), as the broker demands for passwords."""
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return path


def make_tls_material(directory):
    """A CA and a server certificate for 127.0.0.1 and localhost (openssl)."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr, cert = (os.path.join(directory, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args):
        subprocess.run(args, check=True, capture_output=True, timeout=30)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-subj", "/CN=portbroker test CA", "-days", "2")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
        "-days", "2", "-extfile", ext)
    for path in (ca_key, key):
        os.chmod(path, 0o600)
    return {"ca": ca, "cert": cert, "key": key}
