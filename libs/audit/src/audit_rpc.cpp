#include "idp/audit/audit_rpc.hpp"

namespace idp::audit {

Query QueryOf(const std::string& subject, const std::string& event,
              std::int64_t since_unix_micros, std::int32_t limit) {
  Query q;
  q.subject = subject;
  q.event = event;
  if (since_unix_micros > 0) {
    q.since = std::chrono::system_clock::time_point(std::chrono::microseconds(since_unix_micros));
  }
  q.limit = limit <= 0 ? 100 : limit;
  return q;
}

void ToProto(const Row& row, const std::string& service, common::v1::AuditEvent* out) {
  out->set_id(row.id);
  out->set_at_unix_micros(
      std::chrono::duration_cast<std::chrono::microseconds>(row.at.time_since_epoch()).count());
  out->set_event(row.event);
  out->set_subject(row.subject);
  out->set_client_id(row.client_id);
  out->set_source_address(row.source_address);
  out->set_user_agent(row.user_agent);
  out->set_request_id(row.request_id);
  out->set_detail_json(row.detail_json);
  out->set_service(service);
}

}  // namespace idp::audit
