#pragma once
// Conversions between JavaScript strings and bytes with Node's Buffer semantics
// (the encodings Buffer, TextEncoder/TextDecoder and conn.setEncoding accept).
// Pure functions, templated on the string's code unit: SpiderMonkey stores a
// string either as Latin-1 bytes or as UTF-16 code units.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace common::text {

enum class Encoding { utf8, utf16le, latin1, ascii, base64, base64url, hex };

// Node's names, case-insensitive: utf8/utf-8, utf16le/utf-16le/ucs2/ucs-2,
// latin1/binary, ascii, base64, base64url, hex.
std::optional<Encoding> parse_encoding(std::string_view name);
std::string_view encoding_name(Encoding encoding);

// Exact number of bytes encode() produces for the whole string.
template <typename CharT>
size_t encoded_length(std::basic_string_view<CharT> text, Encoding encoding);

// Encodes as much of `text` as fits in `out`, never splitting a character
// (buf.write semantics). Returns the number of bytes written; `units_read`
// (optional, utf8/utf16le/latin1/ascii only) gets the code units consumed.
template <typename CharT>
size_t encode(std::basic_string_view<CharT> text, Encoding encoding, std::span<uint8_t> out,
              size_t* units_read = nullptr);

// True when every byte is below 0x80 (then UTF-8, Latin-1 and ASCII agree).
bool is_ascii(std::span<const uint8_t> bytes);

// A decoded string: Latin-1 when every code point is below 256 (cheaper for the
// engine to store), UTF-16 otherwise.
struct DecodedText {
  bool is_latin1 = true;
  std::string latin1;
  std::u16string utf16;
};

DecodedText decode(std::span<const uint8_t> bytes, Encoding encoding);

}  // namespace common::text
