#include "idp/oauth/claims_request.hpp"
#include "idp/oauth/oauth.hpp"

#include <catch2/catch.hpp>

using namespace idp::oauth;

TEST_CASE("PKCE S256 matches RFC 7636 Appendix B") {
  const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  CHECK(S256Challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  CHECK(VerifyS256(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
  CHECK_FALSE(VerifyS256(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
  CHECK(IsValidS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
}

TEST_CASE("code verifiers follow the RFC 7636 §4.1 ABNF") {
  CHECK(IsValidCodeVerifier(std::string(43, 'a')));
  CHECK(IsValidCodeVerifier(std::string(128, '~')));
  CHECK_FALSE(IsValidCodeVerifier(std::string(42, 'a')));
  CHECK_FALSE(IsValidCodeVerifier(std::string(129, 'a')));
  CHECK_FALSE(IsValidCodeVerifier(std::string(42, 'a') + "+"));
  CHECK_FALSE(IsValidCodeVerifier(std::string(42, 'a') + " "));
  // A verifier outside the ABNF never verifies, even against its own hash.
  std::string bad = std::string(42, 'a') + "/";
  CHECK_FALSE(VerifyS256(bad, S256Challenge(bad)));
}

TEST_CASE("redirect URI registration rules") {
  CHECK_FALSE(CheckRedirectUriRegistration("https://app.example.com/cb"));
  CHECK_FALSE(CheckRedirectUriRegistration("http://localhost:3000/cb"));
  CHECK_FALSE(CheckRedirectUriRegistration("http://127.0.0.1:3000/cb"));
  CHECK_FALSE(CheckRedirectUriRegistration("com.example.app:/cb"));
  CHECK(CheckRedirectUriRegistration("https://app.example.com/cb#frag"));
  CHECK(CheckRedirectUriRegistration("http://app.example.com/cb"));
  CHECK(CheckRedirectUriRegistration("javascript:alert(1)"));
  CHECK(CheckRedirectUriRegistration("data:text/html,hi"));
  CHECK(CheckRedirectUriRegistration("/relative"));
  CHECK(CheckRedirectUriRegistration("https://user:pw@app.example.com/cb"));
}

TEST_CASE("redirect URIs match exactly and never by prefix or normalisation") {
  std::vector<std::string> reg{"https://app.example.com/cb"};
  CHECK(RedirectUriRegistered("https://app.example.com/cb", reg));
  CHECK_FALSE(RedirectUriRegistered("https://app.example.com/cb/", reg));
  CHECK_FALSE(RedirectUriRegistered("https://app.example.com/cb123", reg));
  CHECK_FALSE(RedirectUriRegistered("https://APP.example.com/cb", reg));
  CHECK_FALSE(RedirectUriRegistered("https://app.example.com:443/cb", reg));
  CHECK_FALSE(RedirectUriRegistered("https://app.example.com/cb?x=1", reg));
  CHECK(AppendQuery("https://a/cb", "code=1") == "https://a/cb?code=1");
  CHECK(AppendQuery("https://a/cb?x=1", "code=1") == "https://a/cb?x=1&code=1");
}

TEST_CASE("scopes and error texts") {
  CHECK(ParseScope("  email openid  profile ") == std::set<std::string>{"email", "openid", "profile"});
  CHECK(JoinScope({"profile", "openid", "email"}) == "openid email profile");
  CHECK(TokenErrorStatus("invalid_client") == 401);
  CHECK(TokenErrorStatus("invalid_grant") == 400);
  CHECK(IsValidErrorText("code was already used"));
  CHECK_FALSE(IsValidErrorText("line\nbreak"));
  CHECK_FALSE(IsValidErrorText("quote\""));
  CHECK(SanitizeErrorText("a\tb\\c") == "a b c");
}

TEST_CASE("the claims parameter names claims for userinfo and the ID token (OIDC Core 5.5)") {
  using idp::oauth::ParseClaimsRequest;
  auto r = ParseClaimsRequest(
      R"({"userinfo":{"given_name":{"essential":true},"nickname":null,"email":null},)"
      R"("id_token":{"auth_time":{"essential":true},"email":null,)"
      R"("acr":{"essential":true,"values":["aal2","urn:other"]}},"extra":{"x":1}})");
  REQUIRE(r.has_value());
  // Unknown claims (nickname) and members (extra) are ignored; claims the token always has
  // (auth_time) need nothing.
  CHECK(r->userinfo == std::set<std::string>{"email", "given_name"});
  CHECK(r->id_token == std::set<std::string>{"email"});
  CHECK(r->acr_essential);
  CHECK(r->acr_values == std::set<std::string>{"aal2", "urn:other"});
  CHECK(ParseClaimsRequest("{}").has_value());
  CHECK(ParseClaimsRequest(R"({"userinfo":null})").has_value());
  CHECK_FALSE(ParseClaimsRequest("not json").has_value());
  CHECK_FALSE(ParseClaimsRequest("[]").has_value());
  CHECK_FALSE(ParseClaimsRequest(R"({"userinfo":["email"]})").has_value());
  CHECK_FALSE(ParseClaimsRequest(R"({"id_token":{"email":true}})").has_value());
}
