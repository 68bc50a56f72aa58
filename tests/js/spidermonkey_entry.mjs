// Entry point for the SpiderMonkey shell: js102 -m tests/js/spidermonkey_entry.mjs
import { natives } from "./spidermonkey_natives.mjs";
import { transcript } from "./engine_transcript.mjs";

globalThis[Symbol.for("portbroker.native")] = natives;
for (const line of await transcript()) print(line);
