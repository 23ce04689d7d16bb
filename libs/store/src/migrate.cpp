#include "idp/store/migrate.hpp"

#include "idp/common/log.hpp"
#include "idp/store/pg.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <string>

namespace idp::store {
namespace {

/// Serialises migrators of one schema until the end of the calling transaction.
void LockSchema(pqxx::work& tx, const std::string& schema) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "idp-migrate:" + schema);
}

std::set<int> ReadApplied(pqxx::work& tx, const std::string& quoted_schema) {
  std::set<int> versions;
  for (const auto& row : tx.exec("SELECT version FROM " + quoted_schema + ".schema_migrations")) {
    versions.insert(row[0].as<int>());
  }
  return versions;
}

/// The recorded versions this binary does not know, or an empty set.
std::set<int> Unknown(const std::set<int>& applied, const std::set<int>& known) {
  std::set<int> out;
  std::set_difference(applied.begin(), applied.end(), known.begin(), known.end(),
                      std::inserter(out, out.end()));
  return out;
}

Error UnknownVersionError(const std::string& schema, const std::set<int>& unknown) {
  return FailedPrecondition("schema " + schema + " has migration " +
                            std::to_string(*unknown.rbegin()) +
                            " that this binary does not know (a newer binary ran)");
}

/// What one migration transaction did.
struct Step {
  enum class Kind { kApplied, kAlreadyApplied, kUnknownVersion } kind = Kind::kApplied;
  std::set<int> unknown;
};

}  // namespace

Result<int> Migrate(PgPool& pool, const MigrationSet& set) {
  if (set.schema.empty()) return InvalidArgument("migrate: empty schema name");
  std::set<int> known;
  for (std::size_t i = 0; i < set.migrations.size(); ++i) {
    if (i > 0 && set.migrations[i].version <= set.migrations[i - 1].version) {
      return InvalidArgument("migrate " + set.schema + ": versions must strictly increase (" +
                             set.migrations[i].name + ")");
    }
    known.insert(set.migrations[i].version);
  }

  // The schema and its bookkeeping table. Under the lock, because two concurrent
  // CREATE SCHEMA IF NOT EXISTS can still collide on pg_namespace's unique index.
  auto applied = pool.Transact<std::set<int>>([&set](pqxx::work& tx) {
    tx.exec0("SET LOCAL client_min_messages = warning");  // no "already exists" notices
    LockSchema(tx, set.schema);
    const std::string schema = tx.quote_name(set.schema);
    tx.exec0("CREATE SCHEMA IF NOT EXISTS " + schema);
    tx.exec0("CREATE TABLE IF NOT EXISTS " + schema +
             ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
             "applied_at timestamptz NOT NULL DEFAULT now())");
    return ReadApplied(tx, schema);
  });
  if (!applied) {
    log::Error("migration bookkeeping failed",
               {{"schema", set.schema}, {"error", applied.error().ToString()}});
    if (applied.error().code == ErrorCode::kUnavailable) return applied.error();
    return Internal("migrate " + set.schema + ": " + applied.error().message);
  }
  if (auto unknown = Unknown(*applied, known); !unknown.empty()) {
    return UnknownVersionError(set.schema, unknown);
  }

  int count = 0;
  for (const Migration& m : set.migrations) {
    if (applied->count(m.version) != 0) continue;
    auto step = pool.Transact<Step>([&set, &m, &known](pqxx::work& tx) {
      tx.exec0("SET LOCAL client_min_messages = warning");
      LockSchema(tx, set.schema);
      const std::string schema = tx.quote_name(set.schema);
      // Another instance may have migrated while we waited for the lock.
      const std::set<int> now_applied = ReadApplied(tx, schema);
      Step out;
      out.unknown = Unknown(now_applied, known);
      if (!out.unknown.empty()) {
        out.kind = Step::Kind::kUnknownVersion;
        return out;
      }
      if (now_applied.count(m.version) != 0) {
        out.kind = Step::Kind::kAlreadyApplied;
        return out;
      }
      tx.exec0("SET LOCAL search_path TO " + schema);
      tx.exec(m.sql);
      tx.exec_params0(
          "INSERT INTO " + schema + ".schema_migrations (version, name) VALUES ($1, $2)",
          m.version, m.name);
      return out;
    });
    if (!step) {
      log::Error("migration failed", {{"schema", set.schema},
                                      {"migration", m.name},
                                      {"error", step.error().ToString()}});
      if (step.error().code == ErrorCode::kUnavailable) return step.error();
      return Internal("migrate " + set.schema + ": " + m.name + ": " + step.error().message);
    }
    switch (step->kind) {
      case Step::Kind::kUnknownVersion:
        return UnknownVersionError(set.schema, step->unknown);
      case Step::Kind::kAlreadyApplied:
        break;
      case Step::Kind::kApplied:
        ++count;
        log::Info("migration applied", {{"schema", set.schema}, {"migration", m.name}});
        break;
    }
  }
  return count;
}

}  // namespace idp::store
