#include "idp/store/pg.hpp"

#include "test_env.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using idp::ErrorCode;
using idp::store::PgPool;
using idp::store::PgPoolOptions;
namespace t = idp::store::test;

PgPoolOptions Options(std::size_t size, std::chrono::milliseconds acquire_timeout =
                                            std::chrono::milliseconds(10000)) {
  PgPoolOptions o;
  o.dsn = t::RequireEnv("IDP_TEST_PG_DSN");
  o.size = size;
  o.acquire_timeout = acquire_timeout;
  return o;
}

/// A schema of its own for one test, dropped at the end.
class TempSchema {
 public:
  explicit TempSchema(PgPool& pool) : pool_(pool), name_("pgtest_" + t::RandomSuffix()) {
    auto st = pool_.Transact<void>([this](pqxx::work& tx) {
      tx.exec0("CREATE SCHEMA " + tx.quote_name(name_));
    });
    INFO((st ? std::string() : st.error().ToString()));
    REQUIRE(st.has_value());
  }
  ~TempSchema() {
    (void)pool_.Transact<void>([this](pqxx::work& tx) {
      tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(name_) + " CASCADE");
    });
  }
  TempSchema(const TempSchema&) = delete;
  TempSchema& operator=(const TempSchema&) = delete;

  /// `table` qualified with this schema.
  std::string Table(const std::string& table) const { return name_ + "." + table; }

 private:
  PgPool& pool_;
  std::string name_;
};

long long Count(PgPool& pool, const std::string& query) {
  auto n = pool.Transact<long long>(
      [&query](pqxx::work& tx) { return tx.exec1(query)[0].as<long long>(); });
  INFO((n ? std::string() : n.error().ToString()));
  REQUIRE(n.has_value());
  return *n;
}

TEST_CASE("PgPool runs queries from 8 threads on 2 connections") {
  const std::string app = "idp_store_test_" + t::RandomSuffix();
  auto options = Options(2);
  options.dsn = t::WithParam(options.dsn, "application_name=" + app);
  PgPool pool(options);
  TempSchema schema(pool);
  REQUIRE(pool.Transact<void>([&](pqxx::work& tx) {
    tx.exec0("CREATE TABLE " + schema.Table("hits") + " (thread int, i int)");
  }).has_value());

  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = pool.Transact<long long>([&](pqxx::work& tx) {
          tx.exec_params0("INSERT INTO " + schema.Table("hits") + " VALUES ($1, $2)", th, i);
          return tx.exec1("SELECT count(*) FROM " + schema.Table("hits"))[0].as<long long>();
        });
        (r ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(failed == 0);
  CHECK(ok == kThreads * kPerThread);
  CHECK(Count(pool, "SELECT count(*) FROM " + schema.Table("hits")) == kThreads * kPerThread);
  const long long open = Count(
      pool, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'");
  CHECK(open >= 1);
  CHECK(open <= 2);
  CHECK(pool.Ping());
}

TEST_CASE("PgPool translates pqxx exceptions into errors") {
  PgPool pool(Options(1));
  TempSchema schema(pool);

  SECTION("a unique violation is kAlreadyExists, without the duplicated value") {
    REQUIRE(pool.Transact<void>([&](pqxx::work& tx) {
      tx.exec0("CREATE TABLE " + schema.Table("users") + " (email text UNIQUE)");
    }).has_value());
    auto insert = [&] {
      return pool.Transact<void>([&](pqxx::work& tx) {
        tx.exec_params0("INSERT INTO " + schema.Table("users") + " VALUES ($1)",
                        "secret-value-123");
      });
    };
    REQUIRE(insert().has_value());
    auto again = insert();
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == ErrorCode::kAlreadyExists);
    CHECK(again.error().message.find("secret-value-123") == std::string::npos);
    CHECK(Count(pool, "SELECT count(*) FROM " + schema.Table("users")) == 1);
  }

  SECTION("an SQL error is kInternal, without the query text") {
    auto r = pool.Transact<void>([](pqxx::work& tx) {
      tx.exec("SELECT no_such_column_x FROM pg_class WHERE relname = 'hunter2'");
    });
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kInternal);
    CHECK(r.error().message.find("42703") != std::string::npos);
    CHECK(r.error().message.find("hunter2") == std::string::npos);
    CHECK(r.error().message.find("SELECT") == std::string::npos);
  }

  SECTION("a data exception does not quote the parameter") {
    auto r = pool.Transact<void>(
        [](pqxx::work& tx) { tx.exec_params("SELECT $1::uuid", "not-a-uuid-secret"); });
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kInternal);
    CHECK(r.error().message.find("not-a-uuid-secret") == std::string::npos);
  }

  SECTION("serialization failures and deadlocks are kUnavailable (retry)") {
    for (const char* state : {"40001", "40P01"}) {
      auto r = pool.Transact<void>([state](pqxx::work& tx) {
        tx.exec(std::string("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '") +
                state + "'; END $$");
      });
      INFO(state);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().code == ErrorCode::kUnavailable);
    }
  }

  SECTION("exceptions of other types propagate and the connection goes back to the pool") {
    bool thrown = false;
    try {
      (void)pool.Run<int>([](pqxx::connection&) -> int { throw std::runtime_error("boom"); });
    } catch (const std::runtime_error&) {
      thrown = true;
    }
    CHECK(thrown);
  }

  // Every section leaves the single connection usable.
  CHECK(Count(pool, "SELECT 1") == 1);
}

TEST_CASE("PgPool gives kUnavailable when nothing listens at the DSN") {
  PgPoolOptions o;
  t::RequireEnv("IDP_TEST_PG_DSN");
  o.dsn = "postgresql://postgres@127.0.0.1:" + std::to_string(t::ClosedPort()) + "/postgres";
  o.size = 1;
  PgPool pool(o);
  const auto start = std::chrono::steady_clock::now();
  auto r = pool.Transact<int>([](pqxx::work& tx) { return tx.exec1("SELECT 1")[0].as<int>(); });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK_FALSE(pool.Ping());
  // The failed open released its slot: a second call fails the same way, without waiting.
  auto again = pool.Transact<void>([](pqxx::work&) {});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == ErrorCode::kUnavailable);
  CHECK(again.error().message.find("acquire_timeout") == std::string::npos);
}

TEST_CASE("PgPool gives kUnavailable when every connection stays held past acquire_timeout") {
  PgPool pool(Options(1, std::chrono::milliseconds(200)));
  std::promise<void> holding;
  std::promise<void> release;
  auto released = release.get_future().share();
  auto holder = std::async(std::launch::async, [&] {
    return pool.Run<int>([&](pqxx::connection&) {
      holding.set_value();
      released.wait();
      return 1;
    });
  });
  holding.get_future().wait();

  const auto start = std::chrono::steady_clock::now();
  auto r = pool.Run<int>([](pqxx::connection&) { return 2; });
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(waited >= std::chrono::milliseconds(150));
  CHECK(waited < std::chrono::seconds(2));

  release.set_value();
  auto held = holder.get();
  REQUIRE(held.has_value());
  CHECK(*held == 1);
  auto after = pool.Run<int>([](pqxx::connection&) { return 3; });
  REQUIRE(after.has_value());
  CHECK(*after == 3);
}

TEST_CASE("PgPool retries once on a new connection after the server dropped the old one") {
  PgPool pool(Options(1));
  PgPool admin(Options(1));
  auto backend_pid = [&pool] {
    return pool.Transact<int>(
        [](pqxx::work& tx) { return tx.exec1("SELECT pg_backend_pid()")[0].as<int>(); });
  };
  auto first = backend_pid();
  REQUIRE(first.has_value());
  auto killed = admin.Transact<bool>([&](pqxx::work& tx) {
    return tx.exec_params1("SELECT pg_terminate_backend($1)", *first)[0].as<bool>();
  });
  REQUIRE(killed.has_value());
  REQUIRE(*killed);
  // Termination is asynchronous: wait until the backend is gone.
  for (int i = 0; i < 100 && Count(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                              std::to_string(*first)) != 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  auto second = backend_pid();
  INFO((second ? std::string() : second.error().ToString()));
  REQUIRE(second.has_value());
  CHECK(*second != *first);
  CHECK(pool.Ping());
}

}  // namespace
