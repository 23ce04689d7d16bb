// GET /healthz (the process serves) and GET /readyz (every dependency answers).
#include "../context.hpp"

#include <boost/json.hpp>

namespace idp::gateway {

Awaitable<Response> HandleHealthz(Context&, Request&) {
  auto r = Response::Json(200, R"({"status":"ok"})");
  r.SetHeader("Cache-Control", "no-store");
  co_return r;
}

Awaitable<Response> HandleReadyz(Context& ctx, Request& req) {
  boost::json::object checks;
  bool ready = true;
  for (const char* name : {"auth", "mfa", "delivery", "token"}) {
    bool ok = co_await ctx.readiness.Healthy(CallerOf(req), name);
    checks[name] = ok ? "ok" : "unavailable";
    ready = ready && ok;
  }
  bool redis = co_await ctx.sessions.Ping();
  checks["redis"] = redis ? "ok" : "unavailable";
  ready = ready && redis;
  auto r = Response::Json(ready ? 200 : 503,
                          boost::json::serialize(boost::json::object{
                              {"status", ready ? "ready" : "not ready"}, {"checks", checks}}));
  r.SetHeader("Cache-Control", "no-store");
  co_return r;
}

}  // namespace idp::gateway
