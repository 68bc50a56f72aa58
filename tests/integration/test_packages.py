"""The .deb and .rpm, built from this build tree's install rules: lintian
passes, the .rpm lists the right files, dependencies and scripts, and the
.deb installs on this machine, runs with its packaged config (firewall on,
inside a network namespace of the test's own), and purges without leaving
anything behind.

Installing changes the machine (that is the point): the test refuses to run
if portbroker is already installed, and purges what it installed."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

PACKAGE_FILES = [
    "/usr/sbin/portbrokerd",
    "/usr/bin/portbrokerctl",
    "/usr/libexec/portbroker/portbroker-worker",
    "/usr/libexec/portbroker/portbroker-store",
    "/etc/portbroker/portbroker.json",
    "/usr/lib/systemd/system/portbroker.service",
    "/usr/lib/sysusers.d/portbroker.conf",
    "/usr/lib/tmpfiles.d/portbroker.conf",
    "/usr/share/man/man8/portbrokerd.8.gz",
    "/usr/share/man/man8/portbrokerctl.8.gz",
    "/usr/share/man/man5/portbroker.json.5.gz",
    "/usr/share/man/man7/portbroker-handlers.7.gz",
    "/usr/share/bash-completion/completions/portbrokerctl",
    "/usr/share/portbroker/types/portbroker.d.ts",
    "/usr/share/doc/portbroker/copyright",
]
NAMESPACE = f"pbpkg{os.getpid()}"


def run(*args, check=True, timeout=300, **kwargs):
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def installed():
    return run("dpkg-query", "-W", "-f=${Status}", "portbroker", check=False).stdout == "install ok installed"


class PackagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="portbroker-packages-")
        run("cpack", "-G", "DEB;RPM", "-B", cls.out, cwd=harness.BUILD, timeout=600)
        cls.deb = glob.glob(os.path.join(cls.out, "portbroker_*.deb"))[0]
        cls.rpm = glob.glob(os.path.join(cls.out, "portbroker-*.rpm"))[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_the_deb_passes_lintian(self):
        result = run("lintian", "--fail-on", "error,warning", self.deb, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        control = run("dpkg-deb", "--field", self.deb, "Depends").stdout
        for library in ("libmozjs-102-0", "libuv1", "libseccomp2", "libnftables1", "libssl3"):
            self.assertIn(library, control)
        self.assertEqual(run("dpkg-deb", "--ctrl-tarfile", self.deb).returncode, 0)
        conffiles = run("sh", "-c", f"dpkg-deb --info {self.deb} conffiles").stdout.split()
        self.assertEqual(conffiles, ["/etc/portbroker/portbroker.json"])

    def test_the_rpm_lists_files_dependencies_config_and_scripts(self):
        files = run("rpm", "-qpl", self.rpm).stdout.split()
        for path in PACKAGE_FILES:
            self.assertIn(path, files)
        for shared in ("/usr", "/usr/sbin", "/etc", "/usr/lib/systemd/system", "/usr/share/man"):
            self.assertNotIn(shared, files)  # the system owns these
        requires = run("rpm", "-qpR", self.rpm).stdout
        for library in ("libmozjs-102.so.0", "libuv.so.1", "libseccomp.so.2", "libnftables.so.1", "libssl.so.3",
                        "systemd"):
            self.assertIn(library, requires)
        flags = run("rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\\n]", self.rpm).stdout
        self.assertIn("cn /etc/portbroker/portbroker.json", flags.splitlines())
        scripts = run("rpm", "-qp", "--scripts", self.rpm).stdout
        self.assertIn("systemd-sysusers portbroker.conf", scripts)
        self.assertIn("rm -rf /var/lib/portbroker /run/portbroker", scripts)

    def test_install_run_and_purge_the_deb(self):
        if installed():
            self.fail("portbroker is installed on this machine; this test installs and purges it itself")
        if os.path.isdir("/run/systemd/system") and run("/usr/sbin/policy-rc.d", check=False).returncode != 101:
            # The package would start its service under the host's systemd,
            # programming the host's own nftables.
            raise unittest.SkipTest(harness.SITUATIONAL + "systemd runs here and policy-rc.d allows starting services")
        run("dpkg", "-i", self.deb)
        try:
            self.assertTrue(installed())
            listed = run("dpkg", "-L", "portbroker").stdout.split()
            for path in PACKAGE_FILES:
                self.assertTrue(os.path.exists(path), path)
                self.assertIn(path, listed)
            self.assertIn("portbroker", run("getent", "passwd", "portbroker").stdout)
            self.assertEqual(os.stat("/var/lib/portbroker").st_mode & 0o777, 0o700)
            self.assertIn("/etc/portbroker/portbroker.json",
                          run("dpkg-query", "-W", "-f=${Conffiles}", "portbroker").stdout)
            self.assertIn("portbrokerd", run("man", "-P", "cat", "8", "portbrokerd",
                                             env=dict(os.environ, MANWIDTH="80")).stdout)
            # The installed unit names only things that exist.
            verify = run("systemd-analyze", "verify", "/usr/lib/systemd/system/portbroker.service", check=False)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            self.run_installed_broker()
        finally:
            run("dpkg", "--purge", "portbroker")
        self.assertFalse(installed())
        for path in listed:
            if os.path.isfile(path) or os.path.islink(path):
                self.fail(f"{path} is left after purge")
        for path in ("/etc/portbroker", "/var/lib/portbroker", "/run/portbroker",
                     "/usr/libexec/portbroker", "/usr/share/doc/portbroker",
                     "/etc/systemd/system/multi-user.target.wants/portbroker.service"):
            self.assertFalse(os.path.lexists(path), f"{path} is left after purge")

    def run_installed_broker(self):
        """The installed binaries with the packaged config (firewall on) in a
        network namespace of this test, serving the spec's echo example."""
        run("ip", "netns", "add", NAMESPACE)
        try:
            run("ip", "-n", NAMESPACE, "link", "set", "lo", "up")
            broker = harness.Broker(bin_dir="/usr/bin", sbin_dir="/usr/sbin", firewall=True,
                                    extra_args=["--config", "/etc/portbroker/portbroker.json"],
                                    command_prefix=["ip", "netns", "exec", NAMESPACE])
            os.chmod(broker.tmp, 0o755)
            try:
                broker.copy_example("echo.tcp.7000.port.js", "echo.tcp.7000.port.js")
                broker.start()
                status = broker.status()
                self.assertEqual(status["broker"]["config"], "/etc/portbroker/portbroker.json")
                self.assertEqual(status["broker"]["worker_user"]["name"], "portbroker")
                self.assertTrue(status["broker"]["firewall"]["enabled"])
                self.assertEqual(broker.handler("echo")["state"], "active")
                self.assertIn("echo", broker.ctl("status").stdout)
                answer = run("ip", "netns", "exec", NAMESPACE, "socat", "-T2", "-", "TCP:127.0.0.1:7000",
                             input="", timeout=30).stdout
                self.assertEqual(answer, "hello from :7000\n")
                self.assertIn("tcp_ports", run("ip", "netns", "exec", NAMESPACE, "nft", "list", "table", "inet",
                                               "portbroker").stdout)
                check = run("/usr/bin/portbrokerctl", "check", broker.handlers, "--json", check=False)
                self.assertEqual(check.returncode, 0, check.stdout)
                self.assertEqual(json.loads(check.stdout)["config"]["file"], "/etc/portbroker/portbroker.json")
                self.assertEqual(broker.stop(), 0)
                tables = run("ip", "netns", "exec", NAMESPACE, "nft", "list", "tables").stdout
                self.assertNotIn("portbroker", tables)
            finally:
                broker.close()
        finally:
            run("ip", "netns", "del", NAMESPACE, check=False)
            time.sleep(0.1)


if __name__ == "__main__":
    harness.main()
