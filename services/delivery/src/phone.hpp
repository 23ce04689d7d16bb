#pragma once
/// @file Phone numbers without libphonenumber (its -dev package cannot sit beside Boost 1.81,
/// TOOLCHAIN.md §6): E.164 syntax and the country of a number by its calling-code prefix, with
/// the North American Numbering Plan split by area code (so that "US" does not admit the
/// Caribbean's premium ranges, a classic SMS-pumping target). It does not know which numbers
/// within a country are mobile or premium.

#include "idp/common/error.hpp"

#include <set>
#include <string>
#include <string_view>

namespace idp::delivery {

/// A number that passed ParseE164.
struct PhoneNumber {
  std::string e164;          ///< "+31612345678"
  std::string calling_code;  ///< "31" (for NANP numbers "1")
  /// ISO 3166-1 alpha-2 ("NL"); "" when the prefix is unassigned or unknown to the table.
  /// NANP premium-rate area codes (900, 976) give "" too.
  std::string country;
};

/// Parses an E.164 number: "+", then 8-15 digits, the first not 0 (ITU-T E.164 §6). Nothing
/// else is accepted (no spaces, dashes or national formats). kInvalidArgument naming `field`.
[[nodiscard]] Result<PhoneNumber> ParseE164(std::string_view text, std::string_view field);

/// The ISO country of a number in E.164 form by its longest known prefix, or "".
std::string CountryOfE164(std::string_view e164);

/// Parses "NL,BE,DE" (case-insensitive, spaces ignored) into upper-case codes; kInvalidArgument
/// for an entry that is not two letters.
[[nodiscard]] Result<std::set<std::string>> ParseCountryList(std::string_view list);

/// "+31******78": the calling code and the last two digits, for logs.
std::string MaskNumber(std::string_view e164);

/// "a***@example.com": the first character of the local part and the domain, for logs.
std::string MaskAddress(std::string_view address);

}  // namespace idp::delivery
