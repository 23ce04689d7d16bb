#pragma once
/// @file Storage of accounts (schema `auth`), kept apart from the rules in AuthService.

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idp::auth {

struct Account {
  std::string subject;
  std::string username;  ///< case-folded
  std::string email;
  bool email_verified = false;
  std::string name;
  std::string given_name;
  std::string family_name;
  std::string password_hash;  ///< empty when no password is set
  bool disabled = false;
  std::int64_t updated_at = 0;  ///< seconds since the epoch
  std::string phone_number;     ///< E.164 or empty
  bool phone_number_verified = false;
};

/// Thread-safe. kUnavailable when the database cannot be reached.
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  /// nullopt when no account has that (case-folded) username.
  [[nodiscard]] virtual Result<std::optional<Account>> FindByUsername(const std::string& username) = 0;
  /// nullopt when no account has that subject (a malformed subject is not found either).
  [[nodiscard]] virtual Result<std::optional<Account>> FindBySubject(const std::string& subject) = 0;
  /// Inserts; the subject is generated. kAlreadyExists for a taken username.
  [[nodiscard]] virtual Result<Account> Create(const Account& account) = 0;
  /// kNotFound for an unknown subject.
  [[nodiscard]] virtual Status SetPasswordHash(const std::string& subject, const std::string& hash) = 0;
  [[nodiscard]] virtual Result<std::vector<Account>> List(int limit) = 0;

  /// Failures of `username` from `source` within `window`, and whether the whole account is
  /// locked now.
  struct FailureState {
    int pair_failures = 0;
    bool account_locked = false;
  };
  [[nodiscard]] virtual Result<FailureState> Failures(const std::string& username,
                                                      const std::string& source,
                                                      std::chrono::seconds window) = 0;
  /// Records a failure; locks the account for `lock` when it has `account_limit` failures from
  /// any source within `account_window`. Returns true when this failure locked it.
  [[nodiscard]] virtual Result<bool> RecordFailure(const std::string& username,
                                                   const std::string& source, int account_limit,
                                                   std::chrono::seconds account_window,
                                                   std::chrono::seconds lock) = 0;
  /// A success forgets the pair's failures.
  [[nodiscard]] virtual Status ClearFailures(const std::string& username,
                                             const std::string& source) = 0;
  /// Lifts a lock and forgets every failure (idpctl users unlock).
  [[nodiscard]] virtual Status Unlock(const std::string& username) = 0;
};

}  // namespace idp::auth
