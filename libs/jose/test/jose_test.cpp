#include "idp/jose/jose.hpp"

#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
using idp::ErrorCode;
using idp::crypto::Base64UrlDecode;
using idp::crypto::Base64UrlEncode;
using idp::jose::Alg;
using idp::jose::Key;

namespace {

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

/// The text of a JSON string value ("" for anything else), for comparisons in CHECKs.
std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string().data(), v.get_string().size()) : std::string();
}

Key KeyFromJwk(std::string_view text) {
  auto key = Key::FromJwk(Obj(text));
  REQUIRE(key.has_value());
  return *key;
}

// RFC 7515 Appendix A.2.1: the RSA private key (display line breaks removed).
constexpr std::string_view kRfc7515A2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const std::string kRfc7515A2PrivateJwk =
    R"({"kty":"RSA","n":")" + std::string(kRfc7515A2N) +
    R"(","e":"AQAB","d":")"
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I"
    "jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0"
    "BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn"
    "439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT"
    "CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh"
    "BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
    R"(","p":")"
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi"
    "YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG"
    "BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
    R"(","q":")"
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa"
    "ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA"
    "-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
    R"(","dp":")"
    "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLd"
    "hrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCd"
    "y7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0"
    R"(","dq":")"
    "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9"
    "xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr"
    "2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU"
    R"(","qi":")"
    "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26"
    "F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITr"
    "JReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"
    R"("})";
const std::string kRfc7515A2PublicJwk =
    R"({"kty":"RSA","n":")" + std::string(kRfc7515A2N) + R"(","e":"AQAB"})";

// RFC 7515 A.2.1 / A.3.1: the shared payload, {"iss":"joe",CRLF "exp":1300819380,CRLF ...}.
constexpr std::string_view kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const std::string kRfc7515A2SigningInput = "eyJhbGciOiJSUzI1NiJ9." + std::string(kRfc7515Payload);
constexpr std::string_view kRfc7515A2Signature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

// RFC 7515 Appendix A.3.1: the P-256 key and the ES256 JWS.
constexpr std::string_view kRfc7515A3PublicJwk =
    R"({"kty":"EC","crv":"P-256",)"
    R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
constexpr std::string_view kRfc7515A3PrivateJwk =
    R"({"kty":"EC","crv":"P-256",)"
    R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",)"
    R"("d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"})";
const std::string kRfc7515A3Jws =
    "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload) +
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 Appendix A.1-A.4: the Ed25519 key and the signed "Example of Ed25519 signing".
constexpr std::string_view kRfc8037PrivateJwk =
    R"({"kty":"OKP","crv":"Ed25519",)"
    R"("d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
    R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
constexpr std::string_view kRfc8037SigningInput =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr std::string_view kRfc8037Signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7638 §3.1: the example RSA key.
constexpr std::string_view kRfc7638Jwk =
    R"({"kty":"RSA","n":")"
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    R"(","e":"AQAB","alg":"RS256","kid":"2011-04-29"})";

/// A lookup that knows exactly one key, by kid.
idp::jose::KeyLookup LookupOnly(std::string kid, Key key) {
  return [kid = std::move(kid), key](const json::object& header) -> std::optional<Key> {
    const auto* value = header.if_contains("kid");
    if (value == nullptr || !value->is_string() || value->get_string() != kid) return std::nullopt;
    return key;
  };
}

std::string Part(std::string_view compact, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = compact.find('.', start) + 1;
  const std::size_t end = compact.find('.', start);
  return std::string(compact.substr(start, end == std::string_view::npos ? end : end - start));
}

std::string Compact(std::string_view header, std::string_view payload, std::string_view sig) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + "." + Base64UrlEncode(sig);
}

}  // namespace

TEST_CASE("AlgName and ParseAlg", "[jose]") {
  CHECK(idp::jose::AlgName(Alg::kRS256) == "RS256");
  CHECK(idp::jose::AlgName(Alg::kES256) == "ES256");
  CHECK(idp::jose::AlgName(Alg::kEdDSA) == "EdDSA");
  CHECK(idp::jose::ParseAlg("ES256") == Alg::kES256);
  CHECK_FALSE(idp::jose::ParseAlg("none").has_value());
  CHECK_FALSE(idp::jose::ParseAlg("HS256").has_value());
  CHECK_FALSE(idp::jose::ParseAlg("rs256").has_value());
}

TEST_CASE("RFC 7515 A.2: RS256 signature is reproduced exactly", "[jose][rfc]") {
  const Key key = KeyFromJwk(kRfc7515A2PrivateJwk);
  CHECK(key.alg() == Alg::kRS256);
  CHECK(key.has_private());
  CHECK(Base64UrlDecode(kRfc7515Payload) ==
        std::optional<std::string>("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
                                   " \"http://example.com/is_root\":true}"));

  auto signature = idp::jose::SignRaw(key, kRfc7515A2SigningInput);
  REQUIRE(signature.has_value());
  CHECK(signature->size() == 256);
  CHECK(Base64UrlEncode(*signature) == kRfc7515A2Signature);
}

TEST_CASE("RFC 7515 A.2: the RFC's RS256 JWS verifies with the public key", "[jose][rfc]") {
  const Key key = KeyFromJwk(kRfc7515A2PublicJwk);
  CHECK_FALSE(key.has_private());
  const std::string compact = kRfc7515A2SigningInput + "." + std::string(kRfc7515A2Signature);

  auto jws = idp::jose::Parse(compact);
  REQUIRE(jws.has_value());
  CHECK(jws->signing_input == kRfc7515A2SigningInput);
  CHECK(idp::jose::VerifySignature(*jws, key));

  auto claims = idp::jose::VerifyJwt(compact, [&](const json::object&) { return key; });
  REQUIRE(claims.has_value());
  CHECK(Str(claims->at("iss")) == "joe");
  CHECK(claims->at("exp").as_int64() == 1300819380);

  SECTION("a public-only key cannot sign") {
    auto signed_raw = idp::jose::SignRaw(key, "x");
    REQUIRE(signed_raw.has_error());
    CHECK(signed_raw.error().code == ErrorCode::kFailedPrecondition);
    auto signed_jws = idp::jose::Sign(key, "", "", "{}");
    REQUIRE(signed_jws.has_error());
    CHECK(signed_jws.error().code == ErrorCode::kFailedPrecondition);
    CHECK(key.ToPrivatePem().error().code == ErrorCode::kFailedPrecondition);
  }
}

TEST_CASE("RFC 7515 A.3: the RFC's ES256 JWS verifies", "[jose][rfc]") {
  const Key key = KeyFromJwk(kRfc7515A3PublicJwk);
  CHECK(key.alg() == Alg::kES256);
  auto jws = idp::jose::Parse(kRfc7515A3Jws);
  REQUIRE(jws.has_value());
  CHECK(jws->signature.size() == 64);
  CHECK(idp::jose::VerifySignature(*jws, key));

  SECTION("a modified payload fails") {
    const std::string modified = "eyJhbGciOiJFUzI1NiJ9." +
                                 Base64UrlEncode(R"({"iss":"eve","exp":1300819380})") + "." +
                                 Part(kRfc7515A3Jws, 2);
    auto tampered = idp::jose::Parse(modified);
    REQUIRE(tampered.has_value());
    CHECK_FALSE(idp::jose::VerifySignature(*tampered, key));
    CHECK(idp::jose::VerifyJwt(modified, [&](const json::object&) { return key; })
              .error()
              .code == ErrorCode::kUnauthenticated);
  }
  SECTION("the RFC's private key signs what the public key verifies") {
    const Key private_key = KeyFromJwk(kRfc7515A3PrivateJwk);
    auto compact = idp::jose::Sign(private_key, "a3", "", "{\"iss\":\"joe\"}");
    REQUIRE(compact.has_value());
    auto claims = idp::jose::VerifyJwt(*compact, LookupOnly("a3", key));
    REQUIRE(claims.has_value());
    CHECK(Str(claims->at("iss")) == "joe");
  }
}

TEST_CASE("RFC 8037 A.4: Ed25519 signature is reproduced exactly", "[jose][rfc]") {
  const Key key = KeyFromJwk(kRfc8037PrivateJwk);
  CHECK(key.alg() == Alg::kEdDSA);
  auto signature = idp::jose::SignRaw(key, kRfc8037SigningInput);
  REQUIRE(signature.has_value());
  CHECK(Base64UrlEncode(*signature) == kRfc8037Signature);

  // Sign builds the same header {"alg":"EdDSA"}, so the whole compact JWS matches A.4.
  auto compact = idp::jose::Sign(key, "", "", "Example of Ed25519 signing");
  REQUIRE(compact.has_value());
  CHECK(*compact == std::string(kRfc8037SigningInput) + "." + std::string(kRfc8037Signature));

  // RFC 8037 A.5: verification; A.3: the thumbprint.
  auto public_key = Key::FromJwk(key.PublicJwk(""));
  REQUIRE(public_key.has_value());
  auto jws = idp::jose::Parse(*compact);
  REQUIRE(jws.has_value());
  CHECK(idp::jose::VerifySignature(*jws, *public_key));
  CHECK(key.Thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST_CASE("RFC 7638 3.1: JWK thumbprint", "[jose][rfc]") {
  const Key key = KeyFromJwk(kRfc7638Jwk);
  CHECK(key.Thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_CASE("Generate then sign then verify round trip", "[jose]") {
  const Alg alg = GENERATE(Alg::kRS256, Alg::kES256, Alg::kEdDSA);
  CAPTURE(idp::jose::AlgName(alg));
  auto generated = Key::Generate(alg);
  REQUIRE(generated.has_value());
  const Key& key = *generated;
  CHECK(key.alg() == alg);
  CHECK(key.has_private());

  auto compact = idp::jose::Sign(key, "k1", "JWT", R"({"sub":"alice","n":1})",
                                 json::object{{"cty", "x"}});
  REQUIRE(compact.has_value());

  auto jws = idp::jose::Parse(*compact);
  REQUIRE(jws.has_value());
  CHECK(Str(jws->header.at("alg")) == idp::jose::AlgName(alg));
  CHECK(Str(jws->header.at("kid")) == "k1");
  CHECK(Str(jws->header.at("typ")) == "JWT");
  CHECK(Str(jws->header.at("cty")) == "x");
  if (alg == Alg::kES256) CHECK(jws->signature.size() == 64);

  auto claims = idp::jose::VerifyJwt(*compact, LookupOnly("k1", key));
  REQUIRE(claims.has_value());
  CHECK(Str(claims->at("sub")) == "alice");

  SECTION("public JWK has no private members and verifies") {
    const json::object jwk = key.PublicJwk("k1");
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) {
      CAPTURE(member);
      CHECK_FALSE(jwk.contains(member));
    }
    CHECK(Str(jwk.at("kid")) == "k1");
    CHECK(Str(jwk.at("alg")) == idp::jose::AlgName(alg));
    CHECK(Str(jwk.at("use")) == "sig");
    CHECK_FALSE(key.PublicJwk("").contains("kid"));

    auto public_key = Key::FromJwk(jwk);
    REQUIRE(public_key.has_value());
    CHECK_FALSE(public_key->has_private());
    CHECK(public_key->Thumbprint() == key.Thumbprint());
    CHECK(idp::jose::VerifyJwt(*compact, LookupOnly("k1", *public_key)).has_value());
  }
  SECTION("private PEM round trip") {
    auto pem = key.ToPrivatePem();
    REQUIRE(pem.has_value());
    CHECK(pem->rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
    auto reloaded = Key::FromPrivatePem(*pem);
    REQUIRE(reloaded.has_value());
    CHECK(reloaded->alg() == alg);
    CHECK(reloaded->Thumbprint() == key.Thumbprint());
    auto again = idp::jose::Sign(*reloaded, "k1", "", "{}");
    REQUIRE(again.has_value());
    CHECK(idp::jose::VerifyJwt(*again, LookupOnly("k1", key)).has_value());
  }
  SECTION("two generated keys differ") {
    auto other = Key::Generate(alg);
    REQUIRE(other.has_value());
    CHECK(other->Thumbprint() != key.Thumbprint());
    CHECK(idp::jose::VerifyJwt(*compact, LookupOnly("k1", *other)).error().code ==
          ErrorCode::kUnauthenticated);
  }
  SECTION("tampered payload fails") {
    const std::string tampered = Part(*compact, 0) + "." +
                                 Base64UrlEncode(R"({"sub":"mallory","n":1})") + "." +
                                 Part(*compact, 2);
    auto result = idp::jose::VerifyJwt(tampered, LookupOnly("k1", key));
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kUnauthenticated);
  }
  SECTION("tampered signature fails") {
    std::string signature = *Base64UrlDecode(Part(*compact, 2));
    const std::size_t index = GENERATE(0u, 31u, 63u);
    signature[index] = static_cast<char>(signature[index] ^ 0x01);
    const std::string tampered =
        Part(*compact, 0) + "." + Part(*compact, 1) + "." + Base64UrlEncode(signature);
    auto result = idp::jose::VerifyJwt(tampered, LookupOnly("k1", key));
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kUnauthenticated);
    // A truncated signature fails too.
    const std::string truncated = Part(*compact, 0) + "." + Part(*compact, 1) + "." +
                                  Base64UrlEncode(signature.substr(0, signature.size() - 1));
    CHECK(idp::jose::VerifyJwt(truncated, LookupOnly("k1", key)).has_error());
  }
  SECTION("wrong kid fails") {
    auto result = idp::jose::VerifyJwt(*compact, LookupOnly("k2", key));
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kUnauthenticated);
  }
  SECTION("non-object payload fails after a good signature") {
    auto not_object = idp::jose::Sign(key, "k1", "", "[1,2]");
    REQUIRE(not_object.has_value());
    auto result = idp::jose::VerifyJwt(*not_object, LookupOnly("k1", key));
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("extra header may not override alg") {
    auto result = idp::jose::Sign(key, "k1", "", "{}", json::object{{"alg", "none"}});
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
    CHECK(idp::jose::Sign(key, "k1", "", "{}", json::object{{"kid", "k2"}}).has_error());
  }
}

TEST_CASE("alg none and alg mismatch never verify", "[jose]") {
  auto es_key = Key::Generate(Alg::kES256);
  auto ed_key = Key::Generate(Alg::kEdDSA);
  REQUIRE(es_key.has_value());
  REQUIRE(ed_key.has_value());
  auto any_key = [&](const json::object&) -> std::optional<Key> { return *es_key; };

  SECTION("alg none with an empty signature") {
    const std::string token = Base64UrlEncode(R"({"alg":"none"})") + "." +
                              Base64UrlEncode(R"({"sub":"admin"})") + ".";
    auto jws = idp::jose::Parse(token);
    REQUIRE(jws.has_value());
    CHECK_FALSE(idp::jose::VerifySignature(*jws, *es_key));
    auto result = idp::jose::VerifyJwt(token, any_key);
    REQUIRE(result.has_error());
    CHECK(result.error().code == ErrorCode::kUnauthenticated);
  }
  SECTION("alg none carrying a real signature") {
    auto good = idp::jose::Sign(*es_key, "", "", R"({"sub":"admin"})");
    REQUIRE(good.has_value());
    const std::string token =
        Base64UrlEncode(R"({"alg":"none"})") + "." + Part(*good, 1) + "." + Part(*good, 2);
    CHECK(idp::jose::VerifyJwt(token, any_key).has_error());
  }
  SECTION("header alg differs from the key's alg") {
    // Signed by the Ed25519 key but presented to the ES256 key, and the other way round.
    auto by_ed = idp::jose::Sign(*ed_key, "", "", "{}");
    REQUIRE(by_ed.has_value());
    auto jws = idp::jose::Parse(*by_ed);
    REQUIRE(jws.has_value());
    CHECK(idp::jose::VerifySignature(*jws, *ed_key));
    CHECK_FALSE(idp::jose::VerifySignature(*jws, *es_key));
    CHECK(idp::jose::VerifyJwt(*by_ed, any_key).error().code == ErrorCode::kUnauthenticated);

    // A header relabelled to ES256 over an ES256 signature from the right key, but the key
    // handed over is RS256: the key decides.
    auto by_es = idp::jose::Sign(*es_key, "", "", "{}");
    REQUIRE(by_es.has_value());
    auto rs_key = KeyFromJwk(kRfc7515A2PublicJwk);
    auto es_jws = idp::jose::Parse(*by_es);
    REQUIRE(es_jws.has_value());
    CHECK_FALSE(idp::jose::VerifySignature(*es_jws, rs_key));
  }
  SECTION("a valid signature under a header naming another alg") {
    // The signature itself is good for the key, so only the alg check can refuse it.
    const std::string label = GENERATE(as<std::string>{}, "EdDSA", "RS256", "none", "HS256");
    CAPTURE(label);
    const std::string input =
        Base64UrlEncode(R"({"alg":")" + label + R"("})") + "." + Base64UrlEncode("{}");
    auto signature = idp::jose::SignRaw(*es_key, input);
    REQUIRE(signature.has_value());
    const std::string token = input + "." + Base64UrlEncode(*signature);
    auto jws = idp::jose::Parse(token);
    REQUIRE(jws.has_value());
    CHECK_FALSE(idp::jose::VerifySignature(*jws, *es_key));
    CHECK(idp::jose::VerifyJwt(token, any_key).error().code == ErrorCode::kUnauthenticated);
  }
  SECTION("unknown alg") {
    auto good = idp::jose::Sign(*es_key, "", "", "{}");
    REQUIRE(good.has_value());
    const std::string token =
        Base64UrlEncode(R"({"alg":"HS256"})") + "." + Part(*good, 1) + "." + Part(*good, 2);
    CHECK(idp::jose::VerifyJwt(token, any_key).error().code == ErrorCode::kUnauthenticated);
  }
}

// Found by fuzz/jws.cpp: the same token spelled with a byte >= 0x80 in place of a '_' of its
// signature decoded to the same signature and verified (libsodium 1.0.18's base64 decoder).
TEST_CASE("a token has one spelling: high-bit bytes in a part are refused", "[jose]") {
  auto key = Key::Generate(Alg::kES256).value();
  std::string compact;
  std::size_t underscore = std::string::npos;
  for (int i = 0; i < 200 && underscore == std::string::npos; ++i) {
    compact = idp::jose::Sign(key, "k1", "JWT", R"({"sub":"alice"})").value();
    underscore = compact.find('_', compact.rfind('.'));
  }
  REQUIRE(underscore != std::string::npos);
  REQUIRE(idp::jose::VerifyJwt(compact, LookupOnly("k1", key)).has_value());
  for (char high : {'\x80', '\xBF', '\xFF'}) {
    std::string respelled = compact;
    respelled[underscore] = high;
    CHECK_FALSE(idp::jose::Parse(respelled).has_value());
    auto verified = idp::jose::VerifyJwt(respelled, LookupOnly("k1", key));
    REQUIRE_FALSE(verified.has_value());
    CHECK(verified.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Parse rejects malformed compact JWS", "[jose]") {
  const std::string good = Compact(R"({"alg":"ES256"})", "{}", "sig");
  REQUIRE(idp::jose::Parse(good).has_value());

  const std::string bad = GENERATE_COPY(
      std::string(""),                                       // empty
      Part(good, 0) + "." + Part(good, 1),                   // 2 parts
      good + ".eA",                                          // 4 parts
      good + ".",                                            // 4 parts, last empty
      "." + good,                                            // 4 parts, first empty
      Compact("not json", "{}", "sig"),                      // non-JSON header
      Compact(R"({"alg":"ES256")", "{}", "sig"),             // truncated JSON
      Compact(R"(["alg","ES256"])", "{}", "sig"),            // JSON, not an object
      Compact(R"({"typ":"JWT"})", "{}", "sig"),              // no alg
      Compact(R"({"alg":256})", "{}", "sig"),                // alg not a string
      Compact(R"({"alg":"ES256","crit":["exp"]})", "{}", "sig"),  // unsupported crit
      Compact(R"({"alg":"ES256"})", "{}", "sig") + "=",      // padding
      Part(good, 0) + ".e30=." + Part(good, 2),              // padding in payload
      Part(good, 0) + "." + Part(good, 1) + ".c2l+",         // standard base64 alphabet
      Part(good, 0) + " ." + Part(good, 1) + "." + Part(good, 2),  // whitespace
      Compact(R"({"alg":"ES256","pad":")" + std::string(17000, 'a') + "\"}", "{}", "s"));
  CAPTURE(bad.substr(0, 120));
  auto result = idp::jose::Parse(bad);
  REQUIRE(result.has_error());
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  auto any_key = [](const json::object&) -> std::optional<Key> { return std::nullopt; };
  CHECK(idp::jose::VerifyJwt(bad, any_key).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("FromJwk refuses malformed and unsafe keys", "[jose]") {
  const std::string_view bad = GENERATE(as<std::string_view>{},
      // RSA below 2048 bits (a 512-bit key).
      R"({"kty":"RSA","e":"AQAB","n":"tFJAFt_UiJsHlRavDgOxOnYKTHkV-cF1aTDtkzNg6WYt9geaPbAvFnR3FVO0BFsl8tzPzMOTkI_kbOfCfAw3FQ"})",
      R"({"kty":"RSA","e":"AQAB"})",                                   // no n
      // A public exponent of 0 (found by fuzz_jwk: it was taken, then written back as ""),
      // of 1, and an even one.
      R"({"kty":"RSA","e":"AAA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR0L6tSoc_BJECPegWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4444444444444444444444444444444444444444444444440000000000000162211757HcyBXArwl93lqt7_RN5w6Cf0h4QyEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFrwl93lqt7_RN5w6n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0QQMicAtapJzKnqDKgw"})",
      R"({"kty":"RSA","e":"AQ","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR0L6tSoc_BJECPegWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4444444444444444444444444444444444444444444444440000000000000162211757HcyBXArwl93lqt7_RN5w6Cf0h4QyEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFrwl93lqt7_RN5w6n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0QQMicAtapJzKnqDKgw"})",
      R"({"kty":"RSA","e":"AQAA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR0L6tSoc_BJECPegWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4444444444444444444444444444444444444444444444440000000000000162211757HcyBXArwl93lqt7_RN5w6Cf0h4QyEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFrwl93lqt7_RN5w6n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0QQMicAtapJzKnqDKgw"})",
      R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"})",     // symmetric
      R"({"n":"AQAB","e":"AQAB"})",                                    // no kty
      R"({"kty":5})",                                                  // kty not a string
      // P-256 key with a d that is not its private key.
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLnT8EgfH3cTzP9kGkoFtM"})",
      // A point that is not on the curve (y changed).
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"y_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",
      R"({"kty":"EC","crv":"P-384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",         // other curve
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","alg":"RS256"})",  // alg mismatch
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"enc"})",    // not a signing key
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",         // padded base64url
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvR",)"
      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})",         // short x
      // Ed25519 key with a d that does not match x.
      R"({"kty":"OKP","crv":"Ed25519","d":"mWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
      R"("x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      R"({"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  CAPTURE(bad);
  auto key = Key::FromJwk(Obj(bad));
  REQUIRE(key.has_error());
  CHECK(key.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("RSA JWK with a partial CRT set is refused", "[jose]") {
  json::object jwk = Obj(kRfc7515A2PrivateJwk);
  REQUIRE(Key::FromJwk(jwk).has_value());
  jwk.erase("qi");
  CHECK(Key::FromJwk(jwk).has_error());
}

TEST_CASE("FromPrivatePem refuses what is not a usable private key", "[jose]") {
  CHECK(Key::FromPrivatePem("").has_error());
  CHECK(Key::FromPrivatePem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .has_error());
  // Throwaway test keys made with `openssl genpkey`: a P-384 key and a 1024-bit RSA key.
  constexpr std::string_view kP384Pem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDMttxfUjB5nR/kgxbE\n"
      "Ohd5+E+/PD5KFhOH83gb2jUX8aLCGF2Enf5nwDPs016FpyuhZANiAASvEK+pMywd\n"
      "dPPK2nnGc9DlbRdKSvng9GI+iM9q7FrqD+JCjMas7/BA3YoIaGE+h0aoLLm9T5H9\n"
      "/cfJqI/JjqzltCroUZv9XXHGC2jj5jjfA227zMcRk0vQvmJYgox+Tkw=\n"
      "-----END PRIVATE KEY-----\n";
  constexpr std::string_view kRsa1024Pem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKNKsTMOV7rucFfD\n"
      "7jYyraYNdM5CngYggKxNd6+w8Q0dfRN6FAY0gC4sJzmPQudY+6O4AuFDNcO70CqW\n"
      "4Rf4+QLIupONO69vFwPBKIaBGh49p9s1R6khyucMrSDXQLlY7XQ8sehJ3eB+64U1\n"
      "Jd4oiJZseAmgxzeQEkx8XGBSVPaRAgMBAAECgYBbWhX4MjXyZiKDdyF1QLTVCQIn\n"
      "wi0V0Gkr+8rRh3PTmoO2ub0qG4T6T8lB8lvDgYyF8xPpYehaMGAs82vKNYdYmp9C\n"
      "jm7aXmNRsiGbOAJqI+elJKsGPictLAIqGLFjEhhAvJ+bybdbDPQrkyoAu7jnwEip\n"
      "1TDMsTB/sWzGdigb4QJBAMzTQD2XV472IPcybN3Q2kNIXTa+lM5Cr6lOep/rjcFM\n"
      "ln2CGwhhChQXA/VJpB2jHOR6Tr4lzu2nNmSWtEPCSq8CQQDMFu/Jg/7bLFYZUDf1\n"
      "MQIFTw/6gzGk0wsuiDioT3JI9M1KU/7LC6J+nAcz+rLE1peTKPMmXl2BM7lo9Zl9\n"
      "zCK/AkBVNyao+UgiYGBCuCX2+ydziq3NUukSD0iKBe6ajiPB4h1SRkj86XKJ/TFW\n"
      "Ybb35Z7lp8UO8yfuU/0bSF/jOPhdAkEAuBmgqFlHVpJCAIeaUrWoqv1M3p/l8lbl\n"
      "6U28PiecYi9h2EC4wJR4OlmpLbxh8qnZBUiVPfE1y8zK3eFeWloApQJARXBKHiPT\n"
      "mIF+BkC7mlgdQjbjtun0EcyP6wI4ResRY6ap6qUFOliW74ufEHJIhKcdOZXmx64V\n"
      "RA44GnySdKn/Og==\n"
      "-----END PRIVATE KEY-----\n";
  auto p384 = Key::FromPrivatePem(kP384Pem);
  REQUIRE(p384.has_error());
  CHECK(p384.error().message.find("P-256") != std::string::npos);
  auto rsa1024 = Key::FromPrivatePem(kRsa1024Pem);
  REQUIRE(rsa1024.has_error());
  CHECK(rsa1024.error().message.find("2048") != std::string::npos);
}
