#include "idp/audit/audit.hpp"

#include "idp/common/call_origin.hpp"
#include "idp/common/log.hpp"
#include "idp/store/pg.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace idp::audit {
namespace {

bool IsSchemaName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '_';
  });
}

std::string DetailJson(const Event& e) {
  boost::json::object o;
  for (const auto& [k, v] : e.detail) o[k] = v;
  return boost::json::serialize(o);
}

}  // namespace

Event WithCallOrigin(Event event) {
  const auto& origin = CurrentCallOrigin();
  if (event.source_address.empty()) event.source_address = origin.client_addr;
  if (event.user_agent.empty()) event.user_agent = origin.user_agent;
  if (event.request_id.empty()) event.request_id = log::CurrentRequestId();
  if (event.client_id.empty()) event.client_id = origin.client_id;
  event.source_address = SanitizeOriginField(event.source_address, kMaxClientAddrLength);
  event.user_agent = SanitizeOriginField(event.user_agent, kMaxUserAgentLength);
  return event;
}

AuditLog::AuditLog(store::PgPool& pool, std::string schema)
    : pool_(pool), schema_(std::move(schema)) {
  if (!IsSchemaName(schema_)) throw std::invalid_argument("audit: bad schema name");
}

Status AuditLog::Record(const Event& event) noexcept {
  try {
    Event e = WithCallOrigin(event);
    std::string detail = DetailJson(e);
    std::string sql = "INSERT INTO ";
    sql += schema_;
    sql +=
        ".audit (event, subject, client_id, source_address, user_agent, request_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)";
    auto st = pool_.Transact<void>([&](pqxx::work& tx) {
      tx.exec_params0(sql, e.event, e.subject, e.client_id, e.source_address, e.user_agent,
                      e.request_id, detail);
    });
    if (!st) {
      log::Error("audit record failed", {{"event", e.event}, {"error", st.error().message}});
    }
    return st;
  } catch (const std::exception& ex) {
    log::Error("audit record failed", {{"event", event.event}, {"error", ex.what()}});
    return Error{ErrorCode::kInternal, "audit record failed"};
  } catch (...) {
    return Error{ErrorCode::kInternal, "audit record failed"};
  }
}

Result<std::vector<Row>> AuditLog::List(const Query& query) {
  int limit = std::clamp(query.limit, 1, 1000);
  std::int64_t since_us = 0;
  bool has_since = query.since.has_value();
  if (has_since) {
    since_us = std::chrono::duration_cast<std::chrono::microseconds>(
                   query.since->time_since_epoch())
                   .count();
  }
  std::string prefix;
  std::string exact;
  if (!query.event.empty() && query.event.back() == '.') {
    prefix = query.event;
  } else {
    exact = query.event;
  }
  std::string sql =
      "SELECT id, (extract(epoch FROM at) * 1000000)::bigint, event, subject, client_id, "
      "source_address, user_agent, request_id, detail::text FROM ";
  sql += schema_;
  sql +=
      ".audit WHERE ($1 = '' OR subject = $1) AND ($2 = '' OR event = $2) "
      "AND ($3 = '' OR starts_with(event, $3)) "
      "AND (NOT $4 OR at >= to_timestamp($5::double precision / 1000000)) "
      "ORDER BY at DESC, id DESC LIMIT $6";
  return pool_.Run<std::vector<Row>>([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    std::vector<Row> rows;
    for (const auto& r : tx.exec_params(sql, query.subject, exact, prefix, has_since, since_us,
                                        limit)) {
      Row row;
      row.id = r[0].as<std::int64_t>();
      row.at = std::chrono::system_clock::time_point(
          std::chrono::microseconds(r[1].as<std::int64_t>()));
      row.event = r[2].as<std::string>();
      row.subject = r[3].as<std::string>();
      row.client_id = r[4].as<std::string>();
      row.source_address = r[5].as<std::string>();
      row.user_agent = r[6].as<std::string>();
      row.request_id = r[7].as<std::string>();
      // jsonb prints with spaces; give callers the compact form.
      boost::system::error_code ec;
      auto detail = boost::json::parse(r[8].as<std::string>(), ec);
      row.detail_json = ec ? std::string("{}") : boost::json::serialize(detail);
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

}  // namespace idp::audit
