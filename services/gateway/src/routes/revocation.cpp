// POST /revoke (RFC 7009) and POST /introspect (RFC 7662): both for authenticated clients.
#include "../context.hpp"

#include "idp/common/log.hpp"

namespace idp::gateway {

Awaitable<Response> HandleRevoke(Context& ctx, Request& req) {
  auto parsed = ParseTokenForm(req);
  if (auto* error = std::get_if<Response>(&parsed)) co_return std::move(*error);
  const auto& form = std::get<http::Params>(parsed);
  auto auth = ParseClientAuth(ctx, req, form, "/revoke");
  if (auth.error) co_return std::move(*auth.error);
  auto token = form.Get("token");
  if (!token) co_return TokenError("invalid_request", "token is required");

  token::v1::RevokeTokenRequest revoke;
  *revoke.mutable_client() = auth.credentials;
  revoke.set_token(*token);
  revoke.set_token_type_hint(form.Get("token_type_hint").value_or(""));
  auto result = co_await ctx.token.RevokeToken(CallerOf(req), revoke);
  if (!result) co_return TokenError("temporarily_unavailable", "try again later");
  if (result->has_error()) {
    co_return TokenError(result->error().error(), result->error().description(), auth.basic);
  }
  // §2.2: 200 whether or not the token was known.
  auto r = NoStoreJson(200, "{}");
  co_return r;
}

Awaitable<Response> HandleIntrospect(Context& ctx, Request& req) {
  auto parsed = ParseTokenForm(req);
  if (auto* error = std::get_if<Response>(&parsed)) co_return std::move(*error);
  const auto& form = std::get<http::Params>(parsed);
  auto auth = ParseClientAuth(ctx, req, form, "/introspect");
  if (auth.error) co_return std::move(*auth.error);
  // §2.1: only authenticated clients; a public client cannot prove who asks.
  if (auth.credentials.method() == token::v1::ClientCredentials::METHOD_NONE) {
    co_return TokenError("invalid_client", "introspection needs client authentication");
  }
  auto token = form.Get("token");
  if (!token) co_return TokenError("invalid_request", "token is required");

  token::v1::IntrospectTokenRequest introspect;
  *introspect.mutable_client() = auth.credentials;
  introspect.set_token(*token);
  introspect.set_token_type_hint(form.Get("token_type_hint").value_or(""));
  auto result = co_await ctx.token.IntrospectToken(CallerOf(req), introspect);
  if (!result) co_return TokenError("temporarily_unavailable", "try again later");
  if (result->has_error()) {
    co_return TokenError(result->error().error(), result->error().description(), auth.basic);
  }
  co_return NoStoreJson(200, result->introspection_json());
}

}  // namespace idp::gateway
