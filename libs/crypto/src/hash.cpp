#include "idp/crypto/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <climits>
#include <stdexcept>

namespace idp::crypto {
namespace {

// A never-null pointer for OpenSSL calls that reject nullptr even with a zero length.
const unsigned char* Bytes(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string Digest(std::string_view data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(Bytes(data), data.size(), out, &out_len, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

}  // namespace

std::string Sha256(std::string_view data) { return Digest(data, EVP_sha256()); }
std::string Sha384(std::string_view data) { return Digest(data, EVP_sha384()); }
std::string Sha512(std::string_view data) { return Digest(data, EVP_sha512()); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("HMAC key too long");
  if (HMAC(EVP_sha256(), Bytes(key), static_cast<int>(key.size()), Bytes(data), data.size(), out,
           &out_len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  Init();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace idp::crypto
