#include "phone.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace idp::delivery {
namespace {

// ITU-T E.164 country calling codes (assigned, geographic). Shared and global-service codes
// (800, 808, 870, 881-883, 888, 979) are left out on purpose: they are unknown, so refused.
const std::map<std::string_view, std::string_view>& CallingCodes() {
  static const std::map<std::string_view, std::string_view> kCodes{
      {"20", "EG"},  {"211", "SS"}, {"212", "MA"}, {"213", "DZ"}, {"216", "TN"}, {"218", "LY"},
      {"220", "GM"}, {"221", "SN"}, {"222", "MR"}, {"223", "ML"}, {"224", "GN"}, {"225", "CI"},
      {"226", "BF"}, {"227", "NE"}, {"228", "TG"}, {"229", "BJ"}, {"230", "MU"}, {"231", "LR"},
      {"232", "SL"}, {"233", "GH"}, {"234", "NG"}, {"235", "TD"}, {"236", "CF"}, {"237", "CM"},
      {"238", "CV"}, {"239", "ST"}, {"240", "GQ"}, {"241", "GA"}, {"242", "CG"}, {"243", "CD"},
      {"244", "AO"}, {"245", "GW"}, {"246", "IO"}, {"248", "SC"}, {"249", "SD"}, {"250", "RW"},
      {"251", "ET"}, {"252", "SO"}, {"253", "DJ"}, {"254", "KE"}, {"255", "TZ"}, {"256", "UG"},
      {"257", "BI"}, {"258", "MZ"}, {"260", "ZM"}, {"261", "MG"}, {"262", "RE"}, {"263", "ZW"},
      {"264", "NA"}, {"265", "MW"}, {"266", "LS"}, {"267", "BW"}, {"268", "SZ"}, {"269", "KM"},
      {"27", "ZA"},  {"290", "SH"}, {"291", "ER"}, {"297", "AW"}, {"298", "FO"}, {"299", "GL"},
      {"30", "GR"},  {"31", "NL"},  {"32", "BE"},  {"33", "FR"},  {"34", "ES"},  {"350", "GI"},
      {"351", "PT"}, {"352", "LU"}, {"353", "IE"}, {"354", "IS"}, {"355", "AL"}, {"356", "MT"},
      {"357", "CY"}, {"358", "FI"}, {"359", "BG"}, {"36", "HU"},  {"370", "LT"}, {"371", "LV"},
      {"372", "EE"}, {"373", "MD"}, {"374", "AM"}, {"375", "BY"}, {"376", "AD"}, {"377", "MC"},
      {"378", "SM"}, {"379", "VA"}, {"380", "UA"}, {"381", "RS"}, {"382", "ME"}, {"383", "XK"},
      {"385", "HR"}, {"386", "SI"}, {"387", "BA"}, {"389", "MK"}, {"39", "IT"},  {"40", "RO"},
      {"41", "CH"},  {"420", "CZ"}, {"421", "SK"}, {"423", "LI"}, {"43", "AT"},  {"44", "GB"},
      {"45", "DK"},  {"46", "SE"},  {"47", "NO"},  {"48", "PL"},  {"49", "DE"},  {"500", "FK"},
      {"501", "BZ"}, {"502", "GT"}, {"503", "SV"}, {"504", "HN"}, {"505", "NI"}, {"506", "CR"},
      {"507", "PA"}, {"508", "PM"}, {"509", "HT"}, {"51", "PE"},  {"52", "MX"},  {"53", "CU"},
      {"54", "AR"},  {"55", "BR"},  {"56", "CL"},  {"57", "CO"},  {"58", "VE"},  {"590", "GP"},
      {"591", "BO"}, {"592", "GY"}, {"593", "EC"}, {"594", "GF"}, {"595", "PY"}, {"596", "MQ"},
      {"597", "SR"}, {"598", "UY"}, {"599", "CW"}, {"60", "MY"},  {"61", "AU"},  {"62", "ID"},
      {"63", "PH"},  {"64", "NZ"},  {"65", "SG"},  {"66", "TH"},  {"670", "TL"}, {"672", "NF"},
      {"673", "BN"}, {"674", "NR"}, {"675", "PG"}, {"676", "TO"}, {"677", "SB"}, {"678", "VU"},
      {"679", "FJ"}, {"680", "PW"}, {"681", "WF"}, {"682", "CK"}, {"683", "NU"}, {"685", "WS"},
      {"686", "KI"}, {"687", "NC"}, {"688", "TV"}, {"689", "PF"}, {"690", "TK"}, {"691", "FM"},
      {"692", "MH"}, {"7", "RU"},   {"76", "KZ"},  {"77", "KZ"},  {"81", "JP"},  {"82", "KR"},
      {"84", "VN"},  {"850", "KP"}, {"852", "HK"}, {"853", "MO"}, {"855", "KH"}, {"856", "LA"},
      {"86", "CN"},  {"880", "BD"}, {"886", "TW"}, {"90", "TR"},  {"91", "IN"},  {"92", "PK"},
      {"93", "AF"},  {"94", "LK"},  {"95", "MM"},  {"960", "MV"}, {"961", "LB"}, {"962", "JO"},
      {"963", "SY"}, {"964", "IQ"}, {"965", "KW"}, {"966", "SA"}, {"967", "YE"}, {"968", "OM"},
      {"970", "PS"}, {"971", "AE"}, {"972", "IL"}, {"973", "BH"}, {"974", "QA"}, {"975", "BT"},
      {"976", "MN"}, {"977", "NP"}, {"98", "IR"},  {"992", "TJ"}, {"993", "TM"}, {"994", "AZ"},
      {"995", "GE"}, {"996", "KG"}, {"998", "UZ"},
  };
  return kCodes;
}

// NANP area codes outside the United States: Canada and the other members. Anything else
// under +1 is taken as US, except the premium-rate codes.
const std::map<std::string_view, std::string_view>& NanpAreas() {
  static const std::map<std::string_view, std::string_view> kAreas = [] {
    std::map<std::string_view, std::string_view> m{
        {"242", "BS"}, {"246", "BB"}, {"264", "AI"}, {"268", "AG"}, {"284", "VG"},
        {"340", "VI"}, {"345", "KY"}, {"441", "BM"}, {"473", "GD"}, {"649", "TC"},
        {"658", "JM"}, {"876", "JM"}, {"664", "MS"}, {"670", "MP"}, {"671", "GU"},
        {"684", "AS"}, {"721", "SX"}, {"758", "LC"}, {"767", "DM"}, {"784", "VC"},
        {"787", "PR"}, {"939", "PR"}, {"809", "DO"}, {"829", "DO"}, {"849", "DO"},
        {"868", "TT"}, {"869", "KN"},
    };
    static constexpr std::string_view kCanada[] = {
        "204", "226", "236", "249", "250", "257", "263", "289", "306", "343", "354", "365",
        "367", "368", "382", "387", "403", "416", "418", "428", "431", "437", "438", "450",
        "460", "468", "474", "506", "514", "519", "548", "579", "581", "584", "587", "600",
        "604", "613", "622", "633", "639", "644", "647", "655", "672", "677", "683", "688",
        "705", "709", "742", "753", "778", "780", "782", "807", "819", "825", "867", "873",
        "879", "902", "905"};
    for (auto a : kCanada) m.emplace(a, "CA");
    return m;
  }();
  return kAreas;
}

}  // namespace

Result<PhoneNumber> ParseE164(std::string_view text, std::string_view field) {
  const std::string f(field);
  if (text.empty()) return InvalidArgument(f + " is required");
  if (text.front() != '+') {
    return InvalidArgument(f + " must be in E.164 form: + and 8-15 digits (\"+31612345678\")");
  }
  const std::string_view digits = text.substr(1);
  if (digits.size() < 8 || digits.size() > 15 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument(f + " must be in E.164 form: + and 8-15 digits (\"+31612345678\")");
  }
  if (digits.front() == '0') return InvalidArgument(f + ": a country code never starts with 0");
  PhoneNumber n;
  n.e164 = std::string(text);
  n.country = CountryOfE164(text);
  if (digits.front() == '1') {
    n.calling_code = "1";
  } else {
    for (std::size_t len = 3; len >= 1; --len) {
      if (CallingCodes().count(digits.substr(0, len)) != 0) {
        n.calling_code = std::string(digits.substr(0, len));
        break;
      }
    }
    if (n.calling_code.empty()) n.calling_code = std::string(digits.substr(0, 3));
  }
  return n;
}

std::string CountryOfE164(std::string_view e164) {
  if (e164.size() < 2 || e164.front() != '+') return "";
  const std::string_view digits = e164.substr(1);
  if (digits.front() == '1') {
    if (digits.size() < 4) return "";
    const std::string_view area = digits.substr(1, 3);
    if (area == "900" || area == "976") return "";  // premium rate
    if (auto it = NanpAreas().find(area); it != NanpAreas().end()) return std::string(it->second);
    return "US";
  }
  // "7": Kazakhstan holds +76 and +77; the longest match wins.
  for (std::size_t len = std::min<std::size_t>(3, digits.size()); len >= 1; --len) {
    if (auto it = CallingCodes().find(digits.substr(0, len)); it != CallingCodes().end()) {
      return std::string(it->second);
    }
  }
  return "";
}

Result<std::set<std::string>> ParseCountryList(std::string_view list) {
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
      if (item.size() != 2 || !std::isalpha(static_cast<unsigned char>(item[0])) ||
          !std::isalpha(static_cast<unsigned char>(item[1]))) {
        return InvalidArgument("country list: \"" + item + "\" is not an ISO 3166 alpha-2 code");
      }
      out.insert(item);
    }
    start = end + 1;
  }
  return out;
}

std::string MaskNumber(std::string_view e164) {
  if (e164.size() < 6) return "***";
  const std::size_t keep_front = e164.size() > 3 ? 3 : 1;
  return std::string(e164.substr(0, keep_front)) +
         std::string(e164.size() - keep_front - 2, '*') + std::string(e164.substr(e164.size() - 2));
}

std::string MaskAddress(std::string_view address) {
  const auto at = address.find('@');
  if (at == std::string_view::npos || at == 0) return "***";
  return std::string(address.substr(0, 1)) + "***" + std::string(address.substr(at));
}

}  // namespace idp::delivery
