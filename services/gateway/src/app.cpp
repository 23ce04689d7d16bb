#include "app.hpp"

#include "context.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/http/server.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/redis.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <thread>

namespace idp::gateway {
namespace {

/// Browsers honour Secure cookies on https and on http://localhost (a secure context).
bool SecureOrigin(const std::string& issuer) {
  return issuer.rfind("https://", 0) == 0 || issuer.rfind("http://localhost", 0) == 0 ||
         issuer.rfind("http://127.0.0.1", 0) == 0 || issuer.rfind("http://[::1]", 0) == 0;
}

std::pair<std::string, std::uint16_t> SplitHostPort(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("gateway.listen must be host:port");
  auto host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)))};
}

}  // namespace

int RunApp(const Config& config) {
  std::string issuer = config.RequireString("issuer");
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();

  auto redis_options =
      store::ParseRedisUrl(config.GetString("gateway.redis_url", config.RequireString("redis.url")))
          .value();
  redis_options.pool_size = static_cast<std::size_t>(config.GetInt("gateway.redis_pool_size", 8));
  store::RedisClient redis(redis_options);
  // Blocking Redis calls run here, never on the io_context threads (DESIGN "Rules").
  boost::asio::thread_pool redis_pool(redis_options.pool_size);

  SessionPolicy policy;
  policy.idle = config.GetSeconds("gateway.session_idle", policy.idle);
  policy.absolute = config.GetSeconds("gateway.session_absolute", policy.absolute);
  SessionStore sessions(redis, redis_pool, policy);
  RateLimiter limiter(redis, redis_pool);

  UpstreamTargets targets{
      config.GetString("gateway.auth", config.GetString("auth.listen", "127.0.0.1:7001")),
      config.GetString("gateway.mfa", config.GetString("mfa.listen", "127.0.0.1:7002")),
      config.GetString("gateway.delivery",
                       config.GetString("delivery.listen", "127.0.0.1:7003")),
      config.GetString("gateway.token", config.GetString("token.listen", "127.0.0.1:7004"))};
  Upstreams upstreams(targets);

  GatewayConfig gc;
  gc.issuer = issuer;
  gc.secure_cookies = config.GetBool("gateway.secure_cookies", SecureOrigin(issuer));
  gc.product = config.GetString("gateway.product_name", "Identity");
  gc.require_mfa = config.GetBool("gateway.require_mfa", false);
  gc.login_failures_per_address =
      static_cast<int>(config.GetInt("gateway.login_failures_per_address", 30));
  gc.remember_days = static_cast<int>(config.GetInt("gateway.remember_days", 30));
  gc.password_reset_per_address =
      static_cast<int>(config.GetInt("gateway.password_reset_per_address", 5));
  gc.password_reset_window =
      config.GetSeconds("gateway.password_reset_window", gc.password_reset_window);
  CookieNames cookies{gc.secure_cookies ? "__Host-idp_session" : "idp_session",
                      gc.secure_cookies ? "__Host-idp_browser" : "idp_browser",
                      gc.secure_cookies ? "__Host-idp_remember" : "idp_remember"};
  Context ctx{gc,      cookies, upstreams, sessions, limiter, Pages(gc.product), BuildDiscovery(issuer),
              {},      {},      0};

  auto [host, port] = SplitHostPort(config.GetString("gateway.listen", "127.0.0.1:8080"));
  http::ServerOptions options;
  options.address = host;
  options.port = port;
  options.tls_cert_file = config.GetString("gateway.tls_cert_file", "");
  options.tls_key_file = config.GetString("gateway.tls_key_file", "");

  boost::asio::io_context ioc;
  http::Server server(ioc, options, [&ctx](http::Request& req) { return Dispatch(ctx, req); });
  server.Start();
  log::Info("serving", {{"port", static_cast<std::int64_t>(server.port())}, {"issuer", issuer}});

  auto threads = static_cast<int>(
      config.GetInt("gateway.threads", std::max(2u, std::thread::hardware_concurrency())));
  auto guard = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });

  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  // Stop accepting, let in-flight requests finish, then stop the loop.
  server.Stop();
  guard.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ioc.stop();
  for (auto& t : workers) t.join();
  redis_pool.join();
  return 0;
}

}  // namespace idp::gateway
