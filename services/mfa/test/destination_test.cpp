// What a person types as a code destination (services/mfa/src/destination.cpp), also fuzzed by
// fuzz/contact.cpp.
#include "destination.hpp"

#include <catch2/catch.hpp>

using idp::mfa::MaskDestination;
using idp::mfa::NormaliseDestination;

TEST_CASE("email destinations are lower-cased and checked", "[mfa][destination]") {
  auto ok = NormaliseDestination("email", "Alice.Smith+MFA@Example.COM");
  REQUIRE(ok.has_value());
  CHECK(ok->value == "alice.smith+mfa@example.com");
  for (const char* bad : {"alice", "@example.com", "a@b", "a@example.com.", "a@@example.com",
                          "a b@example.com", "<a@example.com>", "a@example.com,b@example.com"}) {
    CAPTURE(bad);
    auto refused = NormaliseDestination("email", bad);
    REQUIRE(refused.has_value());
    CHECK(refused->value.empty());
  }
}

TEST_CASE("phone destinations drop separators and must be E.164", "[mfa][destination]") {
  auto ok = NormaliseDestination("sms", "+31 (6) 1234-56.78");
  REQUIRE(ok.has_value());
  CHECK(ok->value == "+31612345678");
  for (const char* bad : {"0612345678", "+0612345678", "+3161", "+31 6 1234 5678 9012 34",
                          "+31 6 abc"}) {
    CAPTURE(bad);
    auto refused = NormaliseDestination("sms", bad);
    REQUIRE(refused.has_value());
    CHECK(refused->value.empty());
  }
  CHECK(NormaliseDestination("fax", "+31612345678").error().code ==
        idp::ErrorCode::kInvalidArgument);
}

TEST_CASE("masks show the first character and the domain or the last two digits", "[mfa][destination]") {
  CHECK(MaskDestination("email", "alice@example.com") == "a\u2022\u2022\u2022@example.com");
  CHECK(MaskDestination("sms", "+31612345678") == "+31 \u2022\u2022\u2022 \u2022\u2022\u2022 78");
}

// Found by fuzz/contact.cpp: the label of "élise@example.fr" kept only the first byte of "é",
// which is not UTF-8, so storing the factor failed.
TEST_CASE("an email mask keeps a multi-byte first character whole", "[mfa][destination]") {
  CHECK(MaskDestination("email", "\xC3\xA9lise@example.fr") ==
        "\xC3\xA9\u2022\u2022\u2022@example.fr");
  CHECK(MaskDestination("email", "\xF0\x9F\x98\x80@example.org") ==
        "\xF0\x9F\x98\x80\u2022\u2022\u2022@example.org");
  CHECK(MaskDestination("email", "\xE2\x82\xAC" "a@example.org") ==
        "\xE2\x82\xAC\u2022\u2022\u2022@example.org");
}
