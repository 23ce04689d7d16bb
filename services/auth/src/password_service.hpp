#pragma once
/// @file Password self-service: "forgot your password" links, invitations, and a signed-in
/// person's password change. Owns the tokens (PasswordTokenStore) and asks delivery to send
/// the emails (Mailer). The token leaves this service only inside the emailed link.

#include "account_store.hpp"
#include "mailer.hpp"
#include "password_policy.hpp"
#include "password_token_store.hpp"

#include "idp/crypto/crypto.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace idp::auth {

class AuthService;

struct PasswordServiceSettings {
  std::string issuer;                        ///< links are <issuer>/password/reset?token=...
  std::chrono::seconds reset_ttl{30 * 60};   ///< a reset link works 30 minutes
  std::chrono::seconds invite_ttl{7 * 86400};
  /// StartReset answers no sooner than this after it began, whether or not an account matched,
  /// so that its timing tells nothing (SECURITY §46).
  std::chrono::milliseconds reset_min_duration{250};
};

/// Why a new password was not taken.
enum class PasswordRejection {
  kNone,
  kInvalidToken,     ///< unknown, used, superseded or expired link
  kWeakPassword,     ///< the policy said no (`problem` says which rule)
  kWrongPassword,    ///< ChangePassword: the current password is not right
};

struct PasswordOutcome {
  PasswordRejection rejection = PasswordRejection::kNone;
  std::optional<PasswordProblem> problem;  ///< with kWeakPassword
  std::string subject;  ///< on success
};

/// Thread-safe.
class PasswordService {
 public:
  /// `check_new_password` says why a new password is not acceptable (nullopt: fine); it is the
  /// one policy of the service (AuthService::CheckPasswordPolicy in production).
  using PolicyCheck =
      std::function<std::optional<PasswordProblem>(const Account&, const std::string&)>;
  PasswordService(AuthService& auth, AccountStore& accounts, PasswordTokenStore& tokens, Mailer& mailer,
                  crypto::PasswordHashParams params, PasswordServiceSettings settings,
                  PolicyCheck check_new_password);

  /// Emails a reset link to the account named by `username_or_email` (a username, or the
  /// login email of exactly one account) when it exists, is enabled and has an email address.
  /// Same answer (none) and the same time otherwise; never waits for the email to be queued.
  [[nodiscard]] Status StartReset(const std::string& username_or_email);
  /// The grant of a valid token (for rendering the page); nullopt when not valid.
  [[nodiscard]] Result<std::optional<TokenGrant>> CheckToken(const std::string& token);
  /// Sets `new_password` through `token` (single use), lifts the account's lockout and sends
  /// the "password changed" notice. Audited when it succeeds.
  [[nodiscard]] Result<PasswordOutcome> CompleteReset(const std::string& token,
                                                      const std::string& new_password);
  /// Changes the password of `subject` after checking `current_password`; sends the notice.
  /// Audited, refused or not.
  [[nodiscard]] Result<PasswordOutcome> ChangePassword(const std::string& subject,
                                                       const std::string& current_password,
                                                       const std::string& new_password);
  /// Creates an account without a usable password and emails it a set-password link. Audited.
  /// kInvalidArgument for a bad username or email (required), kAlreadyExists for a taken name.
  [[nodiscard]] Result<Account> Invite(const std::string& username, const std::string& email,
                                       const std::string& name);

  /// The link for `token`, for tests.
  std::string LinkForTest(const std::string& token) const { return Link(token); }
  /// Issues a token as StartReset would and returns it instead of emailing it (tests).
  [[nodiscard]] Result<std::string> IssueForTest(const std::string& subject, TokenPurpose purpose);

 private:
  Result<PasswordOutcome> ResetWithToken(const std::string& token, const std::string& new_password);
  Result<PasswordOutcome> CheckAndChange(const std::string& subject,
                                         const std::string& current_password,
                                         const std::string& new_password);
  /// The Argon2id hash of the NFKC form of a new password.
  std::string HashNew(const std::string& password) const;
  std::string Link(const std::string& token) const;
  Result<std::string> Issue(const std::string& subject, TokenPurpose purpose);
  void NotifyChanged(const Account& account);

  AuthService& auth_;
  AccountStore& accounts_;
  PasswordTokenStore& tokens_;
  Mailer& mailer_;
  crypto::PasswordHashParams params_;
  PasswordServiceSettings settings_;
  PolicyCheck check_new_password_;
  std::string dummy_hash_;
};

/// The stored form of a token: hex SHA-256.
std::string TokenHash(const std::string& token);

}  // namespace idp::auth
