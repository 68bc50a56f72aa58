// util.inspect / util.format with Node 20's output. The layout rules (when an
// object fits on one line, how arrays are grouped into columns, how errors and
// circular references are shown) follow Node's algorithm closely, since handler
// authors compare console output with what they know from Node. What needs V8
// internals (promise state, proxy detection, iterator previews) is replaced by
// the nearest thing plain JavaScript can observe.
import { native } from "./native.js";
import { isNodeError } from "./errors.js";

export const customInspectSymbol = Symbol.for("nodejs.util.inspect.custom");

const inspectDefaultOptions = Object.seal({
  showHidden: false,
  depth: 2,
  colors: false,
  customInspect: true,
  showProxy: false,
  maxArrayLength: 100,
  maxStringLength: 10000,
  breakLength: 80,
  compact: 3,
  sorted: false,
  getters: false,
  numericSeparator: false,
});

const kObjectType = 0;
const kArrayType = 1;
const kArrayExtrasType = 2;

const kMinLineLength = 16;

// Escapes for C0 controls, the quote, the backslash and C1 controls.
const meta = [];
for (let i = 0; i < 0xa0; i++) meta.push("");
for (let i = 0; i < 0x20; i++) meta[i] = `\\x${i.toString(16).toUpperCase().padStart(2, "0")}`;
for (let i = 0x7f; i < 0xa0; i++) meta[i] = `\\x${i.toString(16).toUpperCase()}`;
Object.assign(meta, { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 39: "\\'", 92: "\\\\" });

const loneSurrogate = "[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
const escapeAll = new RegExp(`[\\x00-\\x1f\\x27\\x5c\\x7f-\\x9f]|${loneSurrogate}`, "g");
const escapeNoQuote = new RegExp(`[\\x00-\\x1f\\x5c\\x7f-\\x9f]|${loneSurrogate}`, "g");

const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
const numberRegExp = /^(0|[1-9][0-9]*)$/;

function escapeFn(str) {
  const code = str.charCodeAt(0);
  return code < meta.length ? meta[code] : `\\u${code.toString(16)}`;
}

// Picks the quote Node would: single, else double, else backtick.
function strEscape(str) {
  let quote = "'";
  let pattern = escapeAll;
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes("`") && !str.includes("${")) quote = "`";
    if (quote !== "'") pattern = escapeNoQuote;
  }
  pattern.lastIndex = 0;
  return `${quote}${str.replace(pattern, escapeFn)}${quote}`;
}

function stylizeNoColor(str) {
  return str;
}

// Type checks that work across subclasses and tolerate odd prototypes -------------

function tryCall(getter, value) {
  try {
    Reflect.apply(getter, value, []);
    return true;
  } catch {
    return false;
  }
}
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const mapSize = getter(Map.prototype, "size");
const setSize = getter(Set.prototype, "size");
const typedArrayTag = getter(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag);
const typedArrayLength = getter(Object.getPrototypeOf(Uint8Array.prototype), "length");
const arrayBufferByteLength = getter(ArrayBuffer.prototype, "byteLength");
const dataViewByteLength = getter(DataView.prototype, "byteLength");
const regExpSource = getter(RegExp.prototype, "source");
const objectToString = Object.prototype.toString;
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isEnumerable = (o, k) => Object.prototype.propertyIsEnumerable.call(o, k);
const mapIteratorPrototype = Object.getPrototypeOf(new Map().entries());
const setIteratorPrototype = Object.getPrototypeOf(new Set().values());

const isMap = (v) => tryCall(mapSize, v);
const isSet = (v) => tryCall(setSize, v);
const isTypedArray = (v) => typedArrayTag.call(v) !== undefined;
const isArrayBuffer = (v) => tryCall(arrayBufferByteLength, v);
const isDataView = (v) => tryCall(dataViewByteLength, v);
const isRegExp = (v) => v !== RegExp.prototype && tryCall(regExpSource, v);
const isDate = (v) => tryCall(Date.prototype.getTime, v);
const isWeakMap = (v) => {
  try {
    WeakMap.prototype.has.call(v, {});
    return true;
  } catch {
    return false;
  }
};
const isWeakSet = (v) => {
  try {
    WeakSet.prototype.has.call(v, {});
    return true;
  } catch {
    return false;
  }
};
const isPromise = (v) => v instanceof Promise || objectToString.call(v) === "[object Promise]";
const isArguments = (v) => objectToString.call(v) === "[object Arguments]";
const isMapIterator = (v) => Object.getPrototypeOf(v) === mapIteratorPrototype;
const isSetIterator = (v) => Object.getPrototypeOf(v) === setIteratorPrototype;

export function isError(v) {
  return v instanceof Error || objectToString.call(v) === "[object Error]";
}

function isModuleNamespace(v) {
  if (Object.getPrototypeOf(v) !== null) return false;
  const desc = Object.getOwnPropertyDescriptor(v, Symbol.toStringTag);
  return desc !== undefined && desc.value === "Module" && !desc.writable && !desc.enumerable;
}

function boxedType(v) {
  const checks = [
    [Number.prototype.valueOf, "Number"],
    [String.prototype.valueOf, "String"],
    [Boolean.prototype.valueOf, "Boolean"],
    [BigInt.prototype.valueOf, "BigInt"],
    [Symbol.prototype.valueOf, "Symbol"],
  ];
  for (const [valueOf, type] of checks) {
    try {
      return [type, valueOf.call(v)];
    } catch {
      // not this kind
    }
  }
  return undefined;
}

// The language's own constructors: %s prints objects whose toString comes from
// one of these with inspect() instead of calling it.
const builtInObjects = new Set([
  "Object", "Function", "Array", "Number", "Infinity", "NaN", "Boolean", "String", "Symbol",
  "Date", "Promise", "RegExp", "Error", "AggregateError", "EvalError", "RangeError",
  "ReferenceError", "SyntaxError", "TypeError", "URIError", "JSON", "Math", "Intl",
  "ArrayBuffer", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array", "Uint32Array",
  "Int32Array", "Float32Array", "Float64Array", "Uint8ClampedArray", "BigUint64Array",
  "BigInt64Array", "DataView", "Map", "BigInt", "Set", "WeakMap", "WeakSet", "Proxy",
  "Reflect", "FinalizationRegistry", "WeakRef", "SharedArrayBuffer", "Atomics", "WebAssembly",
]);

// Options ------------------------------------------------------------------------

function getUserOptions(ctx) {
  const options = { stylize: ctx.stylize };
  for (const key of Object.keys(inspectDefaultOptions)) options[key] = ctx[key];
  if (ctx.userOptions === undefined) return options;
  return { ...options, ...ctx.userOptions };
}

export function inspect(value, opts) {
  const ctx = {
    budget: {},
    indentationLvl: 0,
    seen: [],
    currentDepth: 0,
    stylize: stylizeNoColor,
    showHidden: inspectDefaultOptions.showHidden,
    depth: inspectDefaultOptions.depth,
    colors: inspectDefaultOptions.colors,
    customInspect: inspectDefaultOptions.customInspect,
    showProxy: inspectDefaultOptions.showProxy,
    maxArrayLength: inspectDefaultOptions.maxArrayLength,
    maxStringLength: inspectDefaultOptions.maxStringLength,
    breakLength: inspectDefaultOptions.breakLength,
    compact: inspectDefaultOptions.compact,
    sorted: inspectDefaultOptions.sorted,
    getters: inspectDefaultOptions.getters,
    numericSeparator: inspectDefaultOptions.numericSeparator,
  };
  if (arguments.length > 1) {
    // Legacy signature: inspect(value, showHidden, depth, colors).
    if (arguments.length > 2) {
      if (arguments[2] !== undefined) ctx.depth = arguments[2];
      if (arguments.length > 3 && arguments[3] !== undefined) ctx.colors = arguments[3];
    }
    if (typeof opts === "boolean") {
      ctx.showHidden = opts;
    } else if (opts) {
      for (const key of Object.keys(opts)) {
        if (hasOwn(inspectDefaultOptions, key) || key === "stylize") {
          ctx[key] = opts[key];
        } else if (ctx.userOptions === undefined) {
          ctx.userOptions = opts;
        }
      }
    }
  }
  // Output is never coloured: it goes to logs, not terminals.
  ctx.colors = false;
  if (typeof ctx.stylize !== "function") ctx.stylize = stylizeNoColor;
  if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
  if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspectSymbol;
Object.defineProperty(inspect, "defaultOptions", {
  get() {
    return inspectDefaultOptions;
  },
  set(options) {
    if (options === null || typeof options !== "object") {
      throw new TypeError('The "options" argument must be of type object');
    }
    Object.assign(inspectDefaultOptions, options);
  },
});
inspect.colors = Object.assign(Object.create(null), {
  reset: [0, 0], bold: [1, 22], dim: [2, 22], italic: [3, 23], underline: [4, 24],
  blink: [5, 25], inverse: [7, 27], hidden: [8, 28], strikethrough: [9, 29],
  black: [30, 39], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39],
  magenta: [35, 39], cyan: [36, 39], white: [37, 39], gray: [90, 39],
});
inspect.styles = Object.assign(Object.create(null), {
  special: "cyan", number: "yellow", bigint: "yellow", boolean: "yellow", undefined: "grey",
  null: "bold", string: "green", symbol: "green", date: "magenta", regexp: "red",
  module: "underline",
});

// Core ----------------------------------------------------------------------------

function formatValue(ctx, value, recurseTimes, typedArray) {
  if (typeof value !== "object" && typeof value !== "function") {
    return formatPrimitive(ctx.stylize, value, ctx);
  }
  if (value === null) return ctx.stylize("null", "null");

  if (ctx.customInspect) {
    let maybeCustom;
    try {
      maybeCustom = value[customInspectSymbol];
    } catch {
      maybeCustom = undefined;
    }
    if (typeof maybeCustom === "function" && maybeCustom !== inspect &&
        !(value.constructor && value.constructor.prototype === value)) {
      const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
      const ret = Reflect.apply(maybeCustom, value, [depth, getUserOptions(ctx), inspect]);
      if (ret !== value) {
        if (typeof ret !== "string") return formatValue(ctx, ret, recurseTimes);
        return ret.replaceAll("\n", `\n${" ".repeat(ctx.indentationLvl)}`);
      }
    }
  }

  if (ctx.seen.includes(value)) {
    let index = 1;
    if (ctx.circular === undefined) {
      ctx.circular = new Map([[value, index]]);
    } else {
      index = ctx.circular.get(value);
      if (index === undefined) {
        index = ctx.circular.size + 1;
        ctx.circular.set(value, index);
      }
    }
    return ctx.stylize(`[Circular *${index}]`, "special");
  }
  return formatRaw(ctx, value, recurseTimes, typedArray);
}

function isInstanceof(object, constructor) {
  try {
    return object instanceof constructor;
  } catch {
    return false;  // a constructor whose Symbol.hasInstance throws, or without a prototype object
  }
}

function getConstructorName(obj, ctx, recurseTimes) {
  let firstProto;
  const original = obj;
  while (obj) {
    const descriptor = Object.getOwnPropertyDescriptor(obj, "constructor");
    // An object is named after a constructor it is an instance of: a
    // prototype's own `constructor` (Point.prototype's Point) does not name it.
    if (descriptor !== undefined && typeof descriptor.value === "function" &&
        descriptor.value.name !== "" && isInstanceof(original, descriptor.value)) {
      return String(descriptor.value.name);
    }
    obj = Object.getPrototypeOf(obj);
    if (firstProto === undefined) firstProto = obj;
  }
  if (firstProto === null) return null;
  // V8 would name the object's internal class here; "Object" is all we know.
  const res = typeof original === "function" ? "Function" : "Object";
  if (recurseTimes > ctx.depth && ctx.depth !== null) return `${res} <Complex prototype>`;
  const protoConstructor = getConstructorName(firstProto, ctx, recurseTimes + 1);
  if (protoConstructor === null) {
    return `${res} <${inspect(firstProto, { ...ctx, customInspect: false, depth: -1 })}>`;
  }
  return `${res} <${protoConstructor}>`;
}

function getPrefix(constructor, tag, fallback, size = "") {
  if (constructor === null) {
    if (tag !== "" && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== "" && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function getKeys(value, showHidden) {
  let keys;
  const symbols = Object.getOwnPropertySymbols(value);
  if (showHidden) {
    keys = Object.getOwnPropertyNames(value);
    if (symbols.length !== 0) keys.push(...symbols);
  } else {
    try {
      keys = Object.keys(value);
    } catch {
      // An unevaluated module namespace.
      keys = Object.getOwnPropertyNames(value);
    }
    if (symbols.length !== 0) keys.push(...symbols.filter((key) => isEnumerable(value, key)));
  }
  return keys;
}

function getOwnNonIndexProperties(value, showHidden) {
  return getKeys(value, showHidden).filter((key) => typeof key === "symbol" || !numberRegExp.test(key) ||
    Number(key) > 2 ** 32 - 2);
}

// Without a constructor Node names the object as V8 does internally, which
// reflects a Symbol.toStringTag.
function getCtxStyle(value, constructor, tag) {
  let fallback = "";
  if (constructor === null) {
    let internal;
    try {
      internal = value[Symbol.toStringTag];
    } catch {
      internal = undefined;
    }
    fallback = typeof internal === "string" && internal !== "" ? internal : "Object";
    if (fallback === tag) fallback = "Object";
  }
  return getPrefix(constructor, tag, fallback);
}

function formatRaw(ctx, value, recurseTimes, typedArray) {
  let keys;
  const constructor = getConstructorName(value, ctx, recurseTimes);
  let tag;
  try {
    tag = value[Symbol.toStringTag];
  } catch {
    tag = "";
  }
  if (typeof tag !== "string" ||
      (tag !== "" && (ctx.showHidden ? hasOwn : isEnumerable)(value, Symbol.toStringTag))) {
    tag = "";
  }
  let base = "";
  let formatter = () => [];
  let braces;
  let noIterator = true;
  let extrasType = kObjectType;
  let iterableValue;

  if (Symbol.iterator in value || constructor === null) {
    noIterator = false;
    if (Array.isArray(value)) {
      const prefix = (constructor !== "Array" || tag !== "")
        ? getPrefix(constructor, tag, "Array", `(${value.length})`) : "";
      keys = getOwnNonIndexProperties(value, ctx.showHidden);
      braces = [`${prefix}[`, "]"];
      if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
      iterableValue = value;
    } else if (isSet(value)) {
      const size = setSize.call(value);
      const prefix = getPrefix(constructor, tag, "Set", `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatSet;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
    } else if (isMap(value)) {
      const size = mapSize.call(value);
      const prefix = getPrefix(constructor, tag, "Map", `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatMap;
      if (size === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
    } else if (isTypedArray(value)) {
      keys = getOwnNonIndexProperties(value, ctx.showHidden);
      const fallback = constructor === null ? typedArrayTag.call(value) : "";
      const size = typedArrayLength.call(value);
      const prefix = getPrefix(constructor, tag, fallback, `(${size})`);
      braces = [`${prefix}[`, "]"];
      if (size === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = formatTypedArray;
      extrasType = kArrayExtrasType;
      iterableValue = value;
    } else if (isMapIterator(value) || isSetIterator(value)) {
      // Node previews the remaining entries through V8; plain JavaScript
      // cannot look without consuming them.
      keys = getKeys(value, ctx.showHidden);
      const type = isMapIterator(value) ? "Map" : "Set";
      braces = [`[${tag === `${type} Iterator` || tag === "" ? `${type} Iterator` : `${tag}] [${type} Iterator`}] {`, "}"];
      formatter = () => [ctx.stylize("<unknown>", "special")];
    } else {
      noIterator = true;
    }
  }
  if (noIterator) {
    keys = getKeys(value, ctx.showHidden);
    braces = ["{", "}"];
    if (constructor === "Object") {
      if (isArguments(value)) {
        braces[0] = "[Arguments] {";
      } else if (tag !== "") {
        braces[0] = `${getPrefix(constructor, tag, "Object")}{`;
      }
      if (keys.length === 0) return `${braces[0]}}`;
    } else if (typeof value === "function") {
      base = getFunctionBase(value, constructor, tag);
      if (keys.length === 0) return ctx.stylize(base, "special");
    } else if (isRegExp(value)) {
      base = RegExp.prototype.toString.call(constructor !== null ? value : new RegExp(value));
      const prefix = getPrefix(constructor, tag, "RegExp");
      if (prefix !== "RegExp ") base = `${prefix}${base}`;
      if (keys.length === 0 || (recurseTimes > ctx.depth && ctx.depth !== null)) {
        return ctx.stylize(base, "regexp");
      }
    } else if (isDate(value)) {
      base = Number.isNaN(Date.prototype.getTime.call(value))
        ? Date.prototype.toString.call(value)
        : Date.prototype.toISOString.call(value);
      const prefix = getPrefix(constructor, tag, "Date");
      if (prefix !== "Date ") base = `${prefix}${base}`;
      if (keys.length === 0) return ctx.stylize(base, "date");
    } else if (isError(value)) {
      base = formatError(value, constructor, tag, ctx, keys);
      if (keys.length === 0) return base;
    } else if (isArrayBuffer(value)) {
      const prefix = getPrefix(constructor, tag, "ArrayBuffer");
      if (typedArray === undefined) {
        formatter = formatArrayBuffer;
      } else if (keys.length === 0) {
        return `${prefix}{ byteLength: ${formatNumber(ctx.stylize, value.byteLength, false)} }`;
      }
      braces[0] = `${prefix}{`;
      keys.unshift("byteLength");
    } else if (isDataView(value)) {
      braces[0] = `${getPrefix(constructor, tag, "DataView")}{`;
      keys.unshift("byteLength", "byteOffset", "buffer");
    } else if (isPromise(value)) {
      braces[0] = `${getPrefix(constructor, tag, "Promise")}{`;
      // The state of a promise is not observable from JavaScript.
      formatter = () => [ctx.stylize("<unknown>", "special")];
    } else if (isWeakSet(value)) {
      braces[0] = `${getPrefix(constructor, tag, "WeakSet")}{`;
      formatter = () => [ctx.stylize("<items unknown>", "special")];
    } else if (isWeakMap(value)) {
      braces[0] = `${getPrefix(constructor, tag, "WeakMap")}{`;
      formatter = () => [ctx.stylize("<items unknown>", "special")];
    } else if (isModuleNamespace(value)) {
      braces[0] = `${getPrefix(constructor, tag, "Module")}{`;
    } else {
      const boxed = boxedType(value);
      if (boxed !== undefined) {
        base = getBoxedBase(value, ctx, keys, constructor, tag, boxed);
        if (keys.length === 0) return base;
      } else {
        if (keys.length === 0) return `${getCtxStyle(value, constructor, tag)}{}`;
        braces[0] = `${getCtxStyle(value, constructor, tag)}{`;
      }
    }
  }

  if (recurseTimes > ctx.depth && ctx.depth !== null) {
    let constructorName = getCtxStyle(value, constructor, tag).slice(0, -1);
    if (constructor !== null) constructorName = `[${constructorName}]`;
    return ctx.stylize(constructorName, "special");
  }
  recurseTimes += 1;
  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  let output;
  const indentationLvl = ctx.indentationLvl;
  try {
    output = formatter(ctx, value, recurseTimes);
    for (let i = 0; i < keys.length; i++) {
      output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
    }
  } catch (error) {
    if (error instanceof InternalError_ || (error instanceof RangeError && /recursion|call stack/i.test(error.message))) {
      ctx.seen.pop();
      ctx.indentationLvl = indentationLvl;
      const name = getCtxStyle(value, constructor, tag).slice(0, -1);
      return ctx.stylize(`[${name}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`, "special");
    }
    throw error;
  }
  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) {
      const reference = ctx.stylize(`<ref *${index}>`, "special");
      if (ctx.compact !== true) {
        base = base === "" ? reference : `${reference} ${base}`;
      } else {
        braces[0] = `${reference} ${braces[0]}`;
      }
    }
  }
  ctx.seen.pop();

  if (ctx.sorted) {
    const comparator = ctx.sorted === true ? undefined : ctx.sorted;
    if (extrasType === kObjectType) {
      output = output.sort(comparator);
    } else if (keys.length > 1) {
      const sorted = output.slice(output.length - keys.length).sort(comparator);
      output.splice(output.length - keys.length, keys.length, ...sorted);
    }
  }

  const res = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, iterableValue);
  const budget = ctx.budget[ctx.indentationLvl] || 0;
  const newLength = budget + res.length;
  ctx.budget[ctx.indentationLvl] = newLength;
  if (newLength > 2 ** 27) ctx.depth = -1;
  return res;
}

// SpiderMonkey reports stack exhaustion as InternalError ("too much recursion").
const InternalError_ = globalThis.InternalError ?? class {};

function getBoxedBase(value, ctx, keys, constructor, tag, [type, primitive]) {
  if (type === "String") {
    // Index keys and length just repeat the string.
    keys.splice(0, primitive.length);
    const lengthIndex = keys.indexOf("length");
    if (lengthIndex !== -1) keys.splice(lengthIndex, 1);
  }
  let base = `[${type}`;
  if (type !== constructor) {
    base += constructor === null ? " (null prototype)" : ` (${constructor})`;
  }
  base += `: ${formatPrimitive(stylizeNoColor, primitive, ctx)}]`;
  if (tag !== "" && tag !== constructor) base += ` [${tag}]`;
  if (keys.length !== 0 || ctx.stylize === stylizeNoColor) return base;
  return ctx.stylize(base, type.toLowerCase());
}

function functionKind(value) {
  switch (objectToString.call(value)) {
    case "[object AsyncFunction]":
      return "AsyncFunction";
    case "[object GeneratorFunction]":
      return "GeneratorFunction";
    case "[object AsyncGeneratorFunction]":
      return "AsyncGeneratorFunction";
    default:
      return "Function";
  }
}

function getFunctionBase(value, constructor, tag) {
  let source = "";
  try {
    source = Function.prototype.toString.call(value);
  } catch {
    // Not a real function (a callable proxy); treat as a plain function.
  }
  if (source.startsWith("class") && source.endsWith("}")) {
    const slice = source.slice(5, -1);
    const bracketIndex = slice.indexOf("{");
    if (bracketIndex !== -1 && (!slice.slice(0, bracketIndex).includes("(") ||
        /^\s*(?:[^\s(]+\s*)*\{/.test(slice.replace(/\/\/.*|\/\*[^]*?\*\//g, "")))) {
      return getClassBase(value, constructor, tag);
    }
  }
  const type = functionKind(value);
  let base = `[${type}`;
  if (constructor === null) base += " (null prototype)";
  if (value.name === "") base += " (anonymous)";
  else base += `: ${value.name}`;
  base += "]";
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function getClassBase(value, constructor, tag) {
  const name = (hasOwn(value, "name") && value.name) || "(anonymous)";
  let base = `class ${name}`;
  if (constructor !== "Function" && constructor !== null) base += ` [${constructor}]`;
  if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
  if (constructor !== null) {
    const superName = Object.getPrototypeOf(value).name;
    if (superName) base += ` extends ${superName}`;
  } else {
    base += " extends [null prototype]";
  }
  return `[${base}]`;
}

// Errors ---------------------------------------------------------------------------

// SpiderMonkey frames are `fn@file:line:col`, `@file:line:col` or
// `async*fn@file:line:col`; Node users expect V8's `    at fn (file:line:col)`.
const engineFrame = /^(async\*)?([^@]*)@(.*)$/;

// SpiderMonkey names an inner function `outer/inner` and an anonymous one
// `outer/<`; V8 would show `inner` and nothing.
function frameName(name) {
  const last = name.replace(/\/?<+$/, "/").split("/").pop();
  return last;
}

// The frames of a SpiderMonkey stack in V8's format, or undefined when the
// string is not such a stack.
export function engineFramesToNode(stack) {
  const lines = String(stack).split("\n");
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0 || !lines.every((line) => engineFrame.test(line))) return undefined;
  return lines.map((line) => {
    const [, isAsync, name, location] = engineFrame.exec(line);
    const prefix = isAsync ? "    at async " : "    at ";
    const shown = frameName(name);
    return shown ? `${prefix}${shown} (${location})` : `${prefix}${location}`;
  });
}

function convertEngineStack(err, stack) {
  const frames = engineFramesToNode(stack);
  if (frames === undefined) return undefined;
  return `${errorHeader(err)}\n${frames.join("\n")}`;
}

function errorHeader(err) {
  let name;
  let message;
  try {
    name = err.name === undefined ? "Error" : String(err.name);
    message = err.message === undefined ? "" : String(err.message);
  } catch {
    name = "Error";
    message = "";
  }
  if (isNodeError(err)) name = `${name} [${err.code}]`;
  if (name === "") return message;
  if (message === "") return name;
  return `${name}: ${message}`;
}

function errorToString(err) {
  return errorHeader(err);
}

// The error's stack in Node's format.
export function getStackString(err) {
  let stack;
  try {
    stack = err.stack;
  } catch {
    stack = undefined;
  }
  if (!stack) return errorToString(err);
  stack = String(stack);
  return convertEngineStack(err, stack) ?? stack;
}

function removeDuplicateErrorKeys(ctx, keys, err, stack) {
  if (!ctx.showHidden && keys.length !== 0) {
    for (const name of ["name", "message", "stack"]) {
      const index = keys.indexOf(name);
      if (index !== -1 && stack.includes(err[name])) keys.splice(index, 1);
    }
  }
}

function improveStack(stack, constructor, name, tag) {
  let len = name.length;
  if (constructor === null ||
      (name.endsWith("Error") && stack.startsWith(name) &&
       (stack.length === len || stack[len] === ":" || stack[len] === "\n"))) {
    let fallback = "Error";
    if (constructor === null) {
      const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/.exec(stack) ||
        /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
      fallback = (start && start[1]) || "";
      len = fallback.length;
      fallback = fallback || "Error";
    }
    const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
    if (name !== prefix) {
      if (prefix.includes(name)) {
        stack = len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
      } else {
        stack = `${prefix} [${name}]${stack.slice(len)}`;
      }
    }
  }
  return stack;
}

function identicalSequenceRange(a, b) {
  for (let i = 0; i < a.length - 3; i++) {
    const pos = b.indexOf(a[i]);
    if (pos !== -1) {
      const rest = b.length - pos;
      if (rest > 3) {
        let len = 1;
        const maxLen = Math.min(a.length - i, rest);
        while (maxLen > len && a[i + len] === b[pos + len]) len++;
        if (len > 3) return { len, offset: i };
      }
    }
  }
  return { len: 0, offset: 0 };
}

function getStackFrames(ctx, err, stack) {
  const frames = stack.split("\n");
  let cause;
  try {
    ({ cause } = err);
  } catch {
    // A throwing getter hides the cause.
  }
  if (cause != null && isError(cause)) {
    const causeStack = getStackString(cause);
    const causeStackStart = causeStack.indexOf("\n    at");
    if (causeStackStart !== -1) {
      const causeFrames = causeStack.slice(causeStackStart + 1).split("\n");
      const { len, offset } = identicalSequenceRange(frames, causeFrames);
      if (len > 0) {
        const skipped = len - 2;
        const msg = `    ... ${skipped} lines matching cause stack trace ...`;
        frames.splice(offset + 1, skipped, ctx.stylize(msg, "undefined"));
      }
    }
  }
  return frames;
}

function formatError(err, constructor, tag, ctx, keys) {
  const name = err.name != null ? String(err.name) : "Error";
  let stack = getStackString(err);
  removeDuplicateErrorKeys(ctx, keys, err, stack);
  if ("cause" in err && (keys.length === 0 || !keys.includes("cause"))) keys.push("cause");
  if (Array.isArray(err.errors) && (keys.length === 0 || !keys.includes("errors"))) {
    keys.push("errors");
  }
  stack = improveStack(stack, constructor, name, tag);
  let pos = (err.message && stack.indexOf(err.message)) || -1;
  if (pos !== -1) pos += err.message.length;
  const stackStart = stack.indexOf("\n    at", pos);
  if (stackStart === -1) {
    stack = `[${stack}]`;
  } else {
    const lines = getStackFrames(ctx, err, stack.slice(stackStart + 1));
    stack = `${stack.slice(0, stackStart)}\n${lines.join("\n")}`;
  }
  if (ctx.indentationLvl !== 0) {
    stack = stack.replaceAll("\n", `\n${" ".repeat(ctx.indentationLvl)}`);
  }
  return stack;
}

// Entries ------------------------------------------------------------------------

function remainingText(remaining) {
  return `... ${remaining} more item${remaining > 1 ? "s" : ""}`;
}

function formatNumber(fn, number, numericSeparator) {
  if (!numericSeparator) return fn(Object.is(number, -0) ? "-0" : `${number}`, "number");
  const integer = Math.trunc(number);
  const string = String(integer);
  if (integer === number) {
    if (!Number.isFinite(number) || string.includes("e")) return fn(string, "number");
    return fn(addNumericSeparator(string), "number");
  }
  if (Number.isNaN(number)) return fn(string, "number");
  return fn(`${addNumericSeparator(string)}.${addNumericSeparatorEnd(String(number).slice(string.length + 1))}`, "number");
}

function addNumericSeparator(integerString) {
  let result = "";
  let i = integerString.length;
  const start = integerString.startsWith("-") ? 1 : 0;
  for (; i >= start + 4; i -= 3) result = `_${integerString.slice(i - 3, i)}${result}`;
  return i === integerString.length ? integerString : `${integerString.slice(0, i)}${result}`;
}

function addNumericSeparatorEnd(integerString) {
  let result = "";
  let i = 0;
  for (; i < integerString.length - 3; i += 3) result += `${integerString.slice(i, i + 3)}_`;
  return i === 0 ? integerString : `${result}${integerString.slice(i)}`;
}

function formatBigInt(fn, bigint, numericSeparator) {
  const string = String(bigint);
  if (!numericSeparator) return fn(`${string}n`, "bigint");
  return fn(`${addNumericSeparator(string)}n`, "bigint");
}

function formatPrimitive(fn, value, ctx) {
  if (typeof value === "string") {
    let trailer = "";
    if (value.length > ctx.maxStringLength) {
      const remaining = value.length - ctx.maxStringLength;
      value = value.slice(0, ctx.maxStringLength);
      trailer = `... ${remaining} more character${remaining > 1 ? "s" : ""}`;
    }
    if (ctx.compact !== true && value.length > kMinLineLength &&
        value.length > ctx.breakLength - ctx.indentationLvl - 4) {
      return value.split(/(?<=\n)/)
        .map((line) => fn(strEscape(line), "string"))
        .join(` +\n${" ".repeat(ctx.indentationLvl + 2)}`) + trailer;
    }
    return fn(strEscape(value), "string") + trailer;
  }
  if (typeof value === "number") return formatNumber(fn, value, ctx.numericSeparator);
  if (typeof value === "bigint") return formatBigInt(fn, value, ctx.numericSeparator);
  if (typeof value === "boolean") return fn(`${value}`, "boolean");
  if (typeof value === "undefined") return fn("undefined", "undefined");
  return fn(Symbol.prototype.toString.call(value), "symbol");
}

function formatArrayBuffer(ctx, value) {
  const bytes = new Uint8Array(value);
  const shown = Math.min(ctx.maxArrayLength, bytes.length);
  let str = shown > 0 ? native.decodeString(bytes, 0, shown, "hex").replace(/(.{2})/g, "$1 ").trim() : "";
  const remaining = bytes.length - ctx.maxArrayLength;
  if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
  return [`${ctx.stylize("[Uint8Contents]", "special")}: <${str}>`];
}

function formatArray(ctx, value, recurseTimes) {
  const valLen = value.length;
  const len = Math.min(Math.max(0, ctx.maxArrayLength), valLen);
  const remaining = valLen - len;
  const output = [];
  for (let i = 0; i < len; i++) {
    if (!hasOwn(value, i)) return formatSpecialArray(ctx, value, recurseTimes, len, output, i);
    output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
  }
  if (remaining > 0) output.push(remainingText(remaining));
  return output;
}

// Sparse arrays: holes become `<n empty items>`.
function formatSpecialArray(ctx, value, recurseTimes, maxLength, output, i) {
  const keys = Object.keys(value);
  let index = i;
  for (; i < keys.length && output.length < maxLength; i++) {
    const key = keys[i];
    const tmp = +key;
    if (tmp > 2 ** 32 - 2) break;
    if (`${index}` !== key) {
      if (!numberRegExp.test(key)) break;
      const emptyItems = tmp - index;
      const ending = emptyItems > 1 ? "s" : "";
      output.push(ctx.stylize(`<${emptyItems} empty item${ending}>`, "undefined"));
      index = tmp;
      if (output.length === maxLength) break;
    }
    output.push(formatProperty(ctx, value, recurseTimes, key, kArrayType));
    index++;
  }
  const remaining = value.length - index;
  if (output.length !== maxLength) {
    if (remaining > 0) {
      const ending = remaining > 1 ? "s" : "";
      output.push(ctx.stylize(`<${remaining} empty item${ending}>`, "undefined"));
    }
  } else if (remaining > 0) {
    output.push(remainingText(remaining));
  }
  return output;
}

function formatTypedArray(ctx, value, recurseTimes) {
  const length = typedArrayLength.call(value);
  const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const remaining = length - maxLength;
  const output = new Array(maxLength);
  const elementFormatter = length > 0 && typeof value[0] === "number" ? formatNumber : formatBigInt;
  for (let i = 0; i < maxLength; ++i) {
    output[i] = elementFormatter(ctx.stylize, value[i], ctx.numericSeparator);
  }
  if (remaining > 0) output[maxLength] = remainingText(remaining);
  if (ctx.showHidden) {
    ctx.indentationLvl += 2;
    for (const key of ["BYTES_PER_ELEMENT", "length", "byteLength", "byteOffset", "buffer"]) {
      const str = formatValue(ctx, value[key], recurseTimes, true);
      output.push(`[${key}]: ${str}`);
    }
    ctx.indentationLvl -= 2;
  }
  return output;
}

function formatSet(ctx, value, recurseTimes) {
  const length = setSize.call(value);
  const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const remaining = length - maxLength;
  const output = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (const v of Set.prototype.values.call(value)) {
    if (i >= maxLength) break;
    output.push(formatValue(ctx, v, recurseTimes));
    i++;
  }
  if (remaining > 0) output.push(remainingText(remaining));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx, value, recurseTimes) {
  const length = mapSize.call(value);
  const maxLength = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const remaining = length - maxLength;
  const output = [];
  ctx.indentationLvl += 2;
  let i = 0;
  for (const [k, v] of Map.prototype.entries.call(value)) {
    if (i >= maxLength) break;
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
    i++;
  }
  if (remaining > 0) output.push(remainingText(remaining));
  ctx.indentationLvl -= 2;
  return output;
}

function formatProperty(ctx, value, recurseTimes, key, type) {
  let name;
  let str;
  let extra = " ";
  const desc = Object.getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
  if (desc.value !== undefined) {
    const diff = (ctx.compact !== true || type !== kObjectType) ? 2 : 3;
    ctx.indentationLvl += diff;
    str = formatValue(ctx, desc.value, recurseTimes);
    if (diff === 3 && ctx.breakLength < str.length) {
      extra = `\n${" ".repeat(ctx.indentationLvl)}`;
    }
    ctx.indentationLvl -= diff;
  } else if (desc.get !== undefined) {
    const label = desc.set !== undefined ? "Getter/Setter" : "Getter";
    const s = ctx.stylize;
    const sp = "special";
    if (ctx.getters && (ctx.getters === true ||
        (ctx.getters === "get" && desc.set === undefined) ||
        (ctx.getters === "set" && desc.set !== undefined))) {
      try {
        const tmp = Reflect.apply(desc.get, value, []);
        ctx.indentationLvl += 2;
        if (tmp === null) {
          str = `${s(`[${label}:`, sp)} ${s("null", "null")}${s("]", sp)}`;
        } else if (typeof tmp === "object") {
          str = `${s(`[${label}]`, sp)} ${formatValue(ctx, tmp, recurseTimes)}`;
        } else {
          const primitive = formatPrimitive(s, tmp, ctx);
          str = `${s(`[${label}:`, sp)} ${primitive}${s("]", sp)}`;
        }
        ctx.indentationLvl -= 2;
      } catch (err) {
        const message = `<Inspection threw (${err.message})>`;
        str = `${s(`[${label}:`, sp)} ${message}${s("]", sp)}`;
      }
    } else {
      str = ctx.stylize(`[${label}]`, sp);
    }
  } else if (desc.set !== undefined) {
    str = ctx.stylize("[Setter]", "special");
  } else {
    str = ctx.stylize("undefined", "undefined");
  }
  if (type === kArrayType) return str;
  if (typeof key === "symbol") {
    escapeAll.lastIndex = 0;
    name = `[${ctx.stylize(Symbol.prototype.toString.call(key).replace(escapeAll, escapeFn), "symbol")}]`;
  } else if (key === "__proto__") {
    name = "['__proto__']";
  } else if (desc.enumerable === false) {
    escapeAll.lastIndex = 0;
    name = `[${String(key).replace(escapeAll, escapeFn)}]`;
  } else if (keyStrRegExp.test(key)) {
    name = ctx.stylize(key, "name");
  } else {
    name = ctx.stylize(strEscape(String(key)), "string");
  }
  return `${name}:${extra}${str}`;
}

// Layout ----------------------------------------------------------------------------

// Groups short array entries into aligned columns (Node's `compact: 3` look).
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  let i = 0;
  let outputLength = output.length;
  if (ctx.maxArrayLength < output.length) outputLength--;
  const separatorSpace = 2;
  const dataLen = new Array(outputLength);
  for (; i < outputLength; i++) {
    const len = output[i].length;
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
      (totalLength / actualMax > 5 || maxLength <= 6)) {
    const approxCharHeights = 2.5;
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(approxCharHeights * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;
    const tmp = [];
    const maxLineLength = [];
    for (let c = 0; c < columns; c++) {
      let lineLength = 0;
      for (let j = c; j < output.length; j += columns) {
        if (dataLen[j] > lineLength) lineLength = dataLen[j];
      }
      maxLineLength.push(lineLength + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let k = 0; k < output.length; k++) {
        if (typeof value[k] !== "number" && typeof value[k] !== "bigint") {
          padStart = false;
          break;
        }
      }
    }
    for (let k = 0; k < outputLength; k += columns) {
      const max = Math.min(k + columns, outputLength);
      let str = "";
      let j = k;
      for (; j < max - 1; j++) {
        const padding = maxLineLength[j - k] + output[j].length - dataLen[j];
        str += padStart ? `${output[j]}, `.padStart(padding, " ") : `${output[j]}, `.padEnd(padding, " ");
      }
      if (padStart) {
        const padding = maxLineLength[j - k] + output[j].length - dataLen[j] - separatorSpace;
        str += output[j].padStart(padding, " ");
      } else {
        str += output[j];
      }
      tmp.push(str);
    }
    if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
    output = tmp;
  }
  return output;
}

function isBelowBreakLength(ctx, output, start, base) {
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (let i = 0; i < output.length; i++) {
    totalLength += output[i].length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === "" || !base.includes("\n");
}

function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === "number" && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) {
        output = groupArrayElements(ctx, output, value);
      }
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joinedOutput = output.join(", ");
          if (!joinedOutput.includes("\n")) {
            return `${base ? `${base} ` : ""}${braces[0]} ${joinedOutput} ${braces[1]}`;
          }
        }
      }
    }
    const indentation = `\n${" ".repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${
      output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  if (isBelowBreakLength(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ""} ${output.join(", ")} ${braces[1]}`;
  }
  const indentation = " ".repeat(ctx.indentationLvl);
  const ln = base === "" && braces[0].length === 1 ? " " : `${base ? ` ${base}` : ""}\n${indentation}  `;
  return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}

// util.format -----------------------------------------------------------------------

function hasBuiltInToString(value) {
  let toString;
  try {
    toString = value.toString;
  } catch {
    return true;
  }
  if (typeof toString !== "function") return true;
  if (hasOwn(value, "toString")) return false;
  let pointer = value;
  do {
    pointer = Object.getPrototypeOf(pointer);
  } while (pointer !== null && !hasOwn(pointer, "toString"));
  if (pointer === null) return true;
  const descriptor = Object.getOwnPropertyDescriptor(pointer, "constructor");
  return descriptor !== undefined && typeof descriptor.value === "function" &&
    builtInObjects.has(descriptor.value.name);
}

function tryStringify(arg) {
  try {
    return JSON.stringify(arg);
  } catch (err) {
    if (err instanceof TypeError && /circular|cyclic/i.test(err.message)) return "[Circular]";
    throw err;
  }
}

export function format(...args) {
  return formatWithOptionsInternal(undefined, args);
}

export function formatWithOptions(inspectOptions, ...args) {
  if (inspectOptions === null || typeof inspectOptions !== "object") {
    const error = new TypeError(
      `The "inspectOptions" argument must be of type object. Received ${
        inspectOptions === null ? "null" : `type ${typeof inspectOptions} (${
          inspect(inspectOptions)})`}`);
    error.code = "ERR_INVALID_ARG_TYPE";
    throw error;
  }
  return formatWithOptionsInternal(inspectOptions, args);
}

function formatWithOptionsInternal(inspectOptions, args) {
  const first = args[0];
  let a = 0;
  let str = "";
  let join = "";

  if (typeof first === "string") {
    if (args.length === 1) return first;
    let tempStr;
    let lastPos = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) === 37) { // '%'
        const nextChar = first.charCodeAt(++i);
        if (a + 1 !== args.length) {
          switch (nextChar) {
            case 115: { // 's'
              const tempArg = args[++a];
              if (typeof tempArg === "number") {
                tempStr = formatNumber(stylizeNoColor, tempArg, false);
              } else if (typeof tempArg === "bigint") {
                tempStr = formatBigInt(stylizeNoColor, tempArg, false);
              } else if (typeof tempArg !== "object" || tempArg === null || !hasBuiltInToString(tempArg)) {
                tempStr = String(tempArg);
              } else {
                tempStr = inspect(tempArg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
              }
              break;
            }
            case 106: // 'j'
              tempStr = tryStringify(args[++a]);
              break;
            case 100: { // 'd'
              const tempNum = args[++a];
              if (typeof tempNum === "bigint") tempStr = formatBigInt(stylizeNoColor, tempNum, false);
              else if (typeof tempNum === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(stylizeNoColor, Number(tempNum), false);
              break;
            }
            case 79: // 'O'
              tempStr = inspect(args[++a], inspectOptions);
              break;
            case 111: // 'o'
              tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
              break;
            case 105: { // 'i'
              const tempInteger = args[++a];
              if (typeof tempInteger === "bigint") tempStr = formatBigInt(stylizeNoColor, tempInteger, false);
              else if (typeof tempInteger === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(stylizeNoColor, Number.parseInt(tempInteger), false);
              break;
            }
            case 102: { // 'f'
              const tempFloat = args[++a];
              if (typeof tempFloat === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(stylizeNoColor, Number.parseFloat(tempFloat), false);
              break;
            }
            case 99: // 'c': CSS is dropped, its argument consumed
              a += 1;
              tempStr = "";
              break;
            case 37: // '%'
              str += first.slice(lastPos, i);
              lastPos = i + 1;
              continue;
            default:
              continue;
          }
          if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
          str += tempStr;
          lastPos = i + 1;
        } else if (nextChar === 37) {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
        }
      }
    }
    if (lastPos !== 0) {
      a++;
      join = " ";
      if (lastPos < first.length) str += first.slice(lastPos);
    }
  }
  while (a < args.length) {
    const value = args[a];
    str += join;
    str += typeof value !== "string" ? inspect(value, inspectOptions) : value;
    join = " ";
    a++;
  }
  return str;
}

export default { inspect, format, formatWithOptions };
