// Parity scenario: tls.connect's events and their order (connect, ready,
// secure, secureConnect, data, end, close; error then close), verification
// against the default trust (which does not know the test's self-signed
// certificate), with `ca`, a server name the certificate does not carry,
// rejectUnauthorized: false, ALPN, and what the socket reports once secure.
// TLS_PORT (a TLS echo server for upstream.test and 127.0.0.1) and TLS_CA
// (its certificate) are filled in by test_parity.py; under portbroker the
// manifest allows the port.
import tls from "node:tls";

const PORT = TLS_PORT;
const CA = TLS_CA;

function watch(socket, lines, label, done) {
  for (const name of ["connect", "ready", "secure", "secureConnect", "data", "end", "close", "error", "timeout"]) {
    socket.on(name, (arg) => {
      let detail = "";
      if (name === "data") detail = ` ${JSON.stringify(arg.toString())}`;
      else if (name === "close") detail = ` hadError=${arg}`;
      else if (name === "error") detail = ` ${arg.name} ${arg.code} ${arg.message}`;
      lines.push(`${label} ${name}${detail}`);
      if (name === "secureConnect") {
        const cert = socket.getPeerCertificate();
        lines.push(`${label} secure: authorized=${socket.authorized} error=${socket.authorizationError} ` +
          `alpn=${socket.alpnProtocol} encrypted=${socket.encrypted} cn=${cert.subject.CN} ` +
          `altnames=${cert.subjectaltname} issuer=${cert.issuer.CN} ` +
          `fingerprint=${cert.fingerprint256.length} raw=${cert.raw.length > 100} ` +
          `cipherVersion=${socket.getCipher().version.startsWith("TLSv1")}`);
      }
      if (name === "close") done();
    });
  }
}

const cases = [
  ["untrusted", { port: PORT, host: "127.0.0.1" }],
  ["with-ca", { port: PORT, host: "127.0.0.1", ca: CA, servername: "upstream.test", ALPNProtocols: ["x-test", "http/1.1"] }],
  ["wrong-name", { port: PORT, host: "127.0.0.1", ca: CA, servername: "other.test" }],
  ["no-verify", { port: PORT, host: "127.0.0.1", rejectUnauthorized: false }],
];

export function handle(conn) {
  const lines = [];
  const next = (index) => {
    if (index === cases.length) {
      const cert = { subject: { CN: "upstream.test" }, subjectaltname: "DNS:upstream.test, DNS:*.wild.test, IP Address:127.0.0.1" };
      for (const host of ["upstream.test", "UPSTREAM.test.", "a.wild.test", "a.b.wild.test", "127.0.0.1", "::1", "x.test"]) {
        const error = tls.checkServerIdentity(host, cert);
        lines.push(`identity ${host}: ${error === undefined ? "ok" : `${error.code} ${error.message}`}`);
      }
      conn.end(lines.join("\n") + "\n");
      return;
    }
    const [label, options] = cases[index];
    let socket;
    try {
      socket = tls.connect(options, () => lines.push(`${label} callback`));
    } catch (error) {
      lines.push(`${label} threw ${error.code} ${error.message}`);
      next(index + 1);
      return;
    }
    lines.push(`${label} after connect() ${socket.connecting} ${socket.encrypted} ${socket.authorized}`);
    socket.write(`${label}\n`);
    socket.end();
    watch(socket, lines, label, () => next(index + 1));
  };
  next(0);
}
