#include "worker/api_url.h"

#include "worker/idna.h"
#include "worker/js_util.h"

namespace worker {
namespace {

bool argument_chars(JSContext* cx, const JS::CallArgs& args, std::u16string& out) {
  if (!args.get(0).isString()) return throw_type_error(cx, "a domain string is required");
  return with_string_chars(cx, args[0].toString(), [&](auto chars) { out.assign(chars.begin(), chars.end()); });
}

bool domain_to_ascii(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::u16string domain;
  if (!argument_chars(cx, args, domain)) return false;
  auto ascii = idna::to_ascii(domain);
  if (!ascii) {
    args.rval().setNull();
    return true;
  }
  JSString* result = JS_NewUCStringCopyN(cx, ascii->data(), ascii->size());
  if (!result) return false;
  args.rval().setString(result);
  return true;
}

bool domain_to_unicode(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::u16string domain;
  if (!argument_chars(cx, args, domain)) return false;
  std::u16string unicode = idna::to_unicode(domain);
  JSString* result = JS_NewUCStringCopyN(cx, unicode.data(), unicode.size());
  if (!result) return false;
  args.rval().setString(result);
  return true;
}

const JSFunctionSpec kFunctions[] = {
    JS_FN("domainToASCII", domain_to_ascii, 1, 0),
    JS_FN("domainToUnicode", domain_to_unicode, 1, 0),
    JS_FS_END,
};

}  // namespace

bool install_url_api(JSContext* cx, JS::HandleObject native) { return JS_DefineFunctions(cx, native, kFunctions); }

}  // namespace worker
