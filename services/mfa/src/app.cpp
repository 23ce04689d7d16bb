#include "app.hpp"

#include "challenge_store.hpp"
#include "delivery_client.hpp"
#include "factor_store.hpp"
#include "grpc_handler.hpp"
#include "mfa_migrations.hpp"
#include "mfa_service.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"
#include "idp/phone/phone.hpp"
#include "idp/rpc/server.hpp"
#include "idp/rpc/call_metrics.hpp"
#include "idp/store/pool_metrics.hpp"
#include "idp/store/pg.hpp"
#include "idp/store/redis.hpp"

namespace idp::mfa {

int RunApp(const Config& config) {
  // The master key seals factor secrets at rest; there is no default.
  auto master = crypto::Aead::FromEncodedKey(config.RequireString("master_key"));
  if (!master) throw std::runtime_error("IDP_MASTER_KEY must be 32 bytes (hex or base64)");

  metrics::Registry registry;  // outlives the server, channel and exporter that use it
  rpc::CallMetrics client_metrics(registry, rpc::CallMetrics::Side::kClient);
  store::PgPool pool({config.GetString("mfa.postgres_dsn", config.RequireString("postgres.dsn")),
                      static_cast<std::size_t>(config.GetInt("mfa.pool_size", 8))});
  int applied = store::Migrate(pool, Migrations()).value();
  log::Info("schema migrated", {{"schema", "mfa"}, {"applied", applied}});

  auto redis_options =
      store::ParseRedisUrl(config.GetString("mfa.redis_url", config.RequireString("redis.url")))
          .value();
  store::RedisClient redis(redis_options);

  MfaPolicy policy;
  policy.issuer_name = config.GetString("gateway.product_name", "Identity");
  policy.challenge_tries = static_cast<int>(config.GetInt("mfa.challenge_tries", 5));
  policy.person_failures = static_cast<int>(config.GetInt("mfa.person_failures", 10));
  policy.failure_window = config.GetSeconds("mfa.failure_window", std::chrono::seconds(900));
  policy.keep_two_methods = config.GetBool("mfa.keep_two_methods", false);
  // One list for every service: delivery refuses other countries, mfa names them first.
  auto countries = phone::ParseRegionList(
      config.GetString("delivery.sms_countries", phone::kDefaultSmsCountries));
  if (!countries) throw std::runtime_error("delivery.sms_countries: " + countries.error().message);
  policy.sms_countries = std::move(*countries);
  policy.default_phone_region = config.GetString("mfa.default_phone_region", "");
  for (auto& c : policy.default_phone_region) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (!policy.default_phone_region.empty() && !phone::IsSupportedRegion(policy.default_phone_region)) {
    throw std::runtime_error("mfa.default_phone_region (IDP_MFA_DEFAULT_PHONE_REGION) must be an "
                             "ISO 3166 country code such as NL");
  }

  SystemClock clock;
  PgFactorStore factors(pool);
  ChallengeStore challenges(redis, std::chrono::seconds(600));
  auto delivery = MakeGrpcDeliveryClient(
      config.GetString("mfa.delivery", config.GetString("delivery.listen", "127.0.0.1:7003")),
      &client_metrics);
  BrowserStore browsers(pool);
  audit::AuditLog audit_log(pool, "mfa");
  MfaService service(factors, challenges, *delivery, browsers, std::move(*master), clock, policy,
                     &audit_log);
  MfaGrpcHandler handler(service, &audit_log);
  store::ExportPoolMetrics(registry, {{"postgres", [&pool] { return pool.Stats(); }},
                                      {"redis", [&redis] { return redis.Stats(); }}});
  rpc::ServerOptions options{config.GetString("mfa.listen", "127.0.0.1:7002")};
  options.metrics = &registry;
  rpc::GrpcServer server(options, {&handler});
  auto exporter = metrics::StartExporter(config, "mfa.metrics_listen", registry,
                                         [&server] { return server.serving(); });
  log::Info("serving", {{"port", server.port()}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  if (exporter) exporter->Stop();
  return 0;
}

}  // namespace idp::mfa
