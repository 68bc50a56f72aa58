#pragma once
// A hash map keyed by std::string that can be searched with a std::string_view,
// so looking a key or channel up never copies the caller's bytes. Keys and
// channels are chosen by clients, so the hash is keyed (SipHash with a secret
// per-process key): with an unkeyed one a client could choose names that all
// share a bucket and make every lookup a scan of them.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/keyed_hash.h"

namespace store {

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, common::KeyedStringHash, std::equal_to<>>;

}  // namespace store
