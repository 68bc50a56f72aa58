// worker/js/net_addresses.js against Node's net: isIP/isIPv4/isIPv6 on every
// short string over the characters of addresses and on a table of edge cases,
// SocketAddress's checks and canonical text, and BlockList's rules and
// matching (IPv4 against IPv4-mapped IPv6 included), compared through
// util.inspect.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeNet from "node:net";
import util from "node:util";
import { install } from "./native_shim.mjs";

install();
const ours = await import("../../worker/js/net_addresses.js");
const { inspect: ourInspect } = await import("../../worker/js/inspect.js");

function strings(alphabet, maxLength) {
  const all = [""];
  let frontier = [""];
  for (let length = 1; length <= maxLength; length++) {
    frontier = frontier.flatMap((s) => [...alphabet].map((c) => s + c));
    all.push(...frontier);
  }
  return all;
}

const show = (fn, inspect) => {
  try {
    const value = fn();
    return typeof value === "object" && value !== null ? inspect(value) : JSON.stringify(value);
  } catch (error) {
    return `throws ${error.name} ${error.code} ${error.message}`;
  }
};

function runChecks(define) {
  const failures = [];
  const check = (label, fn) => {
    const actual = show(() => fn(ours), ourInspect);
    const expected = show(() => fn(nodeNet), util.inspect);
    if (actual !== expected) failures.push(`${label}\n  ours ${actual}\n  node ${expected}`);
  };
  define(check);
  assert.deepEqual(failures.slice(0, 20), []);
}

test("isIP, isIPv4 and isIPv6 agree with Node on every short address-like string", () => {
  runChecks((check) => {
    for (const s of strings("1:.f", 6)) check(`isIP ${s}`, (n) => [n.isIP(s), n.isIPv4(s), n.isIPv6(s)]);
    for (const s of strings("0:a%.", 5)) check(`isIPv6 ${s}`, (n) => n.isIPv6(s));
  });
});

test("SocketAddress and BlockList agree with Node", () => {
  runChecks((check) => {
    const samples = [
      "1.2.3.4", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "::", "::1", "1::",
      "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::",
      "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4",
      "fe80::1%eth0", "fe80::1%", "fe80::1%e$", "FE80::ABCD", "12345::", "g::", "1:2:3:4:5::1.2.3.4",
      "1:2:3:4:5:6::1.2.3.4", " 1.2.3.4", "1.2.3.4\n", "0.0.0.0", "::0:0", "2001:db8::", "2001:db8:0:0:1:0:0:1",
      "0:0:0:0:0:0:0:1", "1:0:0:2:0:0:0:3", "0:0:1:0:0:1:0:0", "::ffff:0:0", "::ffff:1:2", "1::ffff:1.2.3.4",
    ];
    for (const s of samples) {
      check(`isIP ${s}`, (n) => [n.isIP(s), n.isIPv4(s), n.isIPv6(s)]);
      check(`sa4 ${s}`, (n) => new n.SocketAddress({ address: s }));
      check(`sa6 ${s}`, (n) => new n.SocketAddress({ address: s, family: "ipv6" }));
    }
    for (const v of [5, null, undefined, {}, { toString: () => "::1" }, [1, 2, 3, 4].join(".")]) {
      check(`isIP ${String(v)}`, (n) => n.isIP(v));
    }
    check("blocklist", (n) => {
      const b = new n.BlockList();
      b.addAddress("123.123.123.123");
      b.addRange("10.0.0.1", "10.0.0.10");
      b.addSubnet("8592:757c:efae:4e45::", 64, "ipv6");
      b.addSubnet("192.168.0.0", 16);
      b.addAddress("0:0::1", "ipv6");
      b.addSubnet("10.1.2.3", 8);
      b.addAddress("::FFFF:1.2.3.4", "ipv6");
      b.addRange("::ffff:5.0.0.0", "::ffff:5.0.0.9", "ipv6");
      b.addAddress(new n.SocketAddress({ address: "9.9.9.9", port: 80 }));
      const queries = [["123.123.123.123"], ["10.0.0.5"], ["10.0.0.11"], ["::ffff:7b7b:7b7b", "ipv6"],
        ["::ffff:123.123.123.123", "ipv6"], ["8592:757c:efae:4e45::f", "ipv6"], ["8592:757c:efae:4e45::f"],
        ["192.168.3.4", "IPV4"], ["::ffff:c0a8:0001", "ipv6"], ["::1", "ipv6"], ["0.0.0.1"], ["1.2.3.4"],
        ["10.200.1.1"], ["5.0.0.5"], ["5.0.0.10"], ["::5.0.0.5", "ipv6"], ["9.9.9.9"], ["nope"], ["1.2.3.4", "ipv6"]];
      return [b.rules, queries.map(([address, family]) => b.check(address, family)), b];
    });
    const list = (n, add) => {
      const b = new n.BlockList();
      add(b);
      return b;
    };
    for (const [label, f] of [
      ["v6 all vs v4", (n) => {
        const b = list(n, (l) => l.addSubnet("::", 0, "ipv6"));
        return [b.check("1.2.3.4"), b.check("::1", "ipv6")];
      }],
      ["v6 64 vs v4", (n) => list(n, (l) => l.addSubnet("::", 64, "ipv6")).check("1.2.3.4")],
      ["v6 range wide", (n) => list(n, (l) => l.addRange("::", "::ffff:ffff:ffff", "ipv6")).check("1.2.3.4")],
      ["v4 all vs v6", (n) => {
        const b = list(n, (l) => l.addSubnet("0.0.0.0", 0));
        return [b.check("::1", "ipv6"), b.check("::ffff:1.1.1.1", "ipv6"), b.check("2001::1", "ipv6")];
      }],
      ["v4 prefix 31", (n) => {
        const b = list(n, (l) => l.addSubnet("1.2.3.4", 31));
        return [b.check("1.2.3.5"), b.check("1.2.3.6"), b.check("1.2.3.3")];
      }],
      ["v6 prefix 17", (n) => {
        const b = list(n, (l) => l.addSubnet("2001:8000::", 17, "ipv6"));
        return [b.check("2001:8fff::1", "ipv6"), b.check("2001:7fff::1", "ipv6")];
      }],
      ["bad family", (n) => new n.BlockList().addAddress("1.2.3.4", "ipv5")],
      ["bad addr", (n) => new n.BlockList().addAddress("1.2.3")],
      ["num addr", (n) => new n.BlockList().addAddress(5)],
      ["range rev", (n) => new n.BlockList().addRange("10.0.0.10", "10.0.0.1")],
      ["prefix 33", (n) => new n.BlockList().addSubnet("1.2.3.0", 33)],
      ["prefix 129", (n) => new n.BlockList().addSubnet("::", 129, "ipv6")],
      ["prefix str", (n) => new n.BlockList().addSubnet("1.2.3.0", "24")],
      ["prefix frac", (n) => new n.BlockList().addSubnet("1.2.3.0", 24.5)],
      ["subnet bad net", (n) => new n.BlockList().addSubnet(5, 8)],
      ["v6 with v4 fam", (n) => new n.BlockList().addAddress("::1")],
      ["mixed range", (n) => list(n, (l) => l.addRange(new n.SocketAddress({ address: "1.2.3.4" }),
        new n.SocketAddress({ address: "::1", family: "ipv6" }))).rules],
      ["fam check", (n) => new n.BlockList().check("1.2.3.4", 5)],
      ["check types", (n) => new n.BlockList().check(5)],
      ["empty", (n) => [new n.BlockList().rules, new n.BlockList()]],
      ["sa", (n) => {
        const s = new n.SocketAddress({ address: "::1", port: 80, family: "ipv6", flowlabel: 5 });
        return [s, s.toJSON(), n.SocketAddress.isSocketAddress(s), n.SocketAddress.isSocketAddress({})];
      }],
      ["sa default", (n) => new n.SocketAddress()],
      ["sa default6", (n) => new n.SocketAddress({ family: "ipv6" })],
      ["sa badport", (n) => new n.SocketAddress({ port: 70000 })],
      ["sa port neg", (n) => new n.SocketAddress({ port: -1 })],
      ["sa port float", (n) => new n.SocketAddress({ port: 1.5 })],
      ["sa port obj", (n) => new n.SocketAddress({ port: {} })],
      ["sa badfam", (n) => new n.SocketAddress({ family: "IPv4" })],
      ["sa fam num", (n) => new n.SocketAddress({ family: 4 })],
      ["sa fam bad", (n) => new n.SocketAddress({ family: "x" })],
      ["sa opts", (n) => new n.SocketAddress(5)],
      ["sa null", (n) => new n.SocketAddress(null)],
      ["sa flow", (n) => new n.SocketAddress({ flowlabel: 2 ** 32 })],
      ["sa flow neg", (n) => new n.SocketAddress({ flowlabel: -1 })],
      ["sa addr num", (n) => new n.SocketAddress({ address: 5 })],
      ["sa keys", (n) => [Object.keys(new n.SocketAddress()), Object.getOwnPropertyNames(n.SocketAddress.prototype),
        Object.getOwnPropertyNames(n.SocketAddress), Object.getOwnPropertyNames(n.BlockList.prototype)]],
      ["sa zone", (n) => new n.SocketAddress({ address: "fe80::1%1", family: "ipv6" })],
      ["sa nested", (n) => ({ deep: { deeper: new n.SocketAddress() } })],
    ]) check(label, f);
  });
});
