// Parity scenario: node:querystring, imported with and without the node:
// prefix. Writes a transcript that must be byte-identical under Node and
// under portbroker.
import qs, { parse, stringify, escape, unescape } from "node:querystring";
import qsAgain from "querystring";

export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      lines.push(`${label} ${JSON.stringify(fn())}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name} ${error.code} ${error.message}`);
    }
  };
  attempt("same module", () => qs === qsAgain);
  for (const q of ["a=1&b=2&a=3", "a+b=c+d", "%E2%82%AC=%F0%9F%98%80", "x=%zz&y=%E2%82", "=&&a", "k", "a==b",
    "__proto__=1&constructor=2"]) {
    attempt(`parse ${q}`, () => parse(q));
  }
  attempt("parse separators", () => parse("a:1;b:2", ";", ":"));
  attempt("parse maxKeys", () => parse("a=1&b=2&c=3", null, null, { maxKeys: 2 }));
  attempt("parse decoder", () => parse("a=%41", null, null, { decodeURIComponent: (s) => `<${s}>` }));
  attempt("null prototype", () => Object.getPrototypeOf(parse("a=1")));
  attempt("stringify", () => [stringify({ x: [1, 2], y: "z w", n: null, b: true, big: 10n, nan: NaN }),
    stringify({ a: 1 }, ";", ":"), stringify("x")]);
  attempt("escape", () => [escape("é ü/?&="), escape(5), unescape("%zz%41+"), unescape("%41+", true)]);
  attempt("escape lone surrogate", () => escape("\ud800"));
  attempt("aliases", () => [qs.decode === qs.parse, qs.encode === qs.stringify, Buffer.isBuffer(qs.unescapeBuffer("%41"))]);
  conn.end(`${lines.join("\n")}\n`);
}
