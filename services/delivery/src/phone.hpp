#pragma once
/// @file Phone numbers at delivery: the strict E.164 syntax of the gRPC contract, and the
/// country of a number from libphonenumber (libs/phone), which knows each plan's ranges: +1 is
/// told apart by area code, and service numbers (premium rate, toll-free, shared cost; the
/// classic SMS-pumping targets) and numbers no plan assigns have no country, so they are never
/// sent to.

#include "idp/common/error.hpp"

#include <set>
#include <string>
#include <string_view>

namespace idp::delivery {

/// A number that passed ParseE164.
struct PhoneNumber {
  std::string e164;  ///< "+31612345678"
  /// ISO 3166-1 alpha-2 ("NL"); "" when libphonenumber finds no valid number of a country
  /// there, or a service number (premium rate, toll-free, shared cost, UAN).
  std::string country;
};

/// Parses an E.164 number: "+", then 8-15 digits, the first not 0 (ITU-T E.164 §6). Nothing
/// else is accepted (no spaces, dashes or national formats). kInvalidArgument naming `field`.
[[nodiscard]] Result<PhoneNumber> ParseE164(std::string_view text, std::string_view field);

/// The ISO country of a number in E.164 form (see PhoneNumber::country), or "".
std::string CountryOfE164(std::string_view e164);

/// Parses "NL,BE,DE" (case-insensitive, spaces ignored) into upper-case codes; kInvalidArgument
/// for an entry that is not a region libphonenumber knows ("UK" is not: GB is).
[[nodiscard]] Result<std::set<std::string>> ParseCountryList(std::string_view list);

/// "+31******78": the calling code and the last two digits, for logs.
std::string MaskNumber(std::string_view e164);

/// "a***@example.com": the first character of the local part and the domain, for logs.
std::string MaskAddress(std::string_view address);

}  // namespace idp::delivery
