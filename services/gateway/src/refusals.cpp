#include "refusals.hpp"

#include "i18n.hpp"

#include "idp/auth/v1/auth.pb.h"
#include "idp/mfa/v1/mfa.pb.h"
#include "idp/phone/phone.hpp"

namespace idp::gateway {
namespace {

/// The country as it sits in a sentence of `lang` ("the Netherlands", "Nederland").
std::string CountryIn(std::string_view lang, const std::string& region) {
  return lang == "en" ? phone::CountryInSentence(region) : phone::CountryName(region, lang);
}

/// `with_country` naming `region`, or `without` when the refusal names no country.
std::string Sentence(std::string_view lang, const std::string& region, const char* with_country,
                     const char* without) {
  if (region.empty()) return Translate(lang, without);
  const std::string country = CountryIn(lang, region);
  return Translate(lang, with_country, {country});
}

}  // namespace

std::string RefusalText(std::string_view lang, const mfa::v1::Refusal& refusal) {
  using R = mfa::v1::Refusal;
  const std::string& region = refusal.region();
  switch (refusal.reason()) {
    case R::REASON_UNSPECIFIED: return std::string();
    case R::REASON_EMAIL_MALFORMED: return Translate(lang, "Enter an email address, like name@example.com.");
    case R::REASON_PHONE_EMPTY: return Translate(lang, "Enter your mobile number.");
    case R::REASON_PHONE_LETTERS:
      return Translate(lang, "A phone number has no letters: enter its digits only.");
    case R::REASON_PHONE_CHARACTERS:
      return Translate(lang, "Use only digits and spaces, with + before the country code.");
    case R::REASON_PHONE_TOO_SHORT:
      return Translate(lang, "That number is too short: enter the whole mobile number.");
    case R::REASON_PHONE_TOO_LONG:
      return Translate(lang, "That number is too long: enter one mobile number, without extension.");
    case R::REASON_PHONE_NO_COUNTRY:
      return Translate(lang, "Start the number with + and its country code, like +31 6 12345678, "
                             "or choose its country.");
    case R::REASON_PHONE_UNKNOWN_COUNTRY_CODE:
      return Translate(lang, "There is no country with that code: check the digits after the +.");
    case R::REASON_PHONE_WRONG_LENGTH:
      return Sentence(lang, region, "That number has the wrong number of digits for {0}.",
                      "That number has the wrong number of digits.");
    case R::REASON_PHONE_INVALID:
      return Sentence(lang, region, "That is not a valid number in {0}: check it, and its country.",
                      "That is not a valid phone number: check it.");
    case R::REASON_PHONE_LANDLINE:
      return Sentence(lang, region, "That is a landline number in {0}: enter a mobile number.",
                      "That is a landline number: enter a mobile number.");
    case R::REASON_PHONE_SERVICE_NUMBER:
      return Translate(lang, "That is a service number, not a mobile: enter a mobile number.");
    case R::REASON_SMS_COUNTRY_NOT_ALLOWED:
      return Sentence(lang, region,
                      "Text messages cannot be sent to numbers in {0}. Use the authenticator app "
                      "or email instead.",
                      "Numbers without a country are not supported.");
    case R::REASON_SENT_RECENTLY:
      return Translate(lang, "A code was sent a moment ago. Wait a little before asking for another.");
    case R::REASON_SMS_UNAVAILABLE:
      return Translate(lang, "Codes by text message cannot be sent right now. Use another method.");
    case R::REASON_SMS_COUNTRY_REFUSED:
      return Translate(lang, "Text messages cannot be sent to this country. Use the authenticator "
                             "app or email.");
    case R::REASON_CHANNEL_DISABLED:
      return Translate(lang, "This way of sending codes is not available. Use another method.");
    case R::REASON_KEEP_TWO_METHODS:
      return Translate(lang, "You need at least two ways to verify it's you, so this one cannot be "
                             "removed. Add another method first, then remove this one.");
    case R::REASON_NOT_SENT:
    default:
      break;
  }
  return Translate(lang, "The code could not be sent. Use another method.");
}

std::string WeaknessText(std::string_view lang, const auth::v1::PasswordWeakness& weakness) {
  using W = auth::v1::PasswordWeakness;
  const std::string limit = std::to_string(weakness.limit());
  switch (weakness.problem()) {
    case W::PROBLEM_CONTROL_CHARACTERS:
      return Translate(lang, "password must be valid UTF-8 text without control characters");
    case W::PROBLEM_TOO_SHORT:
      return Translate(lang, "password must be at least {0} characters", {limit});
    case W::PROBLEM_TOO_LONG:
      return Translate(lang, "password must be at most {0} characters", {limit});
    case W::PROBLEM_COMMON:
      return Translate(lang, "password is too common (it appears in lists of leaked passwords); "
                             "choose another");
    default:
      break;
  }
  return Translate(lang, "Choose another password.");
}

}  // namespace idp::gateway
