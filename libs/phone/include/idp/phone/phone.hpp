#pragma once
/// @file Phone numbers as people type them, through libphonenumber (whose headers stay out of
/// this one): national format with a default region ("06 12345678", NL) or international with
/// + ("+1 202 555 0143"), normalised to E.164, with the number's country and whether it can
/// receive text messages, and the reason when it is not a usable number.

#include "idp/common/error.hpp"

#include <boost/system/result.hpp>

#include <set>
#include <string>
#include <string_view>

namespace idp::phone {

/// libphonenumber's number types.
enum class NumberType {
  kFixedLine,
  kMobile,
  kFixedLineOrMobile,  ///< the plan does not tell them apart (US, CA, and a few more)
  kTollFree,
  kPremiumRate,
  kSharedCost,
  kVoip,
  kPersonal,           ///< personal numbers (+1 500 ...)
  kPager,
  kUan,                ///< universal access numbers of companies
  kVoicemail,
  kUnknown,
};

/// A valid number.
struct PhoneNumber {
  std::string e164;          ///< "+31612345678"
  std::string region;        ///< ISO 3166-1 alpha-2 ("NL"); "" for non-geographic (+800, +882)
  int country_code = 0;      ///< 31
  NumberType type = NumberType::kUnknown;

  /// Mobile, or a plan where mobile and fixed numbers look alike.
  bool CanReceiveSms() const {
    return type == NumberType::kMobile || type == NumberType::kFixedLineOrMobile;
  }
  /// Toll-free, premium-rate, shared-cost and universal access numbers: what SMS pumping
  /// targets, never a person's phone.
  bool IsServiceNumber() const {
    return type == NumberType::kTollFree || type == NumberType::kPremiumRate ||
           type == NumberType::kSharedCost || type == NumberType::kUan;
  }
};

/// Why a number was refused. A reason, never a sentence: the page that shows it says it in the
/// person's language (the gateway's locales).
enum class Problem {
  kEmpty,
  kLetters,            ///< letters (vanity numbers and extensions are refused)
  kCharacters,         ///< other characters than digits, spaces, - . ( ) / and a leading +
  kTooShort,
  kTooLong,
  kNoCountry,          ///< national format and no default region
  kUnknownCountryCode, ///< "+999 ..."
  kWrongLength,        ///< a length no number of that country (`region`, when known) has
  kInvalidForRegion,   ///< right length perhaps, but no such number in that country
  kNotMobile,          ///< a fixed line when a mobile is required
  kServiceNumber,      ///< toll-free, premium-rate and the like when a mobile is required
  kUnsupportedCountry, ///< a real number of a country outside `allowed_regions`
};

/// "letters", "too_short", ...: a stable name for logs and metrics.
std::string_view ProblemName(Problem p);

/// Why a number was refused, and the number's country when known.
struct PhoneError {
  Problem problem = Problem::kInvalidForRegion;
  std::string region;  ///< the number's country when known ("BR"); "" for none
};

/// Found by ADL from PhoneResult::value(): throws idp::ErrorException (kInvalidArgument).
[[noreturn]] void throw_exception_from_error(const PhoneError& e,
                                             const boost::source_location& loc);

using PhoneResult = boost::system::result<PhoneNumber, PhoneError>;

struct ParseOptions {
  /// The country of a number typed without + ("NL"); "" means the + is required.
  std::string default_region;
  /// Refuse numbers that cannot receive text messages (fixed lines, service numbers).
  bool require_mobile = false;
  /// When not empty: refuse real numbers of any other country (kUnsupportedCountry), and
  /// non-geographic numbers.
  std::set<std::string> allowed_regions;
};

/// Parses what a person typed. Spaces, dashes, dots, slashes and brackets are allowed; letters,
/// extensions and non-ASCII characters are not; at most 40 characters.
[[nodiscard]] PhoneResult Parse(std::string_view text, const ParseOptions& options = {});

/// The English name of an ISO 3166-1 alpha-2 region ("BR" → "Brazil"), or the code itself.
std::string CountryName(std::string_view region);

/// The name of the region in language `lang` ("nl": "BR" → "Brazilië"), as ICU has it; the
/// English name when ICU has none for that language.
std::string CountryName(std::string_view region, std::string_view lang);

/// The name as it sits in a sentence: "Brazil", "the Netherlands".
std::string CountryInSentence(std::string_view region);

/// The default of `delivery.sms_countries`, the one list of countries SMS may go to (read by
/// delivery, which refuses others, and by mfa and the gateway, which offer and check numbers).
inline constexpr std::string_view kDefaultSmsCountries =
    "NL,BE,LU,DE,FR,AT,CH,DK,SE,NO,FI,IE,GB,ES,PT,IT,US,CA";

/// True for the regions libphonenumber has numbering plans for ("NL"; not "UK", not "XX").
bool IsSupportedRegion(std::string_view region);

/// Parses "NL,BE,de" (case-insensitive, spaces ignored) into upper-case codes, each a region
/// libphonenumber knows; kInvalidArgument naming the first that is not.
[[nodiscard]] Result<std::set<std::string>> ParseRegionList(std::string_view list);

}  // namespace idp::phone
