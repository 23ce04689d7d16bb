// GET|POST /authorize: the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).
// Until client_id and redirect_uri are validated, every error is a page, never a redirect
// (RFC 6749 §4.1.2.1, SECURITY §6); after that, errors go back to the client with state and iss.
#include "../context.hpp"
#include "../i18n.hpp"

#include "signin/sign_in_flow.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/oauth/claims_request.hpp"
#include "idp/oauth/oauth.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace idp::gateway {
namespace {

constexpr const char* kSingleValued[] = {
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "response_mode", "prompt", "max_age", "login_hint", "id_token_hint",
    "display", "ui_locales", "acr_values", "claims", "request", "request_uri"};

/// The scopes we grant; others are ignored (RFC 6749 §3.3 lets the server narrow the scope).
const std::set<std::string>& SupportedScopes() {
  static const std::set<std::string> kScopes{"openid", "profile", "email", "phone",
                                             "offline_access"};
  return kScopes;
}

}  // namespace

/// Sends authorization response parameters to the client: in the query (RFC 6749 §4.1.2) or as
/// an auto-submitted form (OAuth 2.0 Form Post Response Mode §2).
Response AuthorizationResponse(const Context& ctx, const AuthorizeRequest& authz,
                               std::vector<std::pair<std::string, std::string>> params) {
  if (!authz.state.empty()) params.emplace_back("state", authz.state);
  params.emplace_back("iss", ctx.config.issuer);  // RFC 9207 §2
  if (authz.response_mode == "form_post") {
    const auto lang = PickLanguage("", authz.ui_locales, "", ctx.config.default_language);
    auto r = Response::Html(200, ctx.pages.In(lang).FormPost(authz.redirect_uri, params));
    AddPageHeaders(r);
    r.SetHeader("Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
                "base-uri 'none'");
    return r;
  }
  return SeeOther(oauth::AppendQuery(authz.redirect_uri, http::EncodeQuery(params)));
}

Response AuthorizationErrorRedirect(const Context& ctx, const AuthorizeRequest& authz,
                                    const std::string& error, const std::string& description) {
  return AuthorizationResponse(
      ctx, authz, {{"error", error}, {"error_description", oauth::SanitizeErrorText(description)}});
}

Awaitable<Response> AskSignedInPerson(Context& ctx, const Request& req,
                                      const AuthorizeRequest& authz, const std::string& subject,
                                      Question question) {
  Flow base;
  auto browser = req.Cookie(ctx.cookies.browser);
  base.browser = browser && browser->size() == 43 ? *browser : crypto::RandomToken(32);
  base.csrf = crypto::RandomToken(32);
  base.authorize = authz;
  const Flow flow = question == Question::kConsent ? signin::AskConsent(std::move(base), subject)
                                                   : signin::AskAccountChoice(std::move(base), subject);
  std::string browser_value = flow.browser;
  auto flow_id = co_await ctx.sessions.CreateFlow(flow);
  if (!flow_id) {
    co_return AuthorizationErrorRedirect(ctx, authz, "temporarily_unavailable", "try again later");
  }
  const char* page = question == Question::kConsent ? "/consent?" : "/select-account?";
  auto r = SeeOther(page + http::EncodeQuery({{"flow", *flow_id}}));
  if (!browser || *browser != browser_value) r.AddHeader("Set-Cookie", BrowserCookie(ctx, browser_value));
  co_return r;
}

namespace {

/// Whether the person must approve this request first (OIDC Core §3.1.2.4): prompt=consent
/// always asks; a client that requires consent asks for scopes not approved before.
Awaitable<Result<bool>> ConsentNeeded(Context& ctx, const Request& req,
                                      const AuthorizeRequest& authz, const Session& session) {
  if (authz.consent_given) co_return false;
  if (authz.prompt_consent) co_return true;
  auto client = co_await ctx.token.GetClient(CallerOf(req), authz.client_id);
  if (!client) co_return client.error();
  if (!client->client().require_consent()) co_return false;
  token::v1::GetConsentRequest ask;
  ask.set_subject(session.subject);
  ask.set_client_id(authz.client_id);
  auto consent = co_await ctx.token.GetConsent(CallerOf(req), ask);
  if (!consent) co_return consent.error();
  auto approved = oauth::ParseScope(consent->scope());
  for (const auto& s : oauth::ParseScope(authz.scope)) {
    if (!approved.count(s)) co_return true;
  }
  co_return false;
}

/// The values of the claims the ID token was asked for (OIDC Core §5.5), from the account.
Awaitable<Result<std::string>> IdTokenClaims(Context& ctx, const Request& req,
                                             const AuthorizeRequest& authz,
                                             const std::string& subject) {
  auto names = oauth::ParseScope(authz.id_token_claims);
  if (names.empty()) co_return std::string();
  auto user = co_await ctx.auth.GetUser(CallerOf(req), subject);
  if (!user) co_return user.error();
  co_return boost::json::serialize(UserClaims(user->user(), names));
}

}  // namespace

Awaitable<Response> CompleteAuthorization(Context& ctx, const Request& req,
                                          const AuthorizeRequest& authz, const Session& session) {
  auto consent = co_await ConsentNeeded(ctx, req, authz, session);
  if (!consent) {
    log::Warn("consent not checked", {{"request_id", req.request_id},
                                      {"error", consent.error().ToString()}});
    co_return AuthorizationErrorRedirect(ctx, authz, "temporarily_unavailable", "try again later");
  }
  if (*consent) {
    // prompt=none cannot show the page (OIDC Core §3.1.2.6).
    if (authz.prompt_none) {
      co_return AuthorizationErrorRedirect(ctx, authz, "consent_required",
                                           "the user has not approved this application");
    }
    co_return co_await AskSignedInPerson(ctx, req, authz, session.subject, Question::kConsent);
  }
  auto id_claims = co_await IdTokenClaims(ctx, req, authz, session.subject);
  if (!id_claims) {
    co_return AuthorizationErrorRedirect(ctx, authz, "temporarily_unavailable", "try again later");
  }
  token::v1::IssueAuthorizationCodeRequest issue;
  issue.set_userinfo_claims(authz.userinfo_claims);
  issue.set_id_token_claims_json(*id_claims);
  issue.set_client_id(authz.client_id);
  issue.set_redirect_uri(authz.redirect_uri);
  issue.set_scope(authz.scope);
  issue.set_nonce(authz.nonce);
  issue.set_code_challenge(authz.code_challenge);
  issue.set_code_challenge_method(authz.code_challenge_method);
  issue.set_subject(session.subject);
  issue.set_auth_time(session.auth_time);
  for (const auto& a : session.amr) issue.add_amr(a);
  issue.set_acr(session.acr);
  issue.set_sid(session.sid);
  auto code = co_await ctx.token.IssueCode(CallerOf(req), std::move(issue));
  if (!code) {
    log::Warn("code not issued", {{"request_id", req.request_id},
                                  {"error", code.error().ToString()}});
    bool transient = code.error().code == ErrorCode::kUnavailable ||
                     code.error().code == ErrorCode::kDeadlineExceeded;
    co_return AuthorizationErrorRedirect(ctx, authz,
                                         transient ? "temporarily_unavailable" : "server_error",
                                         "the authorization server could not issue a code");
  }
  co_return AuthorizationResponse(ctx, authz, {{"code", code->code()}});
}

namespace {

Awaitable<Response> Authorize(Context& ctx, Request& req) {
  std::string_view raw = req.query;
  if (req.method == "POST") {
    auto type = req.Header("content-type").value_or("");
    if (type.substr(0, 33) != "application/x-www-form-urlencoded") {
      co_return ErrorPage(ctx, req, 400, "Invalid request",
                          "The application sent a sign-in request this server cannot read.");
    }
    raw = req.body;
  }
  auto parsed = http::Params::Parse(raw);
  if (!parsed) {
    co_return ErrorPage(ctx, req, 400, "Invalid request",
                        "The application sent a malformed sign-in request.",
                        "Go back to the application and try again.");
  }
  const auto& p = *parsed;

  // 1. The client and its redirect URI: errors here are pages.
  if (p.Count("client_id") != 1 || p.Count("redirect_uri") > 1) {
    co_return ErrorPage(ctx, req, 400, "Invalid request",
                        "The sign-in request does not name exactly one application.");
  }
  auto client_id = *p.Get("client_id");
  auto client = co_await ctx.token.GetClient(CallerOf(req), client_id);
  if (!client) {
    if (client.error().code == ErrorCode::kNotFound) {
      co_return ErrorPage(ctx, req, 400, "Unknown application",
                          "The application that sent you here is not registered.",
                          "Contact the application's support.");
    }
    co_return UpstreamErrorPage(ctx, req, client.error());
  }
  const auto& c = client->client();
  std::vector<std::string> registered(c.redirect_uris().begin(), c.redirect_uris().end());
  AuthorizeRequest authz;
  authz.client_id = client_id;
  auto redirect_uri = p.Get("redirect_uri");
  if (!redirect_uri) {
    // OIDC Core §3.1.2.1 makes redirect_uri REQUIRED; never guess one.
    co_return ErrorPage(ctx, req, 400, "Invalid request",
                        "The sign-in request has no redirect URI.",
                        "Contact the application's support.");
  }
  if (!oauth::RedirectUriRegistered(*redirect_uri, registered)) {
    co_return ErrorPage(ctx, req, 400, "Invalid redirect URI",
                        "The application asked to return to an address it has not registered.",
                        "Contact the application's support.");
  }
  authz.redirect_uri = *redirect_uri;
  authz.state = p.Get("state").value_or("");

  // 2. From here on, errors go back to the client.
  auto fail = [&](const char* error, const std::string& description) {
    return AuthorizationErrorRedirect(ctx, authz, error, description);
  };
  for (const char* name : kSingleValued) {
    if (p.Count(name) > 1) co_return fail("invalid_request", std::string(name) + " is repeated");
  }
  if (p.Get("request")) co_return fail("request_not_supported", "request objects are not supported");
  if (p.Get("request_uri")) {
    co_return fail("request_uri_not_supported", "request_uri is not supported");
  }
  auto response_type = p.Get("response_type");
  if (!response_type) co_return fail("invalid_request", "response_type is required");
  if (*response_type != "code") {
    co_return fail("unsupported_response_type", "only response_type=code is supported");
  }
  // Set before any further error, so that errors use the asked-for mode (when it is valid).
  auto response_mode = p.Get("response_mode").value_or("query");
  if (response_mode != "query" && response_mode != "form_post") {
    co_return fail("invalid_request", "response_mode must be query or form_post");
  }
  authz.response_mode = response_mode;
  auto scopes = oauth::ParseScope(p.Get("scope").value_or(""));
  if (!scopes.count("openid")) co_return fail("invalid_scope", "the openid scope is required");
  std::set<std::string> granted;
  for (const auto& s : scopes) {
    if (SupportedScopes().count(s)) granted.insert(s);
  }
  authz.scope = oauth::JoinScope(granted);
  authz.nonce = p.Get("nonce").value_or("");
  if (authz.nonce.size() > 512 || authz.state.size() > 2048) {
    co_return fail("invalid_request", "state or nonce is too long");
  }

  // PKCE (RFC 7636 §4.3, §4.4.1): S256 only; required from public clients.
  authz.code_challenge = p.Get("code_challenge").value_or("");
  auto method = p.Get("code_challenge_method");
  if (!authz.code_challenge.empty()) {
    authz.code_challenge_method = method.value_or("plain");
    if (authz.code_challenge_method != "S256") {
      co_return fail("invalid_request", "code_challenge_method must be S256");
    }
    if (!oauth::IsValidS256Challenge(authz.code_challenge)) {
      co_return fail("invalid_request", "code_challenge is malformed");
    }
  } else if (method) {
    co_return fail("invalid_request", "code_challenge_method without code_challenge");
  } else if (c.type() == token::v1::CLIENT_TYPE_PUBLIC) {
    co_return fail("invalid_request", "PKCE (code_challenge with S256) is required");
  }

  // prompt (OIDC Core §3.1.2.1): none must stand alone; unknown values are errors.
  bool prompt_none = false;
  for (const auto& v : oauth::ParseScope(p.Get("prompt").value_or(""))) {
    if (v == "none") {
      prompt_none = true;
    } else if (v == "login") {
      authz.prompt_login = true;
    } else if (v == "consent") {
      authz.prompt_consent = true;
    } else if (v == "select_account") {
      authz.select_account = true;
    } else {
      co_return fail("invalid_request", "unsupported prompt value");
    }
  }
  authz.prompt_none = prompt_none;
  if (prompt_none && oauth::ParseScope(p.Get("prompt").value_or("")).size() > 1) {
    co_return fail("invalid_request", "prompt=none cannot be combined with other values");
  }
  if (auto max_age = p.Get("max_age")) {
    std::int64_t v = -1;
    auto [ptr, ec] = std::from_chars(max_age->data(), max_age->data() + max_age->size(), v);
    if (ec != std::errc() || ptr != max_age->data() + max_age->size() || v < 0) {
      co_return fail("invalid_request", "max_age must be a non-negative integer");
    }
    authz.max_age = v;
  }
  // A second factor is required by the client's policy, or asked for with acr_values
  // (OIDC Core §3.1.2.1; our values: aal1, aal2).
  const signin::ClientPolicy client_policy =
      signin::ClientPolicyFromSetting(c.mfa_policy()).value_or(signin::ClientPolicy{});
  authz.require_mfa = client_policy.require_mfa;
  authz.prefer_mfa = oauth::ParseScope(p.Get("acr_values").value_or("")).count("aal2") > 0;
  authz.totp_only = client_policy.totp_only;
  authz.login_hint = p.Get("login_hint").value_or("");
  if (authz.login_hint.size() > 256) authz.login_hint.clear();
  // claims (OIDC Core §5.5): standard claims by name, for userinfo and the ID token; acr
  // asked for there works as acr_values does, and as a requirement when essential.
  if (auto claims = p.Get("claims")) {
    auto request = oauth::ParseClaimsRequest(*claims);
    if (!request) co_return fail("invalid_request", request.error().message);
    authz.userinfo_claims = oauth::JoinScope(request->userinfo);
    authz.id_token_claims = oauth::JoinScope(request->id_token);
    if (request->acr_values.count("aal2")) {
      authz.prefer_mfa = true;
      if (request->acr_essential) authz.require_mfa = true;
    }
  }
  // ui_locales (OIDC Core §3.1.2.1): the languages our pages should use, in order.
  authz.ui_locales = p.Get("ui_locales").value_or("");
  if (authz.ui_locales.size() > 128) authz.ui_locales.clear();

  // id_token_hint (OIDC Core §3.1.2.1): must be ours; names who should be signed in.
  std::string hint_subject;
  if (auto hint = p.Get("id_token_hint")) {
    auto verified = co_await ctx.token.VerifyIdTokenHint(CallerOf(req), *hint);
    if (!verified) co_return fail("temporarily_unavailable", "try again later");
    if (!verified->valid()) co_return fail("invalid_request", "id_token_hint is not valid");
    hint_subject = verified->subject();
  }

  // 3. An SSO session that satisfies the request gets a code at once.
  auto session = co_await CurrentSession(ctx, req);
  if (!session) {
    log::Warn("session store unavailable", {{"request_id", req.request_id}});
    // A person who may be signed in is not sent to the login page because Redis blinked.
    if (prompt_none || req.Cookie(ctx.cookies.session)) {
      co_return fail("temporarily_unavailable", "try again later");
    }
  }
  bool fresh_enough = true;
  if (session && *session && authz.max_age) {
    fresh_enough = NowUnix() - (*session)->auth_time <= *authz.max_age;
  }
  if (session && *session && !hint_subject.empty() && hint_subject != (*session)->subject) {
    // Another person is signed in than the one the client expects: never switch silently.
    if (prompt_none) co_return fail("login_required", "a different user is signed in");
    fresh_enough = false;
  }
  bool signed_in = session && *session && !authz.prompt_login && fresh_enough;
  bool strong = signed_in && (*session)->acr == "aal2";
  // Without MFA in the session: a required second factor needs interaction; a preferred one
  // (acr_values) does not hold up a silent sign-in.
  if (signed_in && (strong || (!authz.require_mfa && (!authz.prefer_mfa || prompt_none)))) {
    // prompt=select_account: the person confirms the account, or signs in with another.
    if (authz.select_account && !prompt_none) {
      co_return co_await AskSignedInPerson(ctx, req, authz, (*session)->subject,
                                           Question::kAccountChoice);
    }
    co_return co_await CompleteAuthorization(ctx, req, authz, **session);
  }
  if (prompt_none) {
    co_return fail(signed_in ? "interaction_required" : "login_required", "the user must sign in");
  }

  // 4. Otherwise sign in first; the flow remembers this request.
  Flow flow;
  auto browser = req.Cookie(ctx.cookies.browser);
  flow.browser = browser && browser->size() == 43 ? *browser : crypto::RandomToken(32);
  flow.csrf = crypto::RandomToken(32);
  flow.authorize = authz;
  std::string browser_value = flow.browser;
  auto flow_id = co_await ctx.sessions.CreateFlow(flow);
  if (!flow_id) co_return fail("temporarily_unavailable", "try again later");
  if (signed_in) {
    // Step-up: the signed-in person adds a second factor; the session is upgraded (its sid
    // kept, FinishSignIn) rather than a sign-in from scratch.
    if (auto up = signin::StepUp(flow, (*session)->subject, (*session)->auth_time, (*session)->sid);
        !up) {
      co_return fail("server_error", "the session cannot be upgraded");
    }
    auto step = co_await SecondStep(ctx, req, *flow_id, flow);
    if (!step) {
      // Only preferred, and the person has no factor: the session as it is (acr tells).
      Status dropped = co_await ctx.sessions.DeleteFlow(*flow_id);
      (void)dropped;
      co_return co_await CompleteAuthorization(ctx, req, authz, **session);
    }
    if (!browser || *browser != browser_value) {
      step->AddHeader("Set-Cookie", BrowserCookie(ctx, browser_value));
    }
    co_return std::move(*step);
  }
  auto r = SeeOther("/login?" + http::EncodeQuery({{"flow", *flow_id}}));
  if (!browser || *browser != browser_value) r.AddHeader("Set-Cookie", BrowserCookie(ctx, browser_value));
  co_return r;
}

}  // namespace

Awaitable<Response> HandleAuthorize(Context& ctx, Request& req) {
  Response r = co_await Authorize(ctx, req);
  // ui_locales (OIDC Core §3.1.2.1) chooses the language of the pages that follow; a cookie
  // carries it to them.
  auto params = http::Params::Parse(req.method == "POST" ? std::string_view(req.body)
                                                         : std::string_view(req.query));
  if (params && params->Count("ui_locales") == 1) {
    auto lang = PickLanguage("", *params->Get("ui_locales"), "", "");
    if (!lang.empty() && lang != req.Cookie(ctx.cookies.language).value_or("")) {
      r.AddHeader("Set-Cookie", LanguageCookie(ctx, lang));
    }
  }
  co_return r;
}

}  // namespace idp::gateway
