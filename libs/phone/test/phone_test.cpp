// Real numbers through libphonenumber: national and international input, E.164, regions, number
// types, and the refusals a person sees.
#include "idp/phone/phone.hpp"

#include <catch2/catch.hpp>

using namespace idp::phone;

namespace {

ParseOptions Region(std::string region) {
  ParseOptions o;
  o.default_region = std::move(region);
  return o;
}

Problem ProblemOf(std::string_view text, const ParseOptions& o = {}) {
  auto r = Parse(text, o);
  REQUIRE_FALSE(r.has_value());
  CHECK(ProblemName(r.error().problem) != "unknown");
  return r.error().problem;
}

}  // namespace

TEST_CASE("a Dutch mobile in national format becomes E.164 with its region") {
  auto n = Parse("06 12345678", Region("NL"));
  REQUIRE(n.has_value());
  CHECK(n->e164 == "+31612345678");
  CHECK(n->region == "NL");
  CHECK(n->country_code == 31);
  CHECK(n->type == NumberType::kMobile);
  CHECK(n->CanReceiveSms());
  // The same number written other ways.
  for (const char* typed : {"+31 6 12345678", "+31 (0)6-1234 5678", " 06-12.34.56.78 ",
                            "0031 6 12345678"}) {
    INFO(typed);
    auto again = Parse(typed, Region("NL"));
    REQUIRE(again.has_value());
    CHECK(again->e164 == "+31612345678");
  }
}

TEST_CASE("an international number needs no default region") {
  auto us = Parse("+1 202 555 0143");
  REQUIRE(us.has_value());
  CHECK(us->e164 == "+12025550143");
  CHECK(us->region == "US");
  CHECK(us->type == NumberType::kFixedLineOrMobile);
  CHECK(us->CanReceiveSms());
  // The + wins over the default region.
  auto de = Parse("+49 151 12345678", Region("NL"));
  REQUIRE(de.has_value());
  CHECK(de->region == "DE");
  CHECK(de->e164 == "+4915112345678");
  // +1 is told apart by area code: Toronto is Canada.
  auto ca = Parse("+1 416 555 0143");
  REQUIRE(ca.has_value());
  CHECK(ca->region == "CA");
}

TEST_CASE("letters are refused") {
  CHECK(ProblemOf("abc", Region("NL")) == Problem::kLetters);
  CHECK(ProblemOf("+31 6 1234abcd") == Problem::kLetters);
  CHECK(ProblemOf("1-800-FLOWERS", Region("US")) == Problem::kLetters);  // no vanity numbers
  CHECK(ProblemOf("+31612345678 ext 12") == Problem::kLetters);
  CHECK(ProblemOf("+31 6 1234 5678\n+44") == Problem::kCharacters);
  CHECK(ProblemOf("+31\xEF\xBC\x96" "12345678") == Problem::kCharacters);  // a fullwidth 6
}

TEST_CASE("an unknown country code is refused") {
  CHECK(ProblemOf("+999 1234") == Problem::kUnknownCountryCode);
  CHECK(ProblemOf("+999 123 456 789") == Problem::kUnknownCountryCode);
}

TEST_CASE("too short and too long numbers are refused") {
  CHECK(ProblemOf("") == Problem::kEmpty);
  CHECK(ProblemOf("   ") == Problem::kEmpty);
  CHECK(ProblemOf("06", Region("NL")) == Problem::kTooShort);
  CHECK(ProblemOf("+3161") == Problem::kTooShort);
  CHECK(ProblemOf("06 1234", Region("NL")) == Problem::kTooShort);
  CHECK(ProblemOf("+31 6 1234567890123") == Problem::kTooLong);
  CHECK(ProblemOf(std::string(41, '1'), Region("NL")) == Problem::kTooLong);
}

TEST_CASE("national format without a region asks for the country") {
  CHECK(ProblemOf("06 12345678") == Problem::kNoCountry);
  CHECK(ProblemOf("06 12345678", Region("XX")) == Problem::kNoCountry);
}

TEST_CASE("a number that does not exist in its region is refused with the country") {
  auto r = Parse("+31 60 0000001");  // Dutch mobiles are 06-1 to 06-5 and 06-8
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().problem == Problem::kInvalidForRegion);
  CHECK(r.error().region == "NL");
}

TEST_CASE("a fixed line is refused when a mobile is required") {
  ParseOptions o = Region("NL");
  auto fixed = Parse("020 123 4567", o);  // Amsterdam
  REQUIRE(fixed.has_value());
  CHECK(fixed->type == NumberType::kFixedLine);
  CHECK_FALSE(fixed->CanReceiveSms());
  o.require_mobile = true;
  auto r = Parse("020 123 4567", o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().problem == Problem::kNotMobile);
  CHECK(r.error().region == "NL");
  // Premium rate is a service number, never a mobile.
  auto premium = Parse("+1 900 555 0143");
  REQUIRE(premium.has_value());
  CHECK(premium->type == NumberType::kPremiumRate);
  CHECK(premium->IsServiceNumber());
  CHECK_FALSE(premium->CanReceiveSms());
  CHECK(Parse("+1 900 555 0143", o).error().problem == Problem::kServiceNumber);
  CHECK(Parse("+1 202 555 0143", o).has_value());  // US numbers may be mobiles
}

TEST_CASE("a country outside the allowed list is refused by name") {
  ParseOptions o = Region("NL");
  o.allowed_regions = {"NL", "US"};
  auto br = Parse("+55 11 91234 5678", o);
  REQUIRE_FALSE(br.has_value());
  CHECK(br.error().problem == Problem::kUnsupportedCountry);
  CHECK(br.error().region == "BR");
  CHECK(Parse("06 12345678", o).has_value());
  // Brazil's number itself is fine.
  auto ok = Parse("+55 11 91234 5678");
  REQUIRE(ok.has_value());
  CHECK(ok->type == NumberType::kMobile);
}

TEST_CASE("country names and region lists") {
  CHECK(CountryName("BR") == "Brazil");
  CHECK(CountryName("NL") == "Netherlands");
  CHECK(CountryName("DE") == "Germany");
  CHECK(CountryInSentence("NL") == "the Netherlands");
  CHECK(CountryInSentence("BR") == "Brazil");
  CHECK(ParseRegionList(kDefaultSmsCountries).value().size() == 18);
  CHECK(IsSupportedRegion("GB"));
  CHECK_FALSE(IsSupportedRegion("UK"));
  auto l = ParseRegionList("nl, BE ,de,,US");
  REQUIRE(l.has_value());
  CHECK(*l == std::set<std::string>{"BE", "DE", "NL", "US"});
  CHECK(ParseRegionList("").value().empty());
  CHECK_FALSE(ParseRegionList("UK").has_value());
  CHECK_FALSE(ParseRegionList("NLD").has_value());
}

TEST_CASE("value of a refused number throws with its reason") {
  CHECK_THROWS_AS(Parse("abc").value(), idp::ErrorException);
}
