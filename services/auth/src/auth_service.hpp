#pragma once
/// @file Account rules: username and password policy, Argon2id hashing, password checks that do
/// not reveal whether an account exists. Knows nothing of gRPC.

#include "account_store.hpp"

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

class AuthService {
 public:
  AuthService(AccountStore& store, crypto::PasswordHashParams params);

  /// Same work (one Argon2id verification) whether or not the account exists (SECURITY §46).
  [[nodiscard]] Result<PasswordCheck> VerifyPassword(const std::string& username,
                                                     const std::string& password);
  [[nodiscard]] Result<Account> GetBySubject(const std::string& subject);
  [[nodiscard]] Result<Account> GetByUsername(const std::string& username);
  /// kInvalidArgument for a bad username, email or password; kAlreadyExists for a taken name.
  [[nodiscard]] Result<Account> Create(const NewAccount& account);
  [[nodiscard]] Status SetPassword(const std::string& subject, const std::string& password);
  [[nodiscard]] Result<std::vector<Account>> List(int limit);

  /// Case-folds and trims a username; nullopt when it is not acceptable
  /// (1-64 characters of a-z 0-9 . _ @ + -).
  static std::optional<std::string> NormalizeUsername(std::string_view username);
  /// nullopt when acceptable, else why not: 8 to 128 characters (code points) of valid UTF-8,
  /// no control characters (NIST SP 800-63B §3.1.1.2, no composition rules).
  static std::optional<std::string> CheckPasswordPolicy(std::string_view password);

 private:
  AccountStore& store_;
  crypto::PasswordHashParams params_;
  /// A hash of a random password, verified against when the account is unknown.
  std::string dummy_hash_;
};

}  // namespace idp::auth
