#pragma once
/// @file Storage of second factors (schema `mfa`). Grows with the multi-factor issue.

#include "idp/common/error.hpp"

#include <cstdint>
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
};

/// Thread-safe; kUnavailable when the database cannot be reached.
class FactorStore {
 public:
  virtual ~FactorStore() = default;
  /// Every factor of `subject`, oldest first; empty for an unknown or malformed subject.
  [[nodiscard]] virtual Result<std::vector<FactorRecord>> List(const std::string& subject) = 0;
};

class PgFactorStore final : public FactorStore {
 public:
  explicit PgFactorStore(store::PgPool& pool) : pool_(pool) {}

  // FactorStore
  Result<std::vector<FactorRecord>> List(const std::string& subject) override;

 private:
  store::PgPool& pool_;
};

}  // namespace idp::mfa
