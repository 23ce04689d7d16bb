#pragma once
/// @file Why mfa refuses a destination, a code to send, or a removal: a reason and, where it
/// names a country, that country. Never a sentence: the gateway says it in the page's language.

#include "idp/phone/phone.hpp"

#include <string>

namespace idp::mfa {

enum class RefusalReason {
  kNone,
  kEmailMalformed,
  kPhone,                 ///< libs/phone refused the number: `phone` says why
  kSmsCountryNotAllowed,  ///< the number's country (`region`) is outside the SMS countries
  kSentRecently,          ///< delivery: a code went there a moment ago
  kSmsUnavailable,        ///< delivery: SMS cannot be sent right now (country rate, budget)
  kSmsCountryRefused,     ///< delivery: SMS does not go to that country
  kChannelDisabled,       ///< delivery: no provider for this channel
  kNotSent,               ///< delivery refused for another reason
  kKeepTwoMethods,        ///< mfa.keep_two_methods
};

struct Refusal {
  RefusalReason reason = RefusalReason::kNone;
  phone::Problem phone = phone::Problem::kInvalidForRegion;  ///< with kPhone
  std::string region;  ///< ISO 3166-1 alpha-2 where the reason names a country

  /// True when something was refused.
  explicit operator bool() const { return reason != RefusalReason::kNone; }
};

/// A refusal for `reason`, naming no country.
inline Refusal Refused(RefusalReason reason) {
  Refusal r;
  r.reason = reason;
  return r;
}

}  // namespace idp::mfa
