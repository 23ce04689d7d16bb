#pragma once
/// @file A RedisOutbox on the test Redis (IDP_TEST_REDIS_URL; a missing variable fails the
/// test), under a random key prefix removed afterwards.

#include "redis_outbox.hpp"

#include "idp/store/redis.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <string>

namespace idp::delivery::test {

inline std::string RandomHex(int n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < n; ++i) out += kHex[rng() % 16];
  return out;
}

inline store::RedisOptions RedisFromEnv() {
  const char* url = std::getenv("IDP_TEST_REDIS_URL");
  INFO("IDP_TEST_REDIS_URL must be set (source <(bash scripts/test-services.sh env))");
  REQUIRE(url != nullptr);
  REQUIRE(*url != '\0');
  auto o = store::ParseRedisUrl(url).value();
  o.pool_size = 16;
  o.command_timeout = std::chrono::milliseconds(3000);
  return o;
}

struct RedisFixture {
  RedisFixture()
      : redis(RedisFromEnv()),
        prefix("delivery:test:" + RandomHex(12) + ":"),
        outbox(redis, {prefix, std::chrono::seconds(3600), std::chrono::seconds(3600), 100}) {
    REQUIRE(outbox.EnsureGroup().has_value());
  }
  ~RedisFixture() {
    // SCAN + DEL of the prefix.
    std::string cursor = "0";
    do {
      auto r = redis.Command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"});
      if (!r || r->elements.size() != 2) break;
      cursor = r->elements[0].str;
      for (const auto& k : r->elements[1].elements) (void)redis.Command({"DEL", k.str});
    } while (cursor != "0");
  }
  std::int64_t Int(const std::vector<std::string>& cmd) {
    auto r = redis.Command(cmd);
    REQUIRE(r.has_value());
    return r->integer;
  }
  std::int64_t StreamLength() { return Int({"XLEN", outbox.Key("outbox")}); }

  store::RedisClient redis;
  std::string prefix;
  RedisOutbox outbox;
};

}  // namespace idp::delivery::test
