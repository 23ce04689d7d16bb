#include "idp/phone/phone.hpp"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cctype>

namespace idp::phone {
namespace {

using i18n::phonenumbers::PhoneNumberUtil;
namespace pn = i18n::phonenumbers;

constexpr std::size_t kMaxInput = 40;

/// The one PhoneNumberUtil (thread-safe after construction), silenced: its logger writes to
/// stdout, which is our services' JSON log.
const PhoneNumberUtil& Util() {
  static const PhoneNumberUtil* util = [] {
    PhoneNumberUtil* u = PhoneNumberUtil::GetInstance();
    u->SetLogger(new pn::NullLogger());  // takes ownership
    return u;
  }();
  return *util;
}

}  // namespace

std::string CountryInSentence(std::string_view region_view) {
  const std::string region(region_view);
  static const std::set<std::string, std::less<>> kThe{"AE", "BS", "CD", "CF", "CG", "DO", "GB",
                                                        "GM", "KM", "KY", "MH", "MV", "NL", "PH",
                                                        "SB", "US", "VA", "VG", "VI"};
  return (kThe.count(region) ? "the " : "") + CountryName(region);
}

namespace {

PhoneError Fail(Problem p, std::string region = "") { return PhoneError{p, std::move(region)}; }

NumberType TypeOf(PhoneNumberUtil::PhoneNumberType t) {
  switch (t) {
    case PhoneNumberUtil::FIXED_LINE: return NumberType::kFixedLine;
    case PhoneNumberUtil::MOBILE: return NumberType::kMobile;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return NumberType::kFixedLineOrMobile;
    case PhoneNumberUtil::TOLL_FREE: return NumberType::kTollFree;
    case PhoneNumberUtil::PREMIUM_RATE: return NumberType::kPremiumRate;
    case PhoneNumberUtil::SHARED_COST: return NumberType::kSharedCost;
    case PhoneNumberUtil::VOIP: return NumberType::kVoip;
    case PhoneNumberUtil::PERSONAL_NUMBER: return NumberType::kPersonal;
    case PhoneNumberUtil::PAGER: return NumberType::kPager;
    case PhoneNumberUtil::UAN: return NumberType::kUan;
    case PhoneNumberUtil::VOICEMAIL: return NumberType::kVoicemail;
    default: return NumberType::kUnknown;
  }
}

/// True when the national number is shorter than the country's mobile numbers: a number cut
/// short is "too short" for the person, not "invalid".
bool ShorterThanMobiles(const pn::PhoneNumber& n, const std::string& country) {
  const PhoneNumberUtil& util = Util();
  pn::PhoneNumber example;
  if (country.empty() || !util.GetExampleNumberForType(country, PhoneNumberUtil::MOBILE, &example)) {
    return false;
  }
  std::string nsn, example_nsn;
  util.GetNationalSignificantNumber(n, &nsn);
  util.GetNationalSignificantNumber(example, &example_nsn);
  return nsn.size() < example_nsn.size();
}

/// The country a country calling code belongs to ("US" for 1, "" for +800 and unknown codes).
std::string MainRegion(int country_code) {
  std::string region;
  Util().GetRegionCodeForCountryCode(country_code, &region);
  return region == "ZZ" || region == "001" ? "" : region;
}


}  // namespace

std::string_view ProblemName(Problem p) {
  switch (p) {
    case Problem::kEmpty: return "empty";
    case Problem::kLetters: return "letters";
    case Problem::kCharacters: return "characters";
    case Problem::kTooShort: return "too_short";
    case Problem::kTooLong: return "too_long";
    case Problem::kNoCountry: return "no_country";
    case Problem::kUnknownCountryCode: return "unknown_country_code";
    case Problem::kWrongLength: return "wrong_length";
    case Problem::kInvalidForRegion: return "invalid_for_region";
    case Problem::kNotMobile: return "not_mobile";
    case Problem::kServiceNumber: return "service_number";
    case Problem::kUnsupportedCountry: return "unsupported_country";
  }
  return "unknown";
}

void throw_exception_from_error(const PhoneError& e, const boost::source_location& loc) {
  throw_exception_from_error(InvalidArgument("phone number: " + std::string(ProblemName(e.problem))), loc);
}

PhoneResult Parse(std::string_view raw, const ParseOptions& options) {
  // Surrounding white space is forgiven; what is left is checked character by character, so
  // that libphonenumber's leniency (vanity letters, extensions, other scripts' digits) never
  // turns a typo into somebody else's number.
  auto first = raw.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Fail(Problem::kEmpty);
  std::string_view text = raw.substr(first, raw.find_last_not_of(" \t\r\n") - first + 1);
  if (text.size() > kMaxInput) return Fail(Problem::kTooLong);
  int digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isdigit(c)) {
      ++digits;
    } else if (std::isalpha(c)) {
      return Fail(Problem::kLetters);
    } else if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' ||
                 (c == '+' && i == 0))) {
      return Fail(Problem::kCharacters);
    }
  }
  if (digits < 4) return Fail(Problem::kTooShort);
  const bool international = text.front() == '+';
  const std::string& default_region = options.default_region;
  if (!international && (default_region.empty() || !IsSupportedRegion(default_region))) {
    return Fail(Problem::kNoCountry);
  }

  const PhoneNumberUtil& util = Util();
  pn::PhoneNumber n;
  switch (util.Parse(std::string(text), default_region.empty() ? "ZZ" : default_region, &n)) {
    case PhoneNumberUtil::NO_PARSING_ERROR: break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return Fail(Problem::kUnknownCountryCode);
    case PhoneNumberUtil::TOO_LONG_NSN: return Fail(Problem::kTooLong);
    default: return Fail(Problem::kTooShort);
  }
  const std::string country = MainRegion(n.country_code());
  switch (util.IsPossibleNumberWithReason(n)) {
    case PhoneNumberUtil::IS_POSSIBLE: break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return Fail(Problem::kUnknownCountryCode);
    case PhoneNumberUtil::TOO_LONG: return Fail(Problem::kTooLong, country);
    case PhoneNumberUtil::INVALID_LENGTH: {
      if (ShorterThanMobiles(n, country)) return Fail(Problem::kTooShort, country);
      return Fail(Problem::kWrongLength, country);
    }
    default: return Fail(Problem::kTooShort, country);  // also local-only numbers
  }

  PhoneNumber out;
  out.country_code = n.country_code();
  std::string region;
  util.GetRegionCodeForNumber(n, &region);
  if (region == "ZZ" || region == "001") region.clear();
  if (!util.IsValidNumber(n)) {
    if (ShorterThanMobiles(n, country)) return Fail(Problem::kTooShort, country);
    return Fail(Problem::kInvalidForRegion, country);
  }
  out.region = region;
  if (!options.allowed_regions.empty() && options.allowed_regions.count(region) == 0) {
    return Fail(Problem::kUnsupportedCountry, region);
  }
  out.type = TypeOf(util.GetNumberType(n));
  if (options.require_mobile && !out.CanReceiveSms()) {
    return Fail(out.type == NumberType::kFixedLine ? Problem::kNotMobile : Problem::kServiceNumber,
                region);
  }
  util.Format(n, PhoneNumberUtil::E164, &out.e164);
  return out;
}

std::string CountryName(std::string_view region) { return CountryName(region, "en"); }

std::string CountryName(std::string_view region, std::string_view lang) {
  const std::string code(region);
  if (code.size() != 2) return code;
  icu::Locale locale("", code.c_str());
  icu::UnicodeString name;
  const std::string language(lang);
  locale.getDisplayCountry(icu::Locale(language.c_str()), name);
  std::string out;
  name.toUTF8String(out);
  // ICU answers the code itself when it has no name in that language.
  if ((out.empty() || out == code) && lang != "en") return CountryName(region, "en");
  return out.empty() ? code : out;
}

namespace {

const std::set<std::string, std::less<>>& SupportedRegions() {
  static const std::set<std::string, std::less<>> kRegions = [] {
    std::set<std::string> r;
    Util().GetSupportedRegions(&r);
    return std::set<std::string, std::less<>>(r.begin(), r.end());
  }();
  return kRegions;
}

}  // namespace

bool IsSupportedRegion(std::string_view region) { return SupportedRegions().count(region) != 0; }

Result<std::set<std::string>> ParseRegionList(std::string_view list) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string item;
    for (char c : list.substr(start, end - start)) {
      if (c != ' ') item += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (!item.empty()) {
      if (!IsSupportedRegion(item)) {
        return InvalidArgument("country list: \"" + item +
                               "\" is not an ISO 3166 alpha-2 code with a numbering plan");
      }
      out.insert(item);
    }
    start = end + 1;
  }
  return out;
}

}  // namespace idp::phone
