#pragma once
/// @file The one place that makes an authenticated session, for every level a sign-in can
/// reach (authelia's typed authentication levels are the model): amr values per RFC 8176 and
/// acr per our two levels (aal1: a password; aal2: a password and a second factor).

#include "signin/records.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace idp::gateway::signin {

/// The second factor a person proved.
enum class SecondFactor {
  kTotp,          ///< an authenticator app (amr "otp")
  kEmail,         ///< a code sent by email (amr "email": not an RFC 8176 value, so that an
                  ///< application can tell it apart and refuse it)
  kSms,           ///< a code sent by SMS (amr "sms")
  kRecoveryCode,  ///< a recovery code (amr "otp": a one-time code the person holds)
};

/// The amr value of `factor`.
std::string_view AmrOf(SecondFactor factor);
/// The factor an amr value names ("otp", "email", "sms"); kTotp for anything else.
SecondFactor SecondFactorFromAmr(std::string_view amr);

/// Whether `session` passed a second factor (acr aal2, amr "mfa").
bool PassedSecondFactor(const Session& session);

/// Whether `session` may add, replace or remove a factor, an email or a phone, or regenerate
/// recovery codes at `now` (SECURITY §57): its last authentication within `window` seconds,
/// through a second factor when the person has one (`has_factor`). Otherwise the person signs
/// in again first.
bool MayChangeFactors(const Session& session, bool has_factor, std::int64_t now,
                      std::int64_t window);

/// A session proved by the password alone at `now` (amr pwd, acr aal1), with a new sid.
Session PasswordOnly(const std::string& subject, std::int64_t now);
/// A session proved by the password and `factor` at `now` (amr pwd, the factor, mfa; acr
/// aal2), with a new sid; `step_up_sid` keeps the sid of the session a step-up upgrades.
Session WithSecondFactor(const std::string& subject, std::int64_t now, SecondFactor factor,
                         const std::string& step_up_sid = "");
/// `session` upgraded at `now` because its person just proved `factor` (on the account page):
/// aal2, the same sid, CSRF token and absolute lifetime (it is stored under a new id).
Session Upgraded(const Session& session, std::int64_t now, SecondFactor factor);

}  // namespace idp::gateway::signin
