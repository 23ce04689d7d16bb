// GET /jwks: the JWK Set of the token service's public keys (RFC 7517 §5), cached for a minute.
#include "../context.hpp"

#include "idp/common/log.hpp"

#include <chrono>

namespace idp::gateway {

Awaitable<Response> HandleJwks(Context& ctx, Request& req) {
  constexpr std::int64_t kTtl = 60;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  std::string body;
  {
    std::lock_guard lock(ctx.jwks_mu);
    if (!ctx.jwks_json.empty() && now - ctx.jwks_fetched_at < kTtl) body = ctx.jwks_json;
  }
  if (body.empty()) {
    auto jwks = co_await ctx.token.GetJwks(CallerOf(req));
    if (!jwks) {
      std::lock_guard lock(ctx.jwks_mu);
      // A stale set is better than none: keys outlive their cache entry by design.
      if (ctx.jwks_json.empty()) {
        log::Warn("jwks unavailable", {{"request_id", req.request_id}});
        co_return NoStoreJson(503, R"({"error":"temporarily_unavailable"})");
      }
      body = ctx.jwks_json;
    } else {
      body = jwks->jwks_json();
      std::lock_guard lock(ctx.jwks_mu);
      ctx.jwks_json = body;
      ctx.jwks_fetched_at = now;
    }
  }
  auto r = Response::Json(200, std::move(body));
  r.SetHeader("Content-Type", "application/jwk-set+json");
  r.SetHeader("Cache-Control", "public, max-age=60");
  r.SetHeader("Access-Control-Allow-Origin", "*");
  co_return r;
}

}  // namespace idp::gateway
