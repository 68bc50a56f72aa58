// Node's `os`, as seen from inside a worker's sandbox (worker/api_os.cc).
// What the sandbox hides gets a fixed, documented answer (docs/handlers.md):
// the host's memory, load and uptime, its users, its network interfaces.
import { native } from "./native.js";
import { constants } from "./os_constants.js";
import { Buffer } from "./buffer.js";
import { machineArchitecture } from "./architecture.js";
import { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, makeError } from "./errors.js";

const { osUname, osCpus, osParallelism, osMemory, osIds, hrtimeMs } = native;

const kEndianness = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "LE" : "BE";

function systemError(syscall, code, errno, description) {
  const error = makeError(Error, "ERR_SYSTEM_ERROR",
    `A system error occurred: ${syscall} returned ${code} (${description})`);
  Object.defineProperty(error, "name", { value: "SystemError", writable: true, enumerable: false, configurable: true });
  error.info = { errno: -errno, code, message: description, syscall };
  error.errno = -errno;
  error.syscall = syscall;
  return error;
}

function validateInt32(value, name, min = -2147483648, max = 2147483647) {
  if (typeof value !== "number") throw ERR_INVALID_ARG_TYPE(name, "number", value);
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, "an integer", value);
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value);
}

// Named as Node names them, and usable as strings (`${os.hostname}`) where
// Node's are.
const getOSType = () => osUname()[0];
const getHostname = () => osUname()[1];
const getOSRelease = () => osUname()[2];
const getOSVersion = () => osUname()[3];
const getMachine = () => osUname()[4];
const arch = () => machineArchitecture();
const platform = () => "linux";
const endianness = () => kEndianness;
// No HOME and no user database in the sandbox: its root.
const getHomeDirectory = () => "/";
// What Node answers without TMPDIR; the sandbox has no such directory.
const tmpdir = () => "/tmp";
const getAvailableParallelism = () => osParallelism();
// The worker's memory limit, and what of it is not resident.
const getTotalMem = () => osMemory()[0];
function getFreeMem() {
  const [limit, resident] = osMemory();
  return limit > resident ? limit - resident : 0;
}
// The sandbox's own uptime: since the worker started (hrtimeMs counts from
// there), in hundredths as Linux's /proc/uptime.
const getUptime = () => Math.floor(hrtimeMs() / 10) / 100;

// Node 20 wraps these three in a function of this name.
for (const fn of [getHostname, getHomeDirectory, getUptime]) {
  Object.defineProperty(fn, "name", { value: "wrappedFn" });
}

for (const fn of [getOSType, getHostname, getOSRelease, getOSVersion, getMachine, arch, platform, endianness,
  getHomeDirectory, tmpdir, getAvailableParallelism, getTotalMem, getFreeMem, getUptime]) {
  fn[Symbol.toPrimitive] = () => fn();
}

function cpus() {
  const [model, ...speeds] = osCpus();
  return speeds.map((speed) => ({ model, speed, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }));
}

function loadavg() {
  return [0, 0, 0];
}

// The worker's network namespace has no interface with an address.
function networkInterfaces() {
  return {};
}

function userInfo(options) {
  const [uid, gid] = osIds();
  const asBuffer = options?.encoding === "buffer";
  const text = (value) => (asBuffer ? Buffer.from(value) : value);
  return { __proto__: null, uid, gid, username: text("portbroker"), homedir: text(getHomeDirectory()), shell: null };
}

// The worker runs at the priority it was started with and may not change it.
function getPriority(pid) {
  if (pid === undefined) pid = 0;
  validateInt32(pid, "pid");
  if (pid !== 0 && pid !== 1) throw systemError("uv_os_getpriority", "ESRCH", 3, "no such process");
  return 0;
}

function setPriority(pid, priority) {
  if (priority === undefined) {
    priority = pid;
    pid = 0;
  }
  validateInt32(pid, "pid");
  validateInt32(priority, "priority", -20, 19);
  throw systemError("uv_os_setpriority", "EACCES", 13, "permission denied");
}

const os = {
  arch,
  availableParallelism: getAvailableParallelism,
  cpus,
  endianness,
  freemem: getFreeMem,
  getPriority,
  homedir: getHomeDirectory,
  hostname: getHostname,
  loadavg,
  networkInterfaces,
  platform,
  release: getOSRelease,
  setPriority,
  tmpdir,
  totalmem: getTotalMem,
  type: getOSType,
  userInfo,
  uptime: getUptime,
  version: getOSVersion,
  machine: getMachine,
};
Object.defineProperties(os, {
  constants: { configurable: false, enumerable: true, value: constants },
  EOL: { configurable: true, enumerable: true, writable: false, value: "\n" },
  devNull: { configurable: true, enumerable: true, writable: false, value: "/dev/null" },
});

export default os;
