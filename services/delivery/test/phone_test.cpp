// E.164 numbers, their countries (libphonenumber, through libs/phone), and masking for logs.
#include "phone.hpp"

#include <catch2/catch.hpp>

using namespace idp::delivery;

TEST_CASE("E.164 numbers parse with their country") {
  auto nl = ParseE164("+31612345678", "to_number");
  REQUIRE(nl.has_value());
  CHECK(nl->e164 == "+31612345678");
  CHECK(nl->country == "NL");
  auto us = ParseE164("+12025550143", "to_number");
  REQUIRE(us.has_value());
  CHECK(us->country == "US");
  CHECK(ParseE164("+353861234567", "to_number").value().country == "IE");
}

TEST_CASE("invalid numbers are refused with a clear message") {
  for (const char* n : {"", "0612345678", "+31 6 12345678", "+31-612345678", "+1234567",
                        "+1234567890123456", "+3161234567a", "+0612345678", "++31612345678",
                        "+31612345678\r\n", "31612345678"}) {
    INFO(n);
    auto r = ParseE164(n, "to_number");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == idp::ErrorCode::kInvalidArgument);
    CHECK(r.error().message.rfind("to_number", 0) == 0);
  }
}

TEST_CASE("countries come from libphonenumber's plans including NANP area codes") {
  CHECK(CountryOfE164("+31612345678") == "NL");
  CHECK(CountryOfE164("+447400123456") == "GB");
  CHECK(CountryOfE164("+447911123456") == "GG");  // Guernsey has its own plan within +44
  CHECK(CountryOfE164("+4915112345678") == "DE");
  CHECK(CountryOfE164("+35312345678") == "IE");
  CHECK(CountryOfE164("+12025550143") == "US");
  CHECK(CountryOfE164("+14165550143") == "CA");
  CHECK(CountryOfE164("+18765550143") == "JM");
  CHECK(CountryOfE164("+18095550143") == "DO");
  CHECK(CountryOfE164("+19005550143").empty());  // premium rate
  CHECK(CountryOfE164("+18005550143").empty());  // toll-free
  // Numbers no plan assigns have no country (the old prefix table said NL and GB).
  CHECK(CountryOfE164("+31600000001").empty());   // Dutch mobiles are 06-1..5 and 06-8
  CHECK(CountryOfE164("+447700900123").empty());  // Ofcom's range for drama
  CHECK(CountryOfE164("+77012345678") == "KZ");
  CHECK(CountryOfE164("+79123456789") == "RU");
  CHECK(CountryOfE164("+88212345678").empty());   // international networks
  CHECK(CountryOfE164("+99912345678").empty());   // unassigned
}

TEST_CASE("country lists parse and refuse junk") {
  auto l = ParseCountryList("nl, BE ,de,,US");
  REQUIRE(l.has_value());
  CHECK(*l == std::set<std::string>{"BE", "DE", "NL", "US"});
  CHECK(ParseCountryList("").value().empty());
  CHECK_FALSE(ParseCountryList("NLD").has_value());
  CHECK_FALSE(ParseCountryList("N1").has_value());
  CHECK_FALSE(ParseCountryList("UK").has_value());  // the United Kingdom is GB
}

TEST_CASE("masks keep numbers and addresses out of logs") {
  CHECK(MaskNumber("+31612345678") == "+31*******78");
  CHECK(MaskNumber("+1") == "***");
  CHECK(MaskAddress("alice@example.com") == "a***@example.com");
  CHECK(MaskAddress("nope") == "***");
}
