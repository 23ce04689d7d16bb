#pragma once
/// @file Browser state in Redis (keys "gw:"): SSO sessions and pending sign-in flows. Records
/// are keyed by the SHA-256 of the cookie value, so a Redis dump holds no usable cookie.

#include "idp/common/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class thread_pool;
}
namespace idp {
class Config;
}
namespace idp::store {
class RedisClient;
}

namespace idp::gateway {

/// Seconds since the epoch (wall clock).
std::int64_t NowUnix();

/// An authenticated SSO session (SECURITY §49-55).
struct Session {
  std::string subject;
  std::int64_t auth_time = 0;      ///< last real authentication (OIDC auth_time)
  std::vector<std::string> amr;
  std::string acr;
  std::string sid;                 ///< public session id told to RPs (OIDC sid)
  std::string csrf;                ///< anti-CSRF token of forms shown to this session
  std::int64_t created_at = 0;     ///< for the absolute lifetime
  std::string user_agent;          ///< of the browser that signed in (shown to its owner)
  std::string address;             ///< the source address it signed in from
};

/// The authorization request a sign-in will resume (OIDC Core §3.1.2.1), already validated.
struct AuthorizeRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string state;
  std::string nonce;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string response_mode;
  std::string login_hint;
  std::string ui_locales;       ///< the client's preferred languages for our pages
  bool prompt_none = false;
  bool prompt_login = false;
  bool prompt_consent = false;  ///< ask for consent even when it was given before
  bool select_account = false;  ///< let the person choose the account (prompt=select_account)
  /// Claims asked for with the claims parameter (OIDC Core §5.5), space-separated names.
  std::string userinfo_claims;
  std::string id_token_claims;
  /// Set (never stored) once the person approved this request on the consent page.
  bool consent_given = false;
  /// The client's MFA policy requires a second factor (acr aal2).
  bool require_mfa = false;
  /// acr_values asked for aal2: a second factor when the person has one (voluntary, OIDC Core
  /// §5.5.1.1), never an error when they have none.
  bool prefer_mfa = false;
  /// The client counts only the authenticator app (no email or SMS codes).
  bool totp_only = false;
  std::optional<std::int64_t> max_age;
};

/// A sign-in in progress: bound to the browser and protected by its own CSRF token.
struct Flow {
  std::string browser;                      ///< value of the browser cookie that started it
  std::string csrf;
  std::optional<AuthorizeRequest> authorize;  ///< empty when the portal itself was opened
  std::string return_to;                    ///< a local page to go back to (portal flows)
  std::int64_t created_at = 0;
  // After the password (the partial, pre-MFA state: it never counts as signed in).
  std::string subject;
  std::int64_t password_at = 0;
  std::string challenge_id;                 ///< the mfa service's challenge for this sign-in
  std::string enrol_factor_id;              ///< a factor being enrolled during sign-in
  std::string step_up_sid;                  ///< upgrading this live session (its sid is kept)
  /// A question for a person already signed in as `subject`: "consent" or "select_account".
  std::string pending;
  /// When a first factor was enrolled and proved during this sign-in (then a second one is
  /// offered before going on); 0: not yet.
  std::int64_t enrolled_at = 0;
};

/// What is kept of a sign-in after it finished, for as long as the flow could have lived: a
/// replay of its forms (a double submit, the back button) is sent on instead of failing.
struct FinishedFlow {
  std::string browser;    ///< the browser cookie that started it
  std::string subject;    ///< who signed in
  std::string client_id;  ///< the application it signed in to ("" : the portal)
  std::string return_to;  ///< the portal flow's local return page
};

struct SessionPolicy {
  std::chrono::seconds idle{3600};
  std::chrono::seconds absolute{24 * 3600};
  std::chrono::seconds flow{600};

  /// gateway.session_idle and gateway.session_absolute, as the gateway and idpctl read them.
  static SessionPolicy FromConfig(const Config& config);
};

/// The Redis that holds the sessions: gateway.redis_url, else redis.url.
std::string SessionRedisUrl(const Config& config);

/// Thread-safe; Redis calls run on `pool`. Parameters are references (GCC PR 99576, see
/// libs/rpc/async_call.hpp). Redis failures surface as kUnavailable.
class SessionStore {
 public:
  SessionStore(store::RedisClient& redis, boost::asio::thread_pool& pool, SessionPolicy policy);

  /// Stores `session` under a new random cookie value (256 bits), returned.
  boost::asio::awaitable<Result<std::string>> CreateSession(const Session& session);
  /// The live session for `cookie`, refreshing its idle timer; nullopt when absent, idle too
  /// long or past its absolute lifetime.
  boost::asio::awaitable<Result<std::optional<Session>>> GetSession(const std::string& cookie);
  boost::asio::awaitable<Status> DeleteSession(const std::string& cookie);

  /// A live session found through its person's index: `id` names it without its cookie.
  struct Indexed {
    std::string id;
    Session session;
  };
  /// The live sessions of `subject` (its index, a Redis set per subject hash, is pruned of
  /// sessions that ended or expired on the way).
  boost::asio::awaitable<Result<std::vector<Indexed>>> SessionsOf(const std::string& subject);
  /// Deletes the session named `id` (from SessionsOf) and its index entry.
  boost::asio::awaitable<Status> DeleteSessionById(const std::string& id);
  /// The id SessionsOf gives to the session behind `cookie`.
  static std::string IdOf(const std::string& cookie);

  /// Stores `flow` under a new random id, returned.
  boost::asio::awaitable<Result<std::string>> CreateFlow(const Flow& flow);
  boost::asio::awaitable<Result<std::optional<Flow>>> GetFlow(const std::string& id);
  boost::asio::awaitable<Status> DeleteFlow(const std::string& id);
  /// Remembers that flow `id` finished (see FinishedFlow); the flow itself is deleted apart.
  boost::asio::awaitable<Status> MarkFlowFinished(const std::string& id, const FinishedFlow& done);
  boost::asio::awaitable<Result<std::optional<FinishedFlow>>> GetFinishedFlow(const std::string& id);
  /// Rewrites a flow, keeping its remaining lifetime (the pre-MFA step never outlives it).
  boost::asio::awaitable<Status> UpdateFlow(const std::string& id, const Flow& flow);

  /// True when Redis answers PING.
  boost::asio::awaitable<bool> Ping();

  const SessionPolicy& policy() const { return policy_; }

 private:
  store::RedisClient& redis_;
  boost::asio::thread_pool& pool_;
  SessionPolicy policy_;
};

}  // namespace idp::gateway
