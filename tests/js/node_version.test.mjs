// These comparisons take Node's answers as the reference, and portbroker
// matches Node 20's: another major would be the wrong reference.
import { test } from "node:test";
import assert from "node:assert/strict";

test("the reference is Node 20", () => {
  assert.equal(process.versions.node.split(".")[0], "20", `node here is ${process.version}`);
});
