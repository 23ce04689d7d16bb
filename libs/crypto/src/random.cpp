#include "idp/crypto/crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace idp::crypto {

void Init() {
  // sodium_init() is itself thread-safe and idempotent; the static only saves repeated calls.
  static const bool kReady = sodium_init() >= 0;
  if (!kReady) throw std::runtime_error("libsodium initialisation failed");
}

std::string RandomBytes(std::size_t n) {
  Init();
  std::string out(n, '\0');
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

std::string RandomToken(std::size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

std::uint32_t RandomUniform(std::uint32_t upper) {
  Init();
  // randombytes_uniform avoids modulo bias; it returns 0 for upper < 2.
  return randombytes_uniform(upper);
}

}  // namespace idp::crypto
