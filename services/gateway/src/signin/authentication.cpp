#include "signin/authentication.hpp"

#include "idp/crypto/crypto.hpp"

namespace idp::gateway::signin {
namespace {

Session Fresh(const std::string& subject, std::int64_t now) {
  Session s;
  s.subject = subject;
  s.auth_time = now;
  s.sid = crypto::RandomToken(16);
  s.csrf = crypto::RandomToken(32);
  return s;
}

}  // namespace

std::string_view AmrOf(SecondFactor factor) {
  switch (factor) {
    case SecondFactor::kEmail:
      return "email";
    case SecondFactor::kSms:
      return "sms";
    case SecondFactor::kTotp:
    case SecondFactor::kRecoveryCode:
      break;
  }
  return "otp";
}

SecondFactor SecondFactorFromAmr(std::string_view amr) {
  if (amr == "email") return SecondFactor::kEmail;
  if (amr == "sms") return SecondFactor::kSms;
  return SecondFactor::kTotp;
}

bool PassedSecondFactor(const Session& session) {
  for (const auto& a : session.amr) {
    if (a == "mfa") return session.acr == "aal2";
  }
  return false;
}

bool MayChangeFactors(const Session& session, bool has_factor, std::int64_t now,
                      std::int64_t window) {
  if (now - session.auth_time > window || now < session.auth_time) return false;
  return !has_factor || PassedSecondFactor(session);
}

Session PasswordOnly(const std::string& subject, std::int64_t now) {
  Session s = Fresh(subject, now);
  s.amr = {"pwd"};
  s.acr = "aal1";
  return s;
}

Session WithSecondFactor(const std::string& subject, std::int64_t now, SecondFactor factor,
                         const std::string& step_up_sid) {
  Session s = Fresh(subject, now);
  // RFC 8176: a password and a one-time code, so two factors.
  s.amr = {"pwd", std::string(AmrOf(factor)), "mfa"};
  s.acr = "aal2";
  if (!step_up_sid.empty()) s.sid = step_up_sid;
  return s;
}

Session Upgraded(const Session& session, std::int64_t now, SecondFactor factor) {
  Session s = session;
  s.auth_time = now;
  s.amr = {"pwd", std::string(AmrOf(factor)), "mfa"};
  s.acr = "aal2";
  return s;
}

}  // namespace idp::gateway::signin
