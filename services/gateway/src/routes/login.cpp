// GET|POST /login: the hosted sign-in page (DESIGN "Hosted pages"; SECURITY §46, §50, §58).
#include "../context.hpp"

#include "idp/common/log.hpp"
#include "idp/http/proxies.hpp"
#include "idp/crypto/crypto.hpp"

namespace idp::gateway {
namespace {

constexpr const char* kInvalidCredentials = "Invalid username or password.";

Response LoginPage(const Context& ctx, const Request& req, int status, const LoginView& view) {
  auto r = Response::Html(status, ctx.pages.In(Lang(ctx, req)).Login(view));
  AddPageHeaders(r);
  return r;
}

}  // namespace

Awaitable<std::variant<LoadedFlow, Response>> LoadFlow(Context& ctx, const Request& req,
                                                      const std::string& id,
                                                      const http::Params* form) {
  using R = std::variant<LoadedFlow, Response>;
  auto flow = co_await ctx.sessions.GetFlow(id);
  if (!flow) co_return R{UpstreamErrorPage(ctx, req, flow.error())};
  if (!*flow) {
    // Finished already (a form posted twice, the back button): on, or expired.
    Response gone = co_await GoneFlowPage(ctx, req, id);
    co_return R{std::move(gone)};
  }
  if (!crypto::ConstantTimeEqual(req.Cookie(ctx.cookies.browser).value_or(""), (*flow)->browser)) {
    co_return R{FlowExpiredPage(ctx, req)};
  }
  if (form != nullptr && !crypto::ConstantTimeEqual(form->Get("csrf").value_or(""), (*flow)->csrf)) {
    log::Warn("flow form refused: csrf", {{"request_id", req.request_id}, {"path", req.path}});
    co_return R{ErrorPage(ctx, req, 403, "Request refused",
                          "This form was not sent by the page we showed you.",
                          "Reload the page and try again.")};
  }
  co_return R{LoadedFlow{id, std::move(**flow)}};
}

Awaitable<std::string> FlowClientName(Context& ctx, const Request& req, const Flow& flow) {
  if (!flow.authorize) co_return std::string();
  auto c = co_await ctx.token.GetClient(CallerOf(req), flow.authorize->client_id);
  co_return c ? c->client().name() : std::string();
}

Response FlowExpiredPage(const Context& ctx, const Request& req) {
  return ErrorPage(ctx, req, 400, "Sign-in expired",
                   "This sign-in page has expired or was opened in another browser.",
                   "Go back to the application, or to the portal, and sign in again.");
}

/// The local page a portal flow returns to: only our own pages, never an open redirect
/// (SECURITY §62).
std::string LocalReturn(const std::string& return_to) {
  return return_to == "/account/mfa" || return_to == "/account/password" ||
                 return_to == "/account/sessions"
             ? return_to
             : std::string("/");
}

Awaitable<std::optional<Response>> FinishedFlowRedirect(Context& ctx, const Request& req,
                                                        const std::string& flow_id) {
  auto done = co_await ctx.sessions.GetFinishedFlow(flow_id);
  if (!done || !*done) co_return std::nullopt;
  const std::string browser = req.Cookie(ctx.cookies.browser).value_or("");
  if (browser.empty() || !crypto::ConstantTimeEqual(browser, (*done)->browser)) co_return std::nullopt;
  auto session = co_await CurrentSession(ctx, req);
  if (!session || !*session || (*session)->subject != (*done)->subject) co_return std::nullopt;
  // Signed in already: to the application's home (a new authorization there passes by SSO;
  // the old one's state was spent), or to the portal page the flow was for.
  std::string to = LocalReturn((*done)->return_to);
  if (!(*done)->client_id.empty()) {
    to = "/";
    auto client = co_await ctx.token.GetClient(CallerOf(req), (*done)->client_id);
    if (client && !client->client().home_url().empty()) to = client->client().home_url();
  }
  log::Info("finished sign-in opened again", {{"request_id", req.request_id}, {"to", to}});
  co_return SeeOther(to);
}

Awaitable<Response> GoneFlowPage(Context& ctx, const Request& req, const std::string& flow_id) {
  auto redirect = co_await FinishedFlowRedirect(ctx, req, flow_id);
  if (redirect) co_return std::move(*redirect);
  co_return FlowExpiredPage(ctx, req);
}

Awaitable<Response> StartPortalFlow(Context& ctx, const Request& req, std::string_view return_to) {
  Flow flow;
  auto browser = req.Cookie(ctx.cookies.browser);
  flow.browser = browser && browser->size() == 43 ? *browser : crypto::RandomToken(32);
  flow.csrf = crypto::RandomToken(32);
  flow.return_to = std::string(return_to);
  std::string browser_value = flow.browser;
  auto id = co_await ctx.sessions.CreateFlow(flow);
  if (!id) co_return UpstreamErrorPage(ctx, req, id.error());
  auto r = SeeOther("/login?" + http::EncodeQuery({{"flow", *id}}));
  if (!browser || *browser != browser_value) {
    r.AddHeader("Set-Cookie", BrowserCookie(ctx, browser_value));
  }
  co_return r;
}

Awaitable<Result<std::vector<signin::Factor>>> FactorsOf(Context& ctx, const Request& req,
                                                        const std::string& subject) {
  using Out = Result<std::vector<signin::Factor>>;
  auto listed = co_await ctx.mfa.ListFactors(CallerOf(req), subject);
  if (!listed) co_return Out(listed.error());
  std::vector<signin::Factor> factors;
  for (const auto& f : listed->factors()) {
    signin::Factor factor;
    switch (f.type()) {
      case mfa::v1::FACTOR_TYPE_TOTP: factor.kind = signin::FactorKind::kTotp; break;
      case mfa::v1::FACTOR_TYPE_EMAIL: factor.kind = signin::FactorKind::kEmail; break;
      case mfa::v1::FACTOR_TYPE_SMS: factor.kind = signin::FactorKind::kSms; break;
      case mfa::v1::FACTOR_TYPE_RECOVERY_CODES: factor.kind = signin::FactorKind::kRecoveryCodes; break;
      default: factor.kind = signin::FactorKind::kOther; break;
    }
    factor.active = f.active();
    factor.id = f.id();
    factor.label = f.label();
    factors.push_back(std::move(factor));
  }
  co_return Out(std::move(factors));
}

signin::Windows WindowsOf(const Context& ctx) {
  return signin::Windows{ctx.config.reauth_window.count()};
}

signin::ClientPolicy PolicyOf(const Context& ctx, const Flow& flow) {
  signin::ClientPolicy policy;
  policy.require_mfa = ctx.config.require_mfa;
  if (flow.authorize) {
    const AuthorizeRequest& a = *flow.authorize;
    policy.require_mfa = policy.require_mfa || a.require_mfa;
    policy.prefer_mfa = a.prefer_mfa;
    policy.totp_only = a.totp_only;
    policy.forced_reauthentication = a.prompt_login || a.max_age.has_value();
  }
  policy.step_up = !flow.step_up_sid.empty();
  return policy;
}

Awaitable<std::optional<Response>> SecondStep(Context& ctx, const Request& req,
                                              const std::string& flow_id, Flow& flow) {
  auto factors = co_await FactorsOf(ctx, req, flow.subject);
  if (!factors) co_return UpstreamErrorPage(ctx, req, factors.error());
  const signin::SecondFactorPlan plan = signin::PlanSecondFactor(PolicyOf(ctx, flow), *factors);
  using signin::Next;
  if (plan.next == Next::kNone) co_return std::nullopt;
  if (plan.next == Next::kRefuse) {
    // Enrolling here would let a password alone add a factor past the person's existing one
    // (SECURITY §57): the app is added on the portal, after signing in with that factor.
    co_return ErrorPage(ctx, req, 403, "Authenticator app required",
                        "This application accepts only an authenticator app as the second step.",
                        "Sign in to the portal, set up the authenticator app under Manage "
                        "multi-factor authentication, then come back.");
  }
  if (plan.next == Next::kChallenge && plan.remembered_browser_may_skip) {
    // A remembered browser skips the challenge; the session then says so (amr pwd, acr aal1).
    const std::string remembered = req.Cookie(ctx.cookies.remember).value_or("");
    if (!remembered.empty()) {
      mfa::v1::CheckBrowserRequest check;
      check.set_subject(flow.subject);
      check.set_token(remembered);
      auto known = co_await ctx.mfa.CheckBrowser(CallerOf(req), check);
      if (known && known->remembered()) co_return std::nullopt;
    }
  }

  std::string next;
  if (plan.next == Next::kChallenge) {
    auto challenge = co_await ctx.mfa.StartChallenge(CallerOf(req), flow.subject);
    if (!challenge) co_return UpstreamErrorPage(ctx, req, challenge.error());
    if (auto moved = signin::ToSecondFactor(flow, challenge->challenge_id()); !moved) {
      co_return UpstreamErrorPage(ctx, req, moved.error());
    }
    next = "/mfa?";
  } else if (auto moved = signin::ToEnrolment(flow, NowUnix(), WindowsOf(ctx)); moved) {
    next = "/mfa/enrol?";
  } else {
    // A first factor is enrolled only right after the password (SECURITY §57): a step-up of
    // an older session signs in again, password first, in this flow.
    flow = signin::StartOver(flow);
    next = "/login?";
  }
  Status updated = co_await ctx.sessions.UpdateFlow(flow_id, flow);
  if (!updated) {
    if (updated.error().code == ErrorCode::kNotFound) co_return FlowExpiredPage(ctx, req);
    co_return UpstreamErrorPage(ctx, req, updated.error());
  }
  co_return SeeOther(next + http::EncodeQuery({{"flow", flow_id}}));
}

Awaitable<Response> FinishSignIn(Context& ctx, const Request& req, const std::string& flow_id,
                                 Flow flow, signin::Finish how, signin::SecondFactor factor) {
  const std::int64_t now = NowUnix();
  Session session;
  switch (how) {
    case signin::Finish::kPasswordOnly:
      session = signin::PasswordOnly(flow.subject, flow.password_at);
      break;
    case signin::Finish::kSecondFactor:
      session = signin::WithSecondFactor(flow.subject, now, factor, flow.step_up_sid);
      break;
    case signin::Finish::kFirstFactorSet:
      session = signin::WithSecondFactor(flow.subject, now, signin::SecondFactor::kTotp,
                                         flow.step_up_sid);
      break;
    case signin::Finish::kQuestion:
      break;
  }
  // No session before every required step passed (SECURITY §38): the flow's state decides.
  if (auto finished = signin::Finished(flow, how); !finished || how == signin::Finish::kQuestion) {
    log::Warn("sign-in not finished: the flow is not at that step",
              {{"request_id", req.request_id}, {"state", signin::StateName(flow.state)}});
    co_return FlowExpiredPage(ctx, req);
  }
  // Shown to the person on "Where you are signed in"; bounded, never trusted.
  if (session.user_agent.empty()) {
    session.user_agent = std::string(req.Header("user-agent").value_or("").substr(0, 200));
  }
  if (session.address.empty()) session.address = req.remote_addr;
  // A new session id at every authentication (SECURITY §50): the old one is ended.
  auto cookie =
      co_await ctx.sessions.Rotate(req.Cookie(ctx.cookies.session).value_or(""), session);
  if (!cookie) co_return UpstreamErrorPage(ctx, req, cookie.error());
  Status flow_deleted = co_await ctx.sessions.DeleteFlow(flow_id);
  (void)flow_deleted;
  // Its forms may come again (a double submit, the back button): they then lead on, not fail.
  const FinishedFlow done{flow.browser, session.subject,
                          flow.authorize ? flow.authorize->client_id : std::string(),
                          flow.return_to};
  Status marked = co_await ctx.sessions.MarkFlowFinished(flow_id, done);
  if (!marked) log::Warn("finished flow not marked", {{"request_id", req.request_id}});
  log::Info("signed in", {{"request_id", req.request_id}, {"subject", session.subject}});

  Response r;
  if (flow.authorize) {
    r = co_await CompleteAuthorization(ctx, req, *flow.authorize, session);
  } else {
    // Only our own pages: never an open redirect (SECURITY §62).
    r = SeeOther(LocalReturn(flow.return_to));
  }
  r.AddHeader("Set-Cookie", SessionCookie(ctx, *cookie, std::nullopt));
  co_return r;
}

Awaitable<Response> HandleLoginPage(Context& ctx, Request& req) {
  auto query = http::Params::Parse(req.query);
  auto flow_id = query ? query->Get("flow") : std::nullopt;
  if (!flow_id) co_return co_await StartPortalFlow(ctx, req, "");
  auto flow = co_await ctx.sessions.GetFlow(*flow_id);
  if (!flow) co_return UpstreamErrorPage(ctx, req, flow.error());
  if (!*flow) {
    // A sign-in that finished here (the back button): on to where it went.
    auto finished = co_await FinishedFlowRedirect(ctx, req, *flow_id);
    if (finished) co_return std::move(*finished);
  }
  if (!*flow || req.Cookie(ctx.cookies.browser) != (*flow)->browser) {
    if (*flow && (*flow)->authorize) co_return FlowExpiredPage(ctx, req);
    co_return co_await StartPortalFlow(ctx, req, "");
  }
  LoginView view;
  view.flow = *flow_id;
  view.csrf = (*flow)->csrf;
  if ((*flow)->authorize) view.username = (*flow)->authorize->login_hint;
  view.client_name = co_await FlowClientName(ctx, req, **flow);
  co_return LoginPage(ctx, req, 200, view);
}

Awaitable<Response> HandleLoginSubmit(Context& ctx, Request& req) {
  auto type = req.Header("content-type").value_or("");
  auto form = http::Params::Parse(req.body);
  if (type.substr(0, 33) != "application/x-www-form-urlencoded" || !form) {
    co_return ErrorPage(ctx, req, 400, "Invalid request", "The sign-in form could not be read.");
  }
  const std::string flow_id = form->Get("flow").value_or("");
  auto loaded = co_await LoadFlow(ctx, req, flow_id, &*form);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  Flow flow = std::move(std::get<LoadedFlow>(loaded).flow);
  // A question asked of a signed-in person, or a finished sign-in, takes no password.
  if (!signin::MayVerifyPassword(flow)) co_return co_await GoneFlowPage(ctx, req, flow_id);

  LoginView view;
  view.flow = flow_id;
  view.csrf = flow.csrf;
  view.username = form->Get("username").value_or("");
  auto password = form->Get("password").value_or("");
  if (view.username.empty() || password.empty()) {
    view.client_name = co_await FlowClientName(ctx, req, flow);
    view.error = "Enter your username and password.";
    co_return LoginPage(ctx, req, 400, view);
  }

  // 30 failed posts per source address per minute (SECURITY table), and more per network (an
  // IPv6 /64 counts as one address, its /48 as the network); fail closed without Redis. The
  // attempt is counted before the password is checked (one script for both limits), so that
  // a burst of concurrent guesses cannot all pass the check; a right password takes it back.
  const auto [address_key, network_key] =
      http::LimitKeys(req.remote_addr, ctx.config.limit_prefixes);
  const std::vector<std::pair<std::string, int>> limits{
      {"login:" + address_key, ctx.config.login_failures_per_address},
      {"login-net:" + network_key, ctx.config.login_failures_per_network}};
  auto attempt = co_await ctx.limiter.Reserve(limits, std::chrono::seconds(60));
  if (!attempt) co_return UpstreamErrorPage(ctx, req, attempt.error());
  if (attempt->retry_after > 0) {
    if (ctx.metrics) ctx.metrics->RateLimited("login_address");
    auto r = ErrorPage(ctx, req, 429, "Too many attempts",
                       "There were too many failed sign-ins from your network.",
                       "Wait a minute, then try again.");
    r.SetHeader("Retry-After", std::to_string(attempt->retry_after));
    co_return r;
  }

  auth::v1::VerifyPasswordRequest verify;
  verify.set_username(view.username);
  verify.set_password(password);
  verify.set_source_address(req.remote_addr);
  verify.set_user_agent(std::string(req.Header("user-agent").value_or("").substr(0, 256)));
  const std::string flow_client = flow.authorize ? flow.authorize->client_id : std::string();
  const rpc::Caller caller = CallerOf(req, flow_client);
  auto verified = co_await ctx.auth.VerifyPassword(caller, verify);
  if (!verified || verified->has_verified()) {
    // Not a wrong password (the password was right, or auth did not answer): not counted.
    Status released = co_await ctx.limiter.Release(*attempt);
    if (!released) log::Warn("login attempt not released", {{"request_id", req.request_id}});
  }
  if (!verified) co_return UpstreamErrorPage(ctx, req, verified.error());
  if (!verified->has_verified()) {
    // One message for unknown user, wrong password and disabled account (SECURITY §46).
    view.client_name = co_await FlowClientName(ctx, req, flow);
    view.error = kInvalidCredentials;
    co_return LoginPage(ctx, req, 401, view);
  }
  const std::string subject = verified->verified().subject();

  // No code and no SSO session before every required factor has passed (SECURITY §38). A
  // password posted again starts the flow's later steps afresh.
  if (auto moved = signin::PasswordVerified(flow, subject, NowUnix()); !moved) {
    co_return FlowExpiredPage(ctx, req);
  }
  auto step = co_await SecondStep(ctx, req, flow_id, flow);
  if (step) co_return std::move(*step);
  co_return co_await FinishSignIn(ctx, req, flow_id, std::move(flow), signin::Finish::kPasswordOnly);
}

}  // namespace idp::gateway
