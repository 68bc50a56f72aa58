#pragma once
// Text segmentation by ICU's break iterators, for Intl.Segmenter
// (worker/api_intl.cc). This file and text_breaks.cc use Debian's system ICU
// and never see the engine's headers: libmozjs-102 embeds its own ICU 71 and
// ships that version's headers, which would shadow the system ones.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace worker {

enum class Granularity { grapheme, word, sentence };

class TextBreaks {
 public:
  // The breaks of `text` (UTF-16, or Latin-1 code units) by the rules of
  // `locale_tag`; nullptr, with `error` set, when ICU cannot build them.
  static std::unique_ptr<TextBreaks> open(const std::string& locale_tag, Granularity granularity,
                                          std::u16string_view text, std::string& error);
  static std::unique_ptr<TextBreaks> open(const std::string& locale_tag, Granularity granularity,
                                          std::basic_string_view<unsigned char> text, std::string& error);
  ~TextBreaks();
  TextBreaks(const TextBreaks&) = delete;
  TextBreaks& operator=(const TextBreaks&) = delete;

  int32_t length() const;
  // The first break after `index` (the end of the segment holding it).
  int32_t following(int32_t index);
  // The start of the segment holding `index`.
  int32_t segment_start(int32_t index);
  // Whether the segment ending at the break following() last found is a
  // word (letters, numbers, kana, ideographs), by ICU's rule status.
  bool word_like() const;
  // What this object holds besides itself, for the garbage collector's
  // accounting.
  size_t memory_bytes() const;

 private:
  struct State;
  explicit TextBreaks(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace worker
