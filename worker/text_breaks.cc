#include "worker/text_breaks.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>

#include <map>
#include <utility>

namespace worker {
namespace {

// Building a break iterator parses ICU's rules; cloning one is cheap. One is
// built per (locale, granularity) and cloned for each text. A handler
// cycling through many locales gets fresh ones past the cap.
constexpr size_t kMaxTemplates = 16;
// ICU's iterator allocates caches of about this size besides the text.
constexpr size_t kIteratorBytes = 4096;

std::unique_ptr<icu::BreakIterator> create_iterator(const std::string& tag, Granularity granularity,
                                                    UErrorCode& status) {
  icu::Locale locale = icu::Locale::forLanguageTag(tag, status);
  if (U_FAILURE(status)) return nullptr;
  switch (granularity) {
    case Granularity::word:
      return std::unique_ptr<icu::BreakIterator>(icu::BreakIterator::createWordInstance(locale, status));
    case Granularity::sentence:
      return std::unique_ptr<icu::BreakIterator>(icu::BreakIterator::createSentenceInstance(locale, status));
    case Granularity::grapheme:
      break;
  }
  return std::unique_ptr<icu::BreakIterator>(icu::BreakIterator::createCharacterInstance(locale, status));
}

std::unique_ptr<icu::BreakIterator> new_iterator(const std::string& tag, Granularity granularity,
                                                 UErrorCode& status) {
  static std::map<std::pair<std::string, Granularity>, std::unique_ptr<icu::BreakIterator>> templates;
  auto key = std::make_pair(tag, granularity);
  auto found = templates.find(key);
  if (found != templates.end()) return std::unique_ptr<icu::BreakIterator>(found->second->clone());
  std::unique_ptr<icu::BreakIterator> made = create_iterator(tag, granularity, status);
  if (U_FAILURE(status) || !made) return nullptr;
  if (templates.size() >= kMaxTemplates) return made;
  std::unique_ptr<icu::BreakIterator> copy(made->clone());
  templates.emplace(std::move(key), std::move(made));
  return copy;
}

}  // namespace

// The text, which ICU reads in place (so it lives as long as the iterator),
// and the iterator over it.
struct TextBreaks::State {
  icu::UnicodeString text;
  std::unique_ptr<icu::BreakIterator> iterator;
};

TextBreaks::TextBreaks(std::unique_ptr<State> state) : state_(std::move(state)) {}
TextBreaks::~TextBreaks() = default;

std::unique_ptr<TextBreaks> TextBreaks::open(const std::string& locale_tag, Granularity granularity,
                                             std::u16string_view text, std::string& error) {
  auto state = std::make_unique<State>();
  state->text.setTo(text.data(), static_cast<int32_t>(text.size()));
  if (state->text.length() != static_cast<int32_t>(text.size())) {
    error = "out of memory";
    return nullptr;
  }
  UErrorCode status = U_ZERO_ERROR;
  state->iterator = new_iterator(locale_tag, granularity, status);
  if (U_FAILURE(status) || !state->iterator) {
    error = std::string("cannot create a break iterator: ") + u_errorName(status);
    return nullptr;
  }
  state->iterator->setText(state->text);
  return std::unique_ptr<TextBreaks>(new TextBreaks(std::move(state)));
}

std::unique_ptr<TextBreaks> TextBreaks::open(const std::string& locale_tag, Granularity granularity,
                                             std::basic_string_view<unsigned char> text, std::string& error) {
  // Latin-1 code units are the first 256 UTF-16 ones.
  std::u16string wide(text.begin(), text.end());
  return open(locale_tag, granularity, std::u16string_view(wide), error);
}

int32_t TextBreaks::length() const { return state_->text.length(); }

int32_t TextBreaks::following(int32_t index) { return state_->iterator->following(index); }

// The last break at or before index. preceding() moves an index inside a
// surrogate pair back to the pair's start first, hence index + 1 (and the
// boundary check for an index that starts a pair).
int32_t TextBreaks::segment_start(int32_t index) {
  return state_->iterator->isBoundary(index) ? index : state_->iterator->preceding(index + 1);
}

bool TextBreaks::word_like() const { return state_->iterator->getRuleStatus() >= UBRK_WORD_NONE_LIMIT; }

size_t TextBreaks::memory_bytes() const {
  return static_cast<size_t>(state_->text.length()) * sizeof(char16_t) + kIteratorBytes;
}

}  // namespace worker
