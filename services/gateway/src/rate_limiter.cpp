#include "rate_limiter.hpp"

#include "blocking.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

namespace idp::gateway {
namespace {

constexpr const char* kCheck = R"lua(
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then return 0 end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.ceil((tonumber(oldest[2]) + window - now) / 1000)
)lua";

constexpr const char* kHit = R"lua(
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

std::string NowMs() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

}  // namespace

boost::asio::awaitable<Result<int>> RateLimiter::RetryAfter(const std::string& key, int limit,
                                                            std::chrono::seconds window) {
  const std::string now = NowMs();
  const std::string window_ms = std::to_string(window.count() * 1000);
  const std::string max = std::to_string(limit);
  auto op = [&]() -> Result<int> {
    auto r = redis_.Eval(kCheck, {"gw:rl:" + key}, {now, window_ms, max});
    if (!r) return r.error();
    if (r->type != store::RedisReply::Type::kInteger) return Unavailable("redis: rate limit");
    return static_cast<int>(r->integer);
  };
  Result<int> out = co_await RunBlocking(pool_, op);
  co_return out;
}

boost::asio::awaitable<Status> RateLimiter::Hit(const std::string& key,
                                                std::chrono::seconds window) {
  const std::string now = NowMs();
  const std::string window_ms = std::to_string(window.count() * 1000);
  const std::string member = now + ":" + crypto::RandomToken(6);
  auto op = [&]() -> Status {
    auto r = redis_.Eval(kHit, {"gw:rl:" + key}, {now, window_ms, member});
    if (!r) return r.error();
    if (r->type == store::RedisReply::Type::kError) return Unavailable("redis: " + r->str);
    return {};
  };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

}  // namespace idp::gateway
