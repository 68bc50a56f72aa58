#include "common/text_codec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_view_literals;
using common::text::decode;
using common::text::DecodedText;
using common::text::encode;
using common::text::encoded_length;
using common::text::Encoding;
using Bytes = std::vector<uint8_t>;
using Latin1View = std::basic_string_view<unsigned char>;
using Latin1String = std::basic_string<unsigned char>;

// Every expected value in the tables below was printed by Node v20.20.2:
//   encode cases:  Buffer.from(input, encoding).toString("hex")
//   decode cases:  Buffer.from(hex, "hex").toString(encoding)
//   write limits:  Buffer.alloc(n).write(input, encoding)

namespace {

struct EncodeCase {
  const char* label;
  std::u16string_view input;
  Encoding encoding;
  const char* hex;  // the bytes of Buffer.from(input, encoding)
};

// Text encodings: each input through utf8, utf16le, latin1 and ascii.
const EncodeCase kTextEncodeCases[] = {
    {"ascii", u"Hello, world!"sv, Encoding::utf8, "48656c6c6f2c20776f726c6421"},
    {"empty", u""sv, Encoding::utf8, ""},
    {"NUL and controls", u"\x0" u"\x1" u"\x7F"sv, Encoding::utf8, "00017f"},
    {"Latin-1 range", u"caf\u00E9 \u00A0\u00FF\x80"sv, Encoding::utf8, "636166c3a920c2a0c3bfc280"},
    {"BMP CJK", u"\u65E5\u672C\u8A9E"sv, Encoding::utf8, "e697a5e69cace8aa9e"},
    {"euro sign", u"\u20AC"sv, Encoding::utf8, "e282ac"},
    {"astral emoji", u"a\U0001F600b"sv, Encoding::utf8, "61f09f988062"},
    {"lone high surrogate", u"a\xD800" u"b"sv, Encoding::utf8, "61efbfbd62"},
    {"lone high surrogate at end", u"x\xD83D"sv, Encoding::utf8, "78efbfbd"},
    {"lone low surrogate", u"\xDC00" u"x"sv, Encoding::utf8, "efbfbd78"},
    {"reversed surrogate pair", u"\xDE00" u"\xD83D"sv, Encoding::utf8, "efbfbdefbfbd"},
    {"U+FFFF and U+10FFFF", u"\uFFFF\U0010FFFF"sv, Encoding::utf8, "efbfbff48fbfbf"},
    {"ascii", u"Hello, world!"sv, Encoding::utf16le, "480065006c006c006f002c00200077006f0072006c0064002100"},
    {"empty", u""sv, Encoding::utf16le, ""},
    {"NUL and controls", u"\x0" u"\x1" u"\x7F"sv, Encoding::utf16le, "000001007f00"},
    {"Latin-1 range", u"caf\u00E9 \u00A0\u00FF\x80"sv, Encoding::utf16le, "630061006600e9002000a000ff008000"},
    {"BMP CJK", u"\u65E5\u672C\u8A9E"sv, Encoding::utf16le, "e5652c679e8a"},
    {"euro sign", u"\u20AC"sv, Encoding::utf16le, "ac20"},
    {"astral emoji", u"a\U0001F600b"sv, Encoding::utf16le, "61003dd800de6200"},
    {"lone high surrogate", u"a\xD800" u"b"sv, Encoding::utf16le, "610000d86200"},
    {"lone high surrogate at end", u"x\xD83D"sv, Encoding::utf16le, "78003dd8"},
    {"lone low surrogate", u"\xDC00" u"x"sv, Encoding::utf16le, "00dc7800"},
    {"reversed surrogate pair", u"\xDE00" u"\xD83D"sv, Encoding::utf16le, "00de3dd8"},
    {"U+FFFF and U+10FFFF", u"\uFFFF\U0010FFFF"sv, Encoding::utf16le, "ffffffdbffdf"},
    {"ascii", u"Hello, world!"sv, Encoding::latin1, "48656c6c6f2c20776f726c6421"},
    {"empty", u""sv, Encoding::latin1, ""},
    {"NUL and controls", u"\x0" u"\x1" u"\x7F"sv, Encoding::latin1, "00017f"},
    {"Latin-1 range", u"caf\u00E9 \u00A0\u00FF\x80"sv, Encoding::latin1, "636166e920a0ff80"},
    {"BMP CJK", u"\u65E5\u672C\u8A9E"sv, Encoding::latin1, "e52c9e"},
    {"euro sign", u"\u20AC"sv, Encoding::latin1, "ac"},
    {"astral emoji", u"a\U0001F600b"sv, Encoding::latin1, "613d0062"},
    {"lone high surrogate", u"a\xD800" u"b"sv, Encoding::latin1, "610062"},
    {"lone high surrogate at end", u"x\xD83D"sv, Encoding::latin1, "783d"},
    {"lone low surrogate", u"\xDC00" u"x"sv, Encoding::latin1, "0078"},
    {"reversed surrogate pair", u"\xDE00" u"\xD83D"sv, Encoding::latin1, "003d"},
    {"U+FFFF and U+10FFFF", u"\uFFFF\U0010FFFF"sv, Encoding::latin1, "ffffff"},
    {"ascii", u"Hello, world!"sv, Encoding::ascii, "48656c6c6f2c20776f726c6421"},
    {"empty", u""sv, Encoding::ascii, ""},
    {"NUL and controls", u"\x0" u"\x1" u"\x7F"sv, Encoding::ascii, "00017f"},
    {"Latin-1 range", u"caf\u00E9 \u00A0\u00FF\x80"sv, Encoding::ascii, "636166e920a0ff80"},
    {"BMP CJK", u"\u65E5\u672C\u8A9E"sv, Encoding::ascii, "e52c9e"},
    {"euro sign", u"\u20AC"sv, Encoding::ascii, "ac"},
    {"astral emoji", u"a\U0001F600b"sv, Encoding::ascii, "613d0062"},
    {"lone high surrogate", u"a\xD800" u"b"sv, Encoding::ascii, "610062"},
    {"lone high surrogate at end", u"x\xD83D"sv, Encoding::ascii, "783d"},
    {"lone low surrogate", u"\xDC00" u"x"sv, Encoding::ascii, "0078"},
    {"reversed surrogate pair", u"\xDE00" u"\xD83D"sv, Encoding::ascii, "003d"},
    {"U+FFFF and U+10FFFF", u"\uFFFF\U0010FFFF"sv, Encoding::ascii, "ffffff"},
};

// Strings read as hex, base64 and base64url.
const EncodeCase kBinaryEncodeCases[] = {
    {"lower and upper case", u"00ff10"sv, Encoding::hex, "00ff10"},
    {"mixed case", u"DEADbeef"sv, Encoding::hex, "deadbeef"},
    {"odd length drops the last digit", u"abc"sv, Encoding::hex, "ab"},
    {"single digit", u"a"sv, Encoding::hex, ""},
    {"empty", u""sv, Encoding::hex, ""},
    {"invalid pair stops decoding", u"abzz12"sv, Encoding::hex, "ab"},
    {"invalid first pair", u"zz12"sv, Encoding::hex, ""},
    {"invalid low digit", u"0g12"sv, Encoding::hex, ""},
    {"space makes a pair invalid", u"12 34"sv, Encoding::hex, "12"},
    {"Latin-1 letter is not a digit", u"ab\u00E1b"sv, Encoding::hex, "ab"},
    {"padded", u"aGVsbG8="sv, Encoding::base64, "68656c6c6f"},
    {"missing padding (one byte short)", u"aGVsbG8"sv, Encoding::base64, "68656c6c6f"},
    {"missing padding (two bytes short)", u"aGVsbA"sv, Encoding::base64, "68656c6c"},
    {"whitespace is skipped", u"aGVs bG8=\xA"sv, Encoding::base64, "68656c6c6f"},
    {"tabs and CRLF are skipped", u"aG\x9" u"Vs\xD" u"\xA" u"bG8="sv, Encoding::base64, "68656c6c6f"},
    {"junk characters are skipped", u"a!G@V#s$b*G(8)"sv, Encoding::base64, "68656c6c6f"},
    {"Latin-1 junk is skipped", u"aGVs\u00E9bG8"sv, Encoding::base64, "68656c6c6f"},
    {"url-safe alphabet accepted", u"-_-_"sv, Encoding::base64, "fbffbf"},
    {"standard alphabet", u"+/+/"sv, Encoding::base64, "fbffbf"},
    {"data after padding is ignored", u"YQ==YQ=="sv, Encoding::base64, "61"},
    {"data after a single = is ignored", u"YWJj=ZA"sv, Encoding::base64, "616263"},
    {"leading = gives nothing", u"=YWJj"sv, Encoding::base64, ""},
    {"a lone trailing sextet is dropped", u"YWJjZ"sv, Encoding::base64, "616263"},
    {"single character", u"Y"sv, Encoding::base64, ""},
    {"empty", u""sv, Encoding::base64, ""},
    {"unpadded", u"aGVsbG8"sv, Encoding::base64url, "68656c6c6f"},
    {"padded", u"aGVsbG8="sv, Encoding::base64url, "68656c6c6f"},
    {"url-safe alphabet", u"-_-_"sv, Encoding::base64url, "fbffbf"},
    {"standard alphabet also accepted", u"+/+/"sv, Encoding::base64url, "fbffbf"},
    {"data after padding is ignored", u"YQ==YQ=="sv, Encoding::base64url, "61"},
    {"whitespace and junk are skipped", u" a G\xA" u"V.s "sv, Encoding::base64url, "68656c"},
    {"a code unit whose low byte is not base64 is skipped", u"YW\u0100Jj"sv, Encoding::base64, "616263"},
};

struct DecodeCase {
  const char* label;
  const char* hex;  // the bytes
  Encoding encoding;
  std::u16string_view expected;  // Buffer.from(hex, "hex").toString(encoding)
};

const DecodeCase kDecodeCases[] = {
    {"ascii", "48656c6c6f", Encoding::utf8, u"Hello"sv},
    {"empty", "", Encoding::utf8, u""sv},
    {"NUL", "00", Encoding::utf8, u"\x0"sv},
    {"two-byte sequence (Latin-1 result)", "636166c3a9", Encoding::utf8, u"caf\u00E9"sv},
    {"no-break space", "c2a0", Encoding::utf8, u"\u00A0"sv},
    {"BMP CJK", "e697a5e69cac", Encoding::utf8, u"\u65E5\u672C"sv},
    {"astral emoji", "f09f9880", Encoding::utf8, u"\U0001F600"sv},
    {"U+10FFFF", "f48fbfbf", Encoding::utf8, u"\U0010FFFF"sv},
    {"BOM is kept", "efbbbf41", Encoding::utf8, u"\uFEFFA"sv},
    {"overlong two-byte", "c0af", Encoding::utf8, u"\uFFFD\uFFFD"sv},
    {"overlong C1 lead", "c1bf", Encoding::utf8, u"\uFFFD\uFFFD"sv},
    {"overlong three-byte", "e080af", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD"sv},
    {"overlong four-byte", "f08080af", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD\uFFFD"sv},
    {"UTF-8-encoded high surrogate", "eda080", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD"sv},
    {"UTF-8-encoded low surrogate", "edbfbf", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD"sv},
    {"CESU-8 surrogate pair", "eda0bdedb880", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"sv},
    {"truncated three-byte at end", "e697", Encoding::utf8, u"\uFFFD"sv},
    {"truncated three-byte before ASCII", "e69741", Encoding::utf8, u"\uFFFDA"sv},
    {"truncated four-byte at end", "f09f98", Encoding::utf8, u"\uFFFD"sv},
    {"truncated four-byte before ASCII", "f09f9841", Encoding::utf8, u"\uFFFDA"sv},
    {"lone lead byte at end", "61c3", Encoding::utf8, u"a\uFFFD"sv},
    {"lead byte before another lead", "c3c3a9", Encoding::utf8, u"\uFFFD\u00E9"sv},
    {"above U+10FFFF (F4 90)", "f4908080", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD\uFFFD"sv},
    {"F5 lead", "f5808080", Encoding::utf8, u"\uFFFD\uFFFD\uFFFD\uFFFD"sv},
    {"FF", "ff", Encoding::utf8, u"\uFFFD"sv},
    {"FE inside ASCII", "61fe62", Encoding::utf8, u"a\uFFFDb"sv},
    {"lone continuation", "80", Encoding::utf8, u"\uFFFD"sv},
    {"two continuations", "8080", Encoding::utf8, u"\uFFFD\uFFFD"sv},
    {"ascii", "610062006300", Encoding::utf16le, u"abc"sv},
    {"odd length drops the last byte", "6100620063", Encoding::utf16le, u"ab"sv},
    {"single byte", "61", Encoding::utf16le, u""sv},
    {"empty", "", Encoding::utf16le, u""sv},
    {"Latin-1 result", "e900ff00", Encoding::utf16le, u"\u00E9\u00FF"sv},
    {"BMP CJK", "e565", Encoding::utf16le, u"\u65E5"sv},
    {"surrogate pair", "3dd800de", Encoding::utf16le, u"\U0001F600"sv},
    {"lone high surrogate kept", "00d8", Encoding::utf16le, u"\xD800"sv},
    {"lone low surrogate kept", "00dc6100", Encoding::utf16le, u"\xDC00" u"a"sv},
    {"every range", "00417f80e9ff", Encoding::latin1, u"\x0" u"A\x7F" u"\x80" u"\u00E9\u00FF"sv},
    {"empty", "", Encoding::latin1, u""sv},
    {"high bit cleared", "41c1ff80", Encoding::ascii, u"AA\x7F" u"\x0"sv},
    {"plain", "48690a", Encoding::ascii, u"Hi\xA"sv},
    {"lower case digits", "00ff7fab", Encoding::hex, u"00ff7fab"sv},
    {"empty", "", Encoding::hex, u""sv},
    {"empty", "", Encoding::base64, u""sv},
    {"one byte padded", "61", Encoding::base64, u"YQ=="sv},
    {"two bytes padded", "6162", Encoding::base64, u"YWI="sv},
    {"three bytes", "616263", Encoding::base64, u"YWJj"sv},
    {"uses + and /", "fbffbf", Encoding::base64, u"+/+/"sv},
    {"one byte unpadded", "61", Encoding::base64url, u"YQ"sv},
    {"two bytes unpadded", "6162", Encoding::base64url, u"YWI"sv},
    {"uses - and _", "fbffbf", Encoding::base64url, u"-_-_"sv},
};

Bytes from_hex(std::string_view hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  Bytes bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(digit(hex[i]) << 4 | digit(hex[i + 1])));
  }
  return bytes;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// A printable rendering of UTF-16 code units for comparisons and failure messages.
std::string show(std::u16string_view text) {
  std::string out;
  for (char16_t c : text) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04X", static_cast<unsigned>(c));
      out += buffer;
    }
  }
  return out;
}

bool fits_latin1(std::u16string_view text) {
  return std::all_of(text.begin(), text.end(), [](char16_t c) { return c < 0x100; });
}

Latin1String to_latin1(std::u16string_view text) {
  Latin1String out;
  for (char16_t c : text) out += static_cast<unsigned char>(c);
  return out;
}

// The decoded string as UTF-16, after checking the representation rule: Latin-1
// exactly when every code unit is below 256, and the other field left empty.
std::u16string as_utf16(const DecodedText& text) {
  if (text.is_latin1) {
    CHECK(text.utf16.empty());
    std::u16string out;
    for (char c : text.latin1) out += static_cast<char16_t>(static_cast<unsigned char>(c));
    return out;
  }
  CHECK(text.latin1.empty());
  CHECK_FALSE(fits_latin1(text.utf16));
  return text.utf16;
}

std::string name(Encoding encoding) { return std::string(common::text::encoding_name(encoding)); }

// encoded_length, then encode into an exact buffer and into a roomier one.
template <typename CharT>
void check_encode(std::basic_string_view<CharT> input, Encoding encoding, const Bytes& expected) {
  CHECK(encoded_length(input, encoding) == expected.size());

  Bytes exact(expected.size(), 0xAA);
  size_t units_read = 12345;
  CHECK(encode(input, encoding, std::span(exact), &units_read) == expected.size());
  CHECK(to_hex(exact) == to_hex(expected));
  CHECK(units_read == input.size());

  Bytes roomy(expected.size() + 16, 0xAA);
  CHECK(encode(input, encoding, std::span(roomy)) == expected.size());
  CHECK(to_hex(std::span(roomy).first(expected.size())) == to_hex(expected));
  CHECK(std::all_of(roomy.begin() + static_cast<ptrdiff_t>(expected.size()), roomy.end(),
                    [](uint8_t b) { return b == 0xAA; }));
}

}  // namespace

TEST_CASE("text encodings match Node's Buffer.from for UTF-16 strings") {
  for (const auto& c : kTextEncodeCases) {
    CAPTURE(std::string(c.label));
    CAPTURE(name(c.encoding));
    check_encode(c.input, c.encoding, from_hex(c.hex));
  }
}

TEST_CASE("text encodings match Node's Buffer.from for Latin-1 strings") {
  size_t tested = 0;
  for (const auto& c : kTextEncodeCases) {
    if (!fits_latin1(c.input)) continue;
    CAPTURE(std::string(c.label));
    CAPTURE(name(c.encoding));
    Latin1String latin1 = to_latin1(c.input);
    check_encode(Latin1View(latin1), c.encoding, from_hex(c.hex));
    ++tested;
  }
  CHECK(tested == 16);  // ascii, empty, controls and Latin-1 range, in four encodings
}

TEST_CASE("hex and base64 strings decode to the bytes Node's Buffer.from gives") {
  for (const auto& c : kBinaryEncodeCases) {
    CAPTURE(std::string(c.label));
    CAPTURE(name(c.encoding));
    CAPTURE(show(c.input));
    check_encode(c.input, c.encoding, from_hex(c.hex));
    if (fits_latin1(c.input)) {
      Latin1String latin1 = to_latin1(c.input);
      check_encode(Latin1View(latin1), c.encoding, from_hex(c.hex));
    }
  }
}

TEST_CASE("hex and base64 read a UTF-16 code unit above 0xFF by its low byte, as Node does") {
  const EncodeCase cases[] = {
    {"hex: U+0161 counts as 'a'", u"ab\u0161\u0161cd"sv, Encoding::hex, "abaacd"},
    {"base64: U+0141 counts as 'A'", u"\u0141\u0141\u0141\u0141"sv, Encoding::base64, "000000"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.label));
    CAPTURE(show(c.input));
    check_encode(c.input, c.encoding, from_hex(c.hex));
  }
}

TEST_CASE("decode matches Node's buf.toString, in the cheapest representation") {
  for (const auto& c : kDecodeCases) {
    CAPTURE(std::string(c.label));
    CAPTURE(name(c.encoding));
    CAPTURE(std::string(c.hex));
    DecodedText text = decode(from_hex(c.hex), c.encoding);
    CHECK(text.is_latin1 == fits_latin1(c.expected));
    CHECK(show(as_utf16(text)) == show(c.expected));
  }
}

TEST_CASE("utf16le, latin1, hex and base64 round-trip any bytes") {
  Bytes all_bytes(256);
  for (size_t i = 0; i < all_bytes.size(); ++i) all_bytes[i] = static_cast<uint8_t>(i);
  for (Encoding encoding : {Encoding::utf16le, Encoding::latin1, Encoding::hex, Encoding::base64, Encoding::base64url}) {
    CAPTURE(name(encoding));
    for (size_t length = 0; length <= all_bytes.size(); ++length) {
      if (encoding == Encoding::utf16le && length % 2 != 0) continue;
      CAPTURE(length);
      // Rotate so every byte value appears at every position modulo 3 (base64 groups).
      Bytes bytes(all_bytes.begin(), all_bytes.begin() + static_cast<ptrdiff_t>(length));
      std::rotate(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(length / 3), bytes.end());
      std::u16string text = as_utf16(decode(bytes, encoding));
      Bytes back(bytes.size() + 4, 0);
      size_t written = encode(std::u16string_view(text), encoding, std::span(back));
      back.resize(written);
      if (back != bytes) FAIL("round trip changed " << to_hex(bytes) << " into " << to_hex(back));
    }
  }
}

TEST_CASE("encode into a short buffer never splits a character and reports units read") {
  struct Case {
    std::u16string_view input;
    Encoding encoding;
    std::vector<size_t> written;     // Node's buf.write result for buffer sizes 0, 1, 2, ...
    std::vector<size_t> units_read;  // code units consumed for the same sizes
  };
  const Case cases[] = {
      // 'a' (1 byte), U+1F600 (4 bytes, 2 units), 'b' (1 byte), U+20AC (3 bytes)
      {u"a\U0001F600b\u20AC"sv, Encoding::utf8, {0, 1, 1, 1, 1, 5, 6, 6, 6, 9, 9}, {0, 1, 1, 1, 1, 3, 4, 4, 4, 5, 5}},
      // Two-byte characters from a string that fits Latin-1.
      {u"\u00E9\u00E9"sv, Encoding::utf8, {0, 0, 2, 2, 4, 4}, {0, 0, 1, 1, 2, 2}},
      // A lone surrogate is written whole as U+FFFD or not at all.
      {u"a\xD800" u"b"sv, Encoding::utf8, {0, 1, 1, 1, 4, 5, 5}, {0, 1, 1, 1, 2, 3, 3}},
      // utf16le writes whole code units (like Node, a surrogate pair may be split).
      {u"a\U0001F600"sv, Encoding::utf16le, {0, 0, 2, 2, 4, 4, 6, 6}, {0, 0, 1, 1, 2, 2, 3, 3}},
      {u"abc"sv, Encoding::latin1, {0, 1, 2, 3, 3}, {0, 1, 2, 3, 3}},
      {u"abc"sv, Encoding::ascii, {0, 1, 2, 3, 3}, {0, 1, 2, 3, 3}},
  };
  for (const auto& c : cases) {
    CAPTURE(show(c.input));
    CAPTURE(name(c.encoding));
    REQUIRE(c.written.size() == c.units_read.size());
    Bytes full(encoded_length(c.input, c.encoding));
    REQUIRE(encode(c.input, c.encoding, std::span(full)) == full.size());
    auto check_sizes = [&](auto input) {
      for (size_t size = 0; size < c.written.size(); ++size) {
        CAPTURE(size);
        Bytes out(size + 8, 0xAA);
        size_t units_read = 12345;
        size_t written = encode(input, c.encoding, std::span(out).first(size), &units_read);
        CHECK(written == c.written[size]);
        CHECK(units_read == c.units_read[size]);
        REQUIRE(written <= full.size());
        CHECK(to_hex(std::span(out).first(written)) == to_hex(std::span(full).first(written)));
        CHECK(std::all_of(out.begin() + static_cast<ptrdiff_t>(written), out.end(), [](uint8_t b) { return b == 0xAA; }));
      }
    };
    check_sizes(c.input);
    if (fits_latin1(c.input)) {
      Latin1String latin1 = to_latin1(c.input);
      check_sizes(Latin1View(latin1));
    }
  }
}

TEST_CASE("hex and base64 into a short buffer write the leading decoded bytes") {
  // Node: Buffer.alloc(3).write("00ff10aa", "hex") == 3; Buffer.alloc(2).write("aGVsbG8=", "base64") == 2.
  Bytes out(3, 0xAA);
  CHECK(encode(u"00ff10aa"sv, Encoding::hex, std::span(out)) == 3);
  CHECK(to_hex(out) == "00ff10");
  Bytes small(2, 0xAA);
  CHECK(encode(u"aGVsbG8="sv, Encoding::base64, std::span(small)) == 2);
  CHECK(to_hex(small) == "6865");
  CHECK(encode(u"aGVsbG8="sv, Encoding::base64url, std::span<uint8_t>()) == 0);
}

TEST_CASE("encoded_length agrees with encode for every encoding and both string kinds") {
  const std::u16string_view inputs[] = {
      u""sv, u"plain"sv, u"caf\u00E9"sv, u"\u65E5\U0001F600\xD800"sv, u"00ff1"sv, u"aGVs bG8"sv, u"-_+/=="sv,
      // Longer than a word: Latin-1 text is measured eight bytes at a time.
      u"\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9"sv,
      u"ascii then \u00E9t\u00E9 and \u00FF\u00A0 more ascii after that"sv,
  };
  for (auto input : inputs) {
    for (Encoding encoding : {Encoding::utf8, Encoding::utf16le, Encoding::latin1, Encoding::ascii, Encoding::base64,
                              Encoding::base64url, Encoding::hex}) {
      CAPTURE(show(input));
      CAPTURE(name(encoding));
      if (encoding == Encoding::utf8 && fits_latin1(input)) {
        size_t high = static_cast<size_t>(std::count_if(input.begin(), input.end(), [](char16_t c) { return c >= 0x80; }));
        CHECK(encoded_length(Latin1View(to_latin1(input)), encoding) == input.size() + high);
      }
      Bytes out(encoded_length(input, encoding) + 8);
      CHECK(encode(input, encoding, std::span(out)) == encoded_length(input, encoding));
      if (fits_latin1(input)) {
        Latin1String latin1 = to_latin1(input);
        CHECK(encoded_length(Latin1View(latin1), encoding) == encoded_length(input, encoding));
      }
    }
  }
}

TEST_CASE("parse_encoding accepts Node's names in any case") {
  struct Case {
    const char* name;
    Encoding encoding;
  };
  const Case cases[] = {
      {"utf8", Encoding::utf8},         {"UTF8", Encoding::utf8},         {"utf-8", Encoding::utf8},
      {"UTF-8", Encoding::utf8},        {"Utf-8", Encoding::utf8},        {"utf16le", Encoding::utf16le},
      {"UTF16LE", Encoding::utf16le},   {"utf-16le", Encoding::utf16le},  {"UTF-16LE", Encoding::utf16le},
      {"ucs2", Encoding::utf16le},      {"UCS2", Encoding::utf16le},      {"ucs-2", Encoding::utf16le},
      {"UCS-2", Encoding::utf16le},     {"latin1", Encoding::latin1},     {"LATIN1", Encoding::latin1},
      {"binary", Encoding::latin1},     {"Binary", Encoding::latin1},     {"ascii", Encoding::ascii},
      {"ASCII", Encoding::ascii},       {"base64", Encoding::base64},     {"Base64", Encoding::base64},
      {"base64url", Encoding::base64url}, {"BASE64URL", Encoding::base64url}, {"hex", Encoding::hex},
      {"HEX", Encoding::hex},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.name));
    auto parsed = common::text::parse_encoding(c.name);
    REQUIRE(parsed.has_value());
    CHECK(name(*parsed) == name(c.encoding));
  }
}

TEST_CASE("parse_encoding refuses other names") {
  for (const char* bad : {"", "utf", "utf16", "utf-16", "utf-16be", "utf32", "latin-1", "iso-8859-1", "base-64",
                          "base64-url", " utf8", "utf8 "}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(common::text::parse_encoding(bad).has_value());
  }
  CHECK_FALSE(common::text::parse_encoding("utf8\0x"sv).has_value());
}

TEST_CASE("encoding_name gives a name parse_encoding reads back") {
  for (Encoding encoding : {Encoding::utf8, Encoding::utf16le, Encoding::latin1, Encoding::ascii, Encoding::base64,
                            Encoding::base64url, Encoding::hex}) {
    auto parsed = common::text::parse_encoding(common::text::encoding_name(encoding));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == encoding);
  }
  CHECK(common::text::encoding_name(Encoding::utf16le) == "utf16le");
  CHECK(common::text::encoding_name(Encoding::base64url) == "base64url");
}
