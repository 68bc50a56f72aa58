// The runtime library must behave the same on SpiderMonkey 102 (the engine
// portbroker embeds) as under Node: the same transcript from both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { install } from "./native_shim.mjs";
import { transcript } from "./engine_transcript.mjs";

const shell = spawnSync("js102", ["--version"], { encoding: "utf8" });
const haveShell = !shell.error;
// CI installs the shell (libmozjs-102-dev): there a skip would prove nothing.
if (!haveShell && process.env.CI === "true") throw new Error("js102 is not installed, and CI needs this comparison");

test("engine transcript: SpiderMonkey 102 matches Node", { skip: !haveShell && "js102 is not installed" }, async () => {
  install();
  const expected = (await transcript()).join("\n");
  const entry = fileURLToPath(new URL("spidermonkey_entry.mjs", import.meta.url));
  const run = spawnSync("js102", ["-m", entry], { encoding: "utf8", timeout: 20000 });
  assert.equal(run.status, 0, run.stderr);
  const actual = run.stdout.replace(/\n$/, "");
  const expectedLines = expected.split("\n");
  const actualLines = actual.split("\n");
  for (let i = 0; i < Math.max(expectedLines.length, actualLines.length); i++) {
    assert.equal(actualLines[i], expectedLines[i], `line ${i + 1}`);
  }
});
