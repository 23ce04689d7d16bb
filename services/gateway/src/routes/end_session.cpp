// GET|POST /end_session: RP-Initiated Logout 1.0. A post_logout_redirect_uri is followed only
// when it is registered, exactly, for the client named by a valid id_token_hint or client_id;
// otherwise the person sees our own pages (SECURITY §30). Without a hint for the signed-in
// person, the person confirms first (§2 "the OP SHOULD ask the End-User").
#include "../context.hpp"
#include "../i18n.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/oauth/oauth.hpp"

namespace idp::gateway {

namespace {

/// Ends the session named `id` (SessionStore::IdOf): revokes its grants at token (which
/// notifies back-channel logout clients), then deletes it.
Awaitable<Status> EndSessionById(Context& ctx, const Request& req, const Session& session,
                                 const std::string& id) {
  token::v1::RevokeSessionRequest revoke;
  revoke.set_sid(session.sid);
  revoke.set_subject(session.subject);
  auto revoked = co_await ctx.token.RevokeSession(CallerOf(req), revoke);
  if (!revoked) co_return Status(revoked.error());
  Status deleted = co_await ctx.sessions.DeleteSessionById(id);
  if (!deleted) co_return deleted;
  log::Info("signed out", {{"request_id", req.request_id},
                           {"subject", session.subject},
                           {"clients_notified", static_cast<std::int64_t>(revoked->notified())}});
  co_return Status();
}

}  // namespace

Awaitable<Status> EndSession(Context& ctx, const Request& req, const Session& session,
                             const std::string& cookie) {
  const std::string id = SessionStore::IdOf(cookie);
  Status st = co_await EndSessionById(ctx, req, session, id);
  co_return st;
}

Awaitable<Result<bool>> EndSessionOf(Context& ctx, const Request& req, const std::string& subject,
                                     const std::string& id) {
  auto live = co_await ctx.sessions.SessionsOf(subject);
  if (!live) co_return live.error();
  for (const auto& s : *live) {
    if (s.id != id) continue;
    Status ended = co_await EndSessionById(ctx, req, s.session, s.id);
    if (!ended) co_return ended.error();
    co_return true;
  }
  co_return false;  // not this person's, or already ended
}

Awaitable<Status> EndSessionsOf(Context& ctx, const Request& req, const std::string& subject,
                                const std::string& except_cookie) {
  auto live = co_await ctx.sessions.SessionsOf(subject);
  if (!live) co_return Status(live.error());
  const std::string except = except_cookie.empty() ? std::string() : SessionStore::IdOf(except_cookie);
  Status first_error;
  for (const auto& s : *live) {
    if (!except.empty() && s.id == except) continue;
    Status ended = co_await EndSessionById(ctx, req, s.session, s.id);
    if (!ended && first_error) first_error = ended;
  }
  co_return first_error;
}

Awaitable<Response> HandleEndSession(Context& ctx, Request& req) {
  std::string_view raw = req.method == "POST" ? std::string_view(req.body) : req.query;
  auto parsed = http::Params::Parse(raw);
  if (!parsed) {
    co_return ErrorPage(ctx, req, 400, "Invalid sign-out request", "The sign-out request is malformed.");
  }
  const auto& p = *parsed;
  for (const char* name : {"id_token_hint", "post_logout_redirect_uri", "state", "client_id"}) {
    if (p.Count(name) > 1) {
      co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                          Translate(Lang(ctx, req), "The parameter {0} is repeated.", {name}));
    }
  }

  // Who asks: the hint's audience, or client_id; they must agree.
  std::string client_id = p.Get("client_id").value_or("");
  std::string hint_subject;
  if (auto hint = p.Get("id_token_hint")) {
    auto verified = co_await ctx.token.VerifyIdTokenHint(CallerOf(req), *hint);
    if (!verified) co_return UpstreamErrorPage(ctx, req, verified.error());
    if (!verified->valid()) {
      co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                          "The application sent a sign-out request we cannot verify.",
                          "You are still signed in. Use Sign out on the portal to sign out.");
    }
    if (!client_id.empty() && client_id != verified->client_id()) {
      co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                          "The sign-out request names two different applications.");
    }
    client_id = verified->client_id();
    hint_subject = verified->subject();
  }
  std::string redirect = p.Get("post_logout_redirect_uri").value_or("");
  std::string client_name;
  if (!client_id.empty()) {
    auto client = co_await ctx.token.GetClient(CallerOf(req), client_id);
    if (!client && client.error().code != ErrorCode::kNotFound) {
      co_return UpstreamErrorPage(ctx, req, client.error());
    }
    if (client) {
      client_name = client->client().name();
      if (!redirect.empty()) {
        std::vector<std::string> registered(client->client().post_logout_redirect_uris().begin(),
                                            client->client().post_logout_redirect_uris().end());
        if (!oauth::RedirectUriRegistered(redirect, registered)) {
          co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                              "The application asked to return to an address it has not "
                              "registered.");
        }
      }
    } else if (!redirect.empty()) {
      co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                          "The application that sent you here is not registered.");
    }
  } else if (!redirect.empty()) {
    co_return ErrorPage(ctx, req, 400, "Invalid sign-out request",
                        "A return address needs an id_token_hint or client_id.");
  }
  std::string state = p.Get("state").value_or("");

  auto finish = [&]() -> Response {
    Response r;
    if (!redirect.empty()) {
      std::vector<std::pair<std::string, std::string>> q;
      if (!state.empty()) q.emplace_back("state", state);
      r = SeeOther(q.empty() ? redirect : oauth::AppendQuery(redirect, http::EncodeQuery(q)));
    } else {
      r = Response::Html(200, ctx.pages.In(Lang(ctx, req)).SignedOut());
      AddPageHeaders(r);
    }
    r.AddHeader("Set-Cookie", SessionCookie(ctx, "", 0));
    return r;
  };

  std::string cookie = req.Cookie(ctx.cookies.session).value_or("");
  auto session = co_await ctx.sessions.GetSession(cookie);
  if (!session) co_return UpstreamErrorPage(ctx, req, session.error());
  if (!*session) co_return finish();  // nobody to sign out

  bool confirmed = false;
  if (req.method == "POST" && p.Get("confirm") == std::optional<std::string>("yes")) {
    if (auto refused = RefuseForeignOrigin(ctx, req)) co_return std::move(*refused);
    if (!crypto::ConstantTimeEqual(p.Get("csrf").value_or(""), (*session)->csrf)) {
      co_return ErrorPage(ctx, req, 403, "Request refused",
                          "This sign-out was not sent by the page we showed you.");
    }
    confirmed = true;
  }
  // A valid hint for the signed-in person is the application's word that they asked.
  bool asked_by_person = !hint_subject.empty() && hint_subject == (*session)->subject;
  if (!confirmed && !asked_by_person) {
    LogoutConfirmView view{(*session)->csrf, client_name, client_id, redirect, state};
    auto r = Response::Html(200, ctx.pages.In(Lang(ctx, req)).LogoutConfirm(view));
    AddPageHeaders(r);
    co_return r;
  }
  Status ended = co_await EndSession(ctx, req, **session, cookie);
  if (!ended) co_return UpstreamErrorPage(ctx, req, ended.error());
  co_return finish();
}

}  // namespace idp::gateway
