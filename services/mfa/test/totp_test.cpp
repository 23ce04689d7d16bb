#include "qr.hpp"
#include "totp.hpp"

#include <catch2/catch.hpp>

using namespace idp::mfa;

TEST_CASE("TOTP matches the RFC 6238 Appendix B SHA-1 vectors") {
  const std::string secret = "12345678901234567890";
  struct Vector {
    std::int64_t time;
    const char* code;
  };
  for (auto v : {Vector{59, "94287082"}, Vector{1111111109, "07081804"},
                 Vector{1111111111, "14050471"}, Vector{1234567890, "89005924"},
                 Vector{2000000000, "69279037"}, Vector{20000000000, "65353130"}}) {
    CHECK(TotpCode(secret, v.time / 30, 8) == v.code);
  }
  // Six digits are the last six of the same value (RFC 4226 §5.3).
  CHECK(TotpCode(secret, 59 / 30) == "287082");
}

TEST_CASE("TOTP accepts one step either side and nothing further") {
  const std::string secret = "12345678901234567890";
  const std::int64_t now = 1111111111;
  const std::int64_t step = now / 30;
  CHECK(TotpMatch(secret, TotpCode(secret, step), now) == step);
  CHECK(TotpMatch(secret, TotpCode(secret, step - 1), now) == step - 1);
  CHECK(TotpMatch(secret, TotpCode(secret, step + 1), now) == step + 1);
  CHECK_FALSE(TotpMatch(secret, TotpCode(secret, step - 2), now));
  CHECK_FALSE(TotpMatch(secret, TotpCode(secret, step + 2), now));
}

TEST_CASE("codes must be exactly six ASCII digits") {
  CHECK(IsCodeShaped("012345"));
  for (const char* bad : {"12345", "1234567", "12 345", "12345a", "", "１２３４５６"}) {
    CHECK_FALSE(IsCodeShaped(bad));
  }
  CHECK_FALSE(TotpMatch("12345678901234567890", "28708", 59));
}

TEST_CASE("base32 follows RFC 4648 and the otpauth URI names issuer and account") {
  CHECK(Base32("") == "");
  CHECK(Base32("f") == "MY");
  CHECK(Base32("foobar") == "MZXW6YTBOI");
  auto uri = OtpauthUri("Identity Portal", "alice", "12345678901234567890");
  CHECK(uri == "otpauth://totp/Identity%20Portal:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
               "&issuer=Identity%20Portal&algorithm=SHA1&digits=6&period=30");
  auto svg = QrSvg(uri);
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("h1v1h-1z") != std::string::npos);
}
