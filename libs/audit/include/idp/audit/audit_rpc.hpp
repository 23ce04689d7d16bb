#pragma once
/// @file The ListAuditEvents RPC body shared by auth, mfa and token: each package has its own
/// request/response messages with the same fields, so this is a template. Include only in a
/// service's gRPC handler.

#include "idp/audit/audit.hpp"
#include "idp/common/v1/common.pb.h"

namespace idp::audit {

/// The query of a ListAuditEventsRequest (fields subject, event, since_unix_micros, limit).
Query QueryOf(const std::string& subject, const std::string& event,
              std::int64_t since_unix_micros, std::int32_t limit);

/// Copies `row` into `out`, naming the recording service (`log.schema()`).
void ToProto(const Row& row, const std::string& service, common::v1::AuditEvent* out);

/// Serves ListAuditEvents from `log`.
template <class Req, class Resp>
Status ListAuditEvents(AuditLog& log, const Req& req, Resp* resp) {
  auto rows = log.List(QueryOf(req.subject(), req.event(), req.since_unix_micros(), req.limit()));
  if (!rows) return rows.error();
  for (const auto& row : *rows) ToProto(row, log.schema(), resp->add_events());
  return {};
}

}  // namespace idp::audit
