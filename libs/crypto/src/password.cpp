#include "idp/crypto/crypto.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace idp::crypto {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// crypto_pwhash_str_* read a NUL-terminated string of at most STRBYTES - 1 characters.
std::optional<std::string> ToCString(std::string_view hash) {
  if (hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(hash);
}

}  // namespace

std::string HashPassword(std::string_view password, const PasswordHashParams& params) {
  Init();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing failed (out of memory or bad parameters)");
  }
  return std::string(out, ::strnlen(out, sizeof(out)));
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  Init();
  const auto c_hash = ToCString(hash);
  if (!c_hash) return false;
  return crypto_pwhash_str_verify(c_hash->c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view hash, const PasswordHashParams& params) {
  Init();
  // Anything that is not Argon2id (argon2i, bcrypt, garbage) is upgraded on next login.
  if (hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) return true;
  const auto c_hash = ToCString(hash);
  if (!c_hash) return true;
  return crypto_pwhash_str_needs_rehash(c_hash->c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace idp::crypto
