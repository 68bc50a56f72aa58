// worker/js/os.js against Node's os, with the natives answering as Node does
// on this machine (native_shim.mjs): the module's shape (names, lengths,
// string conversion), the constants table, the argument checks, and the
// answers that do not depend on the sandbox. What the sandbox changes is in
// tests/integration/parity/os.js and docs/handlers.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeOs from "node:os";
import { install } from "./native_shim.mjs";

install();
const ours = (await import("../../worker/js/os.js")).default;

test("os has Node's functions, names, lengths, string forms and descriptors", () => {
  const shape = (os) => Object.keys(os).map((key) => {
    const value = os[key];
    if (typeof value !== "function") return key;
    const primitive = typeof value[Symbol.toPrimitive] === "function";
    return `${key}:${value.name}:${value.length}:${primitive}`;
  });
  assert.deepStrictEqual(shape(ours), shape(nodeOs));
  for (const key of ["constants", "EOL", "devNull"]) {
    const { value, ...attributes } = Object.getOwnPropertyDescriptor(ours, key);
    const { value: expected, ...expectedAttributes } = Object.getOwnPropertyDescriptor(nodeOs, key);
    assert.deepStrictEqual(attributes, expectedAttributes, key);
    if (key !== "constants") assert.equal(value, expected);
  }
});

test("os.constants is Node's, key for key and in order", () => {
  assert.deepStrictEqual(ours.constants, nodeOs.constants);
  for (const key of ["errno", "signals", "priority", "dlopen"]) {
    assert.deepEqual(Object.keys(ours.constants[key]), Object.keys(nodeOs.constants[key]));
    assert.equal(Object.getPrototypeOf(ours.constants[key]), null);
  }
});

test("os answers that do not depend on the sandbox, and its argument checks", () => {
  const outcome = (fn) => {
    try {
      return { value: fn() };
    } catch (error) {
      return { error: `${error.name} ${error.code} ${error.message}` };
    }
  };
  const cases = [
    (os) => [os.platform(), os.type(), os.arch(), os.machine(), os.endianness(), os.release(), os.version()],
    (os) => [`${os.platform}`, `${os.type}`, `${os.endianness}`, `${os.release}`],
    (os) => os.getPriority("x"), (os) => os.getPriority(1.5), (os) => os.setPriority(0, 100),
    (os) => os.setPriority("x"), (os) => os.setPriority(0, -21), (os) => os.setPriority(1.5, 0),
    (os) => Object.getPrototypeOf(os.userInfo()), (os) => Object.keys(os.userInfo()),
    (os) => typeof os.userInfo({ encoding: "buffer" }).homedir,
    (os) => os.cpus().length, (os) => Object.keys(os.cpus()[0]), (os) => Object.keys(os.cpus()[0].times),
    (os) => os.loadavg().length, (os) => typeof os.uptime(), (os) => os.availableParallelism(),
  ];
  for (const fn of cases) assert.deepStrictEqual(outcome(() => fn(ours)), outcome(() => fn(nodeOs)), String(fn));
});
