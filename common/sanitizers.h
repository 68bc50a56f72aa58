#pragma once
// Whether this binary was built with a sanitizer (CMake's PORTBROKER_SANITIZE).
// Sanitizer builds are for tests only; the few places that behave differently
// under them say why, and a normal build never takes those paths.

namespace common {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

#if defined(PORTBROKER_UNDEFINED_SANITIZER)
inline constexpr bool kUndefinedSanitizer = true;
#else
inline constexpr bool kUndefinedSanitizer = false;
#endif

inline constexpr bool kSanitized = kAddressSanitizer || kUndefinedSanitizer;

}  // namespace common
