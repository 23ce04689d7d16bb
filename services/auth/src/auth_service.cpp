#include "auth_service.hpp"

#include "password_policy.hpp"

#include "idp/common/log.hpp"

#include <algorithm>
#include <cctype>

namespace idp::auth {
AuthService::AuthService(AccountStore& store, crypto::PasswordHashParams params,
                         LockoutPolicy lockout)
    : store_(store), params_(params), lockout_(lockout),
      dummy_hash_(crypto::HashPassword(crypto::RandomToken(), params)) {}

void AuthService::Audit(audit::Event event) {
  if (audit_ != nullptr) (void)audit_->Record(event);
}

std::optional<std::string> AuthService::NormalizeUsername(std::string_view username) {
  while (!username.empty() && username.front() == ' ') username.remove_prefix(1);
  while (!username.empty() && username.back() == ' ') username.remove_suffix(1);
  if (username.empty() || username.size() > 64) return std::nullopt;
  std::string out;
  for (char c : username) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '.' || l == '_' ||
              l == '@' || l == '+' || l == '-';
    if (!ok) return std::nullopt;
    out += l;
  }
  return out;
}

std::optional<std::string> AuthService::CheckPasswordPolicy(std::string_view password) {
  return CheckNewPassword(password);
}

std::string AuthService::HashNewPassword(std::string_view password) const {
  // CheckNewPassword passed, so the NFKC form exists.
  return crypto::HashPassword(NormalizePassword(password).value_or(std::string(password)),
                              params_);
}

Result<PasswordCheck> AuthService::VerifyPassword(const std::string& username,
                                                  const std::string& password,
                                                  const std::string& source) {
  auto normalized = NormalizeUsername(username);
  std::optional<Account> account;
  AccountStore::FailureState failures;
  if (normalized) {
    auto found = store_.FindByUsername(*normalized);
    if (!found) return found.error();
    account = std::move(*found);
    auto state = store_.Failures(*normalized, source, lockout_.pair_window);
    if (!state) return state.error();
    failures = *state;
  }
  // Always one full verification, against the dummy hash when there is nothing to check, so
  // that an unknown user or a lock costs the same time as a wrong password.
  //
  // The typed password is compared in NFKC form, as it was hashed (password_policy.hpp). A
  // hash set before passwords were normalised was made from the text as typed: when the typed
  // text is not its own NFKC form and the first check fails, the text as typed is tried too
  // (against the dummy hash as well when there is nothing to check, so the second check says
  // nothing about the account), and a match is re-hashed in NFKC form below. ASCII is its own
  // NFKC form, so ASCII passwords never take the second check.
  bool usable = account && !account->password_hash.empty() && password.size() <= 1024;
  const std::string& target = usable ? account->password_hash : dummy_hash_;
  const std::optional<std::string> nfkc =
      password.size() <= 1024 ? NormalizePassword(password) : std::optional<std::string>();
  const bool changed_by_nfkc = nfkc && *nfkc != password;
  const std::string_view dummy_input("x");
  bool match = crypto::VerifyPassword(
      target, !usable ? dummy_input : nfkc ? std::string_view(*nfkc) : std::string_view(password));
  bool legacy_match = false;
  if (!match && changed_by_nfkc) {
    legacy_match =
        crypto::VerifyPassword(target, usable ? std::string_view(password) : dummy_input);
    match = legacy_match;
  }
  // The audit row names the account only when it exists: a typed unknown username is never
  // stored (people type passwords into the username box).
  const std::string subject = account ? account->subject : std::string();
  auto failure = [&](const char* reason) {
    Audit({"signin.failure", subject, "", source, "", "", {{"reason", reason}}});
  };
  bool blocked = failures.account_locked || failures.pair_failures >= lockout_.pair_limit;
  if (blocked) {  // not counted, not extended
    failure(failures.account_locked ? "account_locked" : "address_waiting");
    return PasswordCheck{};
  }
  if (!usable || !match || account->disabled) {
    if (normalized) {
      auto locked = store_.RecordFailure(*normalized, source, lockout_.account_limit,
                                         lockout_.account_window, lockout_.lock);
      if (!locked) return locked.error();
      failure(!account             ? "unknown_account"
              : account->disabled  ? "disabled"
              : !usable            ? "no_password"
                                   : "wrong_password");
      if (*locked) {
        log::Warn("account locked after too many failed sign-ins", {{"subject", subject}});
        Audit({"account.locked", subject, "", source, "", "",
               {{"minutes", std::to_string(lockout_.lock.count() / 60)}}});
        if (mailer_ != nullptr && !account->email.empty()) {
          // One notice per lock: the key names the account and the second it locked.
          Mail mail;
          mail.kind = MailKind::kAccountLocked;
          const auto now = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch());
          mail.idempotency_key = "auth-locked:" +
                                 crypto::HexEncode(crypto::Sha256(subject)).substr(0, 32) + ":" +
                                 std::to_string(now.count());
          mail.to_address = account->email;
          mail.to_name = account->name;
          mail.valid_for = lockout_.lock;
          mailer_->Send(std::move(mail));
        }
      }
    } else {
      failure("unknown_account");
    }
    return PasswordCheck{};
  }
  if (failures.pair_failures > 0) {
    auto st = store_.ClearFailures(*normalized, source);
    if (!st) return st.error();
  }
  if (legacy_match || crypto::PasswordNeedsRehash(account->password_hash, params_)) {
    // Parameters were raised since this hash was made, or it was made from a password as typed
    // rather than its NFKC form: upgrade it now that we know the password.
    (void)store_.SetPasswordHash(account->subject,
                                 crypto::HashPassword(nfkc ? *nfkc : password, params_));
  }
  Audit({"signin.success", subject, "", source, "", "", {}});
  return PasswordCheck{true, account->subject};
}

Status AuthService::Unlock(const std::string& username) {
  auto normalized = NormalizeUsername(username);
  if (!normalized) return NotFound("account");
  auto found = store_.FindByUsername(*normalized);
  if (!found) return found.error();
  if (!*found) return NotFound("account");
  auto st = store_.Unlock(*normalized);
  if (st) Audit({"admin.account_unlocked", (*found)->subject, "", "", "", "", {}});
  return st;
}

Result<Account> AuthService::GetBySubject(const std::string& subject) {
  auto found = store_.FindBySubject(subject);
  if (!found) return found.error();
  if (!*found) return NotFound("account");
  return std::move(**found);
}

Result<Account> AuthService::GetByUsername(const std::string& username) {
  auto normalized = NormalizeUsername(username);
  if (!normalized) return NotFound("account");
  auto found = store_.FindByUsername(*normalized);
  if (!found) return found.error();
  if (!*found) return NotFound("account");
  return std::move(**found);
}

Result<Account> AuthService::Create(const NewAccount& in) {
  auto username = NormalizeUsername(in.username);
  if (!username) {
    return InvalidArgument("username must be 1-64 characters of a-z 0-9 . _ @ + -");
  }
  if (!in.email.empty() &&
      (in.email.find('@') == std::string::npos || in.email.size() > 254 ||
       std::any_of(in.email.begin(), in.email.end(), [](char c) { return c == ' ' || c < 0x20; }))) {
    return InvalidArgument("email address is not valid");
  }
  if (!in.phone_number.empty()) {
    bool ok = in.phone_number.size() >= 9 && in.phone_number.size() <= 16 &&
              in.phone_number[0] == '+' && in.phone_number[1] != '0';
    for (std::size_t i = 1; ok && i < in.phone_number.size(); ++i) {
      ok = in.phone_number[i] >= '0' && in.phone_number[i] <= '9';
    }
    if (!ok) return InvalidArgument("phone number must be E.164, like +31612345678");
  }
  Account a;
  a.phone_number = in.phone_number;
  a.username = *username;
  a.email = in.email;
  a.email_verified = in.email_verified;
  a.name = in.name;
  a.given_name = in.given_name;
  a.family_name = in.family_name;
  if (!in.password.empty()) {
    if (auto why = CheckPasswordPolicy(in.password)) return InvalidArgument(*why);
    a.password_hash = HashNewPassword(in.password);
  }
  auto created = store_.Create(a);
  if (!created && created.error().code == ErrorCode::kAlreadyExists) {
    return AlreadyExists("username is taken");
  }
  return created;
}

Result<Account> AuthService::CreateByAdmin(const NewAccount& in) {
  auto created = Create(in);
  if (!created) return created;
  log::Info("account created", {{"subject", created->subject}});
  audit::Event e;
  e.event = "admin.user_created";
  e.subject = created->subject;
  Audit(std::move(e));
  return created;
}

Status AuthService::SetPassword(const std::string& subject, const std::string& password) {
  if (auto why = CheckPasswordPolicy(password)) return InvalidArgument(*why);
  auto st = store_.SetPasswordHash(subject, HashNewPassword(password));
  if (!st) return st;
  log::Info("password set", {{"subject", subject}});
  audit::Event e;
  e.event = "admin.password_set";
  e.subject = subject;
  Audit(std::move(e));
  return st;
}

Result<std::vector<Account>> AuthService::List(int limit) {
  return store_.List(std::clamp(limit <= 0 ? 100 : limit, 1, 1000));
}

}  // namespace idp::auth
