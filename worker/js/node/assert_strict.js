// node:assert/strict: assert whose equal, deepEqual and their negations are
// the strict ones.
import { strict } from "../assert.js";

export const { fail, AssertionError, ok, equal, notEqual, deepEqual, notDeepEqual, deepStrictEqual, notDeepStrictEqual,
  strictEqual, notStrictEqual, throws, rejects, doesNotThrow, doesNotReject, ifError, match, doesNotMatch } = strict;
export { strict };
export default strict;
