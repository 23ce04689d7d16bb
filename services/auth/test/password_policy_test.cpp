// The password rules of issue 7: NFKC, 8-128 characters (not bytes), common passwords refused.
#include "password_policy.hpp"

#include <catch2/catch.hpp>

#include <string>

using idp::auth::CheckNewPassword;
using idp::auth::CountPasswordChars;
using idp::auth::IsCommonPassword;
using idp::auth::NormalizePassword;

namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("NFKC turns fullwidth letters and digits into ASCII", "[auth][password]") {
  // "ｐａｓｓｗｏｒｄ１２３": U+FF50 U+FF41 ... U+FF13.
  const std::string fullwidth =
      "\xEF\xBD\x90\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x93\xEF\xBD\x97\xEF\xBD\x8F\xEF\xBD\x92"
      "\xEF\xBD\x84\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93";
  REQUIRE(NormalizePassword(fullwidth) == std::string("password123"));
  // So the fullwidth spelling of a common password is refused like the ASCII one.
  CHECK(IsCommonPassword(fullwidth));
  CHECK(CheckNewPassword(fullwidth).value_or("").find("too common") != std::string::npos);
}

TEST_CASE("a composed and a decomposed e-acute normalise to the same password", "[auth][password]") {
  const std::string composed = "caf\xC3\xA9 au lait";     // U+00E9
  const std::string decomposed = "cafe\xCC\x81 au lait";  // e + U+0301
  REQUIRE(composed != decomposed);
  CHECK(NormalizePassword(composed) == composed);
  CHECK(NormalizePassword(decomposed) == composed);
  CHECK_FALSE(CheckNewPassword(decomposed));
}

TEST_CASE("ASCII is its own NFKC form so old ASCII hashes still verify", "[auth][password]") {
  std::string all;
  for (char c = 0x20; c < 0x7F; ++c) all += c;
  CHECK(NormalizePassword(all) == all);
}

TEST_CASE("length is counted in characters not bytes", "[auth][password]") {
  CHECK(CheckNewPassword("seven77").value_or("") == "password must be at least 8 characters");
  CHECK_FALSE(CheckNewPassword("eight 8s"));
  CHECK_FALSE(CheckNewPassword(std::string(128, 'x')));
  CHECK(CheckNewPassword(std::string(129, 'x')).value_or("") ==
        "password must be at most 128 characters");
  // 128 emoji of 4 bytes each (U+1F600): 512 bytes but 128 characters.
  const std::string emoji = "\xF0\x9F\x98\x80";
  CHECK(CountPasswordChars(Repeat(emoji, 128)) == 128);
  CHECK_FALSE(CheckNewPassword(Repeat(emoji, 128)));
  CHECK(CheckNewPassword(Repeat(emoji, 129)).value_or("") ==
        "password must be at most 128 characters");
  // 7 two-byte characters are 14 bytes but still too short.
  CHECK(CheckNewPassword(Repeat("\xC3\xA9", 7)).value_or("") ==
        "password must be at least 8 characters");
  // Counted after NFKC: 4 ligatures U+FB01 become 8 characters "fifififi".
  CHECK(NormalizePassword(Repeat("\xEF\xAC\x81", 4)) == std::string("fifififi"));
  CHECK_FALSE(CheckNewPassword(Repeat("\xEF\xAC\x81", 4)));
}

TEST_CASE("any Unicode is accepted but malformed UTF-8 and controls are not", "[auth][password]") {
  CHECK_FALSE(CheckNewPassword("\xC3\xBCn\xC3\xAF\x63\xC3\xB6\x64\xC3\xA9 p\xC3\xA4sswort"));
  CHECK_FALSE(CheckNewPassword("\xD0\xBF\xD0\xB0\xD1\x80\xD0\xBE\xD0\xBB\xD1\x8C \xE5\xAF\x86\xE7\xA0\x81"));
  const std::string bad = "password must be valid UTF-8 text without control characters";
  CHECK(CheckNewPassword("tab\tinside").value_or("") == bad);
  CHECK(CheckNewPassword(std::string("nul\0inside", 10)).value_or("") == bad);
  CHECK(CheckNewPassword("bad \xC3\x28 utf8").value_or("") == bad);
  CHECK(CheckNewPassword("overlong \xC0\xAF slash").value_or("") == bad);
  CHECK(CheckNewPassword("surrogate \xED\xA0\x80 half").value_or("") == bad);
  CHECK(CheckNewPassword("truncated \xF0\x9F\x98").value_or("") == bad);
  CHECK_FALSE(NormalizePassword("bad \xC3\x28 utf8"));
}

TEST_CASE("common passwords from the shipped list are refused case-insensitively", "[auth][password]") {
  CHECK(idp::auth::CommonPasswordCount() > 10000);
  for (const char* pw : {"password123", "PassWord123", "iloveyou", "12345678", "qwertyuiop",
                         "baseball", "trustno1"}) {
    INFO(pw);
    CHECK(IsCommonPassword(pw));
    CHECK(CheckNewPassword(pw).value_or("") ==
          "password is too common (it appears in lists of leaked passwords); choose another");
  }
  CHECK_FALSE(IsCommonPassword("correct horse battery staple"));
  CHECK_FALSE(CheckNewPassword("correct horse battery staple"));
  CHECK_FALSE(IsCommonPassword(""));
}
