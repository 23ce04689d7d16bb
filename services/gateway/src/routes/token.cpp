// POST /token: the token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3, §12).
// Errors per §5.2 with Cache-Control: no-store.
#include "../context.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/oauth/oauth.hpp"

#include <boost/json.hpp>

namespace idp::gateway {
namespace {

Response Tokens(const token::v1::TokenSet& t) {
  boost::json::object body{{"access_token", t.access_token()},
                           {"token_type", t.token_type()},
                           {"expires_in", t.expires_in()},
                           {"scope", t.scope()}};
  if (!t.id_token().empty()) body["id_token"] = t.id_token();
  if (!t.refresh_token().empty()) body["refresh_token"] = t.refresh_token();
  return NoStoreJson(200, boost::json::serialize(body));
}

Response Failed(const Request& req, const Error& error) {
  log::Warn("token request failed", {{"request_id", req.request_id}, {"error", error.ToString()}});
  // SECURITY §92: unavailable, overloaded or slow upstreams are 503, never a bare 500.
  bool transient = error.code == ErrorCode::kUnavailable ||
                   error.code == ErrorCode::kDeadlineExceeded ||
                   error.code == ErrorCode::kResourceExhausted;
  auto r = TokenError(transient ? "temporarily_unavailable" : "server_error",
                      "the authorization server could not answer");
  if (transient) r.SetHeader("Retry-After", "1");
  // A busy backend is 429, as the client's own rate limit is (SECURITY §92).
  if (error.code == ErrorCode::kResourceExhausted) r.status = 429;
  return r;
}

/// The response of a grant RPC: tokens or its OAuth error.
template <class Resp>
Response Answer(const Request& req, const Result<Resp>& result, bool basic) {
  if (!result) return Failed(req, result.error());
  if (result->has_error()) {
    return TokenError(result->error().error(), result->error().description(), basic);
  }
  return Tokens(result->tokens());
}

}  // namespace

namespace {

/// The grant of a parsed form whose client authentication parsed.
Awaitable<Response> Grant(Context& ctx, Request& req, const http::Params& form,
                          const ClientAuthParse& auth) {
  auto grant_type = form.Get("grant_type");
  if (!grant_type) co_return TokenError("invalid_request", "grant_type is required");


  if (*grant_type == "authorization_code") {
    token::v1::ExchangeAuthorizationCodeRequest exchange;
    *exchange.mutable_client() = auth.credentials;
    exchange.set_code(form.Get("code").value_or(""));
    auto redirect_uri = form.Get("redirect_uri");
    exchange.set_redirect_uri(redirect_uri.value_or(""));
    exchange.set_redirect_uri_present(redirect_uri.has_value());
    exchange.set_code_verifier(form.Get("code_verifier").value_or(""));
    // Chosen here, never by the client: only a gRPC retry of this very call may repeat it.
    exchange.set_attempt_id(crypto::RandomToken(16));
    if (!exchange.code_verifier().empty() &&
        !oauth::IsValidCodeVerifier(exchange.code_verifier())) {
      co_return TokenError("invalid_grant", "code_verifier is malformed");
    }
    auto result = co_await ctx.token.ExchangeCode(CallerOf(req), exchange);
    co_return Answer(req, result, auth.basic);
  }
  if (*grant_type == "refresh_token") {
    token::v1::RefreshTokenRequest refresh;
    *refresh.mutable_client() = auth.credentials;
    refresh.set_refresh_token(form.Get("refresh_token").value_or(""));
    refresh.set_scope(form.Get("scope").value_or(""));
    refresh.set_attempt_id(crypto::RandomToken(16));
    auto result = co_await ctx.token.RefreshToken(CallerOf(req), refresh);
    co_return Answer(req, result, auth.basic);
  }
  if (*grant_type == "client_credentials") {
    token::v1::ClientCredentialsRequest cc;
    *cc.mutable_client() = auth.credentials;
    cc.set_scope(form.Get("scope").value_or(""));
    auto result = co_await ctx.token.ClientCredentials(CallerOf(req), cc);
    co_return Answer(req, result, auth.basic);
  }
  co_return TokenError("unsupported_grant_type", "grant_type " + *grant_type + " is not supported");
}

}  // namespace

Awaitable<Response> HandleToken(Context& ctx, Request& req) {
  // Per client, across gateways (gateway.token_requests_per_client per minute): a client in a
  // loop cannot starve the others. Only requests the client authenticated count (anything but
  // invalid_client or an upstream failure), so that nobody else can spend its budget by
  // sending its client_id with a wrong secret. Without Redis the limit fails closed.
  auto parsed = ParseTokenForm(req);
  if (auto* error = std::get_if<Response>(&parsed)) co_return std::move(*error);
  const auto& form = std::get<http::Params>(parsed);
  auto auth = ParseClientAuth(ctx, req, form, "/token");
  if (auth.error) co_return std::move(*auth.error);

  const int limit = ctx.config.token_requests_per_client;
  std::string key;
  if (limit > 0 && !auth.credentials.client_id().empty()) {
    key = "token:" + crypto::Base64UrlEncode(crypto::Sha256(auth.credentials.client_id()));
  }
  if (!key.empty()) {
    auto wait = co_await ctx.limiter.Peek(key, limit, std::chrono::seconds(60));
    if (!wait) co_return Failed(req, wait.error());
    if (*wait > 0) {
      if (ctx.metrics) ctx.metrics->RateLimited("token_client");
      auto r = TokenError("temporarily_unavailable", "too many token requests from this client");
      r.status = 429;
      r.SetHeader("Retry-After", std::to_string(*wait));
      co_return r;
    }
  }
  Response r = co_await Grant(ctx, req, form, auth);
  if (!key.empty() && r.status != 401 && r.status < 500) {
    auto counted = co_await ctx.limiter.Take(key, limit, std::chrono::seconds(60));
    if (!counted) log::Warn("token request not counted", {{"request_id", req.request_id}});
  }
  co_return r;
}

}  // namespace idp::gateway
