#pragma once
/// @file Per-service schema migrations. Each service owns one PostgreSQL schema and migrates it
/// at start; several instances starting at once are serialised by an advisory lock.

#include "idp/common/error.hpp"

#include <string>
#include <vector>

namespace idp::store {

class PgPool;

struct Migration {
  int version;        ///< strictly increasing
  std::string name;   ///< file name without extension, e.g. "0001_accounts"
  std::string sql;    ///< run in one transaction with search_path set to the schema
};

struct MigrationSet {
  std::string schema;
  std::vector<Migration> migrations;
};

/// Creates the schema and `<schema>.schema_migrations` if absent, then applies each migration
/// whose version is not recorded, each in its own transaction together with its record, under
/// pg_advisory_xact_lock so that concurrent instances apply each exactly once.
/// Returns the number applied. Fails with kFailedPrecondition when the database records a
/// version this binary does not know (a newer binary ran), kInternal on a SQL error (the failed
/// migration leaves nothing behind), kUnavailable when the database cannot be reached, and
/// kInvalidArgument when the schema is empty or the versions do not strictly increase.
[[nodiscard]] Result<int> Migrate(PgPool& pool, const MigrationSet& set);

}  // namespace idp::store
