// GET|POST /consent and /select-account: questions for a person who is already signed in,
// asked before an authorization completes (OIDC Core §3.1.2.1 prompt=consent and
// select_account, §3.1.2.4 consent). Each belongs to a flow bound to this browser and to the
// live session of the person it asks.
#include "../context.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/oauth/oauth.hpp"

namespace idp::gateway {
namespace {

/// A question's flow, checked: this browser's, in state `asked`, asked of the signed-in person.
struct Asked {
  std::string flow_id;
  Flow flow;
  Session session;
};

Awaitable<std::variant<Asked, Response>> LoadQuestion(Context& ctx, const Request& req,
                                                      const http::Params& params,
                                                      FlowState asked, bool form) {
  using R = std::variant<Asked, Response>;
  Asked a;
  a.flow_id = params.Get("flow").value_or("");
  auto loaded = co_await LoadFlow(ctx, req, a.flow_id, form ? &params : nullptr);
  if (auto* r = std::get_if<Response>(&loaded)) co_return R{std::move(*r)};
  a.flow = std::move(std::get<LoadedFlow>(loaded).flow);
  if (!a.flow.authorize || !signin::Require(a.flow, {asked})) co_return R{FlowExpiredPage(ctx, req)};
  auto session = co_await CurrentSession(ctx, req);
  if (!session) co_return R{UpstreamErrorPage(ctx, req, session.error())};
  // Signed out (or in as someone else) since the question was asked: start again.
  if (!*session || (*session)->subject != a.flow.subject) co_return R{FlowExpiredPage(ctx, req)};
  a.session = std::move(**session);
  co_return R{std::move(a)};
}

/// Remembers that the question of `a` was answered with a yes, so that its form posted again
/// leads on (FinishedFlowRedirect) instead of failing.
Awaitable<void> MarkAnswered(Context& ctx, const Request& req, const Asked& a) {
  const FinishedFlow done{a.flow.browser, a.session.subject, a.flow.authorize->client_id, ""};
  Status marked = co_await ctx.sessions.MarkFlowFinished(a.flow_id, done);
  if (!marked) log::Warn("answered question not marked", {{"request_id", req.request_id}});
}

/// What the application receives, in words (the scopes and the claims asked for by name).
std::vector<std::string> ConsentItems(const AuthorizeRequest& authz) {
  auto scopes = oauth::ParseScope(authz.scope);
  auto claims = oauth::ParseScope(authz.userinfo_claims);
  for (const auto& c : oauth::ParseScope(authz.id_token_claims)) claims.insert(c);
  auto wants = [&](const char* scope, std::initializer_list<const char*> names) {
    if (scopes.count(scope)) return true;
    for (const char* n : names) {
      if (claims.count(n)) return true;
    }
    return false;
  };
  std::vector<std::string> items{"Know who you are when you sign in"};
  if (wants("profile", {"name", "given_name", "family_name", "preferred_username"})) {
    items.emplace_back("See your name and username");
  }
  if (wants("email", {"email", "email_verified"})) items.emplace_back("See your email address");
  if (wants("phone", {"phone_number", "phone_number_verified"})) {
    items.emplace_back("See your phone number");
  }
  if (scopes.count("offline_access")) {
    items.emplace_back("Keep this access while you are not using it, until you sign out of it");
  }
  return items;
}

Awaitable<std::string> AccountName(Context& ctx, const Request& req, const std::string& subject) {
  auto user = co_await ctx.auth.GetUser(CallerOf(req), subject);
  if (!user) co_return std::string();
  const auto& u = user->user();
  co_return u.name().empty() ? u.username() : u.name() + " (" + u.username() + ")";
}

Response PageResponse(std::string html) {
  auto r = Response::Html(200, std::move(html));
  AddPageHeaders(r);
  return r;
}

std::optional<http::Params> FormOf(const Request& req) {
  if (req.Header("content-type").value_or("").substr(0, 33) != "application/x-www-form-urlencoded") {
    return std::nullopt;
  }
  auto form = http::Params::Parse(req.body);
  if (!form) return std::nullopt;
  return std::move(*form);
}

}  // namespace

Awaitable<Response> HandleConsentPage(Context& ctx, Request& req) {
  auto query = http::Params::Parse(req.query);
  if (!query) co_return FlowExpiredPage(ctx, req);
  auto loaded = co_await LoadQuestion(ctx, req, *query, FlowState::kAwaitingConsent, false);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  auto& a = std::get<Asked>(loaded);
  auto client = co_await ctx.token.GetClient(CallerOf(req), a.flow.authorize->client_id);
  if (!client) co_return UpstreamErrorPage(ctx, req, client.error());
  ConsentView view;
  view.flow = a.flow_id;
  view.csrf = a.flow.csrf;
  view.account = co_await AccountName(ctx, req, a.session.subject);
  view.client_name = client->client().name().empty() ? client->client().client_id()
                                                     : client->client().name();
  view.client_logo = client->client().logo_url();
  view.client_home = client->client().home_url();
  view.items = ConsentItems(*a.flow.authorize);
  co_return PageResponse(ctx.pages.In(Lang(ctx, req)).Consent(view));
}

Awaitable<Response> HandleConsentSubmit(Context& ctx, Request& req) {
  auto form = FormOf(req);
  if (!form) co_return ErrorPage(ctx, req, 400, "Invalid request", "The form could not be read.");
  auto loaded = co_await LoadQuestion(ctx, req, *form, FlowState::kAwaitingConsent, true);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  auto& a = std::get<Asked>(loaded);
  AuthorizeRequest authz = *a.flow.authorize;
  Status dropped = co_await ctx.sessions.DeleteFlow(a.flow_id);  // answered once
  if (!dropped) co_return UpstreamErrorPage(ctx, req, dropped.error());
  if (form->Get("decision") != "allow") {
    log::Info("consent denied", {{"request_id", req.request_id}, {"client_id", authz.client_id}});
    co_return AuthorizationErrorRedirect(ctx, authz, "access_denied",
                                         "the user did not allow the application");
  }
  token::v1::GrantConsentRequest grant;
  grant.set_subject(a.session.subject);
  grant.set_client_id(authz.client_id);
  grant.set_scope(authz.scope);
  auto granted = co_await ctx.token.GrantConsent(CallerOf(req), grant);
  if (!granted) co_return UpstreamErrorPage(ctx, req, granted.error());
  co_await MarkAnswered(ctx, req, a);
  authz.consent_given = true;
  co_return co_await CompleteAuthorization(ctx, req, authz, a.session);
}

Awaitable<Response> HandleSelectAccountPage(Context& ctx, Request& req) {
  auto query = http::Params::Parse(req.query);
  if (!query) co_return FlowExpiredPage(ctx, req);
  auto loaded = co_await LoadQuestion(ctx, req, *query, FlowState::kAwaitingAccountChoice, false);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  auto& a = std::get<Asked>(loaded);
  SelectAccountView view;
  view.flow = a.flow_id;
  view.csrf = a.flow.csrf;
  view.account = co_await AccountName(ctx, req, a.session.subject);
  view.client_name = co_await FlowClientName(ctx, req, a.flow);
  co_return PageResponse(ctx.pages.In(Lang(ctx, req)).SelectAccount(view));
}

Awaitable<Response> HandleSelectAccountSubmit(Context& ctx, Request& req) {
  auto form = FormOf(req);
  if (!form) co_return ErrorPage(ctx, req, 400, "Invalid request", "The form could not be read.");
  auto loaded = co_await LoadQuestion(ctx, req, *form, FlowState::kAwaitingAccountChoice, true);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  auto& a = std::get<Asked>(loaded);
  AuthorizeRequest authz = *a.flow.authorize;
  authz.select_account = false;
  if (form->Get("choice") == "other") {
    // The same flow becomes a sign-in from scratch; the new account replaces the session.
    Flow next = a.flow;
    if (auto moved = signin::OtherAccountChosen(next); !moved) co_return FlowExpiredPage(ctx, req);
    authz.login_hint.clear();
    next.authorize = authz;
    Status updated = co_await ctx.sessions.UpdateFlow(a.flow_id, next);
    if (!updated) co_return UpstreamErrorPage(ctx, req, updated.error());
    co_return SeeOther("/login?" + http::EncodeQuery({{"flow", a.flow_id}}));
  }
  Status dropped = co_await ctx.sessions.DeleteFlow(a.flow_id);
  if (!dropped) co_return UpstreamErrorPage(ctx, req, dropped.error());
  co_await MarkAnswered(ctx, req, a);
  co_return co_await CompleteAuthorization(ctx, req, authz, a.session);
}

}  // namespace idp::gateway
