// POST /token: the token endpoint (RFC 6749 §3.2, §4.1.3; OIDC Core §3.1.3).
// Client authentication per RFC 6749 §2.3.1; errors per §5.2 with Cache-Control: no-store.
#include "../context.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/oauth/oauth.hpp"

#include <boost/json.hpp>

namespace idp::gateway {
namespace {

using Method = token::v1::ClientCredentials;

/// RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
std::optional<std::pair<std::string, std::string>> ParseBasic(std::string_view header) {
  if (header.size() < 6 || (header.substr(0, 6) != "Basic " && header.substr(0, 6) != "basic ")) {
    return std::nullopt;
  }
  auto decoded = crypto::Base64Decode(header.substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = http::Params::Parse("a=" + decoded->substr(0, colon));
  auto secret = http::Params::Parse("a=" + decoded->substr(colon + 1));
  if (!id || !secret) return std::nullopt;
  return std::make_pair(*id->Get("a"), *secret->Get("a"));
}

Response Error(const std::string& error, const std::string& description, bool basic = false) {
  int status = oauth::TokenErrorStatus(error);
  auto r = NoStoreJson(status, boost::json::serialize(boost::json::object{
                                   {"error", error},
                                   {"error_description", oauth::SanitizeErrorText(description)}}));
  // RFC 6749 §5.2: 401 with WWW-Authenticate when the client used the Authorization header.
  if (status == 401 && basic) r.SetHeader("WWW-Authenticate", "Basic realm=\"token\"");
  return r;
}

}  // namespace

Awaitable<Response> HandleToken(Context& ctx, Request& req) {
  auto type = req.Header("content-type").value_or("");
  if (type.substr(0, 33) != "application/x-www-form-urlencoded") {
    co_return Error("invalid_request", "content type must be application/x-www-form-urlencoded");
  }
  auto form = http::Params::Parse(req.body);
  if (!form) co_return Error("invalid_request", "the request body is malformed");
  for (const char* name : {"grant_type", "code", "redirect_uri", "code_verifier", "client_id",
                           "client_secret", "scope", "refresh_token"}) {
    if (form->Count(name) > 1) co_return Error("invalid_request", std::string(name) + " is repeated");
  }

  // Client authentication: exactly one method (RFC 6749 §2.3).
  token::v1::ClientCredentials creds;
  auto authorization = req.Header("authorization");
  bool basic = false;
  if (authorization) {
    auto pair = ParseBasic(*authorization);
    if (!pair) co_return Error("invalid_client", "malformed Basic credentials", true);
    if (form->Get("client_secret")) {
      co_return Error("invalid_request", "more than one client authentication method");
    }
    if (auto id = form->Get("client_id"); id && *id != pair->first) {
      co_return Error("invalid_request", "client_id does not match the credentials");
    }
    basic = true;
    creds.set_client_id(pair->first);
    creds.set_client_secret(pair->second);
    creds.set_method(Method::METHOD_CLIENT_SECRET_BASIC);
  } else if (auto secret = form->Get("client_secret")) {
    creds.set_client_id(form->Get("client_id").value_or(""));
    creds.set_client_secret(*secret);
    creds.set_method(Method::METHOD_CLIENT_SECRET_POST);
  } else if (auto id = form->Get("client_id")) {
    creds.set_client_id(*id);
    creds.set_method(Method::METHOD_NONE);
  } else {
    co_return Error("invalid_client", "client authentication is required");
  }

  auto grant_type = form->Get("grant_type");
  if (!grant_type) co_return Error("invalid_request", "grant_type is required");
  if (*grant_type != "authorization_code") {
    co_return Error("unsupported_grant_type", "only authorization_code is supported");
  }

  token::v1::ExchangeAuthorizationCodeRequest exchange;
  *exchange.mutable_client() = creds;
  exchange.set_code(form->Get("code").value_or(""));
  auto redirect_uri = form->Get("redirect_uri");
  exchange.set_redirect_uri(redirect_uri.value_or(""));
  exchange.set_redirect_uri_present(redirect_uri.has_value());
  exchange.set_code_verifier(form->Get("code_verifier").value_or(""));
  if (!exchange.code_verifier().empty() && !oauth::IsValidCodeVerifier(exchange.code_verifier())) {
    co_return Error("invalid_grant", "code_verifier is malformed");
  }
  auto result = co_await ctx.upstreams.ExchangeCode(req.request_id, std::move(exchange));
  if (!result) {
    log::Warn("token exchange failed", {{"request_id", req.request_id},
                                        {"error", result.error().ToString()}});
    bool transient = result.error().code == ErrorCode::kUnavailable ||
                     result.error().code == ErrorCode::kDeadlineExceeded;
    co_return Error(transient ? "temporarily_unavailable" : "server_error",
                    "the authorization server could not answer");
  }
  if (result->has_error()) {
    co_return Error(result->error().error(), result->error().description(), basic);
  }
  const auto& t = result->tokens();
  boost::json::object body{{"access_token", t.access_token()},
                           {"token_type", t.token_type()},
                           {"expires_in", t.expires_in()},
                           {"id_token", t.id_token()},
                           {"scope", t.scope()}};
  co_return NoStoreJson(200, boost::json::serialize(body));
}

}  // namespace idp::gateway
