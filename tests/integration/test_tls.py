"""TLS termination: the handler reads and writes plaintext while clients
speak TLS, with certificates generated here by `openssl`. Real clients:
`openssl s_client` and Python's `ssl`. Certificates by SNI, ALPN, minimum
version, client certificates, rotation on disk, and every bad input counted
by reason without reaching the handler."""

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness

# Reports what was negotiated, counts connections in the store, then echoes.
HANDLER = """export async function handle(conn, ctx) {
  const n = (await ctx.shared.get("conns")) ?? 0;
  await ctx.shared.set("conns", n + 1);
  conn.write(JSON.stringify({ encrypted: conn.encrypted, tls: conn.tls }) + "\\n");
  conn.on("data", (chunk) => conn.write(chunk));
}
"""

CA_CONFIG = """[ ca ]
default_ca = d
[ d ]
database = index.txt
new_certs_dir = .
serial = serial.txt
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[ p ]
commonName = supplied
"""


def openssl(*args, cwd, input=None):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, input=input, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {result.stderr}")
    return result.stdout


def s_client_exchange(options, line, timeout=20):
    """openssl s_client -quiet with `options`: reads the handler's greeting,
    sends `line`, reads its echo, and only then closes stdin (with
    -no_ign_eof, s_client then ends the connection). Returns the lines read.
    A fixed pause before closing stdin was not enough for a loaded machine."""
    proc = subprocess.Popen(["openssl", "s_client", *options, "-quiet", "-no_ign_eof"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(timeout, proc.kill)
    guard.start()
    try:
        lines = [proc.stdout.readline()]
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        lines.append(proc.stdout.readline())
        proc.stdin.close()
        rest, errors = proc.stdout.read(), proc.stderr.read()
        proc.wait()
    finally:
        guard.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [text.rstrip("\n") for text in lines] + rest.splitlines()
    if not lines[0]:
        raise AssertionError(f"s_client read no greeting: {errors.strip()}")
    return lines


class Certificates:
    """A test CA and the certificates it signs, in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="portbroker-tls-")
        for ca in ("ca", "other-ca"):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                    "-days", "2", "-subj", f"/CN=portbroker test {ca}", cwd=self.dir)
        with open(os.path.join(self.dir, "ca.cnf"), "w") as f:
            f.write(CA_CONFIG)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial.txt"), "w") as f:
            f.write("1000\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, dns, ca="ca", start=None, end=None):
        """`name`.pem and `name`.key for the DNS names `dns` (None: a client
        certificate with CN=`name`)."""
        subject = f"/CN={dns[0] if dns else name}"
        extra = ["-addext", "subjectAltName=" + ",".join(f"DNS:{d}" for d in dns)] if dns else []
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                subject, *extra, cwd=self.dir)
        dates = ["-startdate", start, "-enddate", end] if start else ["-days", "1"]
        openssl("ca", "-batch", "-config", "ca.cnf", "-cert", f"{ca}.pem", "-keyfile", f"{ca}.key", "-in",
                f"{name}.csr", "-out", f"{name}.pem", "-notext", *dates, cwd=self.dir)
        os.chmod(self.path(f"{name}.key"), 0o600)
        return self.path(f"{name}.pem"), self.path(f"{name}.key")

    def fingerprint(self, name):
        out = openssl("x509", "-in", f"{name}.pem", "-noout", "-fingerprint", "-sha256", cwd=self.dir)
        return out.strip().split("=", 1)[1]

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = Certificates()
        cls.certs.issue("echo", ["echo.test", "*.echo.test"])
        cls.certs.issue("other", ["other.test"])
        cls.certs.issue("client", None)
        cls.certs.issue("stranger", None, ca="other-ca")

    @classmethod
    def tearDownClass(cls):
        cls.certs.close()

    def setUp(self):
        self.port = harness.free_port()
        # Key material only from the operator's key directory, on-demand
        # certificates only for the operator's domains.
        self.broker = harness.Broker(config=self.tls_config())
        os.chmod(self.broker.tmp, 0o755)
        self.file = f"echo.tcp.{self.port}.port.js"
        self.broker.write(self.file, HANDLER)

    def tls_config(self, **extra):
        return {"tls": {"key_dirs": [self.certs.dir], "domains": ["*.demand.test", "exact.test"]}, **extra}

    def tearDown(self):
        self.broker.stop()
        self.broker.close()

    def serve(self, **tls):
        tls = {"enabled": True, "cert": self.certs.path("echo.pem"), "key": self.certs.path("echo.key"), **tls}
        self.broker.write(f"echo.tcp.{self.port}.port.json", json.dumps({"tls": tls}))
        self.broker.start()

    def context(self, client=None, ca="ca.pem", **versions):
        context = ssl.create_default_context(cafile=self.certs.path(ca))
        for key, value in versions.items():
            setattr(context, key, value)
        if client:
            context.load_cert_chain(self.certs.path(f"{client}.pem"), self.certs.path(f"{client}.key"))
        return context

    def talk(self, context, server_hostname="echo.test", alpn=None):
        """Connects over TLS, returns (greeting, negotiated version, echo)."""
        if alpn:
            context.set_alpn_protocols(alpn)
        with contextlib.closing(harness.connect(self.port)) as raw:
            with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
                greeting = json.loads(harness.recv_until(tls, b"\n"))
                tls.sendall(b"ping over tls")
                echo = harness.recv_exactly(tls, 13)
                return greeting, tls.version(), echo

    def failures(self):
        return self.broker.handler("echo")["tls"]["failures"]

    def wait_failure(self, reason, count=1):
        harness.wait_until(lambda: self.failures().get(reason, 0) >= count, what=f"a {reason} failure counted")

    def test_python_and_openssl_clients_get_plaintext_echo(self):
        self.serve(alpn=["echo/2", "echo/1"])
        greeting, version, echo = self.talk(self.context(), alpn=["echo/1", "echo/2"])
        self.assertEqual(echo, b"ping over tls")
        self.assertEqual(version, "TLSv1.3")
        self.assertTrue(greeting["encrypted"])
        info = greeting["tls"]
        self.assertEqual(info["protocol"], "TLSv1.3")
        self.assertEqual(info["servername"], "echo.test")
        self.assertEqual(info["alpnProtocol"], "echo/2")  # the server's preference
        self.assertIsNone(info["peerCertificate"])
        self.assertTrue(info["cipher"])
        # TLS 1.2 with a second client, openssl s_client, by wildcard name.
        lines = s_client_exchange(["-connect", f"127.0.0.1:{self.port}", "-servername", "www.echo.test", "-tls1_2",
                                   "-alpn", "echo/1", "-CAfile", self.certs.path("ca.pem"), "-verify_return_error"],
                                  "line from s_client")
        self.assertEqual(json.loads(lines[0])["tls"]["protocol"], "TLSv1.2")
        self.assertEqual(json.loads(lines[0])["tls"]["alpnProtocol"], "echo/1")
        self.assertIn("line from s_client", lines[1:])
        handler = harness.wait_until(lambda: (h := self.broker.handler("echo"))["tls"]["handshakes"] >= 2 and h,
                                     what="two handshakes counted")
        self.assertEqual(handler["tls"]["certificates"][0]["names"], ["echo.test", "*.echo.test"])
        self.assertEqual(handler["tls"]["failures"], {})
        self.assertEqual(self.broker.redis("GET", "conns"), "2")

    def test_certificates_chosen_by_sni_and_unknown_names_refused(self):
        self.broker.write(f"echo.tcp.{self.port}.port.json", json.dumps({"tls": {"enabled": True, "certs": [
            {"cert": self.certs.path("echo.pem"), "key": self.certs.path("echo.key")},
            {"cert": self.certs.path("other.pem"), "key": self.certs.path("other.key")}]}}))
        self.broker.start()
        for name in ("echo.test", "other.test"):
            with contextlib.closing(harness.connect(self.port)) as raw:
                with self.context().wrap_socket(raw, server_hostname=name) as tls:
                    self.assertEqual(dict(x[0] for x in tls.getpeercert()["subject"])["commonName"], name)
                    # The greeting follows the handler's store update: reading it
                    # keeps the two read-modify-write counts from overlapping.
                    self.assertEqual(json.loads(harness.recv_until(tls, b"\n"))["tls"]["servername"], name)
        with self.assertRaises(ssl.SSLError):
            self.talk(self.context(), server_hostname="unknown.test")
        self.wait_failure("unknown-sni")
        self.assertEqual(self.broker.redis("GET", "conns"), "2")  # the refused one never reached the handler

    def test_client_certificates_required(self):
        self.serve(clientCa=self.certs.path("ca.pem"))
        greeting, _, echo = self.talk(self.context(client="client"))
        self.assertEqual(echo, b"ping over tls")
        peer = greeting["tls"]["peerCertificate"]
        self.assertEqual(peer["subject"], "CN=client")
        self.assertEqual(peer["fingerprint256"], self.certs.fingerprint("client"))
        self.assertTrue(greeting["tls"]["authorized"])
        # openssl s_client with the same client certificate.
        lines = s_client_exchange(["-connect", f"127.0.0.1:{self.port}", "-servername", "echo.test",
                                   "-CAfile", self.certs.path("ca.pem"), "-cert", self.certs.path("client.pem"),
                                   "-key", self.certs.path("client.key"), "-verify_return_error"], "mtls line")
        self.assertEqual(json.loads(lines[0])["tls"]["peerCertificate"]["subject"], "CN=client")
        self.assertIn("mtls line", lines[1:])
        for client, reason in ((None, "no-client-certificate"), ("stranger", "bad-client-certificate")):
            with self.subTest(client=client):
                with self.assertRaises((ssl.SSLError, ConnectionError, json.JSONDecodeError, AssertionError)):
                    self.talk(self.context(client=client))
                self.wait_failure(reason)
        self.assertEqual(self.broker.redis("GET", "conns"), "2")

    def test_bad_inputs_are_counted_and_never_reach_the_handler(self):
        self.serve(minVersion="1.3", alpn=["echo/1"], handshakeTimeout=1)
        # A plaintext client.
        with contextlib.closing(harness.connect(self.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: echo.test\r\n\r\n")
            sock.settimeout(harness.DEFAULT_TIMEOUT)
            with contextlib.suppress(ConnectionResetError):
                self.assertEqual(sock.recv(100), b"")
        self.wait_failure("plaintext")
        # A handshake that never starts: closed at the handshake timeout.
        with contextlib.closing(harness.connect(self.port)) as sock:
            sock.settimeout(harness.DEFAULT_TIMEOUT)
            started = time.monotonic()
            with contextlib.suppress(ConnectionResetError):
                self.assertEqual(sock.recv(100), b"")
            self.assertLess(time.monotonic() - started, harness.DEFAULT_TIMEOUT)
        self.wait_failure("handshake-timeout")
        # Below the minimum version.
        with self.assertRaises(ssl.SSLError):
            self.talk(self.context(maximum_version=ssl.TLSVersion.TLSv1_2))
        self.wait_failure("protocol-version")
        # No protocol in common.
        with self.assertRaises(ssl.SSLError):
            self.talk(self.context(), alpn=["h2"])
        self.wait_failure("alpn-mismatch")
        self.assertIsNone(self.broker.redis("GET", "conns") or None)
        self.assertEqual(self.broker.handler("echo")["state"], "active")
        # And a good client still gets through.
        self.assertEqual(self.talk(self.context(), alpn=["echo/1"])[2], b"ping over tls")

    def test_unusable_material_keeps_the_port_closed(self):
        expired = self.certs.issue("expired", ["echo.test"], start="20200101000000Z", end="20200102000000Z")
        readable_key = self.certs.path("readable.key")
        shutil.copy(self.certs.path("echo.key"), readable_key)
        os.chmod(readable_key, 0o644)
        cases = {
            "expired": ({"cert": expired[0], "key": expired[1]}, "expired on 2020-01-02"),
            "mismatched": ({"cert": self.certs.path("echo.pem"), "key": self.certs.path("other.key")},
                           "does not match the certificate"),
            "readable key": ({"cert": self.certs.path("echo.pem"), "key": readable_key}, "readable by every user"),
            "missing": ({"cert": self.certs.path("nope.pem"), "key": self.certs.path("echo.key")}, "cannot be read"),
        }
        ports = {}
        for label, (files, _) in cases.items():
            port = harness.free_port()
            ports[label] = port
            name = f"bad{len(ports)}"
            self.broker.write(f"{name}.tcp.{port}.port.js", HANDLER)
            self.broker.write(f"{name}.tcp.{port}.port.json", json.dumps({"tls": {"enabled": True, **files}}))
        self.broker.start()
        for index, (label, (_, message)) in enumerate(cases.items(), start=1):
            with self.subTest(label):
                handler = self.broker.handler(f"bad{index}")
                self.assertEqual(handler["state"], "failed")
                self.assertIn(message, handler["reason"])
                with self.assertRaises(ConnectionRefusedError):
                    harness.connect(ports[label]).close()

    def test_on_demand_certificates_for_allowed_names_only(self):
        state = os.path.join(self.broker.tmp, "state")
        self.broker.config = self.tls_config(state_dir=state)
        self.broker.write(f"echo.tcp.{self.port}.port.json", json.dumps(
            {"tls": {"enabled": True, "cert": "on-demand", "names": ["*.demand.test", "exact.test"]}}))
        self.broker.start()
        # The CA exists from the start, its key root's alone; clients get its certificate from portbrokerctl.
        self.assertEqual(os.stat(os.path.join(state, "ca", "ca.key")).st_mode & 0o777, 0o600)
        ca_pem = self.broker.ctl("ca").stdout
        self.assertIn("BEGIN CERTIFICATE", ca_pem)
        ca_file = os.path.join(self.broker.tmp, "exported-ca.pem")
        with open(ca_file, "w") as f:
            f.write(ca_pem)
        # The CA is good for the operator's domains only, and for no address.
        text = openssl("x509", "-in", ca_file, "-noout", "-ext", "nameConstraints", cwd=self.broker.tmp)
        self.assertIn("critical", text)
        self.assertIn("DNS:.demand.test", text)
        self.assertIn("DNS:exact.test", text)
        self.assertIn("IP:0.0.0.0/0.0.0.0", text)
        context = ssl.create_default_context(cafile=ca_file)
        for name in ("www.demand.test", "exact.test", "www.demand.test"):
            with contextlib.closing(harness.connect(self.port)) as raw:
                with context.wrap_socket(raw, server_hostname=name) as tls:
                    self.assertEqual(json.loads(harness.recv_until(tls, b"\n"))["tls"]["servername"], name)
                    self.assertIn(("DNS", name), tls.getpeercert()["subjectAltName"])
        issued = self.broker.handler("echo")["tls"]["certificates"]
        self.assertEqual(sorted(n for c in issued for n in c["names"]), ["exact.test", "www.demand.test"])
        # The repeat came from the cache. (The log may follow the handshake.)
        harness.wait_until(lambda: len(self.broker.events(event="tls-certificate-issued")) >= 2,
                           what="two tls-certificate-issued lines")
        self.assertEqual(len(self.broker.events(event="tls-certificate-issued")), 2)
        # Names outside the list mint nothing.
        for name in ("evil.test", "a.b.demand.test"):
            with self.assertRaises(ssl.SSLError):
                self.talk(context, server_hostname=name)
        self.wait_failure("unknown-sni", 2)
        self.assertEqual(len(self.broker.events(event="tls-certificate-issued")), 2)
        self.assertEqual(self.broker.redis("GET", "conns"), "3")
        # The same CA after a restart of the broker.
        self.assertEqual(self.broker.stop(), 0)
        self.broker.lines.clear()  # wait for the new broker's own "ready"
        self.broker.start()
        self.assertEqual(self.broker.ctl("ca").stdout, ca_pem)
        with contextlib.closing(harness.connect(self.port)) as raw:
            with context.wrap_socket(raw, server_hostname="exact.test") as tls:
                self.assertEqual(json.loads(harness.recv_until(tls, b"\n"))["tls"]["servername"], "exact.test")

    def test_tls_switched_on_and_off_while_running(self):
        self.broker.start()
        pid = self.broker.handler("echo")["worker"]["pid"]
        with contextlib.closing(harness.connect(self.port)) as plain:
            self.assertNotIn("tls", json.loads(harness.recv_until(plain, b"\n")))
        manifest = f"echo.tcp.{self.port}.port.json"
        self.broker.write(manifest, json.dumps({"tls": {"enabled": True, "cert": self.certs.path("echo.pem"),
                                                        "key": self.certs.path("echo.key")}}))

        def speaks_tls():
            try:
                return self.talk(self.context())[2] == b"ping over tls"
            except (ssl.SSLError, OSError, AssertionError):
                return False
        harness.wait_until(speaks_tls, what="the handler to switch to TLS")
        os.unlink(os.path.join(self.broker.handlers, manifest))

        def speaks_plaintext():
            try:
                with contextlib.closing(harness.connect(self.port, timeout=2)) as plain:
                    return "tls" not in json.loads(harness.recv_until(plain, b"\n"))
            except (OSError, AssertionError, ValueError):
                return False
        harness.wait_until(speaks_plaintext, what="the handler to switch back to plaintext")
        # The same worker switched, for the connections that followed.
        self.assertEqual(self.broker.handler("echo")["worker"]["pid"], pid)
        self.assertEqual(self.broker.handler("echo")["worker"]["restarts"], 0)

    def test_a_certificate_rotated_on_disk_serves_new_connections(self):
        work = tempfile.mkdtemp(prefix="portbroker-rotate-", dir=self.certs.dir)
        try:
            cert, key = os.path.join(work, "live.pem"), os.path.join(work, "live.key")
            shutil.copy(self.certs.path("echo.pem"), cert)
            shutil.copy(self.certs.path("echo.key"), key)
            os.chmod(key, 0o600)
            self.serve(cert=cert, key=key)
            with contextlib.closing(harness.connect(self.port)) as raw:
                with self.context().wrap_socket(raw, server_hostname="echo.test") as old:
                    before = old.getpeercert(binary_form=True)
                    harness.recv_until(old, b"\n")
                    rotated = self.certs.issue("rotated", ["echo.test"])
                    # Key first, then certificate, each renamed into place.
                    shutil.copy(rotated[1], key + ".new")
                    os.chmod(key + ".new", 0o600)
                    os.rename(key + ".new", key)
                    shutil.copy(rotated[0], cert + ".new")
                    os.rename(cert + ".new", cert)

                    def new_certificate():
                        with contextlib.closing(harness.connect(self.port)) as raw2:
                            with self.context().wrap_socket(raw2, server_hostname="echo.test") as fresh:
                                return fresh.getpeercert(binary_form=True) != before
                    harness.wait_until(new_certificate, what="new connections to get the rotated certificate")
                    # The connection opened before keeps working.
                    old.sendall(b"still here")
                    self.assertEqual(harness.recv_exactly(old, 10), b"still here")
            self.broker.wait_for(event="tls-reloaded", handler="echo")
            self.assertIsNone(self.broker.handler("echo")["reload"]["error"])
        finally:
            shutil.rmtree(work, ignore_errors=True)


class KeyDirectoryTest(unittest.TestCase):
    """Key material comes only from the operator's key directories: a manifest
    (written by whoever writes the handlers folder) cannot make the root
    supervisor read another file and ship it into handler code."""

    @classmethod
    def setUpClass(cls):
        cls.certs = Certificates()
        cls.certs.issue("echo", ["echo.test"])

    @classmethod
    def tearDownClass(cls):
        cls.certs.close()

    def setUp(self):
        self.broker = harness.Broker()
        self.addCleanup(self.broker.close)
        self.state = os.path.join(self.broker.tmp, "state")
        self.broker.config = {"state_dir": self.state, "tls": {"key_dirs": [self.certs.dir], "domains": ["echo.test"]}}

    def add(self, name, tls):
        port = harness.free_port()
        self.broker.write(f"{name}.tcp.{port}.port.js", HANDLER)
        self.broker.write(f"{name}.tcp.{port}.port.json", json.dumps({"tls": {"enabled": True, **tls}}))
        return port

    def test_manifest_naming_the_local_ca_key_is_refused_with_the_field_named(self):
        # The audit's attack: the broker's own CA key, in PEM, as a handler's key.
        ca_key = os.path.join(self.state, "ca", "ca.key")
        demand = self.add("demand", {"cert": "on-demand", "names": ["echo.test"]})  # creates the CA
        stolen = self.add("stolen", {"cert": self.certs.path("echo.pem"), "key": ca_key})
        elsewhere = self.add("elsewhere", {"cert": "/etc/ssl/certs/ca-certificates.crt", "key": self.certs.path("echo.key")})
        sneaky = self.add("sneaky", {"cert": self.certs.path("echo.pem"),
                                     "key": self.certs.dir + "/../" + os.path.basename(self.state) + "/ca/ca.key"})
        self.broker.start()
        self.assertTrue(os.path.exists(ca_key))
        for name, field in (("stolen", "/tls/key"), ("elsewhere", "/tls/cert"), ("sneaky", "/tls/key")):
            with self.subTest(name):
                handler = self.broker.handler(name)
                self.assertEqual(handler["state"], "failed")
                self.assertIn(field + ":", handler["reason"])
                self.assertIn("outside the key directories" if name != "sneaky" else "plain absolute path",
                              handler["reason"])
        for port in (stolen, elsewhere, sneaky):
            with self.assertRaises(ConnectionRefusedError):
                harness.connect(port).close()
        self.assertEqual(self.broker.handler("demand")["state"], "active")
        # portbrokerctl check says the same, naming the field.
        path = os.path.join(self.broker.tmp, "portbroker.json")
        out = self.broker.ctl("check", "--config", path, self.broker.handlers, check=False).stdout
        self.assertIn("/tls/key: '" + ca_key + "' is outside the key directories", out)

    def test_symbolic_link_in_a_key_directory_is_not_followed(self):
        link_dir = tempfile.mkdtemp(prefix="links-", dir=self.certs.dir)
        link = os.path.join(link_dir, "link.key")
        os.symlink(self.certs.path("echo.key"), link)
        port = self.add("linked", {"cert": self.certs.path("echo.pem"), "key": link})
        self.broker.start()
        handler = self.broker.handler("linked")
        self.assertEqual(handler["state"], "failed")
        self.assertIn("is a symbolic link (not followed)", handler["reason"])
        with self.assertRaises(ConnectionRefusedError):
            harness.connect(port).close()

    def test_fifo_as_a_key_file_is_refused_without_waiting(self):
        fifo_dir = tempfile.mkdtemp(prefix="fifo-", dir=self.certs.dir)
        fifo = os.path.join(fifo_dir, "fifo.key")
        os.mkfifo(fifo, 0o600)
        self.add("fifo", {"cert": self.certs.path("echo.pem"), "key": fifo})
        self.broker.start()
        self.assertIn("not a regular file", self.broker.handler("fifo")["reason"])

    def test_a_config_whose_key_directory_holds_state_dir_is_refused(self):
        for key_dirs, field in (([self.state], "/tls/key_dirs/0"), ([self.certs.dir, self.broker.tmp], "/tls/key_dirs/1"),
                                ([os.path.join(self.state, "ca")], "/tls/key_dirs/0")):
            with self.subTest(key_dirs=key_dirs):
                self.broker.config = {"state_dir": self.state, "tls": {"key_dirs": key_dirs}}
                self.broker.lines.clear()
                self.broker.start(wait_ready=False)
                self.assertEqual(self.broker.process.wait(harness.DEFAULT_TIMEOUT), 1)
                line = self.broker.wait_for(event="config-invalid")
                self.assertEqual(line["field"], field)
                self.assertIn("overlaps state_dir", line["reason"])

    def test_on_demand_names_outside_the_domains_are_refused(self):
        port = self.add("wide", {"cert": "on-demand", "names": ["*.com"]})
        port2 = self.add("other", {"cert": "on-demand", "names": ["other.test"]})
        self.broker.start()
        self.assertIn("/tls/names/0: '*.com' is not a lower-case DNS name", self.broker.handler("wide")["reason"])
        self.assertIn("/tls/names/0: 'other.test' is not among the names this broker issues certificates for",
                      self.broker.handler("other")["reason"])
        for p in (port, port2):
            with self.assertRaises(ConnectionRefusedError):
                harness.connect(p).close()


if __name__ == "__main__":
    harness.main()
