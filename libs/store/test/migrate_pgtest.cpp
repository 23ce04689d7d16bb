#include "idp/store/migrate.hpp"

#include "idp/store/pg.hpp"
#include "test_env.hpp"

#include <atomic>
#include <thread>
#include <vector>

namespace {

using idp::ErrorCode;
using idp::store::Migrate;
using idp::store::Migration;
using idp::store::MigrationSet;
using idp::store::PgPool;
using idp::store::PgPoolOptions;
namespace t = idp::store::test;

PgPoolOptions Options(std::size_t size = 1) {
  PgPoolOptions o;
  o.dsn = t::RequireEnv("IDP_TEST_PG_DSN");
  o.size = size;
  o.acquire_timeout = std::chrono::milliseconds(10000);
  return o;
}

/// Drops the schema under test at the end, whatever the test left behind.
class DropSchemaAtExit {
 public:
  DropSchemaAtExit(PgPool& pool, std::string schema) : pool_(pool), schema_(std::move(schema)) {}
  ~DropSchemaAtExit() {
    (void)pool_.Transact<void>([this](pqxx::work& tx) {
      tx.exec0("DROP SCHEMA IF EXISTS " + tx.quote_name(schema_) + " CASCADE");
    });
  }
  DropSchemaAtExit(const DropSchemaAtExit&) = delete;
  DropSchemaAtExit& operator=(const DropSchemaAtExit&) = delete;

 private:
  PgPool& pool_;
  std::string schema_;
};

/// Two migrations; running the second twice would fail (CREATE TABLE) and `events` counts how
/// many times it ran.
MigrationSet TwoMigrations(const std::string& schema) {
  return {schema,
          {{1, "0001_accounts",
            "CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);"},
           {2, "0002_events",
            "CREATE TABLE events (id bigint NOT NULL);\nINSERT INTO events VALUES (1);"}}};
}

/// Rows of <schema>.events: how many times migration 2 ran.
long long EventRows(PgPool& pool, const std::string& schema) {
  auto n = pool.Transact<long long>([&](pqxx::work& tx) {
    return tx.exec1("SELECT count(*) FROM " + tx.quote_name(schema) + ".events")[0]
        .as<long long>();
  });
  INFO((n ? std::string() : n.error().ToString()));
  REQUIRE(n.has_value());
  return *n;
}

/// Rows of <schema>.schema_migrations.
long long Recorded(PgPool& pool, const std::string& schema) {
  auto n = pool.Transact<long long>([&](pqxx::work& tx) {
    return tx.exec1("SELECT count(*) FROM " + tx.quote_name(schema) + ".schema_migrations")[0]
        .as<long long>();
  });
  REQUIRE(n.has_value());
  return *n;
}

/// True when <schema>.<table> exists.
bool TableExists(PgPool& pool, const std::string& schema, const std::string& table) {
  auto r = pool.Transact<bool>([&](pqxx::work& tx) {
    return !tx.exec_params1("SELECT to_regclass(format('%I.%I', $1::text, $2::text))", schema,
                            table)[0]
                .is_null();
  });
  REQUIRE(r.has_value());
  return *r;
}

TEST_CASE("Migrate applies each migration once") {
  PgPool pool(Options());
  // Upper case, a space and a dash: the schema name must be quoted everywhere.
  const std::string schema = "Mig Test-" + t::RandomSuffix();
  DropSchemaAtExit cleanup(pool, schema);
  const MigrationSet set = TwoMigrations(schema);

  SECTION("two, then none") {
    auto first = Migrate(pool, set);
    INFO((first ? std::string() : first.error().ToString()));
    REQUIRE(first.has_value());
    CHECK(*first == 2);
    CHECK(TableExists(pool, schema, "accounts"));
    CHECK(TableExists(pool, schema, "events"));
    CHECK(Recorded(pool, schema) == 2);

    auto second = Migrate(pool, set);
    REQUIRE(second.has_value());
    CHECK(*second == 0);
    CHECK(Recorded(pool, schema) == 2);
  }

  SECTION("only the new one when the binary gains a migration") {
    MigrationSet older{schema, {set.migrations[0]}};
    auto first = Migrate(pool, older);
    REQUIRE(first.has_value());
    CHECK(*first == 1);
    auto second = Migrate(pool, set);
    REQUIRE(second.has_value());
    CHECK(*second == 1);
    CHECK(Recorded(pool, schema) == 2);
  }

  auto names = pool.Transact<std::string>([&](pqxx::work& tx) {
    return tx.exec1("SELECT string_agg(name, ',' ORDER BY version) FROM " +
                    tx.quote_name(schema) + ".schema_migrations")[0]
        .as<std::string>();
  });
  REQUIRE(names.has_value());
  CHECK(*names == "0001_accounts,0002_events");
  CHECK(EventRows(pool, schema) == 1);
}

TEST_CASE("Migrate from 4 threads at once applies each migration exactly once") {
  PgPool admin(Options());
  const std::string schema = "migtest_" + t::RandomSuffix();
  DropSchemaAtExit cleanup(admin, schema);
  const MigrationSet set = TwoMigrations(schema);

  constexpr int kThreads = 4;
  std::atomic<int> applied{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      PgPool pool(Options());  // one pool per thread, like separate instances
      auto r = Migrate(pool, set);
      if (r) {
        applied += *r;
      } else {
        ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(failed == 0);
  CHECK(applied == 2);
  CHECK(Recorded(admin, schema) == 2);
  CHECK(EventRows(admin, schema) == 1);
}

TEST_CASE("Migrate refuses a database that records a version it does not know") {
  PgPool pool(Options());
  const std::string schema = "migtest_" + t::RandomSuffix();
  DropSchemaAtExit cleanup(pool, schema);
  const MigrationSet set = TwoMigrations(schema);
  REQUIRE(Migrate(pool, set).has_value());
  REQUIRE(pool.Transact<void>([&](pqxx::work& tx) {
    tx.exec0("INSERT INTO " + schema + ".schema_migrations (version, name) VALUES (99, 'x')");
  }).has_value());

  auto r = Migrate(pool, set);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kFailedPrecondition);
  CHECK(r.error().message.find("99") != std::string::npos);
}

TEST_CASE("A failing migration leaves no record and no half-created table") {
  PgPool pool(Options());
  const std::string schema = "migtest_" + t::RandomSuffix();
  DropSchemaAtExit cleanup(pool, schema);
  MigrationSet set = TwoMigrations(schema);
  set.migrations[1] = {2, "0002_broken",
                       "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;"};

  for (int run = 0; run < 2; ++run) {
    auto r = Migrate(pool, set);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kInternal);
    CHECK(r.error().message.find("0002_broken") != std::string::npos);
    CHECK(Recorded(pool, schema) == 1);
    CHECK(TableExists(pool, schema, "accounts"));
    CHECK_FALSE(TableExists(pool, schema, "half"));
  }
}

TEST_CASE("Migrate rejects a set whose versions do not increase") {
  PgPool pool(Options());
  MigrationSet set{"migtest_" + t::RandomSuffix(),
                   {{2, "0002_b", "SELECT 1"}, {1, "0001_a", "SELECT 1"}}};
  auto r = Migrate(pool, set);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
}

}  // namespace
