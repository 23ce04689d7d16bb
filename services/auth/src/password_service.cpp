#include "password_service.hpp"

#include "password_policy.hpp"

#include "auth_service.hpp"

#include "idp/common/log.hpp"

#include <thread>

namespace idp::auth {
namespace {

/// Tokens are 256-bit base64url strings (43 characters); anything else is not looked up.
bool LooksLikeToken(const std::string& token) {
  if (token.size() < 32 || token.size() > 64) return false;
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string TokenHash(const std::string& token) { return crypto::HexEncode(crypto::Sha256(token)); }

PasswordService::PasswordService(AuthService& auth, AccountStore& accounts, PasswordTokenStore& tokens,
                                 Mailer& mailer, crypto::PasswordHashParams params,
                                 PasswordServiceSettings settings, PolicyCheck check_new_password)
    : auth_(auth),
      accounts_(accounts),
      tokens_(tokens),
      mailer_(mailer),
      params_(params),
      settings_(std::move(settings)),
      check_new_password_(std::move(check_new_password)),
      dummy_hash_(crypto::HashPassword(crypto::RandomToken(), params)) {
  while (!settings_.issuer.empty() && settings_.issuer.back() == '/') settings_.issuer.pop_back();
}

std::string PasswordService::Link(const std::string& token) const {
  return settings_.issuer + "/password/reset?token=" + token;
}

Result<std::string> PasswordService::Issue(const std::string& subject, TokenPurpose purpose) {
  std::string token = crypto::RandomToken(32);
  auto st = tokens_.Issue(TokenHash(token), subject, purpose,
                          purpose == TokenPurpose::kInvite ? settings_.invite_ttl
                                                           : settings_.reset_ttl);
  if (!st) return st.error();
  return token;
}

Result<std::string> PasswordService::IssueForTest(const std::string& subject,
                                                  TokenPurpose purpose) {
  return Issue(subject, purpose);
}

Status PasswordService::StartReset(const std::string& username_or_email) {
  const auto deadline = std::chrono::steady_clock::now() + settings_.reset_min_duration;
  auto finish = [&](Status st) {
    std::this_thread::sleep_until(deadline);
    return st;
  };
  std::optional<Account> account;
  if (auto username = AuthService::NormalizeUsername(username_or_email)) {
    auto found = accounts_.FindByUsername(*username);
    if (!found) return finish(found.error());
    account = std::move(*found);
  }
  if (!account && username_or_email.find('@') != std::string::npos &&
      username_or_email.size() <= 254) {
    auto subject = tokens_.FindSubjectByEmail(username_or_email);
    if (!subject) return finish(subject.error());
    if (*subject) {
      auto found = accounts_.FindBySubject(**subject);
      if (!found) return finish(found.error());
      account = std::move(*found);
    }
  }
  if (!account || account->disabled || account->email.empty()) {
    log::Info("password reset asked for no usable account", {});
    return finish({});
  }
  auto token = Issue(account->subject, TokenPurpose::kReset);
  if (!token) return finish(token.error());
  Mail mail;
  mail.kind = MailKind::kPasswordReset;
  mail.idempotency_key = "auth-reset:" + TokenHash(*token).substr(0, 32);
  mail.to_address = account->email;
  mail.to_name = account->name;
  mail.link = Link(*token);
  mail.valid_for = settings_.reset_ttl;
  mailer_.Send(std::move(mail));
  log::Info("password reset link issued", {{"subject", account->subject}});
  return finish({});
}

Result<std::optional<TokenGrant>> PasswordService::CheckToken(const std::string& token) {
  if (!LooksLikeToken(token)) return std::optional<TokenGrant>{};
  return tokens_.Check(TokenHash(token));
}

Result<PasswordOutcome> PasswordService::CompleteReset(const std::string& token,
                                                      const std::string& new_password) {
  auto out = ResetWithToken(token, new_password);
  if (out && out->rejection == PasswordRejection::kNone) {
    audit::Event e;
    e.event = "password.reset_completed";
    e.subject = out->subject;
    auth_.Audit(std::move(e));
  }
  return out;
}

Result<PasswordOutcome> PasswordService::ResetWithToken(const std::string& token,
                                                        const std::string& new_password) {
  PasswordOutcome out;
  if (!LooksLikeToken(token)) {
    out.rejection = PasswordRejection::kInvalidToken;
    return out;
  }
  const std::string hash = TokenHash(token);
  auto grant = tokens_.Check(hash);
  if (!grant) return grant.error();
  if (!*grant) {
    out.rejection = PasswordRejection::kInvalidToken;
    return out;
  }
  auto account = accounts_.FindBySubject((*grant)->subject);
  if (!account) return account.error();
  if (!*account) {
    out.rejection = PasswordRejection::kInvalidToken;
    return out;
  }
  if (auto why = check_new_password_(**account, new_password)) {
    out.rejection = PasswordRejection::kWeakPassword;
    out.problem = *why;
    return out;
  }
  auto redeemed = tokens_.Redeem(hash, HashNew(new_password));
  if (!redeemed) return redeemed.error();
  if (!*redeemed) {  // used or superseded meanwhile
    out.rejection = PasswordRejection::kInvalidToken;
    return out;
  }
  out.subject = (*redeemed)->subject;
  log::Info((*redeemed)->purpose == TokenPurpose::kInvite ? "password set through an invitation"
                                                          : "password reset through a link",
            {{"subject", out.subject}});
  NotifyChanged(**account);
  return out;
}

std::string PasswordService::HashNew(const std::string& password) const {
  // Hashed in NFKC form, as AuthService does, so that every way of typing it verifies.
  return crypto::HashPassword(NormalizePassword(password).value_or(password), params_);
}

Result<PasswordOutcome> PasswordService::ChangePassword(const std::string& subject,
                                                       const std::string& current_password,
                                                       const std::string& new_password) {
  auto out = CheckAndChange(subject, current_password, new_password);
  if (out) {
    audit::Event e;
    e.event = out->rejection == PasswordRejection::kNone ? "password.changed"
                                                         : "password.change_refused";
    e.subject = subject;
    auth_.Audit(std::move(e));
  }
  return out;
}

Result<PasswordOutcome> PasswordService::CheckAndChange(const std::string& subject,
                                                        const std::string& current_password,
                                                        const std::string& new_password) {
  PasswordOutcome out;
  auto found = accounts_.FindBySubject(subject);
  if (!found) return found.error();
  if (!*found) return NotFound("account");
  const Account& account = **found;
  // One full verification whatever the account holds.
  const bool usable = !account.password_hash.empty() && current_password.size() <= 1024 &&
                      !account.disabled;
  // The NFKC form first (how passwords are hashed), then, for a hash made before NFKC, the
  // text as typed (password_policy.hpp).
  const std::string nfkc = NormalizePassword(current_password).value_or(current_password);
  bool match = crypto::VerifyPassword(usable ? account.password_hash : dummy_hash_,
                                      usable ? std::string_view(nfkc) : std::string_view("x"));
  if (usable && !match && nfkc != current_password) {
    match = crypto::VerifyPassword(account.password_hash, current_password);
  }
  if (!usable || !match) {
    out.rejection = PasswordRejection::kWrongPassword;
    log::Info("password change refused: wrong current password", {{"subject", subject}});
    return out;
  }
  if (auto why = check_new_password_(account, new_password)) {
    out.rejection = PasswordRejection::kWeakPassword;
    out.problem = *why;
    return out;
  }
  auto st = accounts_.SetPasswordHash(subject, HashNew(new_password));
  if (!st) return st.error();
  out.subject = subject;
  log::Info("password changed by its owner", {{"subject", subject}});
  NotifyChanged(account);
  return out;
}

Result<Account> PasswordService::Invite(const std::string& username, const std::string& email,
                                        const std::string& name) {
  if (email.empty()) return InvalidArgument("an invitation needs an email address");
  // No password: the account cannot sign in until the link is used.
  NewAccount n;
  n.username = username;
  n.email = email;
  n.name = name;
  auto created = auth_.Create(n);
  if (!created) return created.error();
  audit::Event invited;
  invited.event = "admin.user_invited";
  invited.subject = created->subject;
  auth_.Audit(std::move(invited));
  auto token = Issue(created->subject, TokenPurpose::kInvite);
  if (!token) return token.error();
  Mail mail;
  mail.kind = MailKind::kInvitation;
  mail.idempotency_key = "auth-invite:" + TokenHash(*token).substr(0, 32);
  mail.to_address = created->email;
  mail.to_name = created->name;
  mail.link = Link(*token);
  mail.valid_for = settings_.invite_ttl;
  mailer_.Send(std::move(mail));
  log::Info("account invited", {{"subject", created->subject}});
  return created;
}

void PasswordService::NotifyChanged(const Account& account) {
  if (account.email.empty()) return;
  Mail mail;
  mail.kind = MailKind::kPasswordChanged;
  mail.idempotency_key = "auth-changed:" + crypto::RandomToken(16);
  mail.to_address = account.email;
  mail.to_name = account.name;
  mailer_.Send(std::move(mail));
}

}  // namespace idp::auth
