#include "context.hpp"
#include "i18n.hpp"

#include <cmath>

#include "idp/common/log.hpp"

#include <chrono>

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

std::string Lang(const Context& ctx, const Request& req) {
  return PickLanguage(req.Cookie(ctx.cookies.language).value_or(""), "",
                      req.Header("accept-language").value_or(""), ctx.config.default_language);
}

Response ErrorPage(const Context& ctx, const Request& req, int status, const std::string& title,
                   const std::string& message, const std::string& action) {
  auto r = Response::Html(status, ctx.pages.In(Lang(ctx, req)).Error(title, message, action));
  AddPageHeaders(r);
  return r;
}

Response UpstreamErrorPage(const Context& ctx, const Request& req, const Error& error) {
  if (error.code == ErrorCode::kResourceExhausted) {
    // SECURITY §92: a backend that is busy (auth's threads all hashing) is a 429, soon over.
    auto r = ErrorPage(ctx, req, 429, "Too busy", "We are handling many requests right now.",
                       "Please try again in a moment.");
    r.SetHeader("Retry-After", "1");
    return r;
  }
  int status = error.code == ErrorCode::kUnavailable        ? 503
               : error.code == ErrorCode::kDeadlineExceeded ? 504
                                                            : 500;
  auto r = ErrorPage(ctx, req, status, "Temporarily unavailable",
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

std::string LanguageCookie(const Context& ctx, const std::string& lang) {
  http::CookieOptions o;
  o.secure = ctx.config.secure_cookies;
  o.max_age = 365L * 24 * 3600;  // a choice of language is not a secret and may last
  return http::SetCookieValue(ctx.cookies.language, lang, o);
}

Awaitable<Result<std::optional<Session>>> CurrentSession(Context& ctx, const Request& req) {
  auto cookie = req.Cookie(ctx.cookies.session);
  if (!cookie) co_return Result<std::optional<Session>>(std::optional<Session>{});
  co_return co_await ctx.sessions.GetSession(*cookie);
}

std::optional<std::string> CheckAccentColor(std::string_view color) {
  if (color.empty()) return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (color.size() != 7 || color[0] != '#') return "must be #rrggbb";
  double channel[3];
  for (int i = 0; i < 3; ++i) {
    int hi = hex(color[1 + 2 * i]), lo = hex(color[2 + 2 * i]);
    if (hi < 0 || lo < 0) return "must be #rrggbb";
    // WCAG 2.1 relative luminance.
    double c = (hi * 16 + lo) / 255.0;
    channel[i] = c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  }
  double luminance = 0.2126 * channel[0] + 0.7152 * channel[1] + 0.0722 * channel[2];
  double contrast = 1.05 / (luminance + 0.05);  // against white text
  if (contrast < 4.5) return "white text on it has a contrast below 4.5:1 (WCAG 2.1 AA); pick a darker colour";
  return std::nullopt;
}

namespace {

Awaitable<Response> Route(Context& ctx, Request& req);

}  // namespace

Awaitable<Response> DispatchObserved(Context& ctx, Request& req) {
  if (ctx.metrics == nullptr) co_return co_await Dispatch(ctx, req);
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  int status = 500;  // what the server answers when the handler throws
  try {
    Response r = co_await Dispatch(ctx, req);
    status = r.status;
    ctx.metrics->Request(req.path, req.method, status, seconds());
    co_return r;
  } catch (...) {
    ctx.metrics->Request(req.path, req.method, status, seconds());
    throw;
  }
}

std::string OriginOf(std::string_view issuer) {
  const auto scheme_end = issuer.find("://");
  if (scheme_end == std::string_view::npos) return std::string();
  const auto path = issuer.find('/', scheme_end + 3);
  std::string origin(issuer.substr(0, path));
  for (char& c : origin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // RFC 6454 §6.1: the default port is not serialised.
  auto strip = [&origin](std::string_view scheme, std::string_view port) {
    if (origin.rfind(scheme, 0) == 0 && origin.size() > port.size() &&
        origin.compare(origin.size() - port.size(), port.size(), port) == 0) {
      origin.resize(origin.size() - port.size());
    }
  };
  strip("https://", ":443");
  strip("http://", ":80");
  return origin;
}

std::optional<Response> RefuseForeignOrigin(const Context& ctx, const Request& req) {
  const auto origin = req.Header("origin");
  const auto site = req.Header("sec-fetch-site");
  std::string lowered(origin.value_or(""));
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool foreign_origin = origin && lowered != "null" && lowered != ctx.config.origin;
  if (!foreign_origin && site != std::optional<std::string_view>("cross-site")) return std::nullopt;
  log::Warn("cross-origin form refused",
            {{"request_id", req.request_id}, {"path", req.path},
             {"origin", std::string(origin.value_or("").substr(0, 200))},
             {"sec_fetch_site", std::string(site.value_or("").substr(0, 40))}});
  return ErrorPage(ctx, req, 403, "Request refused",
                   "This form was sent from another site, not from the page we showed you.",
                   "Go back to the application, or to the portal, and try again.");
}

namespace {

/// The hosted pages whose POSTs sign in, answer a question or change the account (the token
/// endpoints and /authorize take POSTs from applications, and /end_session checks its own
/// confirmation).
bool HostedPagePost(const Request& req) {
  if (req.method != "POST") return false;
  const std::string& p = req.path;
  return p == "/login" || p == "/consent" || p == "/select-account" || p == "/logout" ||
         p == "/mfa" || p.rfind("/mfa/", 0) == 0 || p.rfind("/password/", 0) == 0 ||
         p.rfind("/account/", 0) == 0;
}

}  // namespace

Awaitable<Response> Dispatch(Context& ctx, Request& req) {
  std::optional<Response> refused;
  if (HostedPagePost(req)) refused = RefuseForeignOrigin(ctx, req);
  // No co_await inside a conditional expression (GCC 12 destroys its temporaries twice).
  Response r;
  if (refused) {
    r = std::move(*refused);
  } else {
    r = co_await Route(ctx, req);
  }
  // RFC 6797: only over TLS (here or at a trusted proxy), never over plain HTTP.
  if (req.tls && !ctx.config.hsts.empty()) r.SetHeader("Strict-Transport-Security", ctx.config.hsts);
  co_return r;
}

namespace {

// The routes here and kRouteTemplates (gateway_metrics.hpp) name the same paths.
Awaitable<Response> Route(Context& ctx, Request& req) {
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
  if (p == "/mfa/enrol/email" || p == "/mfa/enrol/verify" || p == "/mfa/enrol/done") {
    if (!post) co_return not_allowed("POST");
    co_return co_await HandleMfaEnrolNext(ctx, req);
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
  if (p == "/account/sessions") {
    if (!get && !post) co_return not_allowed("GET, HEAD, POST");
    co_return co_await HandleAccountSessions(ctx, req);
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
  if (p == "/static/theme.css" && get && !ctx.config.accent_color.empty()) {
    // Branding (gateway.accent_color, checked at start): the one value the stylesheet takes.
    Response r{200, {}, ":root { --accent: " + ctx.config.accent_color + "; }\n"};
    r.SetHeader("Content-Type", "text/css; charset=utf-8");
    r.SetHeader("Cache-Control", "public, max-age=3600");
    r.SetHeader("X-Content-Type-Options", "nosniff");
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
  co_return ErrorPage(ctx, req, 404, "Page not found", "There is no page at this address.");
}

}  // namespace

}  // namespace idp::gateway
