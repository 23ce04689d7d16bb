#include "mfa_service.hpp"

#include "destination.hpp"
#include "qr.hpp"
#include "totp.hpp"

#include "idp/common/log.hpp"
#include "idp/phone/phone.hpp"

#include <algorithm>
#include <cctype>

namespace idp::mfa {
namespace {

/// A random UUID (version 4), the id of a new factor.
std::string NewUuid() {
  std::string b = crypto::RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);
  std::string hex = crypto::HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

/// Upper case, without spaces and dashes: how recovery codes are compared.
std::string NormaliseRecovery(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsRecoveryShaped(const std::string& normalised) {
  if (normalised.size() != 10) return false;
  for (char c : normalised) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

}  // namespace

MfaService::MfaService(FactorStore& factors, ChallengeStore& challenges, DeliveryClient& delivery,
                       BrowserStore& browsers, crypto::Aead master, const Clock& clock,
                       MfaPolicy policy, audit::AuditLog* audit)
    : factors_(factors),
      challenges_(challenges),
      delivery_(delivery),
      browsers_(browsers),
      master_(std::move(master)),
      clock_(clock),
      policy_(std::move(policy)),
      audit_(audit) {}

void MfaService::Audit(std::string event, const std::string& subject,
                       std::vector<std::pair<std::string, std::string>> detail) {
  if (audit_ == nullptr) return;
  audit::Event e;
  e.event = std::move(event);
  e.subject = subject;
  e.detail = std::move(detail);
  (void)audit_->Record(e);
}

std::string MfaService::RecoveryHash(const std::string& subject, const std::string& code) {
  return crypto::Base64UrlEncode(crypto::Sha256("recovery:" + subject + ":" + NormaliseRecovery(code)));
}

Result<std::vector<FactorRecord>> MfaService::List(const std::string& subject) {
  return factors_.List(subject);
}

Result<TotpEnrolment> MfaService::StartTotp(const std::string& subject, const std::string& label,
                                            const std::string& account_name) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  if (label.size() > 64) return InvalidArgument("the name is too long (64 characters at most)");
  std::string seed = crypto::RandomBytes(20);
  FactorRecord f;
  f.id = NewUuid();
  f.type = "totp";
  f.label = label.empty() ? "Authenticator app" : label;
  f.sealed_secret = master_.Seal(seed, f.id);
  auto st = factors_.Insert(subject, f);
  if (!st) return st.error();
  TotpEnrolment e;
  e.factor_id = f.id;
  e.secret_base32 = Base32(seed);
  e.otpauth_uri = OtpauthUri(policy_.issuer_name, account_name.empty() ? subject : account_name, seed);
  e.qr_svg = QrSvg(e.otpauth_uri);
  return e;
}

Result<CodeOutcome> MfaService::ConfirmTotp(const std::string& subject,
                                            const std::string& factor_id,
                                            const std::string& code) {
  auto outcome = CheckTotpEnrolment(subject, factor_id, code);
  if (!outcome) return outcome;
  if (*outcome == CodeOutcome::kVerified) {
    Audit("mfa.factor_added", subject, {{"type", "totp"}, {"factor_id", factor_id}});
  } else {
    Audit("mfa.enrolment_failure", subject,
          {{"type", "totp"}, {"reason", *outcome == CodeOutcome::kMalformed ? "malformed" : "wrong_code"}});
  }
  return outcome;
}

Result<CodeOutcome> MfaService::CheckTotpEnrolment(const std::string& subject,
                                                   const std::string& factor_id,
                                                   const std::string& code) {
  if (!IsCodeShaped(code)) return CodeOutcome::kMalformed;
  auto list = factors_.List(subject);
  if (!list) return list.error();
  for (const auto& f : *list) {
    if (f.id != factor_id || f.type != "totp" || f.active) continue;
    auto seed = master_.Open(f.sealed_secret, f.id);
    if (!seed) return Internal("factor secret cannot be decrypted");
    auto step = TotpMatch(*seed, code, clock_.NowUnix());
    if (!step) return CodeOutcome::kWrong;
    auto activated = factors_.Activate(subject, f.id, *step);
    if (!activated) return activated.error();
    if (!*activated) return CodeOutcome::kWrong;
    log::Info("authenticator app enrolled", {{"subject", subject}});
    NotifyChannels(subject, true, f.label, f.id);
    return CodeOutcome::kVerified;
  }
  return NotFound("no pending authenticator app with that id");
}

Result<Refusal> MfaService::Remove(const std::string& subject, const std::string& factor_id) {
  std::string label;
  auto list = factors_.List(subject);
  if (!list) return list.error();
  bool active_method = false;
  int methods = 0;
  for (const auto& f : *list) {
    if (!f.active) continue;
    ++methods;  // every stored factor is a method: app, email or SMS
    if (f.id == factor_id) active_method = true;
  }
  for (const auto& f : *list) {
    if (f.id == factor_id) label = f.label;
  }
  if (policy_.keep_two_methods && active_method && methods <= 2) {
    log::Info("factor removal refused: two methods kept", {{"subject", subject}});
    return Refused(RefusalReason::kKeepTwoMethods);
  }
  auto removed = factors_.Remove(subject, factor_id);
  if (!removed) return removed.error();
  if (!*removed) return NotFound("factor");
  log::Info("factor removed", {{"subject", subject}});
  Audit("mfa.factor_removed", subject, {{"factor_id", factor_id}});
  NotifyChannels(subject, false, label, factor_id);
  return Refusal{};
}

void MfaService::NotifyChannels(const std::string& subject, bool added,
                                const std::string& factor_name, const std::string& except_id) {
  auto list = factors_.List(subject);
  if (!list) return;
  for (const auto& f : *list) {
    if (f.id == except_id || !f.active || (f.type != "email" && f.type != "sms")) continue;
    auto to = master_.Open(f.sealed_secret, f.id);
    if (!to) continue;
    auto sent = delivery_.NotifyChange(
        std::string(added ? "added:" : "removed:") + except_id + ":" + f.id, f.type == "email", *to,
        added, factor_name);
    if (!sent) log::Warn("factor change not notified", {{"error", sent.error().ToString()}});
  }
}

Result<std::string> MfaService::StartChallenge(const std::string& subject) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  return challenges_.Create(subject);
}

Result<Verification> MfaService::Wrong(const std::string& challenge_id,
                                       const std::string& subject) {
  auto tries = challenges_.CountTry(challenge_id, subject);
  if (!tries) return tries.error();
  auto failures = factors_.RecordFailure(subject, policy_.failure_window);
  if (!failures) return failures.error();
  log::Warn("wrong second-factor code", {{"subject", subject}, {"tries", *tries}});
  Verification v;
  if (*failures >= policy_.person_failures) {
    (void)challenges_.End(challenge_id);
    v.outcome = CodeOutcome::kLocked;
    v.retry_after = policy_.failure_window;
  } else if (*tries < 0) {
    v.outcome = CodeOutcome::kChallengeEnded;
  } else {
    // The allowed wrong codes are answered as wrong; the next try finds the challenge ended.
    v.outcome = CodeOutcome::kWrong;
    v.tries_left = std::max(0, policy_.challenge_tries - *tries);
  }
  return v;
}

Result<Verification> MfaService::Verify(const std::string& challenge_id,
                                        const std::string& subject, VerifyMethod method,
                                        const std::string& code) {
  auto v = CheckCode(challenge_id, subject, method, code);
  if (!v) return v;
  const char* method_name = method == VerifyMethod::kTotp       ? "totp"
                            : method == VerifyMethod::kRecovery ? "recovery_code"
                                                                : "sent_code";
  if (v->outcome == CodeOutcome::kVerified) {
    Audit("mfa.success", subject, {{"method", method_name}, {"amr", v->amr}});
    if (method == VerifyMethod::kRecovery) {
      Audit("mfa.recovery_code_used", subject,
            {{"codes_left", std::to_string(v->recovery_codes_left)}});
    }
  } else {
    const char* reason = v->outcome == CodeOutcome::kWrong            ? "wrong_code"
                         : v->outcome == CodeOutcome::kMalformed      ? "malformed"
                         : v->outcome == CodeOutcome::kChallengeEnded ? "challenge_ended"
                                                                      : "locked";
    Audit("mfa.failure", subject,
          {{"method", method_name}, {"reason", reason}, {"tries_left", std::to_string(v->tries_left)}});
  }
  return v;
}

Result<Verification> MfaService::CheckCode(const std::string& challenge_id,
                                           const std::string& subject, VerifyMethod method,
                                           const std::string& code) {
  const bool recovery = method == VerifyMethod::kRecovery;
  Verification v;
  const std::string normalised = NormaliseRecovery(code);
  if (recovery ? !IsRecoveryShaped(normalised) : !IsCodeShaped(code)) {
    v.outcome = CodeOutcome::kMalformed;
    return v;
  }
  // The person's lock first: while locked, even a right code does not pass (and is not counted).
  auto failures = factors_.CountFailures(subject, policy_.failure_window);
  if (!failures) return failures.error();
  if (*failures >= policy_.person_failures) {
    v.outcome = CodeOutcome::kLocked;
    v.retry_after = policy_.failure_window;
    return v;
  }
  auto tries = challenges_.Tries(challenge_id, subject);
  if (!tries) return tries.error();
  if (*tries < 0 || *tries >= policy_.challenge_tries) {
    v.outcome = CodeOutcome::kChallengeEnded;
    return v;
  }

  if (recovery) {
    auto left = factors_.UseRecoveryCode(subject, RecoveryHash(subject, code));
    if (!left) return left.error();
    if (!*left) return Wrong(challenge_id, subject);
    (void)challenges_.End(challenge_id);
    log::Info("recovery code used", {{"subject", subject}, {"left", **left}});
    v.outcome = CodeOutcome::kVerified;
    v.recovery_codes_left = **left;
    return v;
  }

  if (method == VerifyMethod::kSent) {
    auto sent = challenges_.GetCode(challenge_id, subject);
    if (!sent) return sent.error();
    // Only the newest code, within its life (SECURITY §42).
    if (!*sent || (*sent)->expires_at <= clock_.NowUnix() ||
        !crypto::ConstantTimeEqual(CodeHash(challenge_id, code), (*sent)->hash)) {
      return Wrong(challenge_id, subject);
    }
    auto list = factors_.List(subject);
    if (!list) return list.error();
    for (const auto& f : *list) {
      if (f.id == (*sent)->factor_id && f.active) v.amr = f.type;  // "email" or "sms"
    }
    if (v.amr == "otp") return Wrong(challenge_id, subject);  // the factor was removed
    (void)challenges_.End(challenge_id);
    v.outcome = CodeOutcome::kVerified;
    return v;
  }

  auto list = factors_.List(subject);
  if (!list) return list.error();
  const std::int64_t now = clock_.NowUnix();
  for (const auto& f : *list) {
    if (f.type != "totp" || !f.active) continue;
    auto seed = master_.Open(f.sealed_secret, f.id);
    if (!seed) return Internal("factor secret cannot be decrypted");
    auto step = TotpMatch(*seed, code, now);
    if (!step) continue;
    // RFC 6238 §5.2: each step once, and never one at or before the last accepted.
    auto accepted = factors_.AcceptStep(f.id, *step);
    if (!accepted) return accepted.error();
    if (!*accepted) {
      log::Warn("TOTP code replayed", {{"subject", subject}});
      continue;
    }
    (void)challenges_.End(challenge_id);
    v.outcome = CodeOutcome::kVerified;
    return v;
  }
  return Wrong(challenge_id, subject);
}

namespace {

/// A 6-digit code from the CSPRNG.
std::string NewCode() {
  std::string code = std::to_string(crypto::RandomUniform(1000000));
  return std::string(6 - code.size(), '0') + code;
}

}  // namespace

std::string MfaService::CodeHash(const std::string& context, const std::string& code) {
  return crypto::Base64UrlEncode(crypto::Sha256("code:" + context + ":" + code));
}

Result<SendResult> MfaService::SendTo(const FactorRecord& f, const std::string& key,
                                      CodePurpose purpose, const std::string& code) {
  auto destination = master_.Open(f.sealed_secret, f.id);
  if (!destination) return Internal("factor destination cannot be decrypted");
  return f.type == "email" ? delivery_.SendEmail(key, *destination, purpose, code)
                           : delivery_.SendSms(key, *destination, purpose, code);
}

Result<DeliveryEnrolment> MfaService::StartDeliveryEnrolment(const std::string& subject,
                                                            const std::string& type,
                                                            const std::string& raw,
                                                            const std::string& region) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  DeliveryEnrolment out;
  std::string destination;
  if (type == "email") {
    auto typed = NormaliseDestination(type, raw);
    if (!typed) return typed.error();
    if (typed->value.empty()) {
      out.refusal.reason = RefusalReason::kEmailMalformed;
      return out;
    }
    destination = typed->value;
  } else if (type == "sms") {
    // What the person typed, national or international, to E.164 (libphonenumber); only
    // numbers that can receive texts, in a country SMS may go to.
    phone::ParseOptions options;
    options.default_region = region.empty() ? policy_.default_phone_region : region;
    options.require_mobile = true;
    options.allowed_regions = policy_.sms_countries;
    auto number = phone::Parse(raw, options);
    if (!number) {
      // A country outside the list is a rule of ours, not a fault of the number.
      out.refusal.reason = number.error().problem == phone::Problem::kUnsupportedCountry
                               ? RefusalReason::kSmsCountryNotAllowed
                               : RefusalReason::kPhone;
      out.refusal.phone = number.error().problem;
      out.refusal.region = number.error().region;
      log::Info("mobile number refused", {{"subject", subject},
                                          {"region", number.error().region},
                                          {"problem", std::string(phone::ProblemName(number.error().problem))}});
      return out;
    }
    destination = number->e164;
  } else {
    return InvalidArgument("type must be email or sms");
  }
  FactorRecord f;
  f.id = NewUuid();
  f.type = type;
  f.label = MaskDestination(type, destination);
  f.sealed_secret = master_.Seal(destination, f.id);
  const std::string code = NewCode();
  auto sent = SendTo(f, "enrol:" + f.id, CodePurpose::kVerifyAddress, code);
  if (!sent) return sent.error();
  if (sent->refusal) {
    out.refusal = sent->refusal;  // nothing stored
    return out;
  }
  auto st = factors_.Insert(subject, f);
  if (!st) return st.error();
  st = challenges_.SetEnrolCode(f.id, CodeHash(f.id, code));
  if (!st) return st.error();
  out.factor_id = f.id;
  out.label = f.label;
  return out;
}

Result<Verification> MfaService::ConfirmDeliveryEnrolment(const std::string& subject,
                                                          const std::string& factor_id,
                                                          const std::string& code) {
  auto v = CheckDeliveryEnrolment(subject, factor_id, code);
  if (!v) return v;
  if (v->outcome == CodeOutcome::kVerified) {
    Audit("mfa.factor_added", subject, {{"type", "email_or_sms"}, {"factor_id", factor_id}});
  } else {
    Audit("mfa.enrolment_failure", subject, {{"factor_id", factor_id}});
  }
  return v;
}

Result<Verification> MfaService::CheckDeliveryEnrolment(const std::string& subject,
                                                        const std::string& factor_id,
                                                        const std::string& code) {
  Verification v;
  if (!IsCodeShaped(code)) {
    v.outcome = CodeOutcome::kMalformed;
    return v;
  }
  auto pending = challenges_.EnrolCode(factor_id);
  if (!pending) return pending.error();
  if (!*pending || (*pending)->second >= policy_.challenge_tries) {
    v.outcome = CodeOutcome::kChallengeEnded;
    return v;
  }
  if (!crypto::ConstantTimeEqual(CodeHash(factor_id, code), (*pending)->first)) {
    auto tries = challenges_.CountEnrolTry(factor_id);
    if (!tries) return tries.error();
    v.outcome = CodeOutcome::kWrong;
    v.tries_left = std::max(0, policy_.challenge_tries - *tries);
    return v;
  }
  auto activated = factors_.Activate(subject, factor_id, 0);
  if (!activated) return activated.error();
  if (!*activated) return NotFound("no pending factor with that id");
  log::Info("delivery factor enrolled", {{"subject", subject}});
  if (auto list = factors_.List(subject)) {
    for (const auto& f : *list) {
      if (f.id == factor_id) NotifyChannels(subject, true, f.label, factor_id);
    }
  }
  v.outcome = CodeOutcome::kVerified;
  return v;
}

Result<SentCodeResult> MfaService::SendCode(const std::string& challenge_id,
                                            const std::string& subject,
                                            const std::string& factor_id) {
  auto tries = challenges_.Tries(challenge_id, subject);
  if (!tries) return tries.error();
  if (*tries < 0) return NotFound("challenge");
  auto list = factors_.List(subject);
  if (!list) return list.error();
  for (const auto& f : *list) {
    if (f.id != factor_id || !f.active || (f.type != "email" && f.type != "sms")) continue;
    const std::string code = NewCode();
    // A new key per send: a resend is a new message with a new code.
    auto sent = SendTo(f, "signin:" + challenge_id + ":" + crypto::RandomToken(8),
                       CodePurpose::kSignIn, code);
    if (!sent) return sent.error();
    if (sent->refusal) return SentCodeResult{sent->refusal, f.label};
    auto st = challenges_.SetCode(challenge_id, subject,
                                  {CodeHash(challenge_id, code), f.id,
                                   clock_.NowUnix() + 600, sent->message_id});
    if (!st) return st.error();
    return SentCodeResult{Refusal{}, f.label};
  }
  return NotFound("no such email or SMS factor");
}

Result<std::pair<MessageStatus, std::string>> MfaService::CodeStatus(
    const std::string& challenge_id, const std::string& subject) {
  auto sent = challenges_.GetCode(challenge_id, subject);
  if (!sent) return sent.error();
  if (!*sent) return std::make_pair(MessageStatus{}, std::string());
  auto status = delivery_.Status((*sent)->message_id);
  if (!status) return status.error();
  std::string label;
  auto list = factors_.List(subject);
  if (list) {
    for (const auto& f : *list) {
      if (f.id == (*sent)->factor_id) label = f.label;
    }
  }
  return std::make_pair(*status, label);
}

Result<std::vector<std::string>> MfaService::GenerateRecoveryCodes(const std::string& subject) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  std::vector<std::string> codes;
  std::vector<std::string> hashes;
  for (int i = 0; i < 10; ++i) {
    std::string b32 = Base32(crypto::RandomBytes(7)).substr(0, 10);  // 50 bits
    std::string lower;
    for (char c : b32) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    codes.push_back(lower.substr(0, 5) + "-" + lower.substr(5));
    hashes.push_back(RecoveryHash(subject, lower));
  }
  auto st = factors_.ReplaceRecoveryCodes(subject, hashes);
  if (!st) return st.error();
  log::Info("recovery codes generated", {{"subject", subject}});
  Audit("mfa.recovery_codes_generated", subject, {{"count", std::to_string(codes.size())}});
  return codes;
}

Result<int> MfaService::RecoveryCodesLeft(const std::string& subject) {
  return factors_.CountRecoveryCodes(subject);
}

Result<int> MfaService::Reset(const std::string& subject) {
  auto n = factors_.RemoveAll(subject);
  if (!n) return n;
  log::Info("factors reset", {{"subject", subject}, {"removed", *n}});
  Audit("admin.factors_reset", subject, {{"removed", std::to_string(*n)}});
  auto forgotten = browsers_.Forget(subject, "");
  if (!forgotten) return forgotten.error();
  return n;
}

namespace {

std::string BrowserHash(const std::string& token) {
  return crypto::Base64UrlEncode(crypto::Sha256("browser:" + token));
}

}  // namespace

Result<std::string> MfaService::RememberBrowser(const std::string& subject,
                                                const std::string& label, int days) {
  if (days < 1 || days > 365) return InvalidArgument("days must be 1 to 365");
  std::string token = crypto::RandomToken(32);
  auto st = browsers_.Add(subject, BrowserHash(token), label, std::chrono::hours(24) * days);
  if (!st) return st.error();
  log::Info("browser remembered", {{"subject", subject}});
  return token;
}

Result<bool> MfaService::CheckBrowser(const std::string& subject, const std::string& token) {
  if (token.empty() || token.size() > 128) return false;
  return browsers_.Check(subject, BrowserHash(token));
}

Result<std::vector<BrowserRecord>> MfaService::ListBrowsers(const std::string& subject) {
  return browsers_.List(subject);
}

Result<int> MfaService::ForgetBrowsers(const std::string& subject, const std::string& id) {
  return browsers_.Forget(subject, id);
}

}  // namespace idp::mfa
