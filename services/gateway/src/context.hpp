#pragma once
/// @file What every route handler needs: configuration, upstream clients, browser state, pages,
/// and the helpers that keep responses uniform (security headers, errors, cookies).

#include "gateway_metrics.hpp"
#include "pages.hpp"
#include "rate_limiter.hpp"
#include "sessions.hpp"
#include "clients/auth_client.hpp"
#include "clients/mfa_client.hpp"
#include "clients/readiness.hpp"
#include "clients/token_client.hpp"
#include "signin/authentication.hpp"
#include "signin/second_factor_policy.hpp"
#include "signin/sign_in_flow.hpp"

#include "idp/http/message.hpp"
#include "idp/http/proxies.hpp"

#include <boost/asio/awaitable.hpp>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>

namespace boost::json {
class object;
}

namespace idp::gateway {

struct GatewayConfig {
  std::string issuer;          ///< e.g. "http://localhost:8080", no trailing slash
  std::string origin;          ///< OriginOf(issuer): where our pages' forms come from
  bool require_mfa = false;    ///< every person enrols a second factor at first sign-in
  int login_failures_per_address = 30;  ///< failed password posts per address per minute
  int login_failures_per_network = 100;  ///< ... per network (limit_prefixes) per minute
  http::NetworkPrefixes limit_prefixes;  ///< how addresses group into networks for limits
  int token_requests_per_client = 3000;  ///< /token requests per client per minute; 0: none
  int remember_days = 30;      ///< "Remember this browser" life; 0 turns the option off
  bool secure_cookies = true;  ///< Secure + __Host- prefix (https, or an http localhost issuer)
  std::string product = "Identity";
  std::string default_language = "en";  ///< pages for browsers that state no supported one
  std::string hsts = "max-age=31536000";  ///< Strict-Transport-Security over TLS ("" for none)
  std::string logo_url;                  ///< branding: shown beside the product name
  std::string accent_color;              ///< branding: "#rrggbb" for the bar and buttons
  /// The mobile-number form's countries (delivery.sms_countries, by name) and the one
  /// pre-selected (mfa.default_phone_region).
  std::vector<CountryOption> sms_countries;
  std::string default_phone_region;
  /// "Forgot your password?" posts per source address per `password_reset_window`.
  int password_reset_per_address = 5;
  std::chrono::seconds password_reset_window{15 * 60};
  /// How long a "Forgot your password?" link works: auth's own key (auth.reset_ttl), so that
  /// the pages say what auth does.
  std::chrono::seconds password_reset_ttl{30 * 60};
  /// How recent a sign-in must be to add, replace or remove a factor (SECURITY §57), whichever
  /// page or flow it is reached from.
  std::chrono::seconds reauth_window{15 * 60};
};

/// Why `color` cannot be the accent (not "#rrggbb", or white text on it would not meet WCAG
/// 2.1 AA's 4.5:1 contrast), or nullopt when it can; "" (the default accent) is fine.
std::optional<std::string> CheckAccentColor(std::string_view color);

/// Cookie names: "__Host-" when Secure (SECURITY §51), plain otherwise.
struct CookieNames {
  std::string session;
  std::string browser;
  std::string remember;  ///< the remembered-browser token (skips the second step)
  std::string language;  ///< the chosen language of the pages
};

struct Context {
  GatewayConfig config;
  CookieNames cookies;
  AuthClient& auth;
  MfaClient& mfa;
  TokenClient& token;
  Readiness& readiness;
  SessionStore& sessions;
  RateLimiter& limiter;
  Pages pages;
  std::string discovery_json;

  /// JWKS cache: a short TTL keeps key rotation visible within a minute.
  std::mutex jwks_mu;
  std::string jwks_json;
  std::int64_t jwks_fetched_at = 0;

  GatewayMetrics* metrics = nullptr;  ///< null in tests that build a Context without one
};

using Response = http::Response;
using Request = http::Request;

/// The request id, source address and user agent of `req` for an upstream call, so that the
/// services' audit logs know where the browser was (views into `req`).
inline rpc::Caller CallerOf(const Request& req) {
  return rpc::Caller(req.request_id, req.remote_addr, req.Header("user-agent").value_or(""));
}

/// CallerOf(req) naming the client the browser is signing in to (a view of `client_id`).
inline rpc::Caller CallerOf(const Request& req, const std::string& client_id) {
  rpc::Caller caller = CallerOf(req);
  caller.client_id = client_id;
  return caller;
}

/// The language of the pages for this request (i18n.hpp): the language cookie (set from
/// ui_locales at /authorize, or chosen by the person), then Accept-Language, then the default.
std::string Lang(const Context& ctx, const Request& req);
/// Set-Cookie for the language cookie.
std::string LanguageCookie(const Context& ctx, const std::string& lang);

/// Headers every HTML page carries: CSP without unsafe-inline, no framing, no referrer,
/// nosniff, no caching (SECURITY §59-60).
void AddPageHeaders(Response& r);
/// An HTML error page with `status`.
Response ErrorPage(const Context& ctx, const Request& req, int status, const std::string& title,
                   const std::string& message, const std::string& action = "");
/// The page for a failed upstream call: 503 for unavailable, 504 for a deadline, else 500.
Response UpstreamErrorPage(const Context& ctx, const Request& req, const Error& error);
/// A JSON body with Cache-Control: no-store (RFC 6749 §5.1).
Response NoStoreJson(int status, std::string body);
/// RFC 6749 §5.2 error JSON.
Response OAuthErrorJson(int status, const std::string& error, const std::string& description);
/// The origin ("scheme://host[:port]", lower case) of `issuer`, whose hosted pages post to it.
std::string OriginOf(std::string_view issuer);
/// A credential or state-changing POST to a hosted page must come from our own pages, beyond
/// its CSRF token: refused (403) when it carries a foreign `Origin`, or `Sec-Fetch-Site:
/// cross-site`. `Origin: null` (what browsers send from our no-referrer pages) and no Origin
/// (a client that is not a browser) pass; the CSRF token still decides. nullopt: it may go on.
std::optional<Response> RefuseForeignOrigin(const Context& ctx, const Request& req);
/// 303 See Other (RFC 9700 §4.12: never 307 after a credential POST).
Response SeeOther(std::string location);

/// Set-Cookie for the session cookie (`max_age` 0 deletes it).
std::string SessionCookie(const Context& ctx, const std::string& value, std::optional<long> max_age);
/// The browser-binding cookie that ties sign-in flows to the browser that started them.
std::string BrowserCookie(const Context& ctx, const std::string& value);

/// The live session of the request, if any (Redis failures count as no session but are
/// logged, so that a Redis outage shows the login page rather than a 500).
Awaitable<Result<std::optional<Session>>> CurrentSession(Context& ctx, const Request& req);

// Routes, one file each under src/routes/.
Awaitable<Response> HandleDiscovery(Context& ctx, Request& req);
Awaitable<Response> HandleJwks(Context& ctx, Request& req);
Awaitable<Response> HandleAuthorize(Context& ctx, Request& req);
Awaitable<Response> HandleLoginPage(Context& ctx, Request& req);
Awaitable<Response> HandleLoginSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleLogout(Context& ctx, Request& req);
Awaitable<Response> HandlePortal(Context& ctx, Request& req);
Awaitable<Response> HandleToken(Context& ctx, Request& req);
Awaitable<Response> HandleUserinfo(Context& ctx, Request& req);
Awaitable<Response> HandleRevoke(Context& ctx, Request& req);
Awaitable<Response> HandleIntrospect(Context& ctx, Request& req);
Awaitable<Response> HandleEndSession(Context& ctx, Request& req);
Awaitable<Response> HandleMfaPage(Context& ctx, Request& req);
Awaitable<Response> HandleMfaSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleMfaEnrol(Context& ctx, Request& req);
/// POST /mfa/enrol/{email,verify,done}: a second method after the first, during a sign-in.
Awaitable<Response> HandleMfaEnrolNext(Context& ctx, Request& req);
Awaitable<Response> HandleAccountMfa(Context& ctx, Request& req);
Awaitable<Response> HandleAccountMfaAction(Context& ctx, Request& req);
Awaitable<Response> HandleConsentPage(Context& ctx, Request& req);
Awaitable<Response> HandleConsentSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleSelectAccountPage(Context& ctx, Request& req);
Awaitable<Response> HandleSelectAccountSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleForgotPasswordPage(Context& ctx, Request& req);
Awaitable<Response> HandleForgotPasswordSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleResetPasswordPage(Context& ctx, Request& req);
Awaitable<Response> HandleResetPasswordSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleAccountPasswordPage(Context& ctx, Request& req);
Awaitable<Response> HandleAccountPasswordSubmit(Context& ctx, Request& req);
Awaitable<Response> HandleAccountSessions(Context& ctx, Request& req);
Awaitable<Response> HandleHealthz(Context& ctx, Request& req);
Awaitable<Response> HandleReadyz(Context& ctx, Request& req);

/// Issues a code for `authz` and the signed-in `session`, and answers with the redirect to the
/// client (RFC 6749 §4.1.2, with iss per RFC 9207).
Awaitable<Response> CompleteAuthorization(Context& ctx, const Request& req,
                                          const AuthorizeRequest& authz, const Session& session);
/// The questions asked of a signed-in person before an authorization completes.
enum class Question {
  kConsent,        ///< the consent page
  kAccountChoice,  ///< continue as this account, or use another (prompt=select_account)
};
/// Sends a signed-in person to `question` about `authz` before it completes (a new flow).
Awaitable<Response> AskSignedInPerson(Context& ctx, const Request& req,
                                      const AuthorizeRequest& authz, const std::string& subject,
                                      Question question);
/// The standard claims that `scopes` give (OIDC Core §5.4).
std::set<std::string> ClaimsForScopes(const std::set<std::string>& scopes);
/// The account's claims among `names` (OIDC Core §5.1), with sub.
boost::json::object UserClaims(const auth::v1::User& user, const std::set<std::string>& names);
/// Redirects an authorization error to the validated redirect URI (RFC 6749 §4.1.2.1).
Response AuthorizationErrorRedirect(const Context& ctx, const AuthorizeRequest& authz,
                                    const std::string& error, const std::string& description);

/// RFC 6749 §5.2 error JSON for the token-like endpoints; 401 invalid_client carries
/// WWW-Authenticate when the client used HTTP Basic.
Response TokenError(const std::string& error, const std::string& description, bool basic = false);

/// The form of a POST to /token, /revoke or /introspect (RFC 6749 §3.2: form-urlencoded only;
/// RFC 6749 §3.1: no repeated parameters). On failure, the error response.
std::variant<http::Params, Response> ParseTokenForm(const Request& req);

/// Client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2): exactly one method among Basic,
/// client_secret in the body, a private_key_jwt assertion, or a bare client_id (public
/// clients). `basic` tells whether the Authorization header was used.
struct ClientAuthParse {
  token::v1::ClientCredentials credentials;
  bool basic = false;
  std::optional<Response> error;
};
ClientAuthParse ParseClientAuth(const Context& ctx, const Request& req, const http::Params& form,
                                const std::string& endpoint);

/// Ends the SSO session behind `cookie`: revokes its grants at token (which notifies
/// back-channel logout clients) and deletes it. Either failure is returned.
Awaitable<Status> EndSession(Context& ctx, const Request& req, const Session& session,
                             const std::string& cookie);
/// Ends every live session of `subject` (after a password change or reset) as EndSession does,
/// except the one behind `except_cookie` (empty: none is kept). Tries them all; returns the
/// first failure.
/// Ends `subject`'s session named `id` (SessionStore::IdOf); false when the person has no such
/// live session (an id of someone else's session ends nothing).
Awaitable<Result<bool>> EndSessionOf(Context& ctx, const Request& req, const std::string& subject,
                                     const std::string& id);
Awaitable<Status> EndSessionsOf(Context& ctx, const Request& req, const std::string& subject,
                                const std::string& except_cookie);

/// Completes a sign-in that ended as `how` (`factor`: the second factor proved, for
/// kSecondFactor), when the flow's state allows that ending (signin::Finished; otherwise the
/// expired page, and no session): makes the session of that level (signin/authentication.hpp),
/// ends any older session (a new id at every authentication), deletes the flow, and resumes
/// the authorization, the flow's local return page, or the portal.
Awaitable<Response> FinishSignIn(Context& ctx, const Request& req, const std::string& flow_id,
                                 Flow flow, signin::Finish how,
                                 signin::SecondFactor factor = signin::SecondFactor::kTotp);

/// The name of the application a flow signs in to (empty for the portal).
Awaitable<std::string> FlowClientName(Context& ctx, const Request& req, const Flow& flow);
/// The page for a flow that expired or belongs to another browser.
Response FlowExpiredPage(const Context& ctx, const Request& req);

/// A flow of this browser, as a route loaded it.
struct LoadedFlow {
  std::string id;
  Flow flow;
};
/// The one way a route loads a flow: the flow named `id` when it belongs to this browser (its
/// binding cookie) and, for a form (`form` given), the form carries the flow's CSRF token
/// (SECURITY §58); otherwise the page to show instead: a finished flow leads on
/// (GoneFlowPage), an unknown one or another browser's expires, a form not from our page is
/// refused (403), a Redis failure is the 503 page. Whether the flow is at the route's step is
/// the domain's question (signin::Require and the transitions), asked by the caller.
Awaitable<std::variant<LoadedFlow, Response>> LoadFlow(Context& ctx, const Request& req,
                                                      const std::string& id,
                                                      const http::Params* form);
/// For flow `flow_id` that finished in this browser, whose person is still signed in: the
/// redirect on (the application's home, or the portal page), so that a form posted twice or
/// reached with the back button leads on; nullopt otherwise.
Awaitable<std::optional<Response>> FinishedFlowRedirect(Context& ctx, const Request& req,
                                                        const std::string& flow_id);
/// FinishedFlowRedirect, or else FlowExpiredPage.
Awaitable<Response> GoneFlowPage(Context& ctx, const Request& req, const std::string& flow_id);

/// For a flow in PasswordVerified (after POST /login, or a step-up of a live session): sends
/// the person to the second step (signin::PlanSecondFactor), or, when a second factor is
/// required and they have none, to enrol one; a step-up whose password is older than
/// reauth_window signs in again instead. Returns nullopt when no second step is needed (the
/// flow is then still PasswordVerified). Stores the flow's new state.
Awaitable<std::optional<Response>> SecondStep(Context& ctx, const Request& req,
                                              const std::string& flow_id, Flow& flow);
/// The re-authentication windows of ctx.config, for the sign-in's transitions.
signin::Windows WindowsOf(const Context& ctx);
/// The person's factors in the domain's terms, or the upstream failure.
Awaitable<Result<std::vector<signin::Factor>>> FactorsOf(Context& ctx, const Request& req,
                                                        const std::string& subject);
/// The second-factor policy of `flow`'s application and request, with the stack's own.
signin::ClientPolicy PolicyOf(const Context& ctx, const Flow& flow);

/// Starts a pending authenticator-app enrolment for `subject` and returns the page's view
/// (QR code, secret, factor id), or the upstream failure.
Awaitable<Result<TotpSetupView>> StartTotpSetup(Context& ctx, const Request& req,
                                                const std::string& subject,
                                                const std::string& csrf);

/// Starts a sign-in for the portal (returning to `return_to`, a local path) and redirects to it.
Awaitable<Response> StartPortalFlow(Context& ctx, const Request& req, std::string_view return_to);

/// Builds the discovery document (OIDC Discovery §3) for `issuer`.
std::string BuildDiscovery(const std::string& issuer);

/// Routes a request to its handler (method and path), with uniform 404/405 answers, and adds
/// the headers every response carries (HSTS over TLS).
Awaitable<Response> Dispatch(Context& ctx, Request& req);
/// Dispatch, counted and timed in ctx.metrics (an escaping exception counts as a 500).
Awaitable<Response> DispatchObserved(Context& ctx, Request& req);

}  // namespace idp::gateway
