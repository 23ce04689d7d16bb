// GET|POST /mfa: the second step of a sign-in (DESIGN flow 3). The flow holds the partial,
// password-only state; it never counts as signed in (SECURITY §38, §52).
#include "../context.hpp"
#include "../refusals.hpp"
#include "../i18n.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <algorithm>

namespace idp::gateway {
namespace {

/// A request for an enrolment step that this flow has not reached (a question flow, a flow
/// whose password is older than the window, a person who has a factor): nothing is enrolled;
/// the person signs in again, password and second factor, and lands on the account's MFA page
/// (SECURITY §57: a session alone never adds a factor).
Awaitable<Response> ReauthenticateToEnrol(Context& ctx, const Request& req, const Flow& flow,
                                          const Error& why) {
  log::Warn("enrolment refused", {{"request_id", req.request_id}, {"subject", flow.subject},
                                  {"why", why.message}});
  co_return co_await StartPortalFlow(ctx, req, "/account/mfa");
}

/// The page after a challenge ended (`last_try`: the code just posted was its last allowed
/// wrong one): it says so and offers a fresh sign-in for the same application or page, with no
/// code input that could no longer succeed. The ended flow is dropped once mfa says it ended.
Awaitable<Response> ChallengeEndedPage(Context& ctx, const Request& req, const LoadedFlow& pending,
                                       bool last_try) {
  if (!last_try) {
    Status deleted = co_await ctx.sessions.DeleteFlow(pending.id);
    (void)deleted;
  }
  Flow again = signin::StartOver(pending.flow);
  again.csrf = crypto::RandomToken(32);  // a new flow, a token of its own
  auto id = co_await ctx.sessions.CreateFlow(again);
  // Without a new flow (Redis blinked) the page still says what happened and where to go.
  const std::string href = id ? "/login?" + http::EncodeQuery({{"flow", *id}}) : std::string();
  auto r = Response::Html(
      401, ctx.pages.In(Lang(ctx, req))
               .Error("Too many wrong codes",
                      last_try ? "That code is not right, and it was the last try. This sign-in has ended."
                               : "This sign-in has ended after too many wrong codes.",
                      "Start again: sign in with your password, then a new code.", href));
  AddPageHeaders(r);
  co_return r;
}

/// The methods the person can use here (signin::PlanSecondFactor: the authenticator app first,
/// pre-selected, then email and SMS factors unless the client counts only the app); `selected`
/// keeps a choice. Each method is named by its kind alone; the masked destination describes it.
Awaitable<MfaView> BuildView(Context& ctx, const Request& req, const LoadedFlow& pending,
                             std::string_view selected) {
  MfaView view;
  view.flow = pending.id;
  view.csrf = pending.flow.csrf;
  auto factors = co_await FactorsOf(ctx, req, pending.flow.subject);
  signin::SecondFactorPlan plan;
  if (factors) plan = signin::PlanSecondFactor(PolicyOf(ctx, pending.flow), *factors);
  view.has_recovery = plan.recovery;
  for (const auto& m : plan.offered) {
    if (m.kind == signin::FactorKind::kTotp) {
      view.methods.push_back({"totp", "Authenticator app", "", "", false});
      continue;
    }
    const std::string detail_id = "method-" + std::to_string(view.methods.size());
    view.methods.push_back({"factor:" + m.factor_id,
                            m.kind == signin::FactorKind::kEmail ? "Email" : "SMS", m.label,
                            detail_id, false});
    view.can_send = true;
  }
  bool any = false;
  for (auto& m : view.methods) {
    m.checked = m.value == selected;
    any = any || m.checked;
  }
  if (!any && !view.methods.empty()) view.methods.front().checked = true;
  view.client_name = co_await FlowClientName(ctx, req, pending.flow);
  if (plan.may_remember && ctx.config.remember_days > 0) {
    view.remember_days = ctx.config.remember_days;
  }
  co_return view;
}

/// "Sent to a•••@example.com 12 s ago", or what went wrong, for the last code of the challenge.
Awaitable<std::string> DeliveryStatus(Context& ctx, const Request& req, const Flow& flow) {
  mfa::v1::CodeStatusRequest status;
  status.set_challenge_id(flow.challenge_id);
  status.set_subject(flow.subject);
  auto s = co_await ctx.mfa.CodeStatus(CallerOf(req), status);
  if (!s || s->state().empty()) co_return std::string();
  const std::string& to = s->label();
  const std::string lang = Lang(ctx, req);
  if (s->state() == "failed") {
    co_return Translate(lang, "The code to {0} could not be sent: try another method.", {to});
  }
  if (s->state() == "sent") {
    const std::int64_t seconds = std::max<std::int64_t>(0, NowUnix() - s->updated_at());
    // "0 s ago" reads like a glitch.
    if (seconds < 5) co_return Translate(lang, "Code sent to {0} just now.", {to});
    const std::string ago = std::to_string(seconds);
    co_return Translate(lang, "Code sent to {0} {1} s ago.", {to, ago});
  }
  if (s->state() == "retrying") {
    co_return Translate(lang, "Sending the code to {0} is taking longer than usual.", {to});
  }
  co_return Translate(lang, "Sending the code to {0}...", {to});
}

Response MfaPage(const Context& ctx, const Request& req, int status, const MfaView& view) {
  auto r = Response::Html(status, ctx.pages.In(Lang(ctx, req)).Mfa(view));
  AddPageHeaders(r);
  return r;
}

Response PageResponse(int status, std::string html) {
  auto r = Response::Html(status, std::move(html));
  AddPageHeaders(r);
  return r;
}

/// The offer of a second method during a sign-in, after the first was enrolled: email (the
/// app is the first), or go on to the application.
SecondMethodView EnrolNextView(const std::string& flow_id, const Flow& flow) {
  SecondMethodView view;
  // The status line says what was set up; the heading says what the page is for.
  view.title = "Make sure you can always get in";
  view.flow = flow_id;
  view.csrf = flow.csrf;
  view.offer_email = true;
  view.email_action = "/mfa/enrol/email";
  view.skip_form = true;
  view.skip_action = "/mfa/enrol/done";
  view.skip_label = "Skip for now and continue";
  return view;
}

}  // namespace

Awaitable<Response> HandleMfaPage(Context& ctx, Request& req) {
  auto query = http::Params::Parse(req.query);
  if (!query || !query->Get("flow")) co_return FlowExpiredPage(ctx, req);
  const std::string flow_id = *query->Get("flow");
  auto loaded = co_await LoadFlow(ctx, req, flow_id, nullptr);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  const LoadedFlow& pending = std::get<LoadedFlow>(loaded);
  if (!signin::Require(pending.flow, {FlowState::kAwaitingSecondFactor})) {
    co_return FlowExpiredPage(ctx, req);
  }
  MfaView view = co_await BuildView(ctx, req, pending, "");
  view.recovery = query->Get("method") == std::optional<std::string>("recovery");
  view.status = co_await DeliveryStatus(ctx, req, pending.flow);
  co_return MfaPage(ctx, req, 200, view);
}

Awaitable<Response> HandleMfaSubmit(Context& ctx, Request& req) {
  auto form = http::Params::Parse(req.body);
  if (!form) co_return ErrorPage(ctx, req, 400, "Invalid request", "The form could not be read.");
  const std::string flow_id = form->Get("flow").value_or("");
  auto loaded = co_await LoadFlow(ctx, req, flow_id, &*form);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  LoadedFlow& pending = std::get<LoadedFlow>(loaded);
  Flow& flow = pending.flow;
  if (!signin::Require(flow, {FlowState::kAwaitingSecondFactor})) co_return FlowExpiredPage(ctx, req);
  const std::string method = form->Get("method").value_or("totp");
  const bool recovery = method == "recovery";
  const bool sent_code = method.rfind("factor:", 0) == 0;
  MfaView view = co_await BuildView(ctx, req, pending, method);
  view.recovery = recovery;

  if (form->Get("action") == std::optional<std::string>("send")) {
    // Send (or resend) a code to the chosen email or SMS factor; only the newest is valid.
    bool allowed = false;
    for (const auto& m : view.methods) allowed = allowed || (m.value == method && sent_code);
    if (!allowed) {
      view.error = "Choose Email or SMS to get a code.";
      co_return MfaPage(ctx, req, 400, view);
    }
    mfa::v1::SendCodeRequest send;
    send.set_challenge_id(flow.challenge_id);
    send.set_subject(flow.subject);
    send.set_factor_id(method.substr(7));
    auto sent = co_await ctx.mfa.SendCode(CallerOf(req), send);
    if (!sent) {
      if (sent.error().code == ErrorCode::kNotFound) co_return FlowExpiredPage(ctx, req);
      co_return UpstreamErrorPage(ctx, req, sent.error());
    }
    if (sent->refusal().reason() != mfa::v1::Refusal::REASON_UNSPECIFIED) {
      if (ctx.metrics) ctx.metrics->RateLimited("mfa_send_refused");
      view.error = RefusalText(Lang(ctx, req), sent->refusal());
      co_return MfaPage(ctx, req, 429, view);
    }
    view.status = co_await DeliveryStatus(ctx, req, flow);
    if (view.status.empty()) view.status = Translate(Lang(ctx, req), "Code sent to {0}.", {sent->label()});
    co_return MfaPage(ctx, req, 200, view);
  }
  if (sent_code) {
    bool allowed = false;
    for (const auto& m : view.methods) allowed = allowed || m.value == method;
    if (!allowed) {
      view.error = "This application accepts only the authenticator app.";
      co_return MfaPage(ctx, req, 400, view);
    }
  }

  mfa::v1::VerifyCodeRequest verify;
  verify.set_challenge_id(flow.challenge_id);
  verify.set_subject(flow.subject);
  verify.set_method(recovery    ? mfa::v1::CODE_METHOD_RECOVERY
                    : sent_code ? mfa::v1::CODE_METHOD_SENT
                                : mfa::v1::CODE_METHOD_TOTP);
  verify.set_code(form->Get("code").value_or(""));
  const std::string flow_client = flow.authorize ? flow.authorize->client_id : std::string();
  const rpc::Caller caller = CallerOf(req, flow_client);
  auto result = co_await ctx.mfa.VerifyCode(caller, verify);
  if (!result) co_return UpstreamErrorPage(ctx, req, result.error());

  using R = mfa::v1::VerifyCodeResponse;
  switch (result->outcome()) {
    case R::OUTCOME_VERIFIED: {
      const signin::SecondFactor factor = recovery ? signin::SecondFactor::kRecoveryCode
                                                   : signin::SecondFactorFromAmr(result->amr());
      if (recovery) {
        log::Info("signed in with a recovery code",
                  {{"request_id", req.request_id},
                   {"left", static_cast<std::int64_t>(result->recovery_codes_left())}});
      }
      std::string remember_cookie;
      if (form->Get("remember") == std::optional<std::string>("yes") && view.remember_days > 0) {
        mfa::v1::RememberBrowserRequest remember;
        remember.set_subject(flow.subject);
        remember.set_label(std::string(req.Header("user-agent").value_or("A browser").substr(0, 120)));
        remember.set_days(ctx.config.remember_days);
        auto token = co_await ctx.mfa.RememberBrowser(CallerOf(req), remember);
        if (token) {
          http::CookieOptions o;
          o.secure = ctx.config.secure_cookies;
          o.max_age = static_cast<long>(ctx.config.remember_days) * 24 * 3600;
          remember_cookie = http::SetCookieValue(ctx.cookies.remember, token->token(), o);
        }
      }
      Response done =
          co_await FinishSignIn(ctx, req, pending.id, flow, signin::Finish::kSecondFactor, factor);
      if (!remember_cookie.empty()) done.AddHeader("Set-Cookie", remember_cookie);
      co_return done;
    }
    case R::OUTCOME_MALFORMED_CODE:
      view.error = recovery ? "Enter a recovery code as it was given to you, like abcde-fghij."
                   : sent_code ? "Enter the 6 digits of the code we sent."
                               : "Enter the 6 digits your authenticator app shows.";
      break;
    case R::OUTCOME_WRONG_CODE:
      if (result->tries_left() == 0) co_return co_await ChallengeEndedPage(ctx, req, pending, true);
      view.error = Translate(Lang(ctx, req),
                             result->tries_left() == 1 ? "That code is not right. {0} try left."
                                                       : "That code is not right. {0} tries left.",
                             {std::to_string(result->tries_left())});
      break;
    case R::OUTCOME_CHALLENGE_ENDED:
      co_return co_await ChallengeEndedPage(ctx, req, pending, false);
    case R::OUTCOME_LOCKED: {
      Status deleted = co_await ctx.sessions.DeleteFlow(pending.id);
      (void)deleted;
      if (ctx.metrics) ctx.metrics->RateLimited("mfa_verify");
      const int wait = std::max(60, static_cast<int>(result->retry_after_seconds()));
      const int minutes = (wait + 59) / 60;
      auto r = ErrorPage(ctx, req, 429, "Too many wrong codes",
                         "Verification is paused for your account after too many wrong codes.",
                         Translate(Lang(ctx, req),
                                   minutes == 1 ? "Try again in {0} minute."
                                                : "Try again in {0} minutes.",
                                   {std::to_string(minutes)}));
      r.SetHeader("Retry-After", std::to_string(wait));
      co_return r;
    }
    default:
      co_return ErrorPage(ctx, req, 500, "Something went wrong", "Please try again.");
  }
  co_return MfaPage(ctx, req, result->outcome() == R::OUTCOME_WRONG_CODE ? 401 : 400, view);
}

Awaitable<Response> HandleMfaEnrol(Context& ctx, Request& req) {
  // Enrolment during sign-in, when a second factor is required and the person has none.
  std::string_view raw = req.method == "POST" ? std::string_view(req.body) : req.query;
  auto params = http::Params::Parse(raw);
  if (!params) co_return ErrorPage(ctx, req, 400, "Invalid request", "The form could not be read.");
  const std::string flow_id = params->Get("flow").value_or("");
  auto loaded = co_await LoadFlow(ctx, req, flow_id, req.method == "POST" ? &*params : nullptr);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  Flow& flow = std::get<LoadedFlow>(loaded).flow;
  if (flow.state == FlowState::kAwaitingSecondFactor) {
    co_return SeeOther("/mfa?" + http::EncodeQuery({{"flow", flow_id}}));
  }
  if (flow.state == FlowState::kOfferingSecondMethod) {
    // Already enrolled (a reload): the offer again, without the codes (shown once).
    co_return PageResponse(200, ctx.pages.In(Lang(ctx, req)).SecondMethod(EnrolNextView(flow_id, flow)));
  }
  if (auto may = signin::MayEnrolFirstFactor(flow, NowUnix(), WindowsOf(ctx)); !may) {
    co_return co_await ReauthenticateToEnrol(ctx, req, flow, may.error());
  }
  // A first factor only: a person who has one adds another on the account page, after
  // proving it (mfa may have gained one since the password step, from another browser).
  auto factors = co_await FactorsOf(ctx, req, flow.subject);
  if (!factors) co_return UpstreamErrorPage(ctx, req, factors.error());
  for (const auto& f : *factors) {
    if (f.active) {
      co_return co_await ReauthenticateToEnrol(ctx, req, flow,
                                               FailedPrecondition("the person has a factor"));
    }
  }
  std::string error;
  if (req.method == "POST") {
    mfa::v1::ConfirmTotpEnrolmentRequest confirm;
    confirm.set_subject(flow.subject);
    confirm.set_factor_id(params->Get("factor_id").value_or(""));
    confirm.set_code(params->Get("code").value_or(""));
    auto c = co_await ctx.mfa.ConfirmTotpEnrolment(CallerOf(req), confirm);
    if (!c && c.error().code != ErrorCode::kNotFound) co_return UpstreamErrorPage(ctx, req, c.error());
    if (c && c->outcome() == mfa::v1::ConfirmTotpEnrolmentResponse::OUTCOME_CONFIRMED) {
      log::Info("authenticator app enrolled at sign-in", {{"request_id", req.request_id}});
      // The first method: recovery codes now, then a second, different one is offered before
      // the sign-in goes on (or skipped).
      if (auto moved = signin::FirstFactorEnrolled(flow, NowUnix(), WindowsOf(ctx)); !moved) {
        co_return co_await ReauthenticateToEnrol(ctx, req, flow, moved.error());
      }
      Status updated = co_await ctx.sessions.UpdateFlow(flow_id, flow);
      if (!updated) co_return UpstreamErrorPage(ctx, req, updated.error());
      auto codes = co_await ctx.mfa.GenerateRecoveryCodes(CallerOf(req), flow.subject);
      if (!codes) co_return UpstreamErrorPage(ctx, req, codes.error());
      SecondMethodView view = EnrolNextView(flow_id, flow);
      view.message = "Your authenticator app is set up.";
      view.codes.assign(codes->codes().begin(), codes->codes().end());
      co_return PageResponse(200, ctx.pages.In(Lang(ctx, req)).SecondMethod(view));
    }
    error = "That code is not right. Scan this new code and enter the code your app shows.";
  }
  // Each visit starts a fresh pending enrolment (the seed is never stored outside mfa).
  auto setup = co_await StartTotpSetup(ctx, req, flow.subject, flow.csrf);
  if (!setup) co_return UpstreamErrorPage(ctx, req, setup.error());
  TotpSetupView view = std::move(*setup);
  view.error = error;
  view.action = "/mfa/enrol";
  view.flow = flow_id;
  view.cancel = "";
  view.required_by = co_await FlowClientName(ctx, req, flow);
  if (view.required_by.empty()) view.required_by = ctx.config.product;
  auto r = Response::Html(error.empty() ? 200 : 401, ctx.pages.In(Lang(ctx, req)).TotpSetup(view));
  AddPageHeaders(r);
  co_return r;
}

Awaitable<Response> HandleMfaEnrolNext(Context& ctx, Request& req) {
  // After the first method was enrolled during a sign-in: add email as a second one (a code
  // sent to it, then entered), or skip; either way the sign-in then goes on.
  auto form = http::Params::Parse(req.body);
  if (!form) co_return ErrorPage(ctx, req, 400, "Invalid request", "The form could not be read.");
  const std::string flow_id = form->Get("flow").value_or("");
  auto loaded = co_await LoadFlow(ctx, req, flow_id, &*form);
  if (auto* r = std::get_if<Response>(&loaded)) co_return std::move(*r);
  Flow& flow = std::get<LoadedFlow>(loaded).flow;
  if (flow.state == FlowState::kEnrollingFirstFactor || flow.state == FlowState::kAwaitingSecondFactor) {
    co_return SeeOther("/mfa/enrol?" + http::EncodeQuery({{"flow", flow_id}}));
  }
  if (auto at = signin::Require(flow, {FlowState::kOfferingSecondMethod}); !at) {
    co_return co_await ReauthenticateToEnrol(ctx, req, flow, at.error());
  }
  const std::string& path = req.path;
  if (path == "/mfa/enrol/email") {
    mfa::v1::StartDeliveryEnrolmentRequest start;
    start.set_subject(flow.subject);
    start.set_type(mfa::v1::FACTOR_TYPE_EMAIL);
    start.set_destination(form->Get("destination").value_or(""));
    auto e = co_await ctx.mfa.StartDeliveryEnrolment(CallerOf(req), start);
    if (!e) co_return UpstreamErrorPage(ctx, req, e.error());
    if (e->refusal().reason() != mfa::v1::Refusal::REASON_UNSPECIFIED) {
      SecondMethodView view = EnrolNextView(flow_id, flow);
      view.error = RefusalText(Lang(ctx, req), e->refusal());
      co_return PageResponse(400, ctx.pages.In(Lang(ctx, req)).SecondMethod(view));
    }
    co_return PageResponse(200, ctx.pages.In(Lang(ctx, req)).VerifyDestination(flow.csrf, e->factor_id(), e->label(),
                                                            "", "/mfa/enrol/verify", flow_id));
  }
  if (path == "/mfa/enrol/verify") {
    mfa::v1::ConfirmDeliveryEnrolmentRequest confirm;
    confirm.set_subject(flow.subject);
    confirm.set_factor_id(form->Get("factor_id").value_or(""));
    confirm.set_code(form->Get("code").value_or(""));
    auto c = co_await ctx.mfa.ConfirmDeliveryEnrolment(CallerOf(req), confirm);
    if (!c && c.error().code != ErrorCode::kNotFound) co_return UpstreamErrorPage(ctx, req, c.error());
    using R = mfa::v1::VerifyCodeResponse;
    if (c && c->outcome() == R::OUTCOME_VERIFIED) {
      log::Info("second method enrolled at sign-in", {{"request_id", req.request_id}});
      co_return co_await FinishSignIn(ctx, req, flow_id, flow, signin::Finish::kFirstFactorSet);
    }
    if (c && (c->outcome() == R::OUTCOME_WRONG_CODE || c->outcome() == R::OUTCOME_MALFORMED_CODE)) {
      std::string error = c->outcome() == R::OUTCOME_MALFORMED_CODE
                              ? "Enter the 6 digits of the code we sent."
                              : Translate(Lang(ctx, req),
                                          c->tries_left() == 1 ? "That code is not right. {0} try left."
                                                               : "That code is not right. {0} tries left.",
                                          {std::to_string(c->tries_left())});
      co_return PageResponse(401, ctx.pages.In(Lang(ctx, req)).VerifyDestination(
                                      flow.csrf, confirm.factor_id(),
                                      form->Get("label").value_or(""), error,
                                      "/mfa/enrol/verify", flow_id));
    }
    SecondMethodView view = EnrolNextView(flow_id, flow);
    view.error = "That code has expired or was tried too often. Start again, or skip.";
    co_return PageResponse(400, ctx.pages.In(Lang(ctx, req)).SecondMethod(view));
  }
  if (path == "/mfa/enrol/done") {
    co_return co_await FinishSignIn(ctx, req, flow_id, flow, signin::Finish::kFirstFactorSet);
  }
  co_return ErrorPage(ctx, req, 404, "Page not found", "There is no page at this address.");
}

}  // namespace idp::gateway
