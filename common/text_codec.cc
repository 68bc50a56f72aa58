#include "common/text_codec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

namespace common::text {
namespace {

constexpr char16_t kReplacement = 0xFFFD;
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64UrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHexDigits[] = "0123456789abcdef";

// Node reads a code unit above 0xFF in hex and base64 text by its low byte.
template <typename CharT>
uint8_t low_byte(CharT c) {
  return static_cast<uint8_t>(static_cast<uint32_t>(c) & 0xFF);
}

// Node's base64 decoder accepts both alphabets whichever was asked for.
constexpr std::array<int8_t, 256> make_base64_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    table[static_cast<unsigned char>(kBase64UrlAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr auto kBase64Values = make_base64_table();

int hex_value(unsigned c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
  return -1;
}

bool is_high_surrogate(unsigned c) { return c >= 0xD800 && c <= 0xDBFF; }
bool is_low_surrogate(unsigned c) { return c >= 0xDC00 && c <= 0xDFFF; }

// Reads the code point at text[i]; lone surrogates become U+FFFD, as Node does.
template <typename CharT>
uint32_t next_code_point(std::basic_string_view<CharT> text, size_t& i) {
  uint32_t c = static_cast<uint32_t>(text[i++]);
  if constexpr (sizeof(CharT) == 1) {
    return c;
  } else {
    if (is_high_surrogate(c)) {
      if (i < text.size() && is_low_surrogate(text[i])) {
        uint32_t low = text[i++];
        return 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
      }
      return kReplacement;
    }
    if (is_low_surrogate(c)) return kReplacement;
    return c;
  }
}

constexpr uint64_t kHighBits = 0x8080808080808080ull;

// How many bytes from the start are ASCII, looked at eight at a time.
template <typename Byte>
size_t ascii_prefix(const Byte* data, size_t size) {
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word & kHighBits) break;
  }
  while (i < size && static_cast<uint8_t>(data[i]) < 0x80) ++i;
  return i;
}

// Bytes at or above 0x80, eight at a time.
template <typename Byte>
size_t count_high(const Byte* data, size_t size) {
  size_t count = 0;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    // Each byte's high bit moved to its low bit, then summed into the top
    // byte by the multiplication: no popcount instruction (not in the
    // baseline x86-64 this is built for, where it is a slow library call).
    count += static_cast<size_t>((((word & kHighBits) >> 7) * 0x0101010101010101ull) >> 56);
  }
  for (; i < size; ++i) count += static_cast<uint8_t>(data[i]) >> 7;
  return count;
}

size_t utf8_width(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

void put_utf8(uint32_t cp, uint8_t* out) {
  switch (utf8_width(cp)) {
    case 1: out[0] = static_cast<uint8_t>(cp); break;
    case 2:
      out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
      out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
      break;
    case 3:
      out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
      out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
      break;
    default:
      out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
      out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
      out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  }
}

// Node: skip characters outside both alphabets (whitespace included), stop at
// the first '=', drop a trailing lone sextet.
template <typename CharT>
std::vector<uint8_t> base64_decode(std::basic_string_view<CharT> text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4 + 3);
  uint32_t accumulator = 0;
  int sextets = 0;
  for (CharT ch : text) {
    uint8_t c = low_byte(ch);
    if (c == '=') break;
    int v = kBase64Values[c];
    if (v < 0) continue;
    accumulator = (accumulator << 6) | static_cast<uint32_t>(v);
    if (++sextets == 4) {
      out.push_back(static_cast<uint8_t>(accumulator >> 16));
      out.push_back(static_cast<uint8_t>(accumulator >> 8));
      out.push_back(static_cast<uint8_t>(accumulator));
      accumulator = 0;
      sextets = 0;
    }
  }
  if (sextets == 2) {
    out.push_back(static_cast<uint8_t>(accumulator >> 4));
  } else if (sextets == 3) {
    out.push_back(static_cast<uint8_t>(accumulator >> 10));
    out.push_back(static_cast<uint8_t>(accumulator >> 2));
  }
  return out;
}

// Node: pairs of hex digits up to the first invalid pair; an odd last digit is dropped.
template <typename CharT>
std::vector<uint8_t> hex_decode(std::basic_string_view<CharT> text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    int hi = hex_value(low_byte(text[i]));
    int lo = hex_value(low_byte(text[i + 1]));
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::string base64_encode(std::span<const uint8_t> bytes, bool url) {
  const char* alphabet = url ? kBase64UrlAlphabet : kBase64Alphabet;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 | static_cast<uint32_t>(bytes[i + 1]) << 8 | bytes[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (!url) out += "==";
  } else if (rest == 2) {
    uint32_t v = static_cast<uint32_t>(bytes[i]) << 16 | static_cast<uint32_t>(bytes[i + 1]) << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (!url) out += '=';
  }
  return out;
}

// WHATWG UTF-8 decode: each maximal invalid subpart becomes one U+FFFD.
void utf8_decode(std::span<const uint8_t> bytes, DecodedText& result) {
  std::u16string& out = result.utf16;
  out.reserve(bytes.size());
  uint32_t code_point = 0;
  int needed = 0;
  int seen = 0;
  uint8_t lower = 0x80;
  uint8_t upper = 0xBF;
  for (size_t i = 0; i < bytes.size(); ++i) {
    uint8_t b = bytes[i];
    if (needed == 0) {
      if (b < 0x80) {
        out += static_cast<char16_t>(b);
      } else if (b >= 0xC2 && b <= 0xDF) {
        needed = 1;
        code_point = b & 0x1Fu;
      } else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
        needed = 2;
        code_point = b & 0x0Fu;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
        needed = 3;
        code_point = b & 0x07u;
      } else {
        out += kReplacement;
      }
      continue;
    }
    if (b < lower || b > upper) {
      code_point = 0;
      needed = seen = 0;
      lower = 0x80;
      upper = 0xBF;
      out += kReplacement;
      --i;  // The offending byte may start the next sequence.
      continue;
    }
    lower = 0x80;
    upper = 0xBF;
    code_point = (code_point << 6) | (b & 0x3Fu);
    if (++seen == needed) {
      if (code_point >= 0x10000) {
        out += static_cast<char16_t>(0xD800 + ((code_point - 0x10000) >> 10));
        out += static_cast<char16_t>(0xDC00 + ((code_point - 0x10000) & 0x3FF));
      } else {
        out += static_cast<char16_t>(code_point);
      }
      code_point = 0;
      needed = seen = 0;
    }
  }
  if (needed != 0) out += kReplacement;
  result.is_latin1 = std::all_of(out.begin(), out.end(), [](char16_t c) { return c < 0x100; });
  if (result.is_latin1) {
    result.latin1.assign(out.begin(), out.end());
    out.clear();
  }
}

template <typename CharT>
std::vector<uint8_t> decode_binary_text(std::basic_string_view<CharT> text, Encoding encoding) {
  return encoding == Encoding::hex ? hex_decode(text) : base64_decode(text);
}

}  // namespace

// Eight bytes at a time: streamed text is mostly ASCII.
bool is_ascii(std::span<const uint8_t> bytes) {
  size_t i = 0;
  uint64_t high = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, sizeof word);
    high |= word;
  }
  for (; i < bytes.size(); ++i) high |= bytes[i];
  return (high & kHighBits) == 0;
}

std::optional<Encoding> parse_encoding(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "utf8" || lower == "utf-8") return Encoding::utf8;
  if (lower == "utf16le" || lower == "utf-16le" || lower == "ucs2" || lower == "ucs-2") return Encoding::utf16le;
  if (lower == "latin1" || lower == "binary") return Encoding::latin1;
  if (lower == "ascii") return Encoding::ascii;
  if (lower == "base64") return Encoding::base64;
  if (lower == "base64url") return Encoding::base64url;
  if (lower == "hex") return Encoding::hex;
  return std::nullopt;
}

std::string_view encoding_name(Encoding encoding) {
  switch (encoding) {
    case Encoding::utf8: return "utf8";
    case Encoding::utf16le: return "utf16le";
    case Encoding::latin1: return "latin1";
    case Encoding::ascii: return "ascii";
    case Encoding::base64: return "base64";
    case Encoding::base64url: return "base64url";
    case Encoding::hex: return "hex";
  }
  return "utf8";
}

template <typename CharT>
size_t encoded_length(std::basic_string_view<CharT> text, Encoding encoding) {
  switch (encoding) {
    case Encoding::utf8: {
      if constexpr (sizeof(CharT) == 1) {
        // Latin-1 (the engine's one-byte strings): two bytes above 0x7F, one below.
        return text.size() + count_high(text.data(), text.size());
      }
      size_t total = 0;
      for (size_t i = 0; i < text.size();) total += utf8_width(next_code_point(text, i));
      return total;
    }
    case Encoding::utf16le: return text.size() * 2;
    case Encoding::latin1:
    case Encoding::ascii: return text.size();
    case Encoding::hex:
    case Encoding::base64:
    case Encoding::base64url: return decode_binary_text(text, encoding).size();
  }
  return 0;
}

template <typename CharT>
size_t encode(std::basic_string_view<CharT> text, Encoding encoding, std::span<uint8_t> out, size_t* units_read) {
  size_t written = 0;
  size_t i = 0;
  switch (encoding) {
    case Encoding::utf8:
      if constexpr (sizeof(CharT) == 1) {
        // Latin-1: runs of ASCII are copied as they are (streamed text is
        // mostly that), the rest takes two bytes each.
        while (i < text.size()) {
          size_t run_end = i + ascii_prefix(text.data() + i, text.size() - i);
          size_t run = std::min(run_end - i, out.size() - written);
          std::memcpy(out.data() + written, text.data() + i, run);
          written += run;
          i += run;
          if (i < run_end || i == text.size() || written + 2 > out.size()) break;
          put_utf8(static_cast<uint32_t>(text[i]), out.data() + written);
          written += 2;
          ++i;
        }
        break;
      }
      while (i < text.size()) {
        size_t next = i;
        uint32_t cp = next_code_point(text, next);
        size_t width = utf8_width(cp);
        if (written + width > out.size()) break;
        put_utf8(cp, out.data() + written);
        written += width;
        i = next;
      }
      break;
    case Encoding::utf16le:
      for (; i < text.size() && written + 2 <= out.size(); ++i) {
        auto unit = static_cast<uint32_t>(text[i]);
        out[written++] = static_cast<uint8_t>(unit);
        out[written++] = static_cast<uint8_t>(unit >> 8);
      }
      break;
    case Encoding::latin1:
    case Encoding::ascii:
      for (; i < text.size() && written < out.size(); ++i) {
        out[written++] = static_cast<uint8_t>(static_cast<uint32_t>(text[i]));
      }
      break;
    case Encoding::hex:
    case Encoding::base64:
    case Encoding::base64url: {
      auto bytes = decode_binary_text(text, encoding);
      written = std::min(bytes.size(), out.size());
      std::copy_n(bytes.begin(), written, out.begin());
      i = text.size();
      break;
    }
  }
  if (units_read != nullptr) *units_read = i;
  return written;
}

DecodedText decode(std::span<const uint8_t> bytes, Encoding encoding) {
  DecodedText result;
  switch (encoding) {
    case Encoding::utf8:
      if (is_ascii(bytes)) {
        result.latin1.assign(bytes.begin(), bytes.end());
      } else {
        utf8_decode(bytes, result);
      }
      break;
    case Encoding::utf16le:
      result.utf16.reserve(bytes.size() / 2);
      for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
        result.utf16 += static_cast<char16_t>(bytes[i] | bytes[i + 1] << 8);
      }
      result.is_latin1 = std::all_of(result.utf16.begin(), result.utf16.end(), [](char16_t c) { return c < 0x100; });
      if (result.is_latin1) {
        result.latin1.assign(result.utf16.begin(), result.utf16.end());
        result.utf16.clear();
      }
      break;
    case Encoding::latin1: result.latin1.assign(bytes.begin(), bytes.end()); break;
    case Encoding::ascii:
      result.latin1.resize(bytes.size());
      std::transform(bytes.begin(), bytes.end(), result.latin1.begin(), [](uint8_t b) { return static_cast<char>(b & 0x7F); });
      break;
    case Encoding::hex:
      result.latin1.reserve(bytes.size() * 2);
      for (uint8_t b : bytes) {
        result.latin1 += kHexDigits[b >> 4];
        result.latin1 += kHexDigits[b & 15];
      }
      break;
    case Encoding::base64:
    case Encoding::base64url: result.latin1 = base64_encode(bytes, encoding == Encoding::base64url); break;
  }
  return result;
}

template size_t encoded_length<char16_t>(std::u16string_view, Encoding);
template size_t encoded_length<unsigned char>(std::basic_string_view<unsigned char>, Encoding);
template size_t encode<char16_t>(std::u16string_view, Encoding, std::span<uint8_t>, size_t*);
template size_t encode<unsigned char>(std::basic_string_view<unsigned char>, Encoding, std::span<uint8_t>, size_t*);

}  // namespace common::text
