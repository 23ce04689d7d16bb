// GET|POST /account/sessions: "Where you are signed in" (SECURITY: sessions listed and
// revocable by their owner). Each live session of the person, this browser marked; ending one
// revokes its grants and notifies back-channel logout clients, as signing out does.
#include "../context.hpp"
#include "../i18n.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <algorithm>
#include <ctime>

namespace idp::gateway {
namespace {

/// "Firefox on Linux": enough for a person to recognise a browser, from its User-Agent.
std::string BrowserName(std::string_view ua) {
  auto has = [&ua](std::string_view s) { return ua.find(s) != std::string_view::npos; };
  std::string browser = has("Edg/")       ? "Edge"
                        : has("Firefox/") ? "Firefox"
                        : has("Chrome/")  ? "Chrome"
                        : has("Safari/")  ? "Safari"
                                          : "";
  std::string os = has("Android")                    ? "Android"
                   : has("iPhone") || has("iPad")    ? "iOS"
                   : has("Windows")                  ? "Windows"
                   : has("Mac OS X")                 ? "macOS"
                   : has("Linux")                    ? "Linux"
                                                     : "";
  if (browser.empty() && os.empty()) return "Unknown browser";
  if (os.empty()) return browser;
  if (browser.empty()) return os;
  return browser + " · " + os;
}

std::string Utc(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

Awaitable<Response> List(Context& ctx, const Request& req, const Session& session,
                         const std::string& message) {
  auto live = co_await ctx.sessions.SessionsOf(session.subject);
  if (!live) co_return UpstreamErrorPage(ctx, req, live.error());
  const std::string mine = SessionStore::IdOf(req.Cookie(ctx.cookies.session).value_or(""));
  std::sort(live->begin(), live->end(), [&mine](const auto& a, const auto& b) {
    if ((a.id == mine) != (b.id == mine)) return a.id == mine;  // this browser first
    return a.session.created_at > b.session.created_at;
  });
  SessionsView view;
  view.csrf = session.csrf;
  view.message = message;
  for (const auto& s : *live) {
    view.sessions.push_back({s.id, BrowserName(s.session.user_agent), s.session.address,
                             Utc(s.session.created_at), s.id == mine});
  }
  auto r = Response::Html(200, ctx.pages.In(Lang(ctx, req)).Sessions(view));
  AddPageHeaders(r);
  co_return r;
}

}  // namespace

Awaitable<Response> HandleAccountSessions(Context& ctx, Request& req) {
  auto current = co_await CurrentSession(ctx, req);
  if (!current) co_return UpstreamErrorPage(ctx, req, current.error());
  if (!*current) co_return co_await StartPortalFlow(ctx, req, "/account/sessions");
  const Session session = **current;
  if (req.method != "POST") co_return co_await List(ctx, req, session, "");

  auto form = http::Params::Parse(req.body);
  if (!form || !crypto::ConstantTimeEqual(form->Get("csrf").value_or(""), session.csrf)) {
    co_return ErrorPage(ctx, req, 403, "Request refused",
                        "This form was not sent by the page we showed you.",
                        "Reload the page and try again.");
  }
  const std::string cookie = req.Cookie(ctx.cookies.session).value_or("");
  if (form->Get("action") == "others") {
    Status ended = co_await EndSessionsOf(ctx, req, session.subject, cookie);
    if (!ended) co_return UpstreamErrorPage(ctx, req, ended.error());
    co_return co_await List(ctx, req, session, "You are signed out everywhere else.");
  }
  const std::string id = form->Get("session").value_or("");
  if (id.empty() || id == SessionStore::IdOf(cookie)) {
    // This browser signs out with Sign out on the portal, which also clears its cookie.
    co_return co_await List(ctx, req, session, "");
  }
  auto ended = co_await EndSessionOf(ctx, req, session.subject, id);
  if (!ended) co_return UpstreamErrorPage(ctx, req, ended.error());
  co_return co_await List(ctx, req, session,
                          *ended ? "That browser is signed out." : "That browser was already signed out.");
}

}  // namespace idp::gateway
