#include "idp/store/redis.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using idp::ErrorCode;
using idp::store::ParseRedisUrl;

TEST_CASE("ParseRedisUrl accepts the usual forms") {
  SECTION("redis://host:port") {
    auto o = ParseRedisUrl("redis://127.0.0.1:6380");
    REQUIRE(o.has_value());
    CHECK(o->host == "127.0.0.1");
    CHECK(o->port == 6380);
    CHECK(o->password.empty());
    CHECK(o->db == 0);
  }
  SECTION("password and database, percent-encoded") {
    auto o = ParseRedisUrl("redis://:s3cr%40t%3a@cache.local:6381/2");
    REQUIRE(o.has_value());
    CHECK(o->host == "cache.local");
    CHECK(o->port == 6381);
    CHECK(o->password == "s3cr@t:");
    CHECK(o->db == 2);
  }
  SECTION("the default user") {
    auto o = ParseRedisUrl("redis://default:pw@h:1/");
    REQUIRE(o.has_value());
    CHECK(o->password == "pw");
    CHECK(o->db == 0);
  }
  SECTION("host:port without a scheme") {
    auto o = ParseRedisUrl("cache:7000");
    REQUIRE(o.has_value());
    CHECK(o->host == "cache");
    CHECK(o->port == 7000);
  }
  SECTION("the default port") {
    auto o = ParseRedisUrl("redis://cache");
    REQUIRE(o.has_value());
    CHECK(o->host == "cache");
    CHECK(o->port == 6379);
  }
  SECTION("an IPv6 host") {
    auto o = ParseRedisUrl("redis://[::1]:6390/1");
    REQUIRE(o.has_value());
    CHECK(o->host == "::1");
    CHECK(o->port == 6390);
    CHECK(o->db == 1);
  }
}

TEST_CASE("ParseRedisUrl rejects malformed URLs without quoting them") {
  for (const char* url :
       {"", "rediss://:pw@h:1", "http://:pw@h:1", "redis://:pw@h:0", "redis://:pw@h:70000",
        "redis://:pw@h:abc", "redis://:pw@h:", "redis://:pw@h:1/x", "redis://:pw@h:1/-1",
        "redis://user:pw@h:1", "redis://:pw@h:1?timeout=1", "redis://:pw@:1", "redis://:p%zw@h:1",
        "redis://[::1:1", "redis://h:1:2"}) {
    INFO(url);
    auto o = ParseRedisUrl(url);
    REQUIRE_FALSE(o.has_value());
    CHECK(o.error().code == ErrorCode::kInvalidArgument);
    CHECK(o.error().message.find("pw") == std::string::npos);
  }
}

}  // namespace
