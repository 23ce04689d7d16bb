#pragma once
/// @file Storage of second factors, recovery codes and wrong-code counts (schema `mfa`).

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idp::store {
class PgPool;
}

namespace idp::mfa {

struct FactorRecord {
  std::string id;
  std::string type;  ///< totp | email | sms | recovery_codes
  std::string label;
  bool active = false;
  std::int64_t created_at = 0;
  std::string sealed_secret;  ///< AES-256-GCM under the master key (aad: factor id)
  std::int64_t last_step = 0;  ///< TOTP: the last time step accepted
};

/// Thread-safe; kUnavailable when the database cannot be reached. A malformed subject matches
/// nothing.
class FactorStore {
 public:
  virtual ~FactorStore() = default;
  /// Every factor of `subject`, oldest first (secrets included; never leave the service).
  [[nodiscard]] virtual Result<std::vector<FactorRecord>> List(const std::string& subject) = 0;
  /// Stores a pending factor with id `factor.id`.
  [[nodiscard]] virtual Status Insert(const std::string& subject, const FactorRecord& factor) = 0;
  /// Activates the pending factor and records `step` as its last accepted TOTP step.
  [[nodiscard]] virtual Result<bool> Activate(const std::string& subject, const std::string& id,
                                              std::int64_t step) = 0;
  /// Records `step` as accepted when it is later than the last one; false otherwise (a
  /// replay). One conditional UPDATE, so racing uses of one code accept it once.
  [[nodiscard]] virtual Result<bool> AcceptStep(const std::string& id, std::int64_t step) = 0;
  [[nodiscard]] virtual Result<bool> Remove(const std::string& subject, const std::string& id) = 0;
  /// Removes every factor and recovery code; returns how many factors.
  [[nodiscard]] virtual Result<int> RemoveAll(const std::string& subject) = 0;
  /// Replaces the person's recovery codes with `hashes`.
  [[nodiscard]] virtual Status ReplaceRecoveryCodes(const std::string& subject,
                                                    const std::vector<std::string>& hashes) = 0;
  /// Uses the code with hash `hash` once; the number left, or nullopt when it was no unused
  /// code of the person's.
  [[nodiscard]] virtual Result<std::optional<int>> UseRecoveryCode(const std::string& subject,
                                                                   const std::string& hash) = 0;
  [[nodiscard]] virtual Result<int> CountRecoveryCodes(const std::string& subject) = 0;
  /// Records one wrong code and returns the person's wrong codes within `window`.
  [[nodiscard]] virtual Result<int> RecordFailure(const std::string& subject,
                                                  std::chrono::seconds window) = 0;
  [[nodiscard]] virtual Result<int> CountFailures(const std::string& subject,
                                                  std::chrono::seconds window) = 0;
};

struct BrowserRecord {
  std::string id;
  std::string label;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

/// Remembered browsers (table mfa.remembered_browsers); thread-safe.
class BrowserStore {
 public:
  explicit BrowserStore(store::PgPool& pool) : pool_(pool) {}
  [[nodiscard]] Status Add(const std::string& subject, const std::string& token_hash,
                           const std::string& label, std::chrono::seconds life);
  /// True when the hash belongs to a live entry of `subject`.
  [[nodiscard]] Result<bool> Check(const std::string& subject, const std::string& token_hash);
  [[nodiscard]] Result<std::vector<BrowserRecord>> List(const std::string& subject);
  /// Forgets one (`id`) or all (empty id); returns how many.
  [[nodiscard]] Result<int> Forget(const std::string& subject, const std::string& id);

 private:
  store::PgPool& pool_;
};

class PgFactorStore final : public FactorStore {
 public:
  explicit PgFactorStore(store::PgPool& pool) : pool_(pool) {}

  // FactorStore
  Result<std::vector<FactorRecord>> List(const std::string& subject) override;
  Status Insert(const std::string& subject, const FactorRecord& factor) override;
  Result<bool> Activate(const std::string& subject, const std::string& id,
                        std::int64_t step) override;
  Result<bool> AcceptStep(const std::string& id, std::int64_t step) override;
  Result<bool> Remove(const std::string& subject, const std::string& id) override;
  Result<int> RemoveAll(const std::string& subject) override;
  Status ReplaceRecoveryCodes(const std::string& subject,
                              const std::vector<std::string>& hashes) override;
  Result<std::optional<int>> UseRecoveryCode(const std::string& subject,
                                             const std::string& hash) override;
  Result<int> CountRecoveryCodes(const std::string& subject) override;
  Result<int> RecordFailure(const std::string& subject, std::chrono::seconds window) override;
  Result<int> CountFailures(const std::string& subject, std::chrono::seconds window) override;

 private:
  store::PgPool& pool_;
};

/// True when `s` is a canonical UUID (what subjects and factor ids are).
bool IsUuid(const std::string& s);

}  // namespace idp::mfa
