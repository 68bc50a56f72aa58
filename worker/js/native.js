// The engine binding's native functions. Only the runtime's internal modules
// import this; the bootstrap deletes the global slot before any handler code
// runs, so handler modules cannot reach it.
export const native = globalThis[Symbol.for("portbroker.native")];
