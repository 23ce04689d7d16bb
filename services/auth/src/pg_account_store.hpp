#pragma once

#include "account_store.hpp"

namespace idp::store {
class PgPool;
}

namespace idp::auth {

/// AccountStore over PostgreSQL schema `auth`.
class PgAccountStore final : public AccountStore {
 public:
  explicit PgAccountStore(store::PgPool& pool) : pool_(pool) {}

  // AccountStore
  Result<std::optional<Account>> FindByUsername(const std::string& username) override;
  Result<std::optional<Account>> FindBySubject(const std::string& subject) override;
  Result<Account> Create(const Account& account) override;
  Status SetPasswordHash(const std::string& subject, const std::string& hash) override;
  Result<std::vector<Account>> List(int limit) override;
  Result<FailureState> Failures(const std::string& username, const std::string& source,
                                std::chrono::seconds window) override;
  Result<bool> RecordFailure(const std::string& username, const std::string& source,
                             int account_limit, std::chrono::seconds account_window,
                             std::chrono::seconds lock) override;
  Status ClearFailures(const std::string& username, const std::string& source) override;
  Status Unlock(const std::string& username) override;

 private:
  store::PgPool& pool_;
};

}  // namespace idp::auth
