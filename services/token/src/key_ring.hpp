#pragma once
/// @file The signing keys: created at first start, kept in PostgreSQL with the private key
/// sealed under the master key, shared by every instance.

#include "idp/common/error.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/jose/jose.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace idp::store {
class PgPool;
}

namespace idp::token {

struct SigningKey {
  std::string kid;
  jose::Key key;
  std::int64_t created_at = 0;
  bool retired = false;
};

/// Thread-safe. Loads the keys of table token.signing_keys; a kid it does not know makes it
/// reload (another instance may have rotated), at most once per second.
class KeyRing {
 public:
  KeyRing(store::PgPool& pool, crypto::Aead master);

  /// Creates a key for each algorithm in `algs` that has no active key yet (serialised across
  /// instances by an advisory lock), then loads all keys. Startup only.
  [[nodiscard]] Status EnsureKeys(const std::vector<jose::Alg>& algs);
  /// The newest active key for `alg`; kFailedPrecondition when there is none.
  [[nodiscard]] Result<SigningKey> Active(jose::Alg alg);
  /// The key with id `kid` (active or retired), reloading once when unknown.
  std::optional<SigningKey> Find(const std::string& kid);
  /// The JWK Set of every published key: public parts only (RFC 7517 §5).
  std::string JwksJson();

 private:
  [[nodiscard]] Status Load();

  store::PgPool& pool_;
  crypto::Aead master_;
  std::mutex mu_;
  std::vector<SigningKey> keys_;
  std::chrono::steady_clock::time_point last_load_{};
};

}  // namespace idp::token
