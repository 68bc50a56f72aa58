// The ES2023 methods added to SpiderMonkey 102 (worker/js/intrinsics_es2023.js)
// against V8's own: the cases of es2023_cases.mjs give the same lines under
// Node and in the js102 shell with the polyfills loaded. Messages of errors
// the engine itself raises while coercing (a Symbol to a number, ...) are
// SpiderMonkey's, so such lines compare by error class only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "./es2023_cases.mjs";

const haveShell = !spawnSync("js102", ["--version"]).error;
// CI installs the shell (libmozjs-102-dev): there a skip would prove nothing.
if (!haveShell && process.env.CI === "true") throw new Error("js102 is not installed, and CI needs this comparison");
const engineCoercion = /throws (TypeError|RangeError): (Cannot convert|can't convert)/;

test("ES2023 array, typed array and string methods match V8", { skip: !haveShell && "js102 is not installed" }, () => {
  const expected = [];
  run((line) => expected.push(line));
  const entry = fileURLToPath(new URL("es2023_entry.mjs", import.meta.url));
  const shell = spawnSync("js102", ["-m", entry], { encoding: "utf8", timeout: 30000 });
  assert.equal(shell.status, 0, shell.stderr);
  const actual = shell.stdout.replace(/\n$/, "").split("\n");
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (engineCoercion.test(expected[i])) {
      assert.equal(actual[i].replace(/:.*$/, ""), expected[i].replace(/:.*$/, ""), `line ${i + 1}`);
    } else {
      assert.equal(actual[i], expected[i], `line ${i + 1}`);
    }
  }
});
