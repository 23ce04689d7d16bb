#include "idp/audit/audit.hpp"

#include "idp/common/call_origin.hpp"
#include "idp/common/log.hpp"
#include "idp/store/migrate.hpp"
#include "idp/store/pg.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace {

using idp::audit::AuditLog;
using idp::audit::Event;
using idp::audit::Query;
using idp::store::PgPool;

std::string Dsn() {
  const char* dsn = std::getenv("IDP_TEST_PG_DSN");
  INFO("IDP_TEST_PG_DSN must be set (source <(bash scripts/test-services.sh env))");
  REQUIRE(dsn != nullptr);
  REQUIRE(*dsn != '\0');
  return dsn;
}

std::string AuditSql() {
  std::ifstream in(IDP_AUDIT_SQL_PATH);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RandomSchema() {
  std::mt19937_64 rng{std::random_device{}()};
  std::string s = "audit_test_";
  for (int i = 0; i < 10; ++i) s += static_cast<char>('a' + rng() % 26);
  return s;
}

/// A fresh schema with the audit table (the same migration the services embed); dropped at the
/// end (DROP SCHEMA is not refused: dropping the table is the operator's retention tool).
struct Fixture {
  PgPool pool{idp::store::PgPoolOptions{Dsn(), 2}};
  std::string schema = RandomSchema();
  Fixture() {
    idp::store::MigrationSet set{schema, {{1, "0001_audit", AuditSql()}}};
    REQUIRE(idp::store::Migrate(pool, set).has_value());
  }
  ~Fixture() {
    (void)pool.Transact<void>(
        [this](pqxx::work& tx) { tx.exec0("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); });
  }
};

}  // namespace

TEST_CASE("audit Record stores the event with the call's origin and List finds it") {
  Fixture f;
  AuditLog log(f.pool, f.schema);
  idp::log::ScopedRequestId rid("req-audit-1");
  idp::ScopedCallOrigin origin({"203.0.113.7", "Agent/1.0", "client-from-call"});
  Event e{"signin.failure", "sub-1", "client-a", "", "", "", {{"reason", "wrong_password"}}};
  REQUIRE(log.Record(e).has_value());
  REQUIRE(log.Record(Event{"signin.success", "sub-1", "", "198.51.100.1", "Other", "", {}})
              .has_value());
  REQUIRE(log.Record(Event{"signin.success", "sub-2", "", "", "", "", {}}).has_value());

  auto rows = log.List(Query{"sub-1", "", std::nullopt, 10});
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 2);
  const auto& failure = rows->at(1);  // newest first
  CHECK(failure.event == "signin.failure");
  CHECK(failure.client_id == "client-a");
  CHECK(failure.source_address == "203.0.113.7");
  CHECK(failure.user_agent == "Agent/1.0");
  CHECK(failure.request_id == "req-audit-1");
  CHECK(failure.detail_json == R"({"reason":"wrong_password"})");
  CHECK(rows->at(0).source_address == "198.51.100.1");  // explicit fields win
  CHECK(rows->at(0).client_id == "client-from-call");   // an empty one comes from the call
  CHECK(rows->at(0).at >= failure.at);

  auto by_event = log.List(Query{"", "signin.success", std::nullopt, 10});
  REQUIRE(by_event.has_value());
  CHECK(by_event->size() == 2);
  auto by_prefix = log.List(Query{"", "signin.", std::nullopt, 10});
  REQUIRE(by_prefix.has_value());
  CHECK(by_prefix->size() == 3);
  auto limited = log.List(Query{"", "", std::nullopt, 1});
  REQUIRE(limited.has_value());
  CHECK(limited->size() == 1);
  auto future = log.List(
      Query{"", "", std::chrono::system_clock::now() + std::chrono::hours(1), 10});
  REQUIRE(future.has_value());
  CHECK(future->empty());
}

TEST_CASE("audit origin fields are bounded and stripped of control characters") {
  Fixture f;
  AuditLog log(f.pool, f.schema);
  std::string agent = "Evil\r\nInjected: yes\x1b[31m";
  agent += std::string(400, 'x');
  REQUIRE(log.Record(Event{"signin.failure", "sub-3", "", "10.0.0.1\n", agent, "", {}})
              .has_value());
  auto rows = log.List(Query{"sub-3", "", std::nullopt, 10});
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 1);
  CHECK(rows->at(0).source_address == "10.0.0.1");
  CHECK(rows->at(0).user_agent.size() == idp::kMaxUserAgentLength);
  CHECK(rows->at(0).user_agent.find('\n') == std::string::npos);
  CHECK(rows->at(0).user_agent.find('\x1b') == std::string::npos);
  CHECK(rows->at(0).user_agent.rfind("EvilInjected: yes[31m", 0) == 0);
}

TEST_CASE("audit table refuses UPDATE DELETE and TRUNCATE") {
  Fixture f;
  AuditLog log(f.pool, f.schema);
  REQUIRE(log.Record(Event{"mfa.failure", "sub-4", "", "", "", "", {}}).has_value());
  const std::string table = f.schema + ".audit";
  for (const std::string& sql : {"UPDATE " + table + " SET subject = 'someone-else'",
                                "DELETE FROM " + table, "TRUNCATE " + table}) {
    INFO(sql);
    auto st = f.pool.Transact<void>([&sql](pqxx::work& tx) { tx.exec0(sql); });
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().message.find("append-only") != std::string::npos);
  }
  auto rows = log.List(Query{"sub-4", "", std::nullopt, 10});
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 1);
  CHECK(rows->at(0).subject == "sub-4");
}

TEST_CASE("audit Record reports a failure instead of throwing") {
  Fixture f;
  AuditLog log(f.pool, f.schema);
  // The CHECK constraint refuses a malformed event name: Record returns the error.
  auto st = log.Record(Event{"Not A Name", "", "", "", "", "", {}});
  CHECK_FALSE(st.has_value());
  CHECK_THROWS(AuditLog(f.pool, "bad;schema"));
}
