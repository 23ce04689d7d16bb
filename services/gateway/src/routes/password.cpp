// Password self-service: GET|POST /password/forgot ("Forgot your password?"), GET|POST
// /password/reset (the emailed link: a reset, or an invitation's first password) and GET|POST
// /account/password (a signed-in person changes it). The auth service owns the tokens and emails
// the links; the gateway only carries the token from the link into the form.
#include "../context.hpp"
#include "../refusals.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

namespace idp::gateway {
namespace {

/// The pages reached from an email have no session to bind a CSRF token to: the token is bound
/// to a cookie set by the GET (SameSite=Strict, so another site's form never carries it).
std::string CsrfCookieName(const Context& ctx) {
  return ctx.config.secure_cookies ? "__Host-idp_pwcsrf" : "idp_pwcsrf";
}

std::string CsrfCookie(const Context& ctx, const std::string& value, long max_age) {
  http::CookieOptions o;
  o.secure = ctx.config.secure_cookies;
  o.same_site = "Strict";
  o.max_age = max_age;
  return http::SetCookieValue(CsrfCookieName(ctx), value, o);
}

/// The browser's CSRF value, or a new one (set on the response by Page()).
std::string CsrfFor(const Context& ctx, const Request& req) {
  auto c = req.Cookie(CsrfCookieName(ctx));
  if (c && c->size() == 43) return *c;
  return crypto::RandomToken(32);
}

Response Page(const Context& ctx, int status, std::string html, const std::string& csrf) {
  auto r = Response::Html(status, std::move(html));
  AddPageHeaders(r);
  if (!csrf.empty()) r.AddHeader("Set-Cookie", CsrfCookie(ctx, csrf, 3600));
  return r;
}

/// The form, when it came with the CSRF value of this browser's cookie.
std::optional<http::Params> CheckedForm(const Context& ctx, const Request& req) {
  auto form = http::Params::Parse(req.body);
  if (!form) return std::nullopt;
  auto cookie = req.Cookie(CsrfCookieName(ctx));
  auto sent = form->Get("csrf");
  if (!cookie || !sent || cookie->size() != 43 || !crypto::ConstantTimeEqual(*sent, *cookie)) {
    return std::nullopt;
  }
  return std::move(*form);
}

Response Refused(const Context& ctx, const Request& req) {
  log::Warn("password form rejected: csrf", {{"request_id", req.request_id}});
  return ErrorPage(ctx, req, 403, "Request refused", "This form was not sent by the page we showed you.",
                   "Open the page again and try once more.");
}

Response LinkInvalid(const Context& ctx, const Request& req) {
  auto r = Response::Html(410, ctx.pages.In(Lang(ctx, req)).PasswordLinkInvalid(ctx.config.password_reset_ttl.count()));
  AddPageHeaders(r);
  return r;
}

}  // namespace

Awaitable<Response> HandleForgotPasswordPage(Context& ctx, Request& req) {
  const std::string csrf = CsrfFor(ctx, req);
  co_return Page(ctx, 200, ctx.pages.In(Lang(ctx, req)).ForgotPassword(csrf, "", ""), csrf);
}

Awaitable<Response> HandleForgotPasswordSubmit(Context& ctx, Request& req) {
  auto form = CheckedForm(ctx, req);
  if (!form) co_return Refused(ctx, req);
  const std::string csrf = CsrfFor(ctx, req);
  const std::string username = form->Get("username").value_or("");
  if (username.empty() || username.size() > 254) {
    co_return Page(ctx, 400,
                   ctx.pages.In(Lang(ctx, req)).ForgotPassword(csrf, username.size() > 254 ? "" : username,
                                            "Enter your username or email address."),
                   csrf);
  }
  // Every request counts, per source address (SECURITY §66); fail closed without Redis.
  const std::string limit_key = "pwreset:" + req.remote_addr;
  auto wait = co_await ctx.limiter.RetryAfter(limit_key, ctx.config.password_reset_per_address,
                                              ctx.config.password_reset_window);
  if (!wait) co_return UpstreamErrorPage(ctx, req, wait.error());
  if (*wait > 0) {
    auto r = ErrorPage(ctx, req, 429, "Too many requests",
                       "There were too many requests for a new password from your network.",
                       "Wait " + std::to_string((*wait + 59) / 60) +
                           " minutes, then try again. A link you already received still works.");
    r.SetHeader("Retry-After", std::to_string(*wait));
    co_return r;
  }
  Status counted = co_await ctx.limiter.Hit(limit_key, ctx.config.password_reset_window);
  if (!counted) co_return UpstreamErrorPage(ctx, req, counted.error());

  auth::v1::StartPasswordResetRequest start;
  start.set_username_or_email(username);
  start.set_source_address(req.remote_addr);
  auto started = co_await ctx.auth.StartPasswordReset(CallerOf(req), start);
  if (!started) co_return UpstreamErrorPage(ctx, req, started.error());
  // The same page whether or not an account matched (SECURITY §46).
  co_return Page(ctx, 200, ctx.pages.In(Lang(ctx, req)).ForgotPasswordSent(ctx.config.password_reset_ttl.count()), csrf);
}

Awaitable<Response> HandleResetPasswordPage(Context& ctx, Request& req) {
  auto query = http::Params::Parse(req.query);
  const std::string token = query ? query->Get("token").value_or("") : "";
  if (token.empty() || token.size() > 128) co_return LinkInvalid(ctx, req);
  auth::v1::CheckPasswordTokenRequest check;
  check.set_token(token);
  auto checked = co_await ctx.auth.CheckPasswordToken(CallerOf(req), check);
  if (!checked) co_return UpstreamErrorPage(ctx, req, checked.error());
  if (!checked->valid()) co_return LinkInvalid(ctx, req);
  ResetPasswordView view;
  view.csrf = CsrfFor(ctx, req);
  view.token = token;
  view.username = checked->username();
  view.invite = checked->purpose() == auth::v1::TOKEN_PURPOSE_INVITE;
  co_return Page(ctx, 200, ctx.pages.In(Lang(ctx, req)).ResetPassword(view), view.csrf);
}

Awaitable<Response> HandleResetPasswordSubmit(Context& ctx, Request& req) {
  auto form = CheckedForm(ctx, req);
  if (!form) co_return Refused(ctx, req);
  auth::v1::CompletePasswordResetRequest complete;
  complete.set_token(form->Get("token").value_or(""));
  complete.set_new_password(form->Get("new_password").value_or(""));
  if (complete.token().empty() || complete.token().size() > 128) co_return LinkInvalid(ctx, req);
  // Ask what the token is for before it is spent, to word the answer.
  auth::v1::CheckPasswordTokenRequest check;
  check.set_token(complete.token());
  auto checked = co_await ctx.auth.CheckPasswordToken(CallerOf(req), check);
  if (!checked) co_return UpstreamErrorPage(ctx, req, checked.error());
  if (!checked->valid()) co_return LinkInvalid(ctx, req);
  const bool invite = checked->purpose() == auth::v1::TOKEN_PURPOSE_INVITE;

  auto done = co_await ctx.auth.CompletePasswordReset(CallerOf(req), complete);
  if (!done) co_return UpstreamErrorPage(ctx, req, done.error());
  if (done->rejection() == auth::v1::PASSWORD_REJECTION_INVALID_TOKEN) co_return LinkInvalid(ctx, req);
  if (done->rejection() != auth::v1::PASSWORD_REJECTION_UNSPECIFIED) {
    ResetPasswordView view;
    view.csrf = CsrfFor(ctx, req);
    view.token = complete.token();
    view.username = checked->username();
    view.invite = invite;
    view.error = WeaknessText(Lang(ctx, req), done->weakness());
    co_return Page(ctx, 400, ctx.pages.In(Lang(ctx, req)).ResetPassword(view), view.csrf);
  }
  // Whoever held a session of this person (perhaps the one who made the reset necessary) is
  // signed out everywhere, with their grants revoked.
  const std::string keep_none;
  Status ended = co_await EndSessionsOf(ctx, req, done->subject(), keep_none);
  if (!ended) {
    log::Error("sessions not ended after a password reset",
               {{"request_id", req.request_id}, {"subject", done->subject()},
                {"error", ended.error().message}});
  }
  log::Info("password reset completed", {{"request_id", req.request_id},
                                         {"subject", done->subject()}});
  auto r = Page(ctx, 200, ctx.pages.In(Lang(ctx, req)).PasswordChanged(invite), "");
  r.AddHeader("Set-Cookie", SessionCookie(ctx, "", 0));
  co_return r;
}

namespace {

Awaitable<Response> AccountPasswordPage(Context& ctx, const Request& req, const Session& session,
                                        const AccountPasswordView& shown, int status) {
  AccountPasswordView view = shown;
  auto user = co_await ctx.auth.GetUser(CallerOf(req), session.subject);
  if (user) view.username = user->user().username();
  view.csrf = session.csrf;
  auto r = Response::Html(status, ctx.pages.In(Lang(ctx, req)).AccountPassword(view));
  AddPageHeaders(r);
  co_return r;
}

}  // namespace

Awaitable<Response> HandleAccountPasswordPage(Context& ctx, Request& req) {
  auto session = co_await CurrentSession(ctx, req);
  if (!session) co_return UpstreamErrorPage(ctx, req, session.error());
  if (!*session) co_return co_await StartPortalFlow(ctx, req, "/account/password");
  AccountPasswordView view;
  co_return co_await AccountPasswordPage(ctx, req, **session, view, 200);
}

Awaitable<Response> HandleAccountPasswordSubmit(Context& ctx, Request& req) {
  auto session_result = co_await CurrentSession(ctx, req);
  if (!session_result) co_return UpstreamErrorPage(ctx, req, session_result.error());
  if (!*session_result) co_return co_await StartPortalFlow(ctx, req, "/account/password");
  const Session session = **session_result;
  auto form = http::Params::Parse(req.body);
  if (!form || !crypto::ConstantTimeEqual(form->Get("csrf").value_or(""), session.csrf)) {
    co_return Refused(ctx, req);
  }
  AccountPasswordView view;
  const std::string current = form->Get("current_password").value_or("");
  const std::string next = form->Get("new_password").value_or("");
  if (current.empty()) view.current_error = "Enter your current password.";
  if (next.empty()) view.new_error = "Enter a new password.";
  if (current.empty() || next.empty()) {
    co_return co_await AccountPasswordPage(ctx, req, session, view, 400);
  }
  // Wrong current passwords are limited per person, so that a stolen session cannot guess.
  const std::string limit_key = "pwchange:" + crypto::Base64UrlEncode(crypto::Sha256(session.subject));
  auto wait = co_await ctx.limiter.RetryAfter(limit_key, 5, std::chrono::seconds(15 * 60));
  if (!wait) co_return UpstreamErrorPage(ctx, req, wait.error());
  if (*wait > 0) {
    auto r = ErrorPage(ctx, req, 429, "Too many attempts",
                       "The current password was entered wrongly too often.",
                       "Wait 15 minutes, then try again.");
    r.SetHeader("Retry-After", std::to_string(*wait));
    co_return r;
  }

  auth::v1::ChangePasswordRequest change;
  change.set_subject(session.subject);
  change.set_current_password(current);
  change.set_new_password(next);
  auto changed = co_await ctx.auth.ChangePassword(CallerOf(req), change);
  if (!changed) co_return UpstreamErrorPage(ctx, req, changed.error());
  if (changed->rejection() == auth::v1::PASSWORD_REJECTION_WRONG_PASSWORD) {
    Status counted = co_await ctx.limiter.Hit(limit_key, std::chrono::seconds(15 * 60));
    if (!counted) co_return UpstreamErrorPage(ctx, req, counted.error());
    view.current_error = "That is not your current password.";
    co_return co_await AccountPasswordPage(ctx, req, session, view, 400);
  }
  if (changed->rejection() != auth::v1::PASSWORD_REJECTION_UNSPECIFIED) {
    view.new_error = WeaknessText(Lang(ctx, req), changed->weakness());
    co_return co_await AccountPasswordPage(ctx, req, session, view, 400);
  }

  // A privilege change: this browser continues under a new session id (same sid for the
  // applications); every other session of the person ends.
  Session renewed = session;
  renewed.csrf = crypto::RandomToken(32);
  auto cookie =
      co_await ctx.sessions.Rotate(req.Cookie(ctx.cookies.session).value_or(""), renewed);
  if (!cookie) co_return UpstreamErrorPage(ctx, req, cookie.error());
  Status ended = co_await EndSessionsOf(ctx, req, session.subject, *cookie);
  if (!ended) {
    log::Error("other sessions not ended after a password change",
               {{"request_id", req.request_id}, {"subject", session.subject},
                {"error", ended.error().message}});
  }
  log::Info("password changed", {{"request_id", req.request_id}, {"subject", session.subject}});
  view.message = "Your password was changed. You were signed out on every other device.";
  auto r = co_await AccountPasswordPage(ctx, req, renewed, view, 200);
  r.AddHeader("Set-Cookie", SessionCookie(ctx, *cookie, std::nullopt));
  co_return r;
}

}  // namespace idp::gateway
