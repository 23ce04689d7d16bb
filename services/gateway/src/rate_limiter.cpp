#include "rate_limiter.hpp"

#include "blocking.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

#include <algorithm>

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

// Check every counter, then count in all of them or in none (a reservation): KEYS are the
// counters, ARGV now (ms), window (ms), the member, then each key's limit.
constexpr const char* kReserve = R"lua(
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = math.max(1, math.ceil((tonumber(oldest[2]) + window - now) / 1000))
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return 0
)lua";

constexpr const char* kRelease = R"lua(
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
)lua";

// GCRA (the generic cell rate algorithm): one number per key, the theoretical arrival time of
// the next request; `limit` requests may come at once, then one per period/limit.
constexpr const char* kTake = R"lua(
local now, interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return math.ceil((tat - now - tolerance) / 1000) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return 0
)lua";

// GCRA without counting: what Take would answer, leaving the state as it is.
constexpr const char* kPeek = R"lua(
local now, tolerance = tonumber(ARGV[1]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return math.ceil((tat - now - tolerance) / 1000) end
return 0
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

boost::asio::awaitable<Result<RateLimiter::Attempt>> RateLimiter::Reserve(
    const std::vector<std::pair<std::string, int>>& limits, std::chrono::seconds window) {
  Attempt attempt;
  const std::string now = NowMs();
  attempt.member = now + ":" + crypto::RandomToken(6);
  std::vector<std::string> args{now, std::to_string(window.count() * 1000), attempt.member};
  for (const auto& [key, limit] : limits) {
    attempt.keys.push_back("gw:rl:" + key);
    args.push_back(std::to_string(limit));
  }
  auto op = [&]() -> Result<int> {
    auto r = redis_.Eval(kReserve, attempt.keys, args);
    if (!r) return r.error();
    if (r->type != store::RedisReply::Type::kInteger) return Unavailable("redis: rate limit");
    return static_cast<int>(r->integer);
  };
  Result<int> wait = co_await RunBlocking(pool_, op);
  if (!wait) co_return Result<Attempt>(wait.error());
  attempt.retry_after = *wait;
  co_return Result<Attempt>(std::move(attempt));
}

boost::asio::awaitable<Status> RateLimiter::Release(const Attempt& attempt) {
  if (attempt.keys.empty() || attempt.retry_after > 0) co_return Status{};
  auto op = [&]() -> Status {
    auto r = redis_.Eval(kRelease, attempt.keys, {attempt.member});
    if (!r) return r.error();
    if (r->type == store::RedisReply::Type::kError) return Unavailable("redis: " + r->str);
    return {};
  };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

boost::asio::awaitable<Result<int>> RateLimiter::Take(const std::string& key, int limit,
                                                     std::chrono::seconds period) {
  Result<int> out = co_await Gcra(kTake, key, limit, period);
  co_return out;
}

boost::asio::awaitable<Result<int>> RateLimiter::Peek(const std::string& key, int limit,
                                                     std::chrono::seconds period) {
  Result<int> out = co_await Gcra(kPeek, key, limit, period);
  co_return out;
}

boost::asio::awaitable<Result<int>> RateLimiter::Gcra(const char* script, const std::string& key,
                                                     int limit, std::chrono::seconds period) {
  const std::string now = NowMs();
  const double interval = static_cast<double>(period.count()) * 1000.0 / std::max(limit, 1);
  const std::string interval_ms = std::to_string(interval);
  const std::string tolerance_ms = std::to_string(interval * (std::max(limit, 1) - 1));
  auto op = [&]() -> Result<int> {
    auto r = redis_.Eval(script, {"gw:rl:" + key}, {now, interval_ms, tolerance_ms});
    if (!r) return r.error();
    if (r->type != store::RedisReply::Type::kInteger) return Unavailable("redis: rate limit");
    return static_cast<int>(r->integer);
  };
  Result<int> out = co_await RunBlocking(pool_, op);
  co_return out;
}

}  // namespace idp::gateway
