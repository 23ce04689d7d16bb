// E.164 numbers, their countries, and masking for logs.
#include "phone.hpp"

#include <catch2/catch.hpp>

using namespace idp::delivery;

TEST_CASE("E.164 numbers parse with their calling code and country") {
  auto nl = ParseE164("+31612345678", "to_number");
  REQUIRE(nl.has_value());
  CHECK(nl->calling_code == "31");
  CHECK(nl->country == "NL");
  auto us = ParseE164("+12025550143", "to_number");
  REQUIRE(us.has_value());
  CHECK(us->calling_code == "1");
  CHECK(us->country == "US");
  CHECK(ParseE164("+353861234567", "to_number").value().calling_code == "353");
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

TEST_CASE("countries come from the longest prefix and NANP area codes") {
  CHECK(CountryOfE164("+31612345678") == "NL");
  CHECK(CountryOfE164("+447700900123") == "GB");
  CHECK(CountryOfE164("+4915112345678") == "DE");
  CHECK(CountryOfE164("+35312345678") == "IE");
  CHECK(CountryOfE164("+12025550143") == "US");
  CHECK(CountryOfE164("+14165550143") == "CA");
  CHECK(CountryOfE164("+18765550143") == "JM");
  CHECK(CountryOfE164("+18095550143") == "DO");
  CHECK(CountryOfE164("+19005550143").empty());  // premium rate
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
}

TEST_CASE("masks keep numbers and addresses out of logs") {
  CHECK(MaskNumber("+31612345678") == "+31*******78");
  CHECK(MaskNumber("+1") == "***");
  CHECK(MaskAddress("alice@example.com") == "a***@example.com");
  CHECK(MaskAddress("nope") == "***");
}
