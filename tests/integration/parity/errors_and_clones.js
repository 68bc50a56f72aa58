// Errors whose stack is assigned keep it out of their enumerable keys (JSON,
// spread, Object.keys, inspect), as in V8; inspect names an object after a
// constructor it is an instance of, so a class's prototype is not "Point";
// structuredClone's `transfer` moves ArrayBuffers and checks its list as
// Node does.
import { inspect, format } from "node:util";

class Point {
  constructor() {
    this.x = 1;
  }
  dist() {
    return 0;
  }
}
class Child extends Point {}
function Legacy() {}
Legacy.prototype.greet = function () {};

export function handle(conn) {
  const out = [];
  const e = new Error("boom");
  e.stack = "Error: boom\n    at custom";
  e.code = "E1";
  out.push(JSON.stringify(e), Object.keys(e).join(","), JSON.stringify({ ...e }), inspect(e));
  const f = new Error("x");
  f.stack += "\n    at extra";
  out.push(Object.keys(f).join(",") || "(no keys)");
  const g = new Error("nostack");
  g.stack = undefined;
  out.push(inspect(g), String(Object.getOwnPropertyDescriptor(g, "stack").enumerable));
  const fake = Object.create(Error.prototype);
  fake.stack = "mine";
  out.push(`inherited: ${fake.stack}`);

  out.push(inspect(Point.prototype), inspect(Legacy.prototype), inspect(Child.prototype));
  out.push(inspect({ proto: Legacy.prototype }), inspect(Object.getPrototypeOf(new Child())), inspect(new Child()));
  out.push(format("%O", Point.prototype));

  const buffer = new ArrayBuffer(4);
  new Uint8Array(buffer)[0] = 7;
  const value = { buffer, view: new Uint8Array(buffer, 1) };
  const clone = structuredClone(value, { transfer: [buffer] });
  out.push(`moved: ${buffer.byteLength} ${value.view.length} ${clone.buffer.byteLength} ${clone.view.buffer === clone.buffer} ` +
    `${new Uint8Array(clone.buffer)[0]} ${clone.view.length}`);
  out.push(`empty list: ${structuredClone(1, { transfer: [] })} null: ${structuredClone(2, { transfer: null })}`);
  const cases = {
    "a view": () => structuredClone(1, { transfer: [new Uint8Array(1)] }),
    "an object": () => structuredClone(1, { transfer: [{}] }),
    "not iterable": () => structuredClone(1, { transfer: 5 }),
    "twice": () => {
      const twice = new ArrayBuffer(2);
      structuredClone(twice, { transfer: [twice, twice] });
    },
  };
  for (const [name, run] of Object.entries(cases)) {
    try {
      run();
      out.push(`${name}: cloned`);
    } catch (error) {
      out.push(`${name}: ${error.name} ${error.constructor.name} ${error.code} ${error.message}`);
    }
  }
  conn.end(out.join("\n") + "\n");
}
