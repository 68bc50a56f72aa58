#include "worker/api_intl.h"

#include <js/MemoryFunctions.h>
#include <js/Object.h>

#include <memory>
#include <string>
#include <type_traits>

#include "worker/js_util.h"
#include "worker/text_breaks.h"

namespace worker {
namespace {

// The handle a segment() call's Segments object keeps (in a private field of
// the internal module, never reachable by handler code): one TextBreaks,
// freed with the handle.
void finalize_segments(JS::GCContext*, JSObject* object) {
  auto* breaks = JS::GetMaybePtrFromReservedSlot<TextBreaks>(object, 0);
  if (breaks == nullptr) return;
  JS::RemoveAssociatedMemory(object, breaks->memory_bytes(), JS::MemoryUse::Embedding1);
  delete breaks;
}

const JSClassOps kSegmentsOps = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, finalize_segments,
                                 nullptr, nullptr, nullptr};
const JSClass kSegmentsClass = {"Segments", JSCLASS_HAS_RESERVED_SLOTS(1) | JSCLASS_FOREGROUND_FINALIZE,
                                &kSegmentsOps, nullptr, nullptr, nullptr};

TextBreaks* get_breaks(JSContext* cx, JS::HandleValue value) {
  if (value.isObject() && JS::GetClass(&value.toObject()) == &kSegmentsClass) {
    auto* breaks = JS::GetMaybePtrFromReservedSlot<TextBreaks>(&value.toObject(), 0);
    if (breaks != nullptr) return breaks;
  }
  throw_type_error(cx, "not a segments handle");
  return nullptr;
}

// A code unit index inside the text, else -1.
int32_t get_index(const TextBreaks& breaks, JS::HandleValue value) {
  if (!value.isNumber()) return -1;
  double index = value.toNumber();
  if (!(index >= 0 && index < breaks.length())) return -1;
  return static_cast<int32_t>(index);
}

// segmenterOpen(localeTag, granularity, string) → an opaque handle over the
// string's breaks (granularity 0 grapheme, 1 word, 2 sentence).
bool segmenter_open(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (!args.get(0).isString() || !args.get(1).isInt32() || !args.get(2).isString() || args[1].toInt32() < 0 ||
      args[1].toInt32() > 2) {
    return throw_type_error(cx, "segmenterOpen: (locale, granularity, string) expected");
  }
  std::string tag = string_to_utf8(cx, args[0].toString());
  auto granularity = static_cast<Granularity>(args[1].toInt32());
  JS::RootedString input(cx, args[2].toString());
  std::unique_ptr<TextBreaks> breaks;
  std::string error;
  if (!with_string_chars(cx, input, [&](auto chars) { breaks = TextBreaks::open(tag, granularity, chars, error); })) {
    return false;
  }
  if (!breaks) return throw_type_error(cx, error);
  JS::RootedObject handle(cx, JS_NewObjectWithGivenProto(cx, &kSegmentsClass, nullptr));
  if (!handle) return false;
  size_t accounted = breaks->memory_bytes();
  JS::SetReservedSlot(handle, 0, JS::PrivateValue(breaks.release()));
  JS::AddAssociatedMemory(handle, accounted, JS::MemoryUse::Embedding1);
  args.rval().setObject(*handle);
  return true;
}

// segmenterNext(handle, index) → the end of the segment holding index, or -1
// outside the string.
bool segmenter_next(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  TextBreaks* breaks = get_breaks(cx, args.get(0));
  if (breaks == nullptr) return false;
  int32_t index = get_index(*breaks, args.get(1));
  args.rval().setInt32(index < 0 ? -1 : breaks->following(index));
  return true;
}

// segmenterStart(handle, index) → the start of the segment holding index, or
// -1 outside the string.
bool segmenter_start(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  TextBreaks* breaks = get_breaks(cx, args.get(0));
  if (breaks == nullptr) return false;
  int32_t index = get_index(*breaks, args.get(1));
  args.rval().setInt32(index < 0 ? -1 : breaks->segment_start(index));
  return true;
}

// segmenterWordLike(handle) → whether the segment ending at the break
// segmenterNext found last is word-like, as V8 decides it.
bool segmenter_word_like(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  TextBreaks* breaks = get_breaks(cx, args.get(0));
  if (breaks == nullptr) return false;
  args.rval().setBoolean(breaks->word_like());
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("segmenterOpen", segmenter_open, 3, 0),
    JS_FN("segmenterNext", segmenter_next, 2, 0),
    JS_FN("segmenterStart", segmenter_start, 2, 0),
    JS_FN("segmenterWordLike", segmenter_word_like, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_intl_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
