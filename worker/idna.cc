#include "worker/idna.h"

#include <unicode/uidna.h>

#include <memory>

namespace worker::idna {
namespace {

struct CloseIdna {
  void operator()(UIDNA* idna) const { uidna_close(idna); }
};

// Opened on first use (most workers never see a non-ASCII host) and kept for
// the process: an immutable ICU object, safe to share.
const UIDNA* uts46() {
  static const std::unique_ptr<UIDNA, CloseIdna> idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    UIDNA* opened = uidna_openUTS46(UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_NONTRANSITIONAL_TO_ASCII |
                                        UIDNA_NONTRANSITIONAL_TO_UNICODE,
                                    &status);
    return std::unique_ptr<UIDNA, CloseIdna>(U_SUCCESS(status) ? opened : nullptr);
  }();
  return idna.get();
}

// CheckHyphens=false and VerifyDnsLength=false: ICU reports these anyway.
constexpr uint32_t kIgnoredErrors = UIDNA_ERROR_EMPTY_LABEL | UIDNA_ERROR_LABEL_TOO_LONG |
                                    UIDNA_ERROR_DOMAIN_NAME_TOO_LONG | UIDNA_ERROR_LEADING_HYPHEN |
                                    UIDNA_ERROR_TRAILING_HYPHEN | UIDNA_ERROR_HYPHEN_3_4;

// ICU takes int32_t lengths; longer input is refused rather than truncated.
constexpr size_t kMaxInput = 1 << 20;

template <typename Convert>
std::optional<std::u16string> run(std::u16string_view domain, Convert convert, uint32_t& errors) {
  const UIDNA* idna = uts46();
  if (idna == nullptr || domain.size() > kMaxInput) return std::nullopt;
  std::u16string out(domain.size() * 2 + 16, u'\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    UIDNAInfo info = UIDNA_INFO_INITIALIZER;
    int32_t length = convert(idna, domain.data(), static_cast<int32_t>(domain.size()), out.data(),
                             static_cast<int32_t>(out.size()), &info, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR && length > 0) {
      out.assign(static_cast<size_t>(length), u'\0');
      continue;
    }
    if (U_FAILURE(status) || length < 0) return std::nullopt;
    out.resize(static_cast<size_t>(length));
    errors = info.errors;
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::u16string> to_ascii(std::u16string_view domain) {
  uint32_t errors = 0;
  auto result = run(domain, uidna_nameToASCII, errors);
  if (!result || (errors & ~kIgnoredErrors) != 0) return std::nullopt;
  return result;
}

std::u16string to_unicode(std::u16string_view domain) {
  uint32_t errors = 0;
  auto result = run(domain, uidna_nameToUnicode, errors);
  return result ? *result : std::u16string(domain);
}

}  // namespace worker::idna
