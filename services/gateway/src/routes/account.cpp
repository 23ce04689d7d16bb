// GET /account/mfa and its POST actions: the person manages their second factors. Changes need a
// recent sign-in, and one that passed MFA when the person already has a factor (SECURITY §57).
#include "../context.hpp"
#include "../refusals.hpp"
#include "../i18n.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/phone/phone.hpp"

#include <algorithm>

#include <ctime>

namespace idp::gateway {
namespace {

Response Page(std::string html) {
  auto r = Response::Html(200, std::move(html));
  AddPageHeaders(r);
  return r;
}

/// The management page with the person's factors.
/// The account's MFA page from `base` (a message, an error, or a field's refused value).
Awaitable<Response> OverviewWith(Context& ctx, const Request& req, const Session& session,
                                 const AccountMfaView& base) {
  auto factors = co_await ctx.mfa.ListFactors(CallerOf(req), session.subject);
  if (!factors) co_return UpstreamErrorPage(ctx, req, factors.error());
  AccountMfaView view = base;
  view.csrf = session.csrf;
  int methods = 0;
  for (const auto& f : factors->factors()) {
    if (f.type() == mfa::v1::FACTOR_TYPE_TOTP && f.active()) {
      view.totps.push_back({f.id(), f.label()});
      ++methods;
    } else if (f.type() == mfa::v1::FACTOR_TYPE_EMAIL && f.active()) {
      view.emails.push_back({f.id(), f.label()});
      ++methods;
    } else if (f.type() == mfa::v1::FACTOR_TYPE_SMS && f.active()) {
      view.phones.push_back({f.id(), f.label()});
      ++methods;
    } else if (f.type() == mfa::v1::FACTOR_TYPE_RECOVERY_CODES) {
      view.recovery_left = std::atoi(f.label().c_str());
    } else if (f.active()) {
      ++methods;
    }
  }
  view.advice = methods < 2;
  // The country names in the page's language, in its order.
  const std::string lang = Lang(ctx, req);
  view.countries = ctx.config.sms_countries;
  if (lang != "en") {
    for (auto& c : view.countries) c.name = phone::CountryName(c.code, lang);
    std::sort(view.countries.begin(), view.countries.end(),
              [](const CountryOption& a, const CountryOption& b) { return a.name < b.name; });
  }
  if (view.default_region.empty()) view.default_region = ctx.config.default_phone_region;
  auto browsers = co_await ctx.mfa.ListBrowsers(CallerOf(req), session.subject);
  if (browsers) {
    for (const auto& b : browsers->browsers()) {
      auto until = static_cast<std::time_t>(b.expires_at());
      std::tm tm{};
      gmtime_r(&until, &tm);
      char date[16];
      std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
      view.browsers.push_back({b.id(), b.label() + " (until " + date + ")"});
    }
  }
  co_return Page(ctx.pages.In(Lang(ctx, req)).AccountMfa(view));
}

Awaitable<Response> Overview(Context& ctx, const Request& req, const Session& session,
                             std::string_view message, std::string_view error) {
  AccountMfaView base;
  base.message = std::string(message);
  base.error = std::string(error);
  co_return co_await OverviewWith(ctx, req, session, base);
}

/// After a method was proved on this page: when it is the person's first, the recovery codes
/// (unless some are left) and the offer of a second, different method, the authenticator app
/// and email preferred; nullopt otherwise. `first` is "totp", "email" or "sms".
Awaitable<Result<std::optional<std::string>>> FirstMethodPage(Context& ctx, const Request& req,
                                                              const Session& session,
                                                              std::string_view first) {
  using Out = Result<std::optional<std::string>>;
  auto factors = co_await ctx.mfa.ListFactors(CallerOf(req), session.subject);
  if (!factors) co_return Out(factors.error());
  int methods = 0;
  bool recovery_left = false;
  for (const auto& f : factors->factors()) {
    if (f.type() == mfa::v1::FACTOR_TYPE_RECOVERY_CODES) {
      recovery_left = true;
    } else if (f.active()) {
      ++methods;
    }
  }
  if (methods != 1) co_return Out(std::optional<std::string>());
  SecondMethodView view;
  // The status line says what was set up; the heading says what the page is for.
  view.title = "Make sure you can always get in";
  view.message = first == "totp"    ? "Your authenticator app is set up."
                 : first == "email" ? "Your email address is set up."
                                    : "Your mobile number is set up.";
  view.csrf = session.csrf;
  if (!recovery_left) {
    auto codes = co_await ctx.mfa.GenerateRecoveryCodes(CallerOf(req), session.subject);
    if (!codes) co_return Out(codes.error());
    view.codes.assign(codes->codes().begin(), codes->codes().end());
  }
  view.offer_totp = first != "totp";
  view.totp_action = "/account/mfa/totp";
  view.offer_email = first != "email";
  view.email_action = "/account/mfa/email";
  view.skip_action = "/account/mfa";
  co_return Out(std::optional<std::string>(ctx.pages.In(Lang(ctx, req)).SecondMethod(view)));
}

/// The session, upgraded to MFA under a new id (as at every privilege change) because the
/// person just proved `factor`; returns the Set-Cookie value.
Awaitable<Result<std::string>> Upgrade(Context& ctx, const Request& req, Session& session,
                                       signin::SecondFactor factor) {
  session = signin::Upgraded(session, NowUnix(), factor);
  auto cookie =
      co_await ctx.sessions.Rotate(req.Cookie(ctx.cookies.session).value_or(""), session);
  if (!cookie) co_return Result<std::string>(cookie.error());
  co_return Result<std::string>(SessionCookie(ctx, *cookie, std::nullopt));
}

}  // namespace

Awaitable<Result<TotpSetupView>> StartTotpSetup(Context& ctx, const Request& req,
                                                const std::string& subject,
                                                const std::string& csrf) {
  auto user = co_await ctx.auth.GetUser(CallerOf(req), subject);
  mfa::v1::StartTotpEnrolmentRequest start;
  start.set_subject(subject);
  start.set_account_name(user ? user->user().username() : "");
  auto e = co_await ctx.mfa.StartTotpEnrolment(CallerOf(req), start);
  if (!e) co_return Result<TotpSetupView>(e.error());
  TotpSetupView view;
  view.csrf = csrf;
  view.factor_id = e->factor_id();
  view.secret = e->secret_base32();
  view.qr_svg = e->qr_svg();
  co_return Result<TotpSetupView>(std::move(view));
}

Awaitable<Response> HandleAccountMfa(Context& ctx, Request& req) {
  auto session = co_await CurrentSession(ctx, req);
  if (!session) co_return UpstreamErrorPage(ctx, req, session.error());
  if (!*session) co_return co_await StartPortalFlow(ctx, req, "/account/mfa");
  co_return co_await Overview(ctx, req, **session, "", "");
}

Awaitable<Response> HandleAccountMfaAction(Context& ctx, Request& req) {
  auto session_result = co_await CurrentSession(ctx, req);
  if (!session_result) co_return UpstreamErrorPage(ctx, req, session_result.error());
  if (!*session_result) co_return co_await StartPortalFlow(ctx, req, "/account/mfa");
  const Session session = **session_result;
  auto form = http::Params::Parse(req.body);
  if (!form || !crypto::ConstantTimeEqual(form->Get("csrf").value_or(""), session.csrf)) {
    co_return ErrorPage(ctx, req, 403, "Request refused",
                        "This form was not sent by the page we showed you.",
                        "Reload the page and try again.");
  }
  // Changing factors needs a recent sign-in, through MFA when the person has a factor.
  auto factors = co_await ctx.mfa.ListFactors(CallerOf(req), session.subject);
  if (!factors) co_return UpstreamErrorPage(ctx, req, factors.error());
  bool has_factor = false;
  for (const auto& f : factors->factors()) has_factor = has_factor || f.active();
  if (!signin::MayChangeFactors(session, has_factor, NowUnix(), ctx.config.reauth_window.count())) {
    co_return co_await StartPortalFlow(ctx, req, "/account/mfa");
  }

  const std::string& path = req.path;
  if (path == "/account/mfa/totp") {
    auto view = co_await StartTotpSetup(ctx, req, session.subject, session.csrf);
    if (!view) co_return UpstreamErrorPage(ctx, req, view.error());
    co_return Page(ctx.pages.In(Lang(ctx, req)).TotpSetup(*view));
  }
  // A form posted again (a double submit, the back button) whose factor is already active:
  // said so, and nothing is done twice.
  const std::string posted_factor = form->Get("factor_id").value_or("");
  bool posted_active = false;
  for (const auto& f : factors->factors()) {
    posted_active = posted_active || (f.active() && !posted_factor.empty() && f.id() == posted_factor);
  }
  if (path == "/account/mfa/totp/confirm" && posted_active) {
    co_return co_await Overview(ctx, req, session, "Your authenticator app is set up.", "");
  }
  if (path == "/account/mfa/verify" && posted_active) {
    co_return co_await Overview(ctx, req, session, "This method is already set up.", "");
  }
  if (path == "/account/mfa/totp/confirm") {
    mfa::v1::ConfirmTotpEnrolmentRequest confirm;
    confirm.set_subject(session.subject);
    confirm.set_factor_id(form->Get("factor_id").value_or(""));
    confirm.set_code(form->Get("code").value_or(""));
    auto c = co_await ctx.mfa.ConfirmTotpEnrolment(CallerOf(req), confirm);
    if (!c) {
      if (c.error().code == ErrorCode::kNotFound) {
        co_return co_await Overview(ctx, req, session, "", "That setup has expired; start again.");
      }
      co_return UpstreamErrorPage(ctx, req, c.error());
    }
    if (c->outcome() != mfa::v1::ConfirmTotpEnrolmentResponse::OUTCOME_CONFIRMED) {
      // Show the same secret again: it is still pending.
      co_return co_await Overview(
          ctx, req, session, "",
          c->outcome() == mfa::v1::ConfirmTotpEnrolmentResponse::OUTCOME_MALFORMED_CODE
              ? "Enter the 6 digits your authenticator app shows, then try again."
              : "That code is not right. Set up the app again and enter the code it shows.");
    }
    log::Info("authenticator app added", {{"request_id", req.request_id}});
    // The person just proved the factor: the session is upgraded to MFA, so that recovery
    // codes and a second method can follow at once.
    Session upgraded = session;
    auto cookie = co_await Upgrade(ctx, req, upgraded, signin::SecondFactor::kTotp);
    if (!cookie) co_return UpstreamErrorPage(ctx, req, cookie.error());
    const std::string first = "totp";
    auto next = co_await FirstMethodPage(ctx, req, upgraded, first);
    if (!next) co_return UpstreamErrorPage(ctx, req, next.error());
    // No co_await inside a conditional expression (GCC 12 destroys its temporaries twice).
    Response r;
    if (*next) {
      r = Page(std::move(**next));
    } else {
      r = co_await Overview(ctx, req, upgraded, "Your authenticator app is set up.", "");
    }
    r.AddHeader("Set-Cookie", *cookie);
    co_return r;
  }
  if (path == "/account/mfa/email" || path == "/account/mfa/sms") {
    // A new address or number counts only once a code sent to it comes back (SECURITY §44).
    mfa::v1::StartDeliveryEnrolmentRequest start;
    start.set_subject(session.subject);
    start.set_type(path == "/account/mfa/email" ? mfa::v1::FACTOR_TYPE_EMAIL
                                                : mfa::v1::FACTOR_TYPE_SMS);
    start.set_destination(form->Get("destination").value_or(""));
    start.set_region(form->Get("country").value_or(""));
    auto e = co_await ctx.mfa.StartDeliveryEnrolment(CallerOf(req), start);
    if (!e) co_return UpstreamErrorPage(ctx, req, e.error());
    if (e->refusal().reason() != mfa::v1::Refusal::REASON_UNSPECIFIED) {
      // The reason beside its field, with what was typed kept (and the country chosen).
      const std::string why = RefusalText(Lang(ctx, req), e->refusal());
      AccountMfaView field;
      const std::string typed = std::string(start.destination().substr(0, 256));
      if (start.type() == mfa::v1::FACTOR_TYPE_EMAIL) {
        field.email_value = typed;
        field.email_error = why;
      } else {
        field.phone_value = typed;
        field.phone_error = why;
        field.default_region = start.region();
      }
      co_return co_await OverviewWith(ctx, req, session, field);
    }
    co_return Page(ctx.pages.In(Lang(ctx, req)).VerifyDestination(session.csrf, e->factor_id(), e->label(), ""));
  }
  if (path == "/account/mfa/verify") {
    mfa::v1::ConfirmDeliveryEnrolmentRequest confirm;
    confirm.set_subject(session.subject);
    confirm.set_factor_id(form->Get("factor_id").value_or(""));
    confirm.set_code(form->Get("code").value_or(""));
    auto c = co_await ctx.mfa.ConfirmDeliveryEnrolment(CallerOf(req), confirm);
    if (!c && c.error().code != ErrorCode::kNotFound) co_return UpstreamErrorPage(ctx, req, c.error());
    using R = mfa::v1::VerifyCodeResponse;
    if (c && c->outcome() == R::OUTCOME_VERIFIED) {
      std::string type = "email";
      for (const auto& f : factors->factors()) {
        if (f.id() == confirm.factor_id() && f.type() == mfa::v1::FACTOR_TYPE_SMS) type = "sms";
      }
      // A first method proved here upgrades the session, as the app's does above.
      Session current = session;
      std::string cookie;
      if (!signin::PassedSecondFactor(session)) {
        auto upgraded = co_await Upgrade(ctx, req, current, signin::SecondFactorFromAmr(type));
        if (!upgraded) co_return UpstreamErrorPage(ctx, req, upgraded.error());
        cookie = std::move(*upgraded);
      }
      auto next = co_await FirstMethodPage(ctx, req, current, type);
      if (!next) co_return UpstreamErrorPage(ctx, req, next.error());
      Response r;
      if (*next) {
        r = Page(std::move(**next));
      } else {
        r = co_await Overview(ctx, req, current, "The new method is set up.", "");
      }
      if (!cookie.empty()) r.AddHeader("Set-Cookie", cookie);
      co_return r;
    }
    if (c && (c->outcome() == R::OUTCOME_WRONG_CODE || c->outcome() == R::OUTCOME_MALFORMED_CODE)) {
      std::string error = c->outcome() == R::OUTCOME_MALFORMED_CODE
                              ? "Enter the 6 digits of the code we sent."
                              : Translate(Lang(ctx, req),
                                          c->tries_left() == 1 ? "That code is not right. {0} try left."
                                                               : "That code is not right. {0} tries left.",
                                          {std::to_string(c->tries_left())});
      const std::string factor_id = form->Get("factor_id").value_or("");
      const std::string label = form->Get("label").value_or("");
      auto r = Page(ctx.pages.In(Lang(ctx, req)).VerifyDestination(session.csrf, factor_id, label, error));
      r.status = 401;
      co_return r;
    }
    co_return co_await Overview(ctx, req, session, "",
                                "That code has expired or was tried too often. Start again.");
  }
  if (path == "/account/mfa/forget") {
    mfa::v1::ForgetBrowsersRequest forget;
    forget.set_subject(session.subject);
    forget.set_id(form->Get("browser_id").value_or(""));
    auto f = co_await ctx.mfa.ForgetBrowsers(CallerOf(req), forget);
    if (!f) co_return UpstreamErrorPage(ctx, req, f.error());
    auto r = co_await Overview(ctx, req, session,
                               forget.id().empty() ? "Every browser will ask for the second step again."
                                                   : "That browser will ask for the second step again.",
                               "");
    if (forget.id().empty()) {
      http::CookieOptions o;
      o.secure = ctx.config.secure_cookies;
      o.max_age = 0;
      r.AddHeader("Set-Cookie", http::SetCookieValue(ctx.cookies.remember, "", o));
    }
    co_return r;
  }
  if (path == "/account/mfa/remove") {
    mfa::v1::RemoveFactorRequest remove;
    remove.set_subject(session.subject);
    remove.set_factor_id(form->Get("factor_id").value_or(""));
    auto r = co_await ctx.mfa.RemoveFactor(CallerOf(req), remove);
    if (r && r->refusal().reason() != mfa::v1::Refusal::REASON_UNSPECIFIED) {
      // mfa.keep_two_methods: nothing was removed; the page says why and what to do.
      co_return co_await Overview(ctx, req, session, "", RefusalText(Lang(ctx, req), r->refusal()));
    }
    if (!r && r.error().code != ErrorCode::kNotFound) co_return UpstreamErrorPage(ctx, req, r.error());
    // Gone either way (a second click finds it removed): said as news, not as an error.
    co_return co_await Overview(ctx, req, session,
                                r ? "The method was removed." : "That method was already removed.", "");
  }
  if (path == "/account/mfa/recovery") {
    if (!has_factor) {
      co_return co_await Overview(ctx, req, session, "",
                                  "Set up an authenticator app first; recovery codes back it up.");
    }
    auto codes = co_await ctx.mfa.GenerateRecoveryCodes(CallerOf(req), session.subject);
    if (!codes) co_return UpstreamErrorPage(ctx, req, codes.error());
    std::vector<std::string> list(codes->codes().begin(), codes->codes().end());
    co_return Page(ctx.pages.In(Lang(ctx, req)).RecoveryCodes(list));
  }
  co_return ErrorPage(ctx, req, 404, "Page not found", "There is no page at this address.");
}

}  // namespace idp::gateway
