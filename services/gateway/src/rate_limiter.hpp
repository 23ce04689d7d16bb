#pragma once
/// @file Sliding-window counters in Redis (keys "gw:rl:"), shared by every gateway instance.
/// Each check and each hit is one Lua script, so concurrent requests never double-count or
/// slip past the limit. When Redis cannot be reached the caller gets kUnavailable and must
/// fail closed (SECURITY §73).

#include "idp/common/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class thread_pool;
}
namespace idp::store {
class RedisClient;
}

namespace idp::gateway {

class RateLimiter {
 public:
  RateLimiter(store::RedisClient& redis, boost::asio::thread_pool& pool)
      : redis_(redis), pool_(pool) {}

  /// 0 when `key` has fewer than `limit` hits within `window`; otherwise the seconds until the
  /// oldest hit leaves the window (for Retry-After).
  boost::asio::awaitable<Result<int>> RetryAfter(const std::string& key, int limit,
                                                 std::chrono::seconds window);
  /// Counts one request for `key` when fewer than `limit` came within `period` (GCRA: a burst
  /// of `limit`, then one per period/limit) and returns 0; otherwise counts nothing and returns
  /// the seconds to wait. One key holds one number, so high rates cost no memory.
  boost::asio::awaitable<Result<int>> Take(const std::string& key, int limit,
                                           std::chrono::seconds period);
  /// What Take would answer now, without counting.
  boost::asio::awaitable<Result<int>> Peek(const std::string& key, int limit,
                                           std::chrono::seconds period);
  /// Records one hit for `key`.
  boost::asio::awaitable<Status> Hit(const std::string& key, std::chrono::seconds window);

  /// An attempt counted before the work it limits, so that concurrent attempts cannot all pass
  /// a check made before any of them was counted (security review F8).
  struct Attempt {
    std::vector<std::string> keys;
    std::string member;
    int retry_after = 0;  ///< > 0: refused, nothing counted; seconds to wait
  };
  /// Counts one attempt under every key of `limits` (key, limit) when each had fewer than its
  /// limit within `window`, in one Lua script (all or none); otherwise counts nothing and sets
  /// retry_after. kUnavailable without Redis: the caller fails closed.
  boost::asio::awaitable<Result<Attempt>> Reserve(
      const std::vector<std::pair<std::string, int>>& limits, std::chrono::seconds window);
  /// Takes a counted attempt back (it succeeded, and only failures count).
  boost::asio::awaitable<Status> Release(const Attempt& attempt);

 private:
  boost::asio::awaitable<Result<int>> Gcra(const char* script, const std::string& key, int limit,
                                           std::chrono::seconds period);
  store::RedisClient& redis_;
  boost::asio::thread_pool& pool_;
};

}  // namespace idp::gateway
