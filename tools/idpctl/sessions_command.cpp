#include "sessions_command.hpp"

#include "audit_command.hpp"
#include "sessions.hpp"

#include "idp/common/config.hpp"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/status.hpp"
#include "idp/store/redis.hpp"
#include "idp/token/v1/token.grpc.pb.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <ctime>
#include <iostream>

namespace idp::idpctl {
namespace {

namespace json = boost::json;
using gateway::SessionStore;

std::string IsoSeconds(std::int64_t unix) {
  std::time_t t = static_cast<std::time_t>(unix);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::object SessionJson(const SessionStore::Indexed& s) {
  json::array amr;
  for (const auto& m : s.session.amr) amr.emplace_back(m);
  return {{"sid", s.session.sid},
          {"signed_in_at", IsoSeconds(s.session.auth_time)},
          {"created_at", IsoSeconds(s.session.created_at)},
          {"amr", std::move(amr)},
          {"acr", s.session.acr},
          {"address", s.session.address},
          {"user_agent", s.session.user_agent}};
}

void Prepare(grpc::ClientContext& ctx) {
  rpc::PrepareContext(ctx, "", std::chrono::seconds(10));
  rpc::AddCallOrigin(ctx, "", AdminAgent());
}

int Failed(const Error& e, const std::string& what) {
  std::cerr << "idpctl: sessions: " << what << ": " << e.ToString() << "\n";
  return 1;
}

}  // namespace

int RunSessions(const SessionsOptions& o, const Config& config) {
  if (o.username.empty() == o.subject.empty()) {
    std::cerr << "idpctl: sessions: give --username or --subject (one of them)\n";
    return 2;
  }
  std::string subject = o.subject;
  if (!o.username.empty()) {
    auto found = FindSubject(o.auth_target, o.username);
    if (!found) return Failed(found.error(), "user " + o.username);
    subject = *found;
  }

  // The gateway's own session store, configured as the gateway configures it.
  auto redis_options = store::ParseRedisUrl(gateway::SessionRedisUrl(config));
  if (!redis_options) return Failed(redis_options.error(), "redis.url");
  redis_options->pool_size = 1;
  store::RedisClient redis(*redis_options);
  boost::asio::thread_pool redis_pool(1);
  SessionStore sessions(redis, redis_pool, gateway::SessionPolicy::FromConfig(config));
  auto token = token::v1::TokenService::NewStub(rpc::MakeChannel(o.token_target));

  struct Outcome {
    std::vector<SessionStore::Indexed> live;
    int ended = 0;
    int grants_revoked = 0;
    int clients_notified = 0;
    std::optional<Error> error;
  };
  boost::asio::io_context io;
  auto work = [&]() -> boost::asio::awaitable<Outcome> {
    Outcome out;
    auto live = co_await sessions.SessionsOf(subject);
    if (!live) {
      out.error = live.error();
      co_return out;
    }
    out.live = std::move(*live);
    if (!o.revoke) co_return out;
    for (const auto& s : out.live) {
      // As signing out does: the grants first (and back-channel logout), then the session.
      grpc::ClientContext ctx;
      Prepare(ctx);
      token::v1::RevokeSessionRequest req;
      req.set_sid(s.session.sid);
      req.set_subject(subject);
      req.set_by_admin(true);
      token::v1::RevokeSessionResponse resp;
      auto st = token->RevokeSession(&ctx, req, &resp);
      if (!st.ok()) {
        out.error = rpc::FromGrpcStatus(st);
        co_return out;
      }
      Status deleted = co_await sessions.DeleteSessionById(s.id);
      if (!deleted) {
        out.error = deleted.error();
        co_return out;
      }
      ++out.ended;
      out.grants_revoked += resp.revoked();
      out.clients_notified += resp.notified();
    }
    co_return out;
  };
  auto future = boost::asio::co_spawn(io, work, boost::asio::use_future);
  io.run();
  Outcome out = future.get();
  redis_pool.join();
  if (out.error) {
    if (out.ended > 0) std::cerr << "idpctl: sessions: ended " << out.ended << " before the error\n";
    return Failed(*out.error, o.revoke ? "revoke" : "list");
  }

  const std::string who = o.username.empty() ? subject : o.username;
  if (o.revoke) {
    if (o.json) {
      std::cout << json::serialize(json::object{{"subject", subject},
                                                {"sessions_ended", out.ended},
                                                {"grants_revoked", out.grants_revoked},
                                                {"clients_notified", out.clients_notified}})
                << "\n";
    } else {
      std::cout << "ended " << out.ended << " session" << (out.ended == 1 ? "" : "s") << " of "
                << who << " (" << out.grants_revoked << " grants revoked, "
                << out.clients_notified << " applications notified)\n";
    }
    return 0;
  }
  if (o.json) {
    json::array list;
    for (const auto& s : out.live) list.emplace_back(SessionJson(s));
    std::cout << json::serialize(list) << "\n";
    return 0;
  }
  if (out.live.empty()) {
    std::cout << "(no sessions)\n";
    return 0;
  }
  for (const auto& s : out.live) {
    std::cout << IsoSeconds(s.session.auth_time) << "  sid=" << s.session.sid
              << "  from=" << (s.session.address.empty() ? "-" : s.session.address) << "  "
              << s.session.user_agent << "\n";
  }
  return 0;
}

}  // namespace idp::idpctl
