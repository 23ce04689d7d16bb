#pragma once
/// @file Grants, their revocations and their refresh tokens (schema `token`).

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idp::store {
class PgPool;
}

namespace idp::token {

/// What one authorization gave one client; every token names its grant.
struct Grant {
  std::string id;
  std::string client_id;
  std::string subject;
  std::string scope;
  std::string sid;
  std::int64_t auth_time = 0;
  std::vector<std::string> amr;
  std::string acr;
  std::int64_t expires_at = 0;  ///< the absolute end of its refresh tokens
  /// Claims asked for by name for userinfo (OIDC Core §5.5), space-separated.
  std::string claims;
};

enum class RotateOutcome {
  kRotated,  ///< the old token is now used; the new one is stored
  kReused,   ///< the old token had been used: the whole grant is now revoked
  kInvalid,  ///< unknown, expired, revoked, or another client's
};

struct Rotation {
  RotateOutcome outcome = RotateOutcome::kInvalid;
  Grant grant;  ///< for kRotated, and kReused (the grant now revoked)
};

/// Thread-safe; kUnavailable when the database cannot be reached.
class GrantStore {
 public:
  virtual ~GrantStore() = default;
  /// Stores a new grant (or finds it, for a retried attempt), and its refresh token when
  /// `refresh_hash` is not empty. Returns false when the grant is revoked (a reused code).
  [[nodiscard]] virtual Result<bool> Create(const Grant& grant, const std::string& refresh_hash,
                                            std::int64_t refresh_expires_at) = 0;
  /// Records the revocation of `grant_id` (the grant may not exist yet).
  [[nodiscard]] virtual Status Revoke(const std::string& grant_id, const std::string& reason) = 0;
  /// Revokes every live grant of the session `sid`; returns the client ids involved.
  [[nodiscard]] virtual Result<std::vector<std::string>> RevokeBySid(const std::string& sid) = 0;
  [[nodiscard]] virtual Result<bool> IsRevoked(const std::string& grant_id) = 0;
  /// Atomically marks the refresh token `old_hash` used and stores `new_hash` in its grant, for
  /// client `client_id`. A second use of `old_hash` revokes the grant (RFC 9700 §4.14.2),
  /// unless it comes from the same `attempt_id` (a retried call): then `new_hash` joins the
  /// grant too.
  [[nodiscard]] virtual Result<Rotation> Rotate(const std::string& old_hash,
                                                const std::string& new_hash,
                                                const std::string& client_id,
                                                const std::string& attempt_id) = 0;
  /// The live grant of an unused refresh token, or nullopt.
  [[nodiscard]] virtual Result<std::optional<Grant>> FindByRefresh(const std::string& hash) = 0;
  /// Records a client assertion's jti until `expires_at`; false when it was seen before
  /// (RFC 7523 §3 item 7: replay).
  [[nodiscard]] virtual Result<bool> RememberAssertion(const std::string& client_id,
                                                       const std::string& jti,
                                                       std::int64_t expires_at) = 0;
};

class PgGrantStore final : public GrantStore {
 public:
  explicit PgGrantStore(store::PgPool& pool) : pool_(pool) {}

  // GrantStore
  Result<bool> Create(const Grant& grant, const std::string& refresh_hash,
                      std::int64_t refresh_expires_at) override;
  Status Revoke(const std::string& grant_id, const std::string& reason) override;
  Result<std::vector<std::string>> RevokeBySid(const std::string& sid) override;
  Result<bool> IsRevoked(const std::string& grant_id) override;
  Result<Rotation> Rotate(const std::string& old_hash, const std::string& new_hash,
                          const std::string& client_id, const std::string& attempt_id) override;
  Result<std::optional<Grant>> FindByRefresh(const std::string& hash) override;
  Result<bool> RememberAssertion(const std::string& client_id, const std::string& jti,
                                 std::int64_t expires_at) override;

 private:
  store::PgPool& pool_;
};

}  // namespace idp::token
