#include "idp/store/redis.hpp"

#include "test_env.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using idp::ErrorCode;
using idp::store::ParseRedisUrl;
using idp::store::RedisClient;
using idp::store::RedisOptions;
using idp::store::RedisReply;
namespace t = idp::store::test;

RedisOptions Options(std::size_t pool_size = 2) {
  auto o = ParseRedisUrl(t::RequireEnv("IDP_TEST_REDIS_URL"));
  REQUIRE(o.has_value());
  o->pool_size = pool_size;
  return *o;
}

/// The reply of a command that must succeed.
RedisReply Must(RedisClient& client, const std::vector<std::string>& args) {
  auto r = client.Command(args);
  INFO(args.front() << ": " << (r ? r->str : r.error().ToString()));
  REQUIRE(r.has_value());
  REQUIRE(r->type != RedisReply::Type::kError);
  return *r;
}

/// A key prefix of its own for one test; its keys are deleted at the end.
class KeyPrefix {
 public:
  explicit KeyPrefix(RedisClient& client)
      : client_(client), prefix_("idp_store_test:" + t::RandomSuffix() + ":") {}
  ~KeyPrefix() {
    std::string cursor = "0";
    do {
      auto r = client_.Command({"SCAN", cursor, "MATCH", prefix_ + "*", "COUNT", "1000"});
      if (!r || r->type != RedisReply::Type::kArray || r->elements.size() != 2) return;
      cursor = r->elements[0].str;
      std::vector<std::string> del{"DEL"};
      for (const auto& k : r->elements[1].elements) del.push_back(k.str);
      if (del.size() > 1) (void)client_.Command(del);
    } while (cursor != "0");
  }
  KeyPrefix(const KeyPrefix&) = delete;
  KeyPrefix& operator=(const KeyPrefix&) = delete;

  std::string Key(const std::string& name) const { return prefix_ + name; }

 private:
  RedisClient& client_;
  std::string prefix_;
};

/// `calls` of one command in INFO commandstats (0 when never called).
long long Calls(RedisClient& client, const std::string& command) {
  const std::string info = Must(client, {"INFO", "commandstats"}).str;
  const std::string tag = "cmdstat_" + command + ":calls=";
  const auto pos = info.find(tag);
  if (pos == std::string::npos) return 0;
  return std::stoll(info.substr(pos + tag.size()));
}

TEST_CASE("RedisClient SET GET INCR DEL and expiry") {
  RedisClient client(Options());
  KeyPrefix keys(client);
  CHECK(client.Ping());

  auto set = Must(client, {"SET", keys.Key("a"), "hello"});
  CHECK(set.type == RedisReply::Type::kStatus);
  CHECK(set.str == "OK");
  auto get = Must(client, {"GET", keys.Key("a")});
  CHECK(get.type == RedisReply::Type::kString);
  CHECK(get.str == "hello");
  CHECK(Must(client, {"GET", keys.Key("missing")}).is_nil());

  CHECK(Must(client, {"INCR", keys.Key("n")}).integer == 1);
  auto incr = Must(client, {"INCRBY", keys.Key("n"), "41"});
  CHECK(incr.type == RedisReply::Type::kInteger);
  CHECK(incr.integer == 42);

  CHECK(Must(client, {"DEL", keys.Key("a"), keys.Key("n")}).integer == 2);
  CHECK(Must(client, {"GET", keys.Key("a")}).is_nil());

  Must(client, {"SET", keys.Key("ttl"), "v", "PX", "150"});
  CHECK(Must(client, {"GET", keys.Key("ttl")}).str == "v");
  const auto pttl = Must(client, {"PTTL", keys.Key("ttl")}).integer;
  CHECK(pttl > 0);
  CHECK(pttl <= 150);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(Must(client, {"GET", keys.Key("ttl")}).is_nil());

  auto list = Must(client, {"MGET", keys.Key("x"), keys.Key("ttl")});
  REQUIRE(list.type == RedisReply::Type::kArray);
  REQUIRE(list.elements.size() == 2);
  CHECK(list.elements[0].is_nil());

  SECTION("an error reply is a reply, not an Error") {
    Must(client, {"SET", keys.Key("s"), "not a number"});
    auto r = client.Command({"INCR", keys.Key("s")});
    REQUIRE(r.has_value());
    CHECK(r->type == RedisReply::Type::kError);
  }
  SECTION("an empty command is kInvalidArgument") {
    auto r = client.Command({});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("RedisClient is binary-safe") {
  RedisClient client(Options());
  KeyPrefix keys(client);
  const std::string key = keys.Key(std::string("bin\0key", 7));
  std::string value("a\0b\r\n\xff\0", 7);
  value += std::string(1000, '\0');
  Must(client, {"SET", key, value});
  auto get = Must(client, {"GET", key});
  CHECK(get.str.size() == value.size());
  CHECK(get.str == value);
  CHECK(Must(client, {"STRLEN", key}).integer == static_cast<long long>(value.size()));
  CHECK(Must(client, {"EXISTS", keys.Key("bin")}).integer == 0);
}

TEST_CASE("RedisClient Eval uses EVALSHA and reloads the script after SCRIPT FLUSH") {
  RedisClient client(Options(1));
  KeyPrefix keys(client);
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  Must(client, {"SCRIPT", "FLUSH"});
  const long long eval_before = Calls(client, "eval");
  const long long load_before = Calls(client, "script|load");
  const long long evalsha_before = Calls(client, "evalsha");

  auto first = client.Eval(script, {keys.Key("n")}, {"5"});
  REQUIRE(first.has_value());
  CHECK(first->integer == 5);
  auto second = client.Eval(script, {keys.Key("n")}, {"5"});
  REQUIRE(second.has_value());
  CHECK(second->integer == 10);
  CHECK(Calls(client, "eval") == eval_before);             // never plain EVAL
  CHECK(Calls(client, "script|load") == load_before + 1);  // loaded once, for the first call
  CHECK(Calls(client, "evalsha") >= evalsha_before + 2);

  Must(client, {"SCRIPT", "FLUSH"});
  auto third = client.Eval(script, {keys.Key("n")}, {"5"});
  REQUIRE(third.has_value());
  CHECK(third->integer == 15);
  CHECK(Calls(client, "script|load") == load_before + 2);

  auto binary = client.Eval("return ARGV[1]", {}, {std::string("x\0y", 3)});
  REQUIRE(binary.has_value());
  CHECK(binary->str == std::string("x\0y", 3));

  auto failing = client.Eval("return redis.call('NO_SUCH_COMMAND')", {}, {});
  REQUIRE(failing.has_value());
  CHECK(failing->type == RedisReply::Type::kError);
}

TEST_CASE("RedisClient reconnects after the server killed its connection") {
  RedisClient client(Options(1));
  RedisClient killer(Options(1));
  KeyPrefix keys(client);
  Must(client, {"SET", keys.Key("k"), "before"});
  // Scoped to the client's own connection so that tests running in parallel are not hit.
  const auto id = Must(client, {"CLIENT", "ID"}).integer;
  auto killed =
      Must(killer, {"CLIENT", "KILL", "TYPE", "normal", "ID", std::to_string(id)});
  CHECK(killed.integer == 1);

  auto get = client.Command({"GET", keys.Key("k")});
  INFO((get ? get->str : get.error().ToString()));
  REQUIRE(get.has_value());
  CHECK(get->str == "before");
  CHECK(Must(client, {"INCR", keys.Key("n")}).integer == 1);
}

TEST_CASE("RedisClient gives kUnavailable quickly when nothing listens") {
  t::RequireEnv("IDP_TEST_REDIS_URL");
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = t::ClosedPort();
  RedisClient client(o);
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Command({"PING"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
  CHECK_FALSE(client.Ping());
}

TEST_CASE("RedisClient does not resend a command that timed out") {
  auto o = Options(1);
  o.command_timeout = std::chrono::milliseconds(200);
  RedisClient client(o);
  KeyPrefix keys(client);
  // Counts its runs, then keeps the server busy for 0.6 s: past the command timeout.
  const std::string slow =
      "redis.call('INCR', KEYS[1]) "
      "local t0 = redis.call('TIME') "
      "while true do "
      "  local t = redis.call('TIME') "
      "  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 600000 then break end "
      "end "
      "return 1";
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Command({"EVAL", slow, "1", keys.Key("runs")});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(550));

  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // let the script finish
  CHECK(Must(client, {"GET", keys.Key("runs")}).str == "1");     // sent once, not twice
  CHECK(client.Ping());
}

TEST_CASE("RedisClient runs commands from 8 threads on 2 connections") {
  RedisClient client(Options(2));
  KeyPrefix keys(client);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        auto r = client.Command({"INCR", keys.Key("n")});
        if (!r || r->type != RedisReply::Type::kInteger) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  CHECK(Must(client, {"GET", keys.Key("n")}).str == "400");
}

TEST_CASE("RedisClient selects the configured database and sends AUTH") {
  SECTION("SELECT") {
    auto o = Options(1);
    o.db = 3;
    RedisClient db3(o);
    RedisClient db0(Options(1));
    KeyPrefix keys3(db3);
    Must(db3, {"SET", keys3.Key("k"), "in-3"});
    CHECK(Must(db3, {"GET", keys3.Key("k")}).str == "in-3");
    CHECK(Must(db0, {"GET", keys3.Key("k")}).is_nil());
  }
  SECTION("AUTH rejected is kUnavailable and does not show the password") {
    auto o = Options(1);
    o.password = "pw-secret-xyz";  // the test server has none: AUTH fails
    RedisClient client(o);
    auto r = client.Command({"PING"});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message.find("pw-secret-xyz") == std::string::npos);
  }
}

}  // namespace
