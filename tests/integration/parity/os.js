// Parity scenario: node:os. The host and the sandbox differ (hostname, memory,
// CPUs), so values are checked for type and shape; what does not depend on
// the machine is printed. Writes a transcript that must be byte-identical
// under Node and under portbroker.
import os, { EOL, constants, hostname } from "node:os";

export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      lines.push(`${label} ${JSON.stringify(fn())}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name} ${error.code} ${error.message}`);
    }
  };
  attempt("fixed", () => [os.platform(), os.type(), os.endianness(), EOL, os.devNull, `${os.platform}`,
    typeof os.arch()]);
  attempt("strings", () => [os.release(), os.version(), hostname(), os.homedir(), os.tmpdir(), os.machine()]
    .map((value) => typeof value === "string" && value.length > 0));
  attempt("arch", () => [os.arch() === process.arch, ["x64", "arm64", "ia32", "arm", "ppc64", "s390x", "riscv64",
    "loong64", "mips64el"].includes(process.arch), process.platform]);
  attempt("hostname as string", () => `${os.hostname}` === os.hostname());
  attempt("cpus", () => {
    const cpus = os.cpus();
    return [cpus.length > 0, cpus.every((cpu) => typeof cpu.model === "string" && typeof cpu.speed === "number" &&
      Object.keys(cpu.times).join() === "user,nice,sys,idle,irq")];
  });
  attempt("availableParallelism", () => Number.isInteger(os.availableParallelism()) && os.availableParallelism() > 0);
  attempt("memory", () => [os.totalmem() > 0, os.freemem() >= 0, os.freemem() <= os.totalmem()]);
  attempt("uptime", () => typeof os.uptime() === "number" && os.uptime() >= 0);
  attempt("loadavg", () => os.loadavg().length === 3 && os.loadavg().every((n) => typeof n === "number"));
  attempt("networkInterfaces", () => typeof os.networkInterfaces() === "object");
  attempt("userInfo", () => {
    const info = os.userInfo();
    return [Object.getPrototypeOf(info), Object.keys(info), typeof info.uid, typeof info.username];
  });
  attempt("userInfo buffer", () => Buffer.isBuffer(os.userInfo({ encoding: "buffer" }).username));
  attempt("getPriority", () => os.getPriority());
  attempt("getPriority bad", () => os.getPriority("x"));
  attempt("setPriority range", () => os.setPriority(0, 100));
  attempt("setPriority bad", () => os.setPriority("x"));
  attempt("constants", () => [constants.signals.SIGTERM, constants.signals.SIGKILL, constants.errno.ENOENT,
    constants.errno.ECONNRESET, constants.priority.PRIORITY_HIGH, constants.dlopen.RTLD_NOW, Object.keys(constants),
    Object.keys(constants.signals).length, Object.keys(constants.errno).length, Object.getPrototypeOf(constants.errno)]);
  attempt("constants descriptor", () => Object.getOwnPropertyDescriptor(os, "constants").writable);
  attempt("names", () => Object.keys(os).map((k) => (typeof os[k] === "function" ? `${k}:${os[k].name}` : k)));
  conn.end(`${lines.join("\n")}\n`);
}
