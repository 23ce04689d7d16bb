#include "auth_service.hpp"

#include "idp/common/log.hpp"

#include <algorithm>
#include <cctype>

namespace idp::auth {
namespace {

/// Counts UTF-8 code points; -1 on malformed input or a control character.
int CountCodePoints(std::string_view s) {
  int count = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    std::uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if (cp < 0x20 || cp == 0x7F) return -1;
    ++count;
    i += len;
  }
  return count;
}

}  // namespace

AuthService::AuthService(AccountStore& store, crypto::PasswordHashParams params,
                         LockoutPolicy lockout)
    : store_(store), params_(params), lockout_(lockout),
      dummy_hash_(crypto::HashPassword(crypto::RandomToken(), params)) {}

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
  int n = CountCodePoints(password);
  if (n < 0) return "password contains invalid characters";
  if (n < 8) return "password must be at least 8 characters";
  if (n > 128) return "password must be at most 128 characters";
  return std::nullopt;
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
  bool usable = account && !account->password_hash.empty() && password.size() <= 1024;
  bool match = crypto::VerifyPassword(usable ? account->password_hash : dummy_hash_,
                                      usable ? password : std::string_view("x"));
  bool blocked = failures.account_locked || failures.pair_failures >= lockout_.pair_limit;
  if (blocked) return PasswordCheck{};  // not counted, not extended
  if (!usable || !match || account->disabled) {
    if (normalized) {
      auto locked = store_.RecordFailure(*normalized, source, lockout_.account_limit,
                                         lockout_.account_window, lockout_.lock);
      if (!locked) return locked.error();
      if (*locked) {
        log::Warn("account locked after too many failed sign-ins",
                  {{"subject", account ? account->subject : std::string()}});
      }
    }
    return PasswordCheck{};
  }
  if (failures.pair_failures > 0) {
    auto st = store_.ClearFailures(*normalized, source);
    if (!st) return st.error();
  }
  if (crypto::PasswordNeedsRehash(account->password_hash, params_)) {
    // Parameters were raised since this hash was made: upgrade it now that we know the password.
    (void)store_.SetPasswordHash(account->subject, crypto::HashPassword(password, params_));
  }
  return PasswordCheck{true, account->subject};
}

Status AuthService::Unlock(const std::string& username) {
  auto normalized = NormalizeUsername(username);
  if (!normalized) return NotFound("account");
  auto found = store_.FindByUsername(*normalized);
  if (!found) return found.error();
  if (!*found) return NotFound("account");
  return store_.Unlock(*normalized);
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
    a.password_hash = crypto::HashPassword(in.password, params_);
  }
  auto created = store_.Create(a);
  if (!created && created.error().code == ErrorCode::kAlreadyExists) {
    return AlreadyExists("username is taken");
  }
  return created;
}

Status AuthService::SetPassword(const std::string& subject, const std::string& password) {
  if (auto why = CheckPasswordPolicy(password)) return InvalidArgument(*why);
  return store_.SetPasswordHash(subject, crypto::HashPassword(password, params_));
}

Result<std::vector<Account>> AuthService::List(int limit) {
  return store_.List(std::clamp(limit <= 0 ? 100 : limit, 1, 1000));
}

}  // namespace idp::auth
