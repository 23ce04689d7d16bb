#pragma once
/// @file Storage of password-setting tokens (table auth.password_tokens): the reset link of
/// "forgot your password" and the set-password link of an invitation. Only SHA-256 hashes of
/// tokens are stored.

#include "idp/common/error.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace idp::store {
class PgPool;
}

namespace idp::auth {

enum class TokenPurpose { kReset, kInvite };

/// What a valid token stands for.
struct TokenGrant {
  std::string subject;
  std::string username;
  TokenPurpose purpose = TokenPurpose::kReset;
};

/// Thread-safe. kUnavailable when the database cannot be reached. A token is valid when it is
/// unused, unexpired, and the newest token issued to its person.
class PasswordTokenStore {
 public:
  virtual ~PasswordTokenStore() = default;
  /// Stores a new token (by hash) for `subject`; every older token of the person stops working.
  [[nodiscard]] virtual Status Issue(const std::string& token_hash, const std::string& subject,
                                     TokenPurpose purpose, std::chrono::seconds ttl) = 0;
  /// The grant of a valid token; nullopt for an unknown, used, superseded or expired one.
  [[nodiscard]] virtual Result<std::optional<TokenGrant>> Check(const std::string& token_hash) = 0;
  /// In one transaction: marks the token used (an atomic conditional UPDATE, so of two
  /// concurrent uses one wins), sets the account's password hash, and lifts the account's
  /// lockout. nullopt when the token is not valid (nothing changes).
  [[nodiscard]] virtual Result<std::optional<TokenGrant>> Redeem(const std::string& token_hash,
                                                                 const std::string& password_hash) = 0;
  /// The subject of the one account whose (login) email is `email`, case-insensitively;
  /// nullopt when none or several have it.
  [[nodiscard]] virtual Result<std::optional<std::string>> FindSubjectByEmail(
      const std::string& email) = 0;
};

class PgPasswordTokenStore final : public PasswordTokenStore {
 public:
  explicit PgPasswordTokenStore(store::PgPool& pool) : pool_(pool) {}

  // PasswordTokenStore
  Status Issue(const std::string& token_hash, const std::string& subject, TokenPurpose purpose,
               std::chrono::seconds ttl) override;
  Result<std::optional<TokenGrant>> Check(const std::string& token_hash) override;
  Result<std::optional<TokenGrant>> Redeem(const std::string& token_hash,
                                           const std::string& password_hash) override;
  Result<std::optional<std::string>> FindSubjectByEmail(const std::string& email) override;

 private:
  store::PgPool& pool_;
};

}  // namespace idp::auth
