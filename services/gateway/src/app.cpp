#include "app.hpp"

#include "i18n.hpp"
#include "context.hpp"
#include "clients/grpc_clients.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/http/server.hpp"
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"
#include "idp/rpc/call_metrics.hpp"
#include "idp/phone/phone.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/pool_metrics.hpp"
#include "idp/store/redis.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>

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

  metrics::Registry registry;  // outlives everything that counts in it
  GatewayMetrics gateway_metrics(registry);
  rpc::CallMetrics client_metrics(registry, rpc::CallMetrics::Side::kClient);

  auto redis_options = store::ParseRedisUrl(SessionRedisUrl(config)).value();
  redis_options.pool_size = static_cast<std::size_t>(config.GetInt("gateway.redis_pool_size", 8));
  store::RedisClient redis(redis_options);
  // Blocking Redis calls run here, never on the io_context threads (DESIGN "Rules").
  boost::asio::thread_pool redis_pool(redis_options.pool_size);

  SessionStore sessions(redis, redis_pool, SessionPolicy::FromConfig(config));
  RateLimiter limiter(redis, redis_pool);

  UpstreamTargets targets{
      config.GetString("gateway.auth", config.GetString("auth.listen", "127.0.0.1:7001")),
      config.GetString("gateway.mfa", config.GetString("mfa.listen", "127.0.0.1:7002")),
      config.GetString("gateway.delivery",
                       config.GetString("delivery.listen", "127.0.0.1:7003")),
      config.GetString("gateway.token", config.GetString("token.listen", "127.0.0.1:7004"))};
  targets.client_cache_ttl = config.GetSeconds("gateway.client_cache_ttl", std::chrono::seconds(5));
  GrpcClients clients(targets, &client_metrics);
  store::ExportPoolMetrics(registry, {{"redis", [&redis] { return redis.Stats(); }}});

  GatewayConfig gc;
  gc.issuer = issuer;
  gc.origin = OriginOf(issuer);
  gc.secure_cookies = config.GetBool("gateway.secure_cookies", SecureOrigin(issuer));
  gc.product = config.GetString("gateway.product_name", "Identity");
  gc.require_mfa = config.GetBool("gateway.require_mfa", false);
  gc.login_failures_per_address =
      static_cast<int>(config.GetInt("gateway.login_failures_per_address", 30));
  gc.login_failures_per_network =
      static_cast<int>(config.GetInt("gateway.login_failures_per_network", 100));
  gc.limit_prefixes.v4 = static_cast<int>(config.GetInt("gateway.limit_prefix_v4", 24));
  gc.limit_prefixes.v6_host = static_cast<int>(config.GetInt("gateway.limit_prefix_v6_host", 64));
  gc.limit_prefixes.v6_site = static_cast<int>(config.GetInt("gateway.limit_prefix_v6_site", 48));
  for (int bits : {gc.limit_prefixes.v4, gc.limit_prefixes.v6_host, gc.limit_prefixes.v6_site}) {
    if (bits < 8 || bits > 128) throw std::runtime_error("gateway.limit_prefix_*: 8 to 128 bits");
  }
  if (gc.limit_prefixes.v4 > 32) throw std::runtime_error("gateway.limit_prefix_v4: 8 to 32 bits");
  gc.remember_days = static_cast<int>(config.GetInt("gateway.remember_days", 30));
  gc.token_requests_per_client =
      static_cast<int>(config.GetInt("gateway.token_requests_per_client", 3000));
  gc.hsts = config.GetString("gateway.hsts", "max-age=31536000");
  gc.logo_url = config.GetString("gateway.logo_url", "");
  gc.accent_color = config.GetString("gateway.accent_color", "");
  if (auto why = CheckAccentColor(gc.accent_color)) throw std::runtime_error("gateway.accent_color: " + *why);
  gc.default_language = PickLanguage(config.GetString("gateway.default_language", "en"), "", "", "en");
  // The same keys mfa reads: the form offers what mfa accepts.
  auto countries = phone::ParseRegionList(
      config.GetString("delivery.sms_countries", phone::kDefaultSmsCountries));
  if (!countries) throw std::runtime_error("delivery.sms_countries: " + countries.error().message);
  for (const auto& code : *countries) gc.sms_countries.push_back({code, phone::CountryName(code)});
  std::sort(gc.sms_countries.begin(), gc.sms_countries.end(),
            [](const CountryOption& a, const CountryOption& b) { return a.name < b.name; });
  for (char c : config.GetString("mfa.default_phone_region", "")) {
    gc.default_phone_region += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  gc.password_reset_per_address =
      static_cast<int>(config.GetInt("gateway.password_reset_per_address", 5));
  gc.password_reset_window =
      config.GetSeconds("gateway.password_reset_window", gc.password_reset_window);
  gc.password_reset_ttl = config.GetSeconds("auth.reset_ttl", gc.password_reset_ttl);
  gc.reauth_window = config.GetSeconds("gateway.reauth_window", gc.reauth_window);
  CookieNames cookies{gc.secure_cookies ? "__Host-idp_session" : "idp_session",
                      gc.secure_cookies ? "__Host-idp_browser" : "idp_browser",
                      gc.secure_cookies ? "__Host-idp_remember" : "idp_remember",
                      gc.secure_cookies ? "__Host-idp_lang" : "idp_lang"};
  Context ctx{gc,
              cookies,
              clients,
              clients,
              clients,
              clients,
              sessions,
              limiter,
              Pages(gc.product, gc.logo_url, !gc.accent_color.empty()),
              BuildDiscovery(issuer),
              {},
              {},
              0,
              &gateway_metrics};

  auto [host, port] = SplitHostPort(config.GetString("gateway.listen", "127.0.0.1:8080"));
  http::ServerOptions options;
  options.address = host;
  options.port = port;
  options.tls_cert_file = config.GetString("gateway.tls_cert_file", "");
  options.tls_key_file = config.GetString("gateway.tls_key_file", "");
  {
    std::vector<std::string> proxies;
    std::string list = config.GetString("gateway.trusted_proxies", "");
    for (std::size_t start = 0; start <= list.size();) {
      auto comma = list.find(',', start);
      proxies.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    auto parsed = http::TrustedProxies::Parse(proxies);
    if (!parsed) throw std::runtime_error("gateway.trusted_proxies: " + parsed.error().message);
    options.trusted_proxies = std::move(*parsed);
  }

  boost::asio::io_context ioc;
  http::Server server(ioc, options,
                      [&ctx](http::Request& req) { return DispatchObserved(ctx, req); });
  server.Start();
  // /metrics on a listener of its own (gateway.metrics_listen, loopback by default in
  // deploy/idp.toml), never on the public one: the numbers describe traffic and backends.
  // Ready while serving and until shutdown begins (the public /readyz also checks backends).
  std::atomic<bool> serving{true};
  auto exporter = metrics::StartExporter(config, "gateway.metrics_listen", registry,
                                         [&serving] { return serving.load(); });
  log::Info("serving", {{"port", static_cast<std::int64_t>(server.port())}, {"issuer", issuer}});

  auto threads = static_cast<int>(
      config.GetInt("gateway.threads", std::max(2u, std::thread::hardware_concurrency())));
  auto guard = boost::asio::make_work_guard(ioc);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });

  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  // Stop accepting, let in-flight requests finish, then stop the loop.
  serving = false;
  server.Stop();
  guard.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ioc.stop();
  for (auto& t : workers) t.join();
  redis_pool.join();
  if (exporter) exporter->Stop();
  return 0;
}

}  // namespace idp::gateway
