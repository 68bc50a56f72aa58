// Parity scenario: node:assert and node:assert/strict. Failed assertions
// must give Node's errors and messages, including assert(value), which quotes
// the failed call from this file. Writes a transcript that must be
// byte-identical under Node and under portbroker.
import assert from "node:assert";
import strictAssert, { deepEqual as strictDeepEqual } from "node:assert/strict";
import { AssertionError } from "assert";
const out = [];
const t = (label, f) => {
  try { f(); out.push(`${label}: ok`); } catch (e) {
    out.push(`${label}: ${e.name} ${e.code} ${e.operator} ${e.generatedMessage}\n${e.message}`);
  }
};
t("ok false", () => assert.ok(false));
t("assert null", () => assert(null));
t("ok expr", () => { const x = 5; if (x) assert.ok(x > 10); });
t("ok multiline", () => {
    assert.ok(
      1 === 2,
      undefined);
});
t("ok string arg", () => assert.ok("" === "a)b", undefined));
t("strict ok", () => strictAssert(0));
t("strict fn", () => strictAssert.ok(typeof 1 === "string"));
t("ok noarg", () => assert.ok());
t("se", () => assert.strictEqual(1, 2));
t("dse", () => assert.deepStrictEqual({ a: [1, 2, { b: 3 }], c: new Map([[1, 2]]) }, { a: [1, 2, { b: 4 }], c: new Map([[1, 2]]) }));
t("strict deepEqual", () => strictDeepEqual([1], ["1"]));
t("deepEqual loose", () => assert.deepEqual([1], ["1"]));
t("throws", () => assert.throws(() => { throw new TypeError("bad"); }, { name: "RangeError", message: /ba/ }));
t("match", () => assert.match("abc", /x/));
t("AssertionError class", () => { const e = new AssertionError({ actual: 1, expected: 2, operator: "strictEqual" }); throw e; });
t("instanceof", () => { try { assert.fail("x"); } catch (e) { assert.ok(e instanceof AssertionError && e instanceof Error); } });
t("toString", () => { try { assert.equal(1, 2); } catch (e) { out.push(String(e)); } });
t("keys", () => { try { assert.equal(1, 2); } catch (e) { out.push(Object.keys(e).join(",")); } });
export async function handle(conn) {
  try { await assert.rejects(Promise.resolve(1)); } catch (e) { out.push(`rejects: ${e.message}`); }
  try { await assert.doesNotReject(async () => { throw new Error("no"); }); } catch (e) { out.push(`doesNotReject: ${e.message}`); }
  try { await assert.rejects(async () => { throw new Error("yes"); }, Error); out.push("rejects ok"); } catch (e) { out.push(`rejects2: ${e.message}`); }
  conn.end(out.join("\n") + "\n");
}
