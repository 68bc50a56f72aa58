// Parity scenario: the ES2023 methods and Intl.Segmenter that SpiderMonkey
// 102 lacks, as handler code uses them. Writes a transcript that must be
// byte-identical under Node and under portbroker.
export function handle(conn) {
  const lines = [];
  const attempt = (label, fn) => {
    try {
      lines.push(`${label} ${JSON.stringify(fn())}`);
    } catch (error) {
      lines.push(`${label} threw ${error.name}`);
    }
  };
  const scores = [{ name: "b", score: 2 }, { name: "a", score: 3 }, { name: "c", score: 2 }];
  attempt("findLast", () => [scores.findLast((s) => s.score === 2).name, scores.findLastIndex((s) => s.score > 9)]);
  attempt("toSorted", () => [scores.toSorted((x, y) => x.score - y.score).map((s) => s.name), scores[0].name]);
  attempt("toReversed", () => [1, 2, 3].toReversed());
  attempt("toSpliced", () => ["a", "b", "c", "d"].toSpliced(1, 2, "X"));
  attempt("with", () => [[1, 2, 3].with(-1, 9), [1, 2, 3]]);
  attempt("with out of range", () => [1].with(1, 0));
  attempt("typed", () => {
    const bytes = new Uint8Array([3, 1, 2]);
    return [Array.from(bytes.toSorted()), Array.from(bytes.toReversed()), Array.from(bytes.with(0, 300)),
      bytes.findLast((b) => b < 3), bytes.toSorted() instanceof Uint8Array, "toSpliced" in bytes];
  });
  attempt("wellFormed", () => ["ok".isWellFormed(), "a\ud800".isWellFormed(), "a\ud800b".toWellFormed()]);
  const words = new Intl.Segmenter("en", { granularity: "word" });
  attempt("words", () => [...words.segment("Hello, world! It's 2024.")].filter((s) => s.isWordLike)
    .map((s) => s.segment));
  attempt("graphemes", () => [...new Intl.Segmenter().segment("e\u0301👍🏽🇫🇷!")].map((s) => s.segment));
  attempt("sentences", () => [...new Intl.Segmenter("en", { granularity: "sentence" })
    .segment("One. Two? Three!")].map((s) => s.segment));
  attempt("containing", () => words.segment("abc def").containing(5));
  attempt("resolvedOptions", () => words.resolvedOptions());
  attempt("toStringTag", () => Object.prototype.toString.call(words));
  conn.end(`${lines.join("\n")}\n`);
}
