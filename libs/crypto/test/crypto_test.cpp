#include "idp/crypto/crypto.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <vector>
#include <string>
#include <utility>

using idp::crypto::Aead;
using idp::crypto::Base64Decode;
using idp::crypto::Base64Encode;
using idp::crypto::Base64UrlDecode;
using idp::crypto::Base64UrlEncode;
using idp::crypto::HexDecode;
using idp::crypto::HexEncode;

TEST_CASE("Base64 matches the RFC 4648 section 10 vectors", "[crypto][encoding]") {
  const auto [plain, encoded] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  }));
  CHECK(Base64Encode(plain) == encoded);
  const auto decoded = Base64Decode(encoded);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == plain);
}

TEST_CASE("Base16 matches the RFC 4648 section 10 vectors", "[crypto][encoding]") {
  const auto [plain, encoded] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "66"},
      {"fo", "666f"},
      {"foo", "666f6f"},
      {"foobar", "666f6f626172"},
  }));
  CHECK(HexEncode(plain) == encoded);
  REQUIRE(HexDecode(encoded) == std::optional<std::string>(plain));
}

TEST_CASE("Base64url matches RFC 7515 Appendix C", "[crypto][encoding]") {
  const std::string bytes{3, static_cast<char>(236), static_cast<char>(255),
                          static_cast<char>(224), static_cast<char>(193)};
  CHECK(Base64UrlEncode(bytes) == "A-z_4ME");
  const auto decoded = Base64UrlDecode("A-z_4ME");
  REQUIRE(decoded.has_value());
  CHECK(*decoded == bytes);
}

TEST_CASE("Base64url decoding is strict", "[crypto][encoding]") {
  const std::string bad = GENERATE(as<std::string>{},
                                   "A-z_4ME=",    // padding
                                   "A+z/4ME",     // standard alphabet
                                   "A-z_+ME",     // '+' alone
                                   "A-z_/ME",     // '/' alone
                                   "A-z _4ME",    // inner space
                                   " A-z_4ME",    // leading space
                                   "A-z_4ME ",    // trailing space
                                   "A-z_4ME\n",   // trailing newline
                                   "A-z_4MF",     // non-zero unused bits
                                   "A-z_4MEA1",   // impossible length (4n + 1)
                                   "A-z_4ME.");   // trailing garbage
  CAPTURE(bad);
  CHECK_FALSE(Base64UrlDecode(bad).has_value());
}

// Found by fuzz/jws.cpp: libsodium 1.0.18 decodes any byte >= 0x80 as the 64th character, so
// "A-z\xFF4ME" decoded to the same bytes as "A-z_4ME".
TEST_CASE("Base64 decoding refuses bytes with the high bit set", "[crypto][encoding]") {
  CHECK(Base64UrlDecode("A-z_4ME").has_value());
  for (const char* bad : {"A-z\xFF" "4ME", "A-z\x80" "4ME", "CA\xFF\xFF" "CAg", "AA\x80" "A"}) {
    CAPTURE(bad);
    CHECK_FALSE(Base64UrlDecode(bad).has_value());
    CHECK_FALSE(Base64Decode(bad).has_value());
  }
  CHECK(Base64Decode("Zm9v/w==").has_value());
  CHECK_FALSE(Base64Decode("Zm9v\xFF" "w==").has_value());
}

TEST_CASE("Base64 decoding is strict", "[crypto][encoding]") {
  const std::string bad = GENERATE(as<std::string>{}, "Zm8", "Zm9vYg=", "Zm9v Yg==", "Zm9vYg==\n",
                                   "Zm-_", "Zg==Zg==", "Zh==");
  CAPTURE(bad);
  CHECK_FALSE(Base64Decode(bad).has_value());
}

TEST_CASE("Hex round trip and rejection", "[crypto][encoding]") {
  const std::string bytes = idp::crypto::RandomBytes(40);
  const std::string hex = HexEncode(bytes);
  CHECK(hex.size() == 80);
  CHECK(HexDecode(hex) == std::optional<std::string>(bytes));
  CHECK(HexDecode("DEADbeef") == std::optional<std::string>("\xde\xad\xbe\xef"));
  CHECK_FALSE(HexDecode("abc").has_value());
  CHECK_FALSE(HexDecode("zz").has_value());
  CHECK_FALSE(HexDecode("ab cd").has_value());
}

TEST_CASE("SHA-2 digests match FIPS 180-2 vectors", "[crypto][hash]") {
  CHECK(HexEncode(idp::crypto::Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(idp::crypto::Sha384("abc")) ==
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
        "8086072ba1e7cc2358baeca134c825a7");
  CHECK(HexEncode(idp::crypto::Sha512("abc")) ==
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST_CASE("HMAC-SHA-256 matches RFC 4231 test case 2", "[crypto][hash]") {
  CHECK(HexEncode(idp::crypto::HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("ConstantTimeEqual compares content and length", "[crypto][hash]") {
  CHECK(idp::crypto::ConstantTimeEqual("", ""));
  CHECK(idp::crypto::ConstantTimeEqual("secret", "secret"));
  CHECK_FALSE(idp::crypto::ConstantTimeEqual("secret", "secreT"));
  CHECK_FALSE(idp::crypto::ConstantTimeEqual("secret", "secret2"));
  CHECK_FALSE(idp::crypto::ConstantTimeEqual("", "a"));
}

TEST_CASE("AEAD seals and opens", "[crypto][aead]") {
  auto aead = Aead::FromKey(idp::crypto::RandomBytes(32));
  REQUIRE(aead.has_value());
  const std::string plaintext = "totp secret JBSWY3DPEHPK3PXP";
  const std::string sealed = aead->Seal(plaintext, "user:42");
  REQUIRE(sealed.size() == 1 + 12 + plaintext.size() + 16);
  CHECK(sealed[0] == '\x01');
  CHECK(sealed.find(plaintext) == std::string::npos);

  SECTION("round trip") {
    auto opened = aead->Open(sealed, "user:42");
    REQUIRE(opened.has_value());
    CHECK(*opened == plaintext);
  }
  SECTION("empty plaintext and aad") {
    auto opened = aead->Open(aead->Seal("", ""), "");
    REQUIRE(opened.has_value());
    CHECK(opened->empty());
  }
  SECTION("nonces differ between seals") { CHECK(aead->Seal(plaintext, "a") != aead->Seal(plaintext, "a")); }
  SECTION("wrong aad fails") {
    auto opened = aead->Open(sealed, "user:43");
    REQUIRE(opened.has_error());
    CHECK(opened.error().code == idp::ErrorCode::kInvalidArgument);
  }
  SECTION("any flipped byte fails") {
    const std::size_t index = GENERATE(0u, 1u, 12u, 13u, 20u, 1u + 12u + 28u, 1u + 12u + 28u + 15u);
    std::string tampered = sealed;
    tampered[index] = static_cast<char>(tampered[index] ^ 0x01);
    CHECK(aead->Open(tampered, "user:42").has_error());
  }
  SECTION("truncated input fails") {
    CHECK(aead->Open(sealed.substr(0, sealed.size() - 1), "user:42").has_error());
    CHECK(aead->Open(sealed.substr(0, 28), "user:42").has_error());
    CHECK(aead->Open("", "user:42").has_error());
  }
  SECTION("wrong key fails") {
    auto other = Aead::FromKey(idp::crypto::RandomBytes(32));
    REQUIRE(other.has_value());
    CHECK(other->Open(sealed, "user:42").has_error());
  }
}

TEST_CASE("AEAD keys must be 32 bytes", "[crypto][aead]") {
  CHECK(Aead::FromKey(std::string(31, 'k')).has_error());
  CHECK(Aead::FromKey(std::string(33, 'k')).has_error());
  CHECK(Aead::FromKey("").has_error());
}

TEST_CASE("AEAD keys are accepted in hex and base64url and base64", "[crypto][aead]") {
  // A fixed key: GENERATE re-runs the test case from the top for each encoding. 0xfb 0xff
  // encode with '+' and '/' (or '-' and '_'), so the two base64 alphabets really differ.
  std::string key(32, '\0');
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(0xfb + 4 * i);
  auto reference = Aead::FromKey(key);
  REQUIRE(reference.has_value());
  const std::string sealed = reference->Seal("data", "ctx");

  const std::string encoded =
      GENERATE_COPY(HexEncode(key), Base64UrlEncode(key), Base64Encode(key));
  CAPTURE(encoded);
  auto aead = Aead::FromEncodedKey(encoded);
  REQUIRE(aead.has_value());
  auto opened = aead->Open(sealed, "ctx");
  REQUIRE(opened.has_value());
  CHECK(*opened == "data");

  CHECK(Aead::FromEncodedKey(HexEncode(key.substr(1))).has_error());
  CHECK(Aead::FromEncodedKey(Base64UrlEncode(key.substr(1))).has_error());
  CHECK(Aead::FromEncodedKey("not a key").has_error());
  CHECK(Aead::FromEncodedKey(encoded + " ").has_error());
}

TEST_CASE("RandomToken has the expected length and does not repeat", "[crypto][random]") {
  CHECK(idp::crypto::RandomToken().size() == 43);  // 32 bytes base64url without padding
  CHECK(idp::crypto::RandomToken(16).size() == 22);
  CHECK(Base64UrlDecode(idp::crypto::RandomToken())->size() == 32);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(idp::crypto::RandomToken());
  CHECK(seen.size() == 1000);
  CHECK(idp::crypto::RandomBytes(0).empty());
  CHECK(idp::crypto::RandomBytes(64).size() == 64);
}

TEST_CASE("RandomUniform stays in range and covers it", "[crypto][random]") {
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t value = idp::crypto::RandomUniform(10);
    REQUIRE(value < 10);
    seen.insert(value);
  }
  CHECK(seen.size() == 10);
}

TEST_CASE("Argon2id password hashing", "[crypto][password]") {
  const std::string hash = idp::crypto::HashPassword("correct horse battery staple");
  CHECK(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);

  CHECK(idp::crypto::VerifyPassword(hash, "correct horse battery staple"));
  CHECK_FALSE(idp::crypto::VerifyPassword(hash, "correct horse battery stapl"));
  CHECK_FALSE(idp::crypto::VerifyPassword(hash, ""));

  CHECK_FALSE(idp::crypto::VerifyPassword("", "x"));
  CHECK_FALSE(idp::crypto::VerifyPassword("$argon2id$garbage", "x"));
  CHECK_FALSE(idp::crypto::VerifyPassword(hash.substr(0, hash.size() - 4), "correct horse battery staple"));
  CHECK_FALSE(idp::crypto::VerifyPassword(std::string(200, 'a'), "x"));

  CHECK(idp::crypto::HashPassword("same") != idp::crypto::HashPassword("same"));  // random salt
  CHECK_FALSE(idp::crypto::PasswordNeedsRehash(hash));
}

TEST_CASE("PasswordNeedsRehash detects other parameters", "[crypto][password]") {
  // Small parameters keep the test fast; production uses the defaults.
  const idp::crypto::PasswordHashParams small{1, 64u * 1024u};
  const std::string weak = idp::crypto::HashPassword("pw", small);
  CHECK(weak.rfind("$argon2id$v=19$m=64,t=1,p=1$", 0) == 0);
  CHECK(idp::crypto::VerifyPassword(weak, "pw"));
  CHECK_FALSE(idp::crypto::PasswordNeedsRehash(weak, small));
  CHECK(idp::crypto::PasswordNeedsRehash(weak));
  CHECK(idp::crypto::PasswordNeedsRehash(weak, {2, 64u * 1024u}));
  CHECK(idp::crypto::PasswordNeedsRehash("not a hash"));
  CHECK(idp::crypto::PasswordNeedsRehash("$2b$12$abcdefghijklmnopqrstuuv"));  // bcrypt
}

TEST_CASE("a limit on concurrent Argon2id computations holds and every caller gets its answer", "[crypto][password]") {
  const std::string hash = idp::crypto::HashPassword("correct horse battery staple");
  REQUIRE(idp::crypto::CurrentPasswordHashLoad().peak == 1);  // nothing ran at once before
  idp::crypto::LimitConcurrentPasswordHashes(2);
  std::vector<int> ok(6, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ok.size(); ++i) {
    threads.emplace_back([&, i] { ok[i] = idp::crypto::VerifyPassword(hash, "correct horse battery staple") ? 1 : 0; });
  }
  unsigned most_running = 0;
  for (int i = 0; i < 50; ++i) {
    const auto load = idp::crypto::CurrentPasswordHashLoad();
    most_running = std::max(most_running, load.running);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& t : threads) t.join();
  idp::crypto::LimitConcurrentPasswordHashes(0);
  CHECK(ok == std::vector<int>(6, 1));
  const auto after = idp::crypto::CurrentPasswordHashLoad();
  CHECK(after.peak <= 2);  // without the limit all six would run at once
  CHECK(most_running <= 2);
  CHECK(after.running == 0);
  CHECK(after.waiting == 0);
}
