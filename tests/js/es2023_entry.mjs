// Entry point for the SpiderMonkey shell: js102 -m tests/js/es2023_entry.mjs
import "../../worker/js/intrinsics_es2023.js";
import { run } from "./es2023_cases.mjs";

run(print);
