// GET|POST /userinfo (OIDC Core §5.3): claims of the token's subject, filtered by its scopes
// (§5.4). Bearer token per RFC 6750 §2.1 (header) and §2.2 (form body).
#include "../context.hpp"

#include "idp/oauth/oauth.hpp"

#include <boost/json.hpp>

namespace idp::gateway {
namespace {

Response Unauthorized(const char* error, const char* description) {
  auto r = NoStoreJson(401, boost::json::serialize(boost::json::object{
                                {"error", error}, {"error_description", description}}));
  std::string challenge = "Bearer realm=\"userinfo\"";
  if (*error) challenge += std::string(", error=\"") + error + "\"";
  r.SetHeader("WWW-Authenticate", challenge);
  return r;
}

}  // namespace

std::set<std::string> ClaimsForScopes(const std::set<std::string>& scopes) {
  std::set<std::string> names;
  if (scopes.count("profile")) {
    names.insert({"name", "given_name", "family_name", "preferred_username", "updated_at"});
  }
  if (scopes.count("email")) names.insert({"email", "email_verified"});
  if (scopes.count("phone")) names.insert({"phone_number", "phone_number_verified"});
  return names;
}

boost::json::object UserClaims(const auth::v1::User& u, const std::set<std::string>& names) {
  boost::json::object claims{{"sub", u.subject()}};
  auto want = [&names](const char* n) { return names.count(n) > 0; };
  if (want("name")) claims["name"] = u.name();
  if (want("given_name")) claims["given_name"] = u.given_name();
  if (want("family_name")) claims["family_name"] = u.family_name();
  if (want("preferred_username")) claims["preferred_username"] = u.username();
  if (want("updated_at")) claims["updated_at"] = u.updated_at();
  // A person without a number has no phone claims at all (rather than an empty one).
  if (!u.phone_number().empty()) {
    if (want("phone_number")) claims["phone_number"] = u.phone_number();
    if (want("phone_number_verified")) claims["phone_number_verified"] = u.phone_number_verified();
  }
  if (want("email")) claims["email"] = u.email();
  if (want("email_verified")) claims["email_verified"] = u.email_verified();
  return claims;
}

Awaitable<Response> HandleUserinfo(Context& ctx, Request& req) {
  std::string token;
  int presented = 0;
  if (auto h = req.Header("authorization")) {
    if (h->size() > 7 && (h->substr(0, 7) == "Bearer " || h->substr(0, 7) == "bearer ")) {
      token = std::string(h->substr(7));
      ++presented;
    }
  }
  if (req.method == "POST" &&
      req.Header("content-type").value_or("").substr(0, 33) == "application/x-www-form-urlencoded") {
    auto form = http::Params::Parse(req.body);
    if (form && form->Get("access_token")) {
      token = *form->Get("access_token");
      presented += form->Count("access_token");
    }
  }
  if (presented == 0) co_return Unauthorized("", "no access token");
  if (presented > 1) {
    // RFC 6750 §2: one method only.
    auto r = NoStoreJson(400, R"({"error":"invalid_request"})");
    r.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_request\"");
    co_return r;
  }

  auto valid = co_await ctx.token.ValidateAccessToken(CallerOf(req), token);
  if (!valid) co_return NoStoreJson(503, R"({"error":"temporarily_unavailable"})");
  if (!valid->has_valid()) co_return Unauthorized("invalid_token", "the access token is invalid");
  auto scopes = oauth::ParseScope(valid->valid().scope());
  if (!scopes.count("openid")) {
    auto r = NoStoreJson(403, R"({"error":"insufficient_scope"})");
    r.SetHeader("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"openid\"");
    co_return r;
  }
  auto user = co_await ctx.auth.GetUser(CallerOf(req), valid->valid().subject());
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) {
      co_return Unauthorized("invalid_token", "the access token's subject no longer exists");
    }
    co_return NoStoreJson(503, R"({"error":"temporarily_unavailable"})");
  }
  // Claims by scope (§5.4), and those the client asked for by name (§5.5).
  auto names = ClaimsForScopes(scopes);
  for (const auto& n : oauth::ParseScope(valid->valid().userinfo_claims())) names.insert(n);
  auto claims = UserClaims(user->user(), names);
  co_return NoStoreJson(200, boost::json::serialize(claims));
}

}  // namespace idp::gateway
