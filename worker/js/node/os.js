// node:os, as a worker's sandbox sees the machine (docs/handlers.md).
import os from "../os.js";

export const { arch, availableParallelism, cpus, endianness, freemem, getPriority, homedir, hostname, loadavg,
  networkInterfaces, platform, release, setPriority, tmpdir, totalmem, type, userInfo, uptime, version, machine,
  constants, EOL, devNull } = os;
export default os;
