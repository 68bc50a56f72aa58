// UTS #46 processing of URL hosts (worker/idna.cc) reads any host a request
// or a handler hands to the URL parser.
// Properties: a successful ToASCII is ASCII and a fixed point (ToASCII of it
// gives it back), and ToUnicode never fails.

#include <string>

#include "fuzz/fuzz_check.h"
#include "worker/idna.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::u16string domain;
  for (size_t i = 0; i + 1 < size; i += 2) domain.push_back(static_cast<char16_t>(data[i] | (data[i + 1] << 8)));
  auto ascii = worker::idna::to_ascii(domain);
  if (ascii) {
    for (char16_t c : *ascii) FUZZ_CHECK(c < 0x80);
    auto again = worker::idna::to_ascii(*ascii);
    FUZZ_CHECK(again && *again == *ascii);
  }
  (void)worker::idna::to_unicode(domain);
  return 0;
}
