#pragma once
/// @file Account rules: username and password policy, Argon2id hashing, password checks that do
/// not reveal whether an account exists. Knows nothing of gRPC.

#include "account_store.hpp"
#include "mailer.hpp"

#include "idp/audit/audit.hpp"
#include "idp/crypto/crypto.hpp"

#include <string>

namespace idp::auth {

/// The outcome of a password check: the subject on success, nothing otherwise. The reason is
/// deliberately not told apart (unknown user, wrong password, disabled, no password set).
struct PasswordCheck {
  bool ok = false;
  std::string subject;
};

struct NewAccount {
  std::string username;
  std::string email;
  bool email_verified = false;
  std::string name;
  std::string given_name;
  std::string family_name;
  std::string password;  ///< optional
  std::string phone_number;  ///< optional, E.164
};

/// Failed-password limits (SECURITY table: 10 per account+address, then that pair waits
/// 15 min; 100 per account from any source in 24 h, then the account locks for 15 min).
struct LockoutPolicy {
  int pair_limit = 10;
  std::chrono::seconds pair_window{15 * 60};
  int account_limit = 100;
  std::chrono::seconds account_window{24 * 3600};
  std::chrono::seconds lock{15 * 60};
};

class AuthService {
 public:
  AuthService(AccountStore& store, crypto::PasswordHashParams params, LockoutPolicy lockout = {});

  /// Records sign-ins, lockouts and admin actions there from now on (null: not recorded). The
  /// log must outlive this service. Not thread-safe: call before serving.
  void SetAuditLog(audit::AuditLog* log) { audit_ = log; }
  /// Tells people by email when failed sign-ins lock their account (null: nobody is told). The
  /// mailer must outlive this service. Not thread-safe: call before serving.
  void SetMailer(Mailer* mailer) { mailer_ = mailer; }
  /// Records `event` when an audit log is set; a failure is logged and ignored (AuditLog).
  void Audit(audit::Event event);

  /// Same work (one Argon2id verification) and the same answer whether the account is
  /// unknown, the password wrong, or the pair or account locked (SECURITY §46, §67). A locked
  /// pair or account fails even with the right password, and failures during a lock are not
  /// counted; a success forgets the pair's failures.
  [[nodiscard]] Result<PasswordCheck> VerifyPassword(const std::string& username,
                                                     const std::string& password,
                                                     const std::string& source = "");
  /// Lifts a lock (idpctl users unlock). kNotFound for an unknown username.
  [[nodiscard]] Status Unlock(const std::string& username);
  [[nodiscard]] Result<Account> GetBySubject(const std::string& subject);
  [[nodiscard]] Result<Account> GetByUsername(const std::string& username);
  /// kInvalidArgument for a bad username, email or password; kAlreadyExists for a taken name.
  [[nodiscard]] Result<Account> Create(const NewAccount& account);
  /// Create, by an administrator (idpctl users create): audited.
  [[nodiscard]] Result<Account> CreateByAdmin(const NewAccount& account);
  /// An administrator sets a person's password: audited.
  [[nodiscard]] Status SetPassword(const std::string& subject, const std::string& password);
  [[nodiscard]] Result<std::vector<Account>> List(int limit);

  /// Case-folds and trims a username; nullopt when it is not acceptable
  /// (1-64 characters of a-z 0-9 . _ @ + -).
  static std::optional<std::string> NormalizeUsername(std::string_view username);
  /// nullopt when acceptable, else why not (password_policy.hpp): 8 to 128 characters (code
  /// points of the NFKC form) of valid UTF-8, no control characters, not a common password
  /// (NIST SP 800-63B §3.1.1.2, no composition rules).
  static std::optional<std::string> CheckPasswordPolicy(std::string_view password);

 private:
  /// The Argon2id hash of the NFKC form of a password that passed CheckPasswordPolicy.
  std::string HashNewPassword(std::string_view password) const;

  AccountStore& store_;
  crypto::PasswordHashParams params_;
  LockoutPolicy lockout_;
  /// A hash of a random password, verified against when the account is unknown.
  std::string dummy_hash_;
  audit::AuditLog* audit_ = nullptr;
  Mailer* mailer_ = nullptr;
};

}  // namespace idp::auth
