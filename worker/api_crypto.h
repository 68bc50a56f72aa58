#pragma once
#include <jsapi.h>

namespace worker {
// native.getRandomValues(typedArray) and native.randomUUID(), from the
// kernel's CSPRNG (getrandom); hashes, HMACs, PBKDF2 and scrypt by OpenSSL's
// EVP interfaces for worker/js/crypto.js (the key derivations also as jobs on
// libuv's thread pool).
bool install_crypto_api(JSContext* cx, JS::HandleObject native);
}  // namespace worker
