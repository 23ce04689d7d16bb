#pragma once
/// @file Sliding-window counters in Redis (keys "gw:rl:"), shared by every gateway instance.
/// Each check and each hit is one Lua script, so concurrent requests never double-count or
/// slip past the limit. When Redis cannot be reached the caller gets kUnavailable and must
/// fail closed (SECURITY §73).

#include "idp/common/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

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
  /// Records one hit for `key`.
  boost::asio::awaitable<Status> Hit(const std::string& key, std::chrono::seconds window);

 private:
  store::RedisClient& redis_;
  boost::asio::thread_pool& pool_;
};

}  // namespace idp::gateway
