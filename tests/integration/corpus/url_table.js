// Runs every case of tests/data/url_table.json (copied beside this handler as
// lib/url_table_data.js by test_url_table.py) through the global URL and
// prints one JSON line per case, in the table's own form.
import table from "./lib/url_table_data.js";

const components = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname",
  "search", "hash"];

export async function handle(conn) {
  const lines = [];
  for (const { input, base } of table.cases) {
    const entry = { input, base };
    try {
      const url = base === null ? new URL(input) : new URL(input, base);
      for (const key of components) entry[key] = url[key];
      entry.searchParams = url.searchParams.toString();
    } catch (error) {
      entry.failure = error.code;
    }
    lines.push(JSON.stringify(entry));
  }
  lines.push(`cases\t${table.cases.length}`);
  conn.end(`${lines.join("\n")}\n`);
}
