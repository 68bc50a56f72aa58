// Records Node's answers for the URL parsing table in tests/data/url_table.json.
// The inputs (input, base) are the web-platform-tests URL cases
// (url/resources/urltestdata.json in web-platform-tests/wpt); every output in
// the table is what this script saw Node produce, never edited by hand.
//
//   node tests/tools/record_url_table.mjs              re-record the table's own inputs
//   node tests/tools/record_url_table.mjs pairs.json   record a new list of [input, base] pairs
import { readFileSync, writeFileSync } from "node:fs";

const tablePath = new URL("../data/url_table.json", import.meta.url);
const pairs = process.argv[2]
  ? JSON.parse(readFileSync(process.argv[2], "utf8"))
  : JSON.parse(readFileSync(tablePath, "utf8")).cases.map((c) => [c.input, c.base]);

export const components = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname",
  "search", "hash"];

const cases = pairs.map(([input, base]) => {
  const entry = { input, base };
  let url;
  try {
    url = base === null ? new URL(input) : new URL(input, base);
  } catch (error) {
    entry.failure = error.code;
    return entry;
  }
  for (const key of components) entry[key] = url[key];
  entry.searchParams = url.searchParams.toString();
  return entry;
});

const source = "inputs: web-platform-tests/wpt url/resources/urltestdata.json " +
  "(commit 26a58e8d350aafbd8bc5f381f1fc01e2bfd1c642); outputs: recorded from Node by tests/tools/record_url_table.mjs";
// One case per line, so a change in Node's answers reads as a small diff.
writeFileSync(tablePath, `{"source": ${JSON.stringify(source)},\n"node": "${process.version}",\n"cases": [\n` +
  `${cases.map((c) => JSON.stringify(c)).join(",\n")}\n]}\n`);
console.log(`${cases.length} cases, ${cases.filter((c) => c.failure).length} failures, recorded with Node ${process.version}`);
