#pragma once
// UTS #46 processing of domain names with the flags the URL Standard asks
// for (CheckBidi, CheckJoiners, nontransitional, UseSTD3ASCIIRules and
// VerifyDnsLength off), by ICU. No JSAPI here: the fuzz target links it.

#include <optional>
#include <string>
#include <string_view>

namespace worker::idna {

// ToASCII; nullopt when UTS #46 reports an error the URL Standard does not
// ignore (everything but empty labels, lengths and hyphen positions).
std::optional<std::u16string> to_ascii(std::u16string_view domain);
// ToUnicode, errors ignored (the mapped and decoded form).
std::u16string to_unicode(std::u16string_view domain);

}  // namespace worker::idna
