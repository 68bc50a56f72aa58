#pragma once
// Binary encoding for messages between portbroker processes on one host: fixed
// width integers in host byte order, length-prefixed strings and byte runs. The
// reader never reads past its input; a short or malformed message just makes
// ok() false, and callers treat that peer as broken.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ipc {

class WireWriter {
 public:
  template <typename T>
    requires std::is_integral_v<T>
  void put(T value) {
    append(&value, sizeof value);
  }
  void put_bytes(std::span<const uint8_t> bytes) {
    put(static_cast<uint32_t>(bytes.size()));
    append(bytes.data(), bytes.size());
  }
  void put_string(std::string_view text) {
    put(static_cast<uint32_t>(text.size()));
    append(text.data(), text.size());
  }
  void append(const void* data, size_t size) {
    if (size == 0) return;
    // resize + memcpy rather than insert(): GCC 12 reports a false
    // -Wstringop-overflow for vector::insert of small runs at -O2.
    size_t old_size = buffer_.size();
    buffer_.resize(old_size + size);
    std::memcpy(buffer_.data() + old_size, data, size);
  }
  // Overwrites an integer written earlier at `offset` (for counts known late).
  template <typename T>
  void patch(size_t offset, T value) {
    std::memcpy(buffer_.data() + offset, &value, sizeof value);
  }

  size_t size() const { return buffer_.size(); }
  void clear() { buffer_.clear(); }
  std::span<const uint8_t> bytes() const { return buffer_; }

 private:
  std::vector<uint8_t> buffer_;
};

class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> input) : input_(input) {}

  template <typename T>
    requires std::is_integral_v<T>
  T get() {
    T value{};
    if (!take(sizeof value)) return value;
    std::memcpy(&value, input_.data() + position_ - sizeof value, sizeof value);
    return value;
  }
  // Views into the input; valid as long as the input is.
  std::span<const uint8_t> get_bytes() {
    auto size = get<uint32_t>();
    if (!take(size)) return {};
    return input_.subspan(position_ - size, size);
  }
  std::string_view get_string() {
    auto bytes = get_bytes();
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  void get_raw(void* out, size_t size) {
    if (take(size)) std::memcpy(out, input_.data() + position_ - size, size);
  }

  bool ok() const { return ok_; }
  bool at_end() const { return position_ == input_.size(); }

 private:
  bool take(size_t size) {
    if (!ok_ || size > input_.size() - position_) {
      ok_ = false;
      return false;
    }
    position_ += size;
    return true;
  }

  std::span<const uint8_t> input_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace ipc
