#pragma once
/// @file A blocking Redis client over hiredis 0.14: a bounded pool of connections with
/// reconnect, for service threads (never an event-loop thread). Every key a service writes
/// starts with its owner's prefix ("token:", "gw:", "mfa:", ...).

#include "idp/common/error.hpp"
#include "idp/store/pool_stats.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct redisContext;

namespace idp::store {

/// A decoded Redis reply.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;                  ///< kString, kStatus, kError
  std::int64_t integer = 0;         ///< kInteger
  std::vector<RedisReply> elements; ///< kArray

  bool is_nil() const { return type == Type::kNil; }
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;      ///< AUTH when not empty
  int db = 0;
  std::size_t pool_size = 4;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  /// How long a command waits for a free connection of the pool (kUnavailable after).
  std::chrono::milliseconds acquire_timeout{2000};
};

/// Parses redis://[:password@]host:port[/db] (also "host:port"). kInvalidArgument otherwise.
[[nodiscard]] Result<RedisOptions> ParseRedisUrl(std::string_view url);

/// Thread-safe. A command that fails on I/O drops its connection and is retried once on a fresh
/// one; when Redis stays unreachable the result is kUnavailable. A Redis error reply (type
/// kError) is returned as a reply, not as an Error, except from Command's convenience callers.
class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  /// Sends one command given as its arguments (binary-safe). kInvalidArgument when `args` is
  /// empty; kUnavailable when no connection is free within acquire_timeout, when Redis cannot
  /// be reached, or when the reply did not come within command_timeout (a timed-out command
  /// is not retried, since it may have run).
  [[nodiscard]] Result<RedisReply> Command(const std::vector<std::string>& args);

  /// EVALSHA of `script`, loading it (SCRIPT LOAD) when the server does not know it yet.
  /// The SHA-1 is computed locally and cached. Errors as for Command; a script error is a
  /// reply of type kError.
  [[nodiscard]] Result<RedisReply> Eval(const std::string& script,
                                        const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args);

  /// True when PING answers PONG (readiness).
  bool Ping();

  /// The pool's use now. Thread-safe.
  PoolStats Stats();

 private:
  struct Conn;
  std::unique_ptr<Conn> Acquire();
  void Release(std::unique_ptr<Conn> conn);
  /// The hex SHA-1 of `script`, cached.
  std::string ScriptSha(const std::string& script);

  RedisOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::size_t open_ = 0;
  std::uint64_t acquire_timeouts_ = 0;
  std::mutex scripts_mu_;
  std::unordered_map<std::string, std::string> script_shas_;  ///< script -> hex SHA-1
};

}  // namespace idp::store
