#include "context.hpp"

#include "idp/common/log.hpp"

namespace idp::gateway {

void AddPageHeaders(Response& r) {
  r.SetHeader("Content-Security-Policy",
              "default-src 'none'; style-src 'self'; img-src 'self' data: https:; "
              "frame-ancestors 'none'; base-uri 'none'");
  r.SetHeader("X-Frame-Options", "DENY");
  r.SetHeader("Referrer-Policy", "no-referrer");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Cache-Control", "no-store");
}

Response ErrorPage(const Context& ctx, int status, const std::string& title,
                   const std::string& message, const std::string& action) {
  auto r = Response::Html(status, ctx.pages.Error(title, message, action));
  AddPageHeaders(r);
  return r;
}

Response UpstreamErrorPage(const Context& ctx, const Error& error) {
  int status = error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kResourceExhausted
                   ? 503
               : error.code == ErrorCode::kDeadlineExceeded ? 504
                                                            : 500;
  auto r = ErrorPage(ctx, status, "Temporarily unavailable",
                     "We could not complete your request right now.",
                     "Please try again in a minute.");
  if (status == 503) r.SetHeader("Retry-After", "30");
  return r;
}

Response NoStoreJson(int status, std::string body) {
  auto r = Response::Json(status, std::move(body));
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

Response SeeOther(std::string location) {
  auto r = Response::Redirect(303, std::move(location));
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Referrer-Policy", "no-referrer");
  return r;
}

std::string SessionCookie(const Context& ctx, const std::string& value,
                          std::optional<long> max_age) {
  http::CookieOptions o;
  o.secure = ctx.config.secure_cookies;
  o.max_age = max_age;
  return http::SetCookieValue(ctx.cookies.session, value, o);
}

std::string BrowserCookie(const Context& ctx, const std::string& value) {
  http::CookieOptions o;
  o.secure = ctx.config.secure_cookies;
  return http::SetCookieValue(ctx.cookies.browser, value, o);
}

Awaitable<Result<std::optional<Session>>> CurrentSession(Context& ctx, const Request& req) {
  auto cookie = req.Cookie(ctx.cookies.session);
  if (!cookie) co_return Result<std::optional<Session>>(std::optional<Session>{});
  co_return co_await ctx.sessions.GetSession(*cookie);
}

Awaitable<Response> Dispatch(Context& ctx, Request& req) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  bool get = m == "GET" || m == "HEAD";
  bool post = m == "POST";
  auto not_allowed = [](const char* allow) {
    auto r = Response::Text(405, "method not allowed\n");
    r.SetHeader("Allow", allow);
    return r;
  };
  if (p == "/.well-known/openid-configuration") {
    if (!get) co_return not_allowed("GET, HEAD");
    co_return co_await HandleDiscovery(ctx, req);
  }
  if (p == "/jwks") {
    if (!get) co_return not_allowed("GET, HEAD");
    co_return co_await HandleJwks(ctx, req);
  }
  if (p == "/authorize") {
    // OIDC Core §3.1.2.1: GET and POST.
    if (!get && !post) co_return not_allowed("GET, POST");
    co_return co_await HandleAuthorize(ctx, req);
  }
  if (p == "/login") {
    if (get) co_return co_await HandleLoginPage(ctx, req);
    if (post) co_return co_await HandleLoginSubmit(ctx, req);
    co_return not_allowed("GET, POST");
  }
  if (p == "/consent") {
    if (get) co_return co_await HandleConsentPage(ctx, req);
    if (post) co_return co_await HandleConsentSubmit(ctx, req);
    co_return not_allowed("GET, POST");
  }
  if (p == "/select-account") {
    if (get) co_return co_await HandleSelectAccountPage(ctx, req);
    if (post) co_return co_await HandleSelectAccountSubmit(ctx, req);
    co_return not_allowed("GET, POST");
  }
  if (p == "/logout") {
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleLogout(ctx, req);
  }
  if (p == "/token") {
    // RFC 6749 §3.2: POST only.
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleToken(ctx, req);
  }
  if (p == "/revoke") {
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleRevoke(ctx, req);
  }
  if (p == "/introspect") {
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleIntrospect(ctx, req);
  }
  if (p == "/end_session") {
    if (!get && !post) co_return not_allowed("GET, POST");
    co_return co_await HandleEndSession(ctx, req);
  }
  if (p == "/userinfo") {
    if (!get && !post) co_return not_allowed("GET, POST");
    co_return co_await HandleUserinfo(ctx, req);
  }
  if (p == "/mfa") {
    if (get) co_return co_await HandleMfaPage(ctx, req);
    if (post) co_return co_await HandleMfaSubmit(ctx, req);
    co_return not_allowed("GET, POST");
  }
  if (p == "/mfa/enrol") {
    if (!get && !post) co_return not_allowed("GET, POST");
    co_return co_await HandleMfaEnrol(ctx, req);
  }
  if (p == "/password/forgot") {
    if (get) co_return co_await HandleForgotPasswordPage(ctx, req);
    if (post) co_return co_await HandleForgotPasswordSubmit(ctx, req);
    co_return not_allowed("GET, HEAD, POST");
  }
  if (p == "/password/reset") {
    if (get) co_return co_await HandleResetPasswordPage(ctx, req);
    if (post) co_return co_await HandleResetPasswordSubmit(ctx, req);
    co_return not_allowed("GET, HEAD, POST");
  }
  if (p == "/account/password") {
    if (get) co_return co_await HandleAccountPasswordPage(ctx, req);
    if (post) co_return co_await HandleAccountPasswordSubmit(ctx, req);
    co_return not_allowed("GET, HEAD, POST");
  }
  if (p == "/account/mfa") {
    if (!get) co_return not_allowed("GET, HEAD");
    co_return co_await HandleAccountMfa(ctx, req);
  }
  if (p.rfind("/account/mfa/", 0) == 0) {
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleAccountMfaAction(ctx, req);
  }
  if (p == "/") {
    if (!get) co_return not_allowed("GET, HEAD");
    co_return co_await HandlePortal(ctx, req);
  }
  if (p == "/healthz") co_return co_await HandleHealthz(ctx, req);
  if (p == "/readyz") co_return co_await HandleReadyz(ctx, req);
  if (p == "/favicon.ico" && get) {
    // Browsers ask for it whatever the page says; the icon is /static/favicon.svg.
    auto r = Response::Redirect(302, "/static/favicon.svg");
    r.SetHeader("Cache-Control", "public, max-age=86400");
    co_return r;
  }
  if (p.rfind("/static/", 0) == 0 && get) {
    if (const auto* file = StaticFile(p.substr(8))) {
      Response r{200, {}, *file};
      auto ends = [&p](std::string_view ext) {
        return p.size() > ext.size() && p.compare(p.size() - ext.size(), ext.size(), ext) == 0;
      };
      r.SetHeader("Content-Type", ends(".js")    ? "text/javascript; charset=utf-8"
                                  : ends(".svg") ? "image/svg+xml"
                                                 : "text/css; charset=utf-8");
      r.SetHeader("Cache-Control", "public, max-age=3600");
      r.SetHeader("X-Content-Type-Options", "nosniff");
      co_return r;
    }
  }
  co_return ErrorPage(ctx, 404, "Page not found", "There is no page at this address.");
}

}  // namespace idp::gateway
