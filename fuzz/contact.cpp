// Fuzzes what a person types as an email address or phone number: the MFA service's
// NormaliseDestination (services/mfa/src/destination.cpp) and the delivery service's ParseE164,
// CountryOfE164, ParseCountryList and masking (services/delivery/src/phone.cpp).
// Invariants: a number the MFA service accepts is accepted by delivery too (the two never
// disagree on E.164); normalised forms are stable (normalising again changes nothing); masks
// never show more than they should, stay valid UTF-8, and never crash on what was accepted.
#include "destination.hpp"
#include "fuzz_check.hpp"
#include "idp/http/message.hpp"
#include "idp/phone/phone.hpp"
#include "phone.hpp"

#include <cstdint>

using namespace idp;

namespace {

bool IsUpperCountry(std::string_view c) {
  return c.size() == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z';
}

std::size_t CountDigits(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (c >= '0' && c <= '9');
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::AsText(data, size);

  // Email, as typed on the enrolment page.
  auto email = mfa::NormaliseDestination("email", text);
  FUZZ_CHECK(email.has_value());
  if (!email->value.empty()) {
    const std::string& a = email->value;
    FUZZ_CHECK(mfa::IsEmailAddress(a));
    for (char c : a) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    auto again = mfa::NormaliseDestination("email", a);
    FUZZ_CHECK(again && again->value == a);
    const auto at = a.find('@');
    const std::string masked = mfa::MaskDestination("email", a);
    FUZZ_CHECK(masked.size() >= a.size() - at);
    FUZZ_CHECK(masked.compare(masked.size() - (a.size() - at), std::string::npos, a, at) == 0);
    // The mask is the factor's label, sent over gRPC (proto3 strings must be UTF-8) and shown.
    if (http::IsValidUtf8(text)) FUZZ_CHECK(http::IsValidUtf8(masked));
    const std::string logged = delivery::MaskAddress(a);
    FUZZ_CHECK(logged.find(a.substr(at)) != std::string::npos);
  }

  // Phone number, as typed ("+31 6 1234-5678").
  auto sms = mfa::NormaliseDestination("sms", text);
  FUZZ_CHECK(sms.has_value());
  if (!sms->value.empty()) {
    const std::string& n = sms->value;
    FUZZ_CHECK(mfa::IsE164(n));
    auto parsed = delivery::ParseE164(n, "to_number");
    FUZZ_CHECK(parsed.has_value());  // what MFA stores, delivery can send to
    auto again = mfa::NormaliseDestination("sms", n);
    FUZZ_CHECK(again && again->value == n);
    const std::string masked = mfa::MaskDestination("sms", n);
    FUZZ_CHECK(CountDigits(masked) <= 4);  // "+31 ••• ••• 78"
    const std::string logged = delivery::MaskNumber(n);
    FUZZ_CHECK(logged.size() == n.size() && CountDigits(logged) <= 4);
  }

  FUZZ_CHECK(!mfa::NormaliseDestination("fax", text).has_value());

  // A mobile number as the MFA service reads it (libs/phone over libphonenumber): what it
  // accepts is "+" and digits, and reads back to itself. (Not delivery's ParseE164: that one
  // asks for 8 digits or more, and a few small plans have shorter mobiles.)
  phone::ParseOptions typed;
  typed.default_region = "NL";
  typed.require_mobile = true;
  auto mobile = phone::Parse(text, typed);
  if (mobile) {
    FUZZ_CHECK(mobile->e164.size() >= 2 && mobile->e164[0] == '+');
    FUZZ_CHECK(CountDigits(mobile->e164) == mobile->e164.size() - 1);
    FUZZ_CHECK(mobile->CanReceiveSms());
    auto again = phone::Parse(mobile->e164, typed);
    FUZZ_CHECK(again && again->e164 == mobile->e164);
  } else {
    FUZZ_CHECK(phone::ProblemName(mobile.error().problem) != "unknown");
    FUZZ_CHECK(mobile.error().region.empty() || IsUpperCountry(mobile.error().region));
  }

  // The delivery service's own checks on the raw text.
  auto number = delivery::ParseE164(text, "to_number");
  if (number) {
    FUZZ_CHECK(number->e164 == text);
    FUZZ_CHECK(mfa::IsE164(text));
    FUZZ_CHECK(number->country.empty() || IsUpperCountry(number->country));
  } else {
    FUZZ_CHECK(!number.error().message.empty());
  }
  const std::string country = delivery::CountryOfE164(text);
  FUZZ_CHECK(country.empty() || IsUpperCountry(country));
  auto countries = delivery::ParseCountryList(text);
  if (countries) {
    for (const auto& c : *countries) FUZZ_CHECK(IsUpperCountry(c));
  }
  (void)delivery::MaskNumber(text);
  (void)delivery::MaskAddress(text);
  return 0;
}
