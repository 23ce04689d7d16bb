#pragma once
/// @file Browser state in Redis (keys "gw:"): SSO sessions and pending sign-in flows. Records
/// are keyed by the SHA-256 of the cookie value, so a Redis dump holds no usable cookie.

#include "signin/records.hpp"

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
  /// The one place a session gets a new id (SECURITY §50: at every authentication, step-up
  /// and privilege change): stores `session` under a new cookie value, returned, then ends the
  /// session behind `old_cookie` ("" or unknown: nothing to end). A failure to store leaves
  /// the old session as it was.
  boost::asio::awaitable<Result<std::string>> Rotate(const std::string& old_cookie,
                                                     const Session& session);

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
