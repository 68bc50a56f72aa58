// Where SpiderMonkey 102's own built-ins answer differently from Node 20's
// (V8's), and the difference is cheap to remove, the built-in is adjusted
// here, before any handler code runs. Each change says what V8 does.
import "./intrinsics_es2023.js";
import "./intl_segmenter.js";

// V8 reports whole minutes: an old local mean time such as Paris's
// (UTC+0:09:21 before 1911) gives -9, where SpiderMonkey gives -9.35.
const nativeGetTimezoneOffset = Date.prototype.getTimezoneOffset;
Object.defineProperty(Date.prototype, "getTimezoneOffset", {
  value: {
    getTimezoneOffset() {
      return Math.trunc(nativeGetTimezoneOffset.call(this)) + 0;
    },
  }.getTimezoneOffset,
  writable: true,
  enumerable: false,
  configurable: true,
});
