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
  std::int64_t activates_at = 0;  ///< signs from here on
  std::int64_t retired_at = 0;    ///< 0 = not retired; signs until then
};

struct KeyPolicy {
  /// How long a new key is published before it signs (caches of JWKS catch up meanwhile).
  std::chrono::seconds publish_ahead{0};
  /// How long a retired key stays in JWKS: the longest life of a token it signed.
  std::chrono::seconds keep_published{3600};
};

/// Thread-safe. Loads the keys of table token.signing_keys; a kid it does not know makes it
/// reload (another instance may have rotated), at most once per second.
class KeyRing {
 public:
  KeyRing(store::PgPool& pool, crypto::Aead master, KeyPolicy policy = {});

  /// Creates a key for each algorithm in `algs` that has no active key yet (serialised across
  /// instances by an advisory lock), then loads all keys. Startup only.
  [[nodiscard]] Status EnsureKeys(const std::vector<jose::Alg>& algs);
  /// The key that signs for `alg` now; kFailedPrecondition when there is none. Reloads the
  /// ring every 30 s so that a rotation by any instance reaches every instance.
  [[nodiscard]] Result<SigningKey> Active(jose::Alg alg);
  /// Creates the next key for `alg` (published now, signing after publish_ahead) and retires
  /// the current one at that moment. Returns {new kid, retired kid}.
  [[nodiscard]] Result<std::pair<std::string, std::string>> Rotate(jose::Alg alg);
  /// The key with id `kid` (active or retired), reloading once when unknown.
  std::optional<SigningKey> Find(const std::string& kid);
  /// The JWK Set of every published key: public parts only (RFC 7517 §5).
  std::string JwksJson();

 private:
  [[nodiscard]] Status Load();

  void ReloadIfStale();

  store::PgPool& pool_;
  crypto::Aead master_;
  KeyPolicy policy_;
  std::mutex mu_;
  std::vector<SigningKey> keys_;
  std::chrono::steady_clock::time_point last_load_{};
};

}  // namespace idp::token
