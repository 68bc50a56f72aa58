// Intl.Segmenter (ECMA-402, chapter 18), which SpiderMonkey 102 lacks. The
// breaks come from ICU's break iterators, the ones V8 uses, through
// worker/api_intl.cc. The handle on an ICU iterator lives in a private field,
// so handler code never reaches it or the natives. Error messages are V8's.
import { native } from "./native.js";

const { segmenterOpen, segmenterNext, segmenterStart, segmenterWordLike } = native;
const { defineProperty, getPrototypeOf, setPrototypeOf } = Object;
const { trunc } = Math;
const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);
const getCanonicalLocales = Intl.getCanonicalLocales;
const ListFormat = Intl.ListFormat;
const listFormatResolvedOptions = uncurryThis(ListFormat.prototype.resolvedOptions);
const listFormatSupportedLocalesOf = uncurryThis(ListFormat.supportedLocalesOf);
const stringSlice = uncurryThis(String.prototype.slice);
const IteratorPrototype = getPrototypeOf(getPrototypeOf([][Symbol.iterator]()));

const granularities = ["grapheme", "word", "sentence"];

function getOptionsObject(options) {
  if (options === undefined) return { __proto__: null };
  if ((options !== null && typeof options === "object") || typeof options === "function") return options;
  throw new TypeError("invalid_argument");
}

// GetOption for a string option with a fixed list of values.
function getStringOption(options, property, values, fallback, method) {
  const value = options[property];
  if (value === undefined) return fallback;
  const string = `${value}`;
  for (let i = 0; i < values.length; i++) if (values[i] === string) return string;
  throw new RangeError(`Value ${string} out of range for ${method} options property ${property}`);
}

function incompatible(method, receiver) {
  let shown;
  if (receiver === null || (typeof receiver !== "object" && typeof receiver !== "function")) {
    shown = typeof receiver === "string" ? receiver : typeof receiver === "symbol" ? "Symbol()" : `${receiver}`;
  } else {
    let name;
    try {
      name = getPrototypeOf(receiver)?.constructor?.name;
    } catch {}
    shown = `#<${typeof name === "string" && name !== "" ? name : "Object"}>`;
  }
  return new TypeError(`Method ${method} called on incompatible receiver ${shown}`);
}

function toIntegerOrInfinity(value) {
  const number = +value;
  if (number !== number) return 0;
  return trunc(number) + 0;
}

// Segmenters use no Unicode extension keys, so a locale resolves as it does
// for Intl.ListFormat, which uses none either: extensions dropped, the best
// available match, else the default locale.
const localeResolution = { __proto__: null, localeMatcher: "best fit" };

class Segmenter {
  #locale;
  #granularity;

  constructor(locales = undefined, options = undefined) {
    const requested = getCanonicalLocales(locales);
    options = getOptionsObject(options);
    const matcher = getStringOption(options, "localeMatcher", ["lookup", "best fit"], "best fit", "Intl.Segmenter");
    localeResolution.localeMatcher = matcher;
    this.#locale = listFormatResolvedOptions(new ListFormat(requested, localeResolution)).locale;
    this.#granularity = getStringOption(options, "granularity", granularities, "grapheme", "Intl.Segmenter");
  }

  static supportedLocalesOf(locales, options = undefined) {
    const requested = getCanonicalLocales(locales);
    options = getOptionsObject(options);
    localeResolution.localeMatcher = getStringOption(options, "localeMatcher", ["lookup", "best fit"], "best fit",
      "Intl.Segmenter.supportedLocalesOf");
    return listFormatSupportedLocalesOf(ListFormat, requested, localeResolution);
  }

  resolvedOptions() {
    if (!(typeof this === "object" && this !== null && #locale in this)) {
      throw incompatible("Intl.Segmenter.prototype.resolvedOptions", this);
    }
    return { locale: this.#locale, granularity: this.#granularity };
  }

  segment(string) {
    if (!(typeof this === "object" && this !== null && #locale in this)) {
      throw incompatible("Intl.Segmenter.prototype.segment", this);
    }
    return newSegments(this.#locale, this.#granularity, `${string}`);
  }
}

// Set by the classes' static blocks: the only way to their private state.
let newSegments;
let isSegments;
let segmentsString;
let segmentsHandle;
let segmentData;
let newSegmentIterator;

// %SegmentsPrototype% and %SegmentIteratorPrototype% have no constructor
// property; these classes only give their objects private state.
class Segments {
  #locale;
  #granularity;
  #string;
  #handle = null;

  static {
    newSegments = (locale, granularity, string) => {
      const segments = new Segments();
      segments.#locale = locale;
      segments.#granularity = granularity;
      segments.#string = string;
      return segments;
    };
    isSegments = (value) => typeof value === "object" && value !== null && #string in value;
    segmentsString = (segments) => segments.#string;
    // ICU copies the string: on first use, not in every segment() call.
    segmentsHandle = (segments) => {
      if (segments.#handle === null) {
        segments.#handle = segmenterOpen(segments.#locale, granularities.indexOf(segments.#granularity),
          segments.#string);
      }
      return segments.#handle;
    };
    // CreateSegmentDataObject, in the specification's property order. The
    // word-likeness is that of the break segmenterNext found last.
    segmentData = (segments, start, end) => {
      const string = segments.#string;
      const data = { segment: stringSlice(string, start, end), index: start, input: string };
      if (segments.#granularity === "word") data.isWordLike = segmenterWordLike(segments.#handle);
      return data;
    };
  }

  containing(index) {
    if (!isSegments(this)) throw incompatible("%Segments.prototype%.containing", this);
    const n = toIntegerOrInfinity(index);
    if (n < 0 || n >= this.#string.length) return undefined;
    const handle = segmentsHandle(this);
    const start = segmenterStart(handle, n);
    return segmentData(this, start, segmenterNext(handle, n));
  }

  [Symbol.iterator]() {
    if (!isSegments(this)) throw incompatible("%Segments.prototype%[@@iterator]", this);
    return newSegmentIterator(this);
  }
}

class SegmentIterator {
  #segments;
  #position = 0;

  static {
    newSegmentIterator = (segments) => {
      const iterator = new SegmentIterator();
      iterator.#segments = segments;
      return iterator;
    };
  }

  next() {
    if (!(typeof this === "object" && this !== null && #segments in this)) {
      throw incompatible("%SegmentIterator.prototype%.next", this);
    }
    const segments = this.#segments;
    const start = this.#position;
    if (start >= segmentsString(segments).length) return { value: undefined, done: true };
    const end = segmenterNext(segmentsHandle(segments), start);
    this.#position = end;
    return { value: segmentData(segments, start, end), done: false };
  }
}

const SegmentsPrototype = Segments.prototype;
const SegmentIteratorPrototype = SegmentIterator.prototype;
delete SegmentsPrototype.constructor;
delete SegmentIteratorPrototype.constructor;
setPrototypeOf(SegmentIteratorPrototype, IteratorPrototype);
defineProperty(SegmentIteratorPrototype, Symbol.toStringTag,
  { value: "Segmenter String Iterator", writable: false, enumerable: false, configurable: true });
defineProperty(Segmenter.prototype, Symbol.toStringTag,
  { value: "Intl.Segmenter", writable: false, enumerable: false, configurable: true });

export { Segmenter };
