#pragma once
/// @file The audit log that auth, mfa and token each keep in their own schema (`<schema>.audit`,
/// created by libs/audit/sql/audit.sql, which each service embeds in its migrations). Rows are
/// append-only (PostgreSQL triggers refuse UPDATE, DELETE, TRUNCATE). Nothing secret goes in:
/// callers put names, ids and counts in `detail`, never a password, a code or a token.

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace idp::store {
class PgPool;
}

namespace idp::audit {

/// One event to record. Empty origin fields are filled from the current call (rpc::Serve sets
/// the thread's request id and the browser's address and user agent).
struct Event {
  std::string event;           ///< dotted lower-case name, e.g. "signin.failure"
  std::string subject;         ///< the person concerned, "" when unknown
  std::string client_id;       ///< the OAuth client ("" = the call's, when the gateway sent one)
  std::string source_address;  ///< browser address ("" = from the call's metadata)
  std::string user_agent;      ///< browser user agent ("" = from the call's metadata)
  std::string request_id;      ///< "" = the thread's current request id
  /// Extra facts as name/value pairs (stored as a JSON object of strings). Never a secret.
  std::vector<std::pair<std::string, std::string>> detail;
};

/// A recorded event.
struct Row {
  std::int64_t id = 0;
  std::chrono::system_clock::time_point at;
  std::string event, subject, client_id, source_address, user_agent, request_id;
  std::string detail_json;  ///< the JSON object as text
};

/// What ListEvents returns: every filter that is set must match.
struct Query {
  std::string subject;  ///< "" = any
  std::string event;    ///< "" = any; exact name, or a prefix ending in '.' ("signin.")
  std::optional<std::chrono::system_clock::time_point> since;
  int limit = 100;      ///< newest first; clamped to [1, 1000]
};

/// The audit table of one schema. Thread-safe (the pool is).
class AuditLog {
 public:
  /// `schema` is the service's own schema ("auth", "mfa", "token"); the pool must outlive this.
  AuditLog(store::PgPool& pool, std::string schema);

  /// Inserts `event` in its own statement. A failure is logged as an error (with the event
  /// name, never the detail) and returned; the caller's operation carries on regardless, so
  /// that an audit outage never changes what a person sees (docs/operations.md).
  Status Record(const Event& event) noexcept;

  /// The newest events matching `query`, newest first.
  [[nodiscard]] Result<std::vector<Row>> List(const Query& query);

  const std::string& schema() const { return schema_; }

 private:
  store::PgPool& pool_;
  std::string schema_;
};

/// `event` with its empty origin fields (source address, user agent, request id) taken from the
/// current call. Exposed for tests.
Event WithCallOrigin(Event event);

}  // namespace idp::audit
