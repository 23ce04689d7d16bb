#include "audit_command.hpp"

#include "idp/auth/v1/auth.grpc.pb.h"
#include "idp/mfa/v1/mfa.grpc.pb.h"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/status.hpp"
#include "idp/token/v1/token.grpc.pb.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <vector>

namespace idp::idpctl {
namespace {

namespace json = boost::json;
using common::v1::AuditEvent;

constexpr auto kDeadline = std::chrono::seconds(10);

void Prepare(grpc::ClientContext& ctx) {
  rpc::PrepareContext(ctx, "", kDeadline);
  rpc::AddCallOrigin(ctx, "", AdminAgent());
}

int Failed(const grpc::Status& st, const std::string& what) {
  std::cerr << "idpctl: audit: " << what << ": " << rpc::FromGrpcStatus(st).ToString() << "\n";
  return 1;
}

template <class Req>
void Fill(Req& req, const std::string& subject, const AuditOptions& o, std::int64_t since_us) {
  req.set_subject(subject);
  req.set_event(o.event);
  req.set_since_unix_micros(since_us);
  req.set_limit(o.limit);
}

/// Appends the rows of one service (its ListAuditEvents; each package has its own messages with
/// the same fields) to `rows`.
template <class Service, class Req, class Resp>
grpc::Status AppendRows(const std::string& target, const std::string& subject,
                        const AuditOptions& o, std::int64_t since_us,
                        std::vector<AuditEvent>& rows) {
  auto stub = Service::NewStub(rpc::MakeChannel(target));
  grpc::ClientContext ctx;
  Prepare(ctx);
  Req req;
  Fill(req, subject, o, since_us);
  Resp resp;
  auto st = stub->ListAuditEvents(&ctx, req, &resp);
  if (st.ok()) rows.insert(rows.end(), resp.events().begin(), resp.events().end());
  return st;
}

std::string IsoTime(std::int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  std::string ms = std::to_string((micros / 1000) % 1000);
  out += '.';
  out += std::string(3 - ms.size(), '0');
  out += ms;
  out += 'Z';
  return out;
}

json::object RowJson(const AuditEvent& e) {
  json::value detail = json::object{};
  boost::system::error_code ec;
  auto parsed = json::parse(e.detail_json(), ec);
  if (!ec && parsed.is_object()) detail = std::move(parsed);
  return {{"time", IsoTime(e.at_unix_micros())},
          {"service", e.service()},
          {"event", e.event()},
          {"subject", e.subject()},
          {"client_id", e.client_id()},
          {"source_address", e.source_address()},
          {"user_agent", e.user_agent()},
          {"request_id", e.request_id()},
          {"detail", std::move(detail)}};
}

}  // namespace

std::string AdminAgent() {
  const char* user = std::getenv("USER");
  std::string agent = "idpctl (";
  agent += (user != nullptr && *user != '\0') ? user : "unknown";
  agent += ')';
  return agent;
}

Result<std::string> FindSubject(const std::string& auth_target, const std::string& username) {
  auto auth = auth::v1::AuthService::NewStub(rpc::MakeChannel(auth_target));
  grpc::ClientContext ctx;
  Prepare(ctx);
  auth::v1::FindUserRequest req;
  req.set_username(username);
  auth::v1::FindUserResponse resp;
  auto st = auth->FindUser(&ctx, req, &resp);
  if (!st.ok()) return rpc::FromGrpcStatus(st);
  return resp.user().subject();
}

std::optional<std::chrono::seconds> ParseSince(std::string_view text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  switch (text.back()) {
    case 's': return std::chrono::seconds(n);
    case 'm': return std::chrono::seconds(n * 60);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'd': return std::chrono::seconds(n * 86400);
    default: return std::nullopt;
  }
}

int RunAudit(const AuditOptions& o) {
  if (!o.username.empty() && !o.subject.empty()) {
    std::cerr << "idpctl: audit: give --username or --subject, not both\n";
    return 2;
  }
  if (o.limit < 1 || o.limit > 1000) {
    std::cerr << "idpctl: audit: --limit must be 1 to 1000\n";
    return 2;
  }
  std::int64_t since_us = 0;
  if (!o.since.empty()) {
    auto back = ParseSince(o.since);
    if (!back) {
      std::cerr << "idpctl: audit: --since must be a number and a unit: 90s, 15m, 1h, 7d\n";
      return 2;
    }
    since_us = std::chrono::duration_cast<std::chrono::microseconds>(
                   (std::chrono::system_clock::now() - *back).time_since_epoch())
                   .count();
  }

  std::string subject = o.subject;
  if (!o.username.empty()) {
    auto found = FindSubject(o.auth_target, o.username);
    if (!found) {
      std::cerr << "idpctl: audit: user " << o.username << ": " << found.error().ToString() << "\n";
      return 1;
    }
    subject = *found;
  }

  std::vector<AuditEvent> rows;
  auto st = AppendRows<auth::v1::AuthService, auth::v1::ListAuditEventsRequest,
                       auth::v1::ListAuditEventsResponse>(o.auth_target, subject, o, since_us, rows);
  if (!st.ok()) return Failed(st, "auth");
  st = AppendRows<mfa::v1::MfaService, mfa::v1::ListAuditEventsRequest,
                  mfa::v1::ListAuditEventsResponse>(o.mfa_target, subject, o, since_us, rows);
  if (!st.ok()) return Failed(st, "mfa");
  st = AppendRows<token::v1::TokenService, token::v1::ListAuditEventsRequest,
                  token::v1::ListAuditEventsResponse>(o.token_target, subject, o, since_us, rows);
  if (!st.ok()) return Failed(st, "token");

  // Oldest first, like a log; each service gave its newest `limit`, so keep the newest overall.
  std::stable_sort(rows.begin(), rows.end(), [](const AuditEvent& a, const AuditEvent& b) {
    return a.at_unix_micros() < b.at_unix_micros();
  });
  if (rows.size() > static_cast<std::size_t>(o.limit)) {
    rows.erase(rows.begin(), rows.end() - o.limit);
  }

  if (o.json) {
    json::array out;
    for (const auto& e : rows) out.emplace_back(RowJson(e));
    std::cout << json::serialize(out) << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cout << "(no audit events)\n";
    return 0;
  }
  for (const auto& e : rows) {
    std::cout << IsoTime(e.at_unix_micros()) << "  " << e.service() << "  " << e.event()
              << "  subject=" << (e.subject().empty() ? "-" : e.subject())
              << "  client=" << (e.client_id().empty() ? "-" : e.client_id())
              << "  from=" << (e.source_address().empty() ? "-" : e.source_address())
              << "  " << e.detail_json() << "\n";
  }
  return 0;
}

}  // namespace idp::idpctl
