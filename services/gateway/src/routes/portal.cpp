// GET / (the portal: the person's applications) and POST /logout (DESIGN flow 5).
#include "../context.hpp"

#include "idp/crypto/crypto.hpp"

namespace idp::gateway {

Awaitable<Response> HandlePortal(Context& ctx, Request& req) {
  auto session = co_await CurrentSession(ctx, req);
  if (!session) co_return UpstreamErrorPage(ctx, req, session.error());
  if (!*session) co_return SeeOther("/login");

  auto user = co_await ctx.auth.GetUser(CallerOf(req), (*session)->subject);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) {
      // The account is gone: so is the session.
      std::string cookie = req.Cookie(ctx.cookies.session).value_or("");
      Status deleted = co_await ctx.sessions.DeleteSession(cookie);
      (void)deleted;
      co_return SeeOther("/login");
    }
    co_return UpstreamErrorPage(ctx, req, user.error());
  }
  auto clients = co_await ctx.token.ListPortalClients(CallerOf(req));
  if (!clients) co_return UpstreamErrorPage(ctx, req, clients.error());

  auto factors = co_await ctx.mfa.ListFactors(CallerOf(req), (*session)->subject);
  if (!factors) co_return UpstreamErrorPage(ctx, req, factors.error());
  int methods = 0;
  for (const auto& f : factors->factors()) {
    if (f.active() && f.type() != mfa::v1::FACTOR_TYPE_RECOVERY_CODES) ++methods;
  }

  PortalView view;
  view.advice = methods < 2;
  view.username = user->user().name().empty() ? user->user().username() : user->user().name();
  view.csrf = (*session)->csrf;
  for (const auto& c : clients->clients()) {
    if (c.home_url().empty()) continue;
    view.apps.push_back({c.name().empty() ? c.client_id() : c.name(), c.home_url(), c.logo_url()});
  }
  auto r = Response::Html(200, ctx.pages.In(Lang(ctx, req)).Portal(view));
  AddPageHeaders(r);
  co_return r;
}

Awaitable<Response> HandleLogout(Context& ctx, Request& req) {
  auto form = http::Params::Parse(req.body);
  auto session = co_await CurrentSession(ctx, req);
  if (!session) co_return UpstreamErrorPage(ctx, req, session.error());
  if (*session) {
    auto csrf = form ? form->Get("csrf").value_or("") : std::string();
    if (!crypto::ConstantTimeEqual(csrf, (*session)->csrf)) {
      co_return ErrorPage(ctx, req, 403, "Request refused",
                          "This sign-out was not sent by the page we showed you.",
                          "Use the Sign out button on the portal.");
    }
    std::string cookie = req.Cookie(ctx.cookies.session).value_or("");
    Status st = co_await EndSession(ctx, req, **session, cookie);
    if (!st) co_return UpstreamErrorPage(ctx, req, st.error());
  }
  auto r = Response::Html(200, ctx.pages.In(Lang(ctx, req)).SignedOut());
  AddPageHeaders(r);
  r.AddHeader("Set-Cookie", SessionCookie(ctx, "", 0));
  co_return r;
}

}  // namespace idp::gateway
