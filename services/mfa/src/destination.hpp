#pragma once
/// @file What a person types as an email address or a phone number for a code factor: how it is
/// normalised, checked and masked. Pure functions, no I/O (fuzzed by fuzz/fuzz_contact.cpp).

#include "idp/common/error.hpp"

#include <string>
#include <string_view>

namespace idp::mfa {

/// The outcome of normalising a typed destination: `value` when acceptable, empty when not.
struct Destination {
  std::string value;
};

/// "sms": drops spaces, dashes, parentheses and dots, then needs E.164 (IsE164). "email":
/// lower-cases ASCII, then needs IsEmailAddress. kInvalidArgument for any other `type`.
[[nodiscard]] Result<Destination> NormaliseDestination(std::string_view type,
                                                       std::string_view raw);

/// A plausible address: one '@' with something before it, a dot after it, at most 254 bytes,
/// no spaces, controls or <>",; and no trailing dot.
bool IsEmailAddress(std::string_view a);
/// "+" then 8-15 digits, the first not 0.
bool IsE164(std::string_view n);
/// "a•••@example.com", "+31 ••• ••• 78": enough to recognise, not to read out. `d` must have
/// passed NormaliseDestination for `type`.
std::string MaskDestination(std::string_view type, std::string_view d);

}  // namespace idp::mfa
