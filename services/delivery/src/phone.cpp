#include "phone.hpp"

#include "idp/phone/phone.hpp"

#include <algorithm>

namespace idp::delivery {

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
  return n;
}

std::string CountryOfE164(std::string_view e164) {
  if (e164.empty() || e164.front() != '+') return "";
  auto n = phone::Parse(e164);
  if (!n || n->IsServiceNumber()) return "";
  return n->region;
}

Result<std::set<std::string>> ParseCountryList(std::string_view list) {
  return phone::ParseRegionList(list);
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
