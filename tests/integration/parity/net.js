// Parity scenario: node:net's address helpers (isIP, SocketAddress,
// BlockList), printed with util.inspect. Writes a transcript that must be
// byte-identical under Node and under portbroker.
import net, { isIP, isIPv4, isIPv6, BlockList, SocketAddress } from "node:net";
import { inspect } from "node:util";

export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      const value = fn();
      lines.push(`${label} ${typeof value === "object" && value !== null ? inspect(value) : JSON.stringify(value)}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name} ${error.code} ${error.message}`);
    }
  };
  for (const input of ["1.2.3.4", "255.255.255.256", "01.2.3.4", "::", "::1", "1:2:3:4:5:6:7:8", "1::2::3",
    "::ffff:1.2.3.4", "fe80::1%eth0", "fe80::1%", "2001:db8::/32", "", "localhost", 5, null]) {
    attempt(`isIP ${String(input)}`, () => [isIP(input), isIPv4(input), isIPv6(input)]);
  }
  attempt("default export", () => [net.isIP === isIP, typeof net.BlockList, typeof net.SocketAddress]);
  for (const options of [undefined, { family: "ipv6" }, { address: "::FFFF:1.2.3.4", family: "ipv6", port: 8080 },
    { address: "0:0:0:0:0:0:0:1", family: "ipv6", flowlabel: 7 }, { address: "1.2.3" }, { port: 65536 },
    { family: "IPv4" }, { family: "ipx" }, { flowlabel: -1 }, { address: 5 }]) {
    attempt(`SocketAddress ${JSON.stringify(options)}`, () => {
      const address = new SocketAddress(options);
      return [address, address.toJSON(), SocketAddress.isSocketAddress(address)];
    });
  }
  const list = new BlockList();
  list.addAddress("123.123.123.123");
  list.addRange("10.0.0.1", "10.0.0.10");
  list.addSubnet("8592:757c:efae:4e45::", 64, "ipv6");
  list.addSubnet("192.168.0.0", 16);
  list.addAddress(new SocketAddress({ address: "::1", family: "ipv6" }));
  attempt("rules", () => list.rules);
  attempt("inspect", () => list);
  for (const [address, family] of [["123.123.123.123"], ["10.0.0.5"], ["10.0.0.11"], ["::ffff:7b7b:7b7b", "ipv6"],
    ["::ffff:10.0.0.3", "ipv6"], ["8592:757c:efae:4e45::f", "ipv6"], ["8592:757c:efae:4e46::f", "ipv6"],
    ["192.168.200.1", "IPV4"], ["::1", "ipv6"], ["nonsense"]]) {
    attempt(`check ${address} ${family}`, () => list.check(address, family));
  }
  attempt("addRange reversed", () => list.addRange("10.0.0.10", "10.0.0.1"));
  attempt("addSubnet prefix", () => list.addSubnet("1.2.3.0", 33));
  attempt("addAddress family", () => list.addAddress("1.2.3.4", "ipv5"));
  attempt("addAddress invalid", () => list.addAddress("1.2.3"));
  attempt("check not string", () => list.check(5));
  conn.end(`${lines.join("\n")}\n`);
}
