// Where SpiderMonkey 102's own built-ins answer differently from Node 20's
// (V8's), and the difference is cheap to remove, the built-in is adjusted
// here, before any handler code runs. Each change says what V8 does.
import "./intrinsics_es2023.js";
import { native } from "./native.js";

// Intl.Segmenter (intl_segmenter.js), compiled the first time it is read:
// few handlers segment text. Then a data property, as in V8.
if (Intl.Segmenter === undefined) {
  const install = (value) =>
    Object.defineProperty(Intl, "Segmenter", { value, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(Intl, "Segmenter", {
    get() {
      const { Segmenter } = native.loadInternal("intl_segmenter.js");
      install(Segmenter);
      return Segmenter;
    },
    set: install,
    enumerable: false,
    configurable: true,
  });
}

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

// V8 keeps an error's `stack` non-enumerable when it is assigned (code that
// rewrites stacks, then logs JSON.stringify(error) or {...error}, shows no
// stack); SpiderMonkey's Error.prototype.stack setter makes it an enumerable
// own property.
const stackAccessor = Object.getOwnPropertyDescriptor(Error.prototype, "stack");
if (stackAccessor?.set !== undefined) {
  const engineSetStack = stackAccessor.set;
  Object.defineProperty(Error.prototype, "stack", {
    get: stackAccessor.get,
    set: {
      stack(value) {
        if ((typeof this !== "object" || this === null) && typeof this !== "function") {
          Reflect.apply(engineSetStack, this, [value]);
          return;
        }
        Object.defineProperty(this, "stack", { value, writable: true, enumerable: false, configurable: true });
      },
    }.stack,
    enumerable: stackAccessor.enumerable,
    configurable: stackAccessor.configurable,
  });
}
