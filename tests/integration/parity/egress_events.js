// Parity scenario: an outbound socket's events and their order (connect,
// ready, data, end, close; error then close; timeout), its state
// while connecting and after, and the error Node gives for a refused
// connect. UPSTREAM_PORT (an echo server) and CLOSED_PORT (nothing there)
// are filled in by test_parity.py; under portbroker the manifest allows both.
import net from "node:net";

const UPSTREAM = UPSTREAM_PORT;
const CLOSED = CLOSED_PORT;

function watch(socket, lines, label, done) {
  for (const name of ["connect", "ready", "data", "end", "close", "error", "timeout"]) {
    socket.on(name, (arg) => {
      let detail = "";
      if (name === "data") detail = ` ${JSON.stringify(arg.toString())}`;
      else if (name === "close") detail = ` hadError=${arg}`;
      else if (name === "error") {
        detail = ` ${arg.code} ${arg.syscall} ${arg.address} ${arg.port === CLOSED} ${arg.errno}` +
          ` ${arg.message.replace(String(CLOSED), "CLOSED")}`;
      }
      lines.push(`${label} ${name}${detail}`);
      if (name === "connect") {
        lines.push(`${label} state ${socket.connecting} ${socket.pending} ${socket.readyState} ` +
          `${socket.remoteAddress} ${socket.remoteFamily} ${socket.remotePort === UPSTREAM}`);
      }
      if (name === "timeout") socket.destroy();
      if (name === "close") done();
    });
  }
}

export function handle(conn) {
  const lines = [];
  const first = net.connect(UPSTREAM, "127.0.0.1");
  lines.push(`first after connect() ${first.connecting} ${first.pending} ${first.readyState}`);
  first.write("hello\n");
  first.end();
  watch(first, lines, "first", () => {
    const refused = net.createConnection({ port: CLOSED, host: "127.0.0.1" });
    watch(refused, lines, "refused", () => {
      const idle = new net.Socket();
      idle.setTimeout(1000);  // long enough for a loaded machine to connect first
      idle.connect({ port: UPSTREAM, host: "127.0.0.1" });
      watch(idle, lines, "idle", () => conn.end(lines.join("\n") + "\n"));
    });
  });
}
