#include "app.hpp"

#include "caching_client_store.hpp"
#include "client_config.hpp"
#include "code_store.hpp"
#include "grant_store.hpp"
#include "logout_notifier.hpp"
#include "grpc_handler.hpp"
#include "key_ring.hpp"
#include "pg_client_store.hpp"
#include "token_migrations.hpp"
#include "token_service.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/pool_metrics.hpp"
#include "idp/store/pg.hpp"
#include "idp/store/redis.hpp"

namespace idp::token {

int RunApp(const Config& config) {
  // The master key seals the private signing keys; there is no default (SECURITY: safe defaults).
  auto master = crypto::Aead::FromEncodedKey(config.RequireString("master_key"));
  if (!master) throw std::runtime_error("IDP_MASTER_KEY must be 32 bytes (hex or base64)");

  metrics::Registry registry;  // outlives the server and the exporter that use it
  store::PgPool pool({config.GetString("token.postgres_dsn", config.RequireString("postgres.dsn")),
                      static_cast<std::size_t>(config.GetInt("token.pool_size", 16))});
  int applied = store::Migrate(pool, Migrations()).value();
  log::Info("schema migrated", {{"schema", "token"}, {"applied", applied}});

  auto redis_options =
      store::ParseRedisUrl(config.GetString("token.redis_url", config.RequireString("redis.url")))
          .value();
  redis_options.pool_size = static_cast<std::size_t>(config.GetInt("token.redis_pool_size", 16));
  store::RedisClient redis(redis_options);

  KeyPolicy key_policy;
  key_policy.publish_ahead = config.GetSeconds("token.key_publish_ahead", std::chrono::seconds(60));
  key_policy.keep_published =
      config.GetSeconds("token.key_keep_published", std::chrono::seconds(24 * 3600));
  KeyRing keys(pool, std::move(*master), key_policy);
  keys.EnsureKeys({jose::Alg::kRS256, jose::Alg::kES256, jose::Alg::kEdDSA}).value();

  TokenConfig tc;
  tc.issuer = config.RequireString("issuer");
  tc.code_ttl = config.GetSeconds("token.code_ttl", std::chrono::seconds(60));
  tc.access_token_ttl = config.GetSeconds("token.access_token_ttl", std::chrono::seconds(600));
  tc.id_token_ttl = config.GetSeconds("token.id_token_ttl", std::chrono::seconds(600));
  tc.refresh_token_ttl =
      config.GetSeconds("token.refresh_token_ttl", std::chrono::seconds(30 * 24 * 3600));
  const auto at_alg_name = config.GetString("token.access_token_alg", "ES256");
  auto at_alg = jose::ParseAlg(at_alg_name);
  if (!at_alg) throw std::runtime_error("token.access_token_alg must be ES256, RS256 or EdDSA");
  tc.access_token_alg = *at_alg;

  SystemClock clock;
  PgClientStore pg_clients(pool);
  // Token requests read their client from here; a change made through another instance is
  // seen within the TTL (docs/operations.md).
  CachingClientStore clients(
      pg_clients, config.GetSeconds("token.client_cache_ttl", std::chrono::seconds(5)));
  RedisCodeStore codes(redis);
  PgGrantStore grants(pool);
  TokenService service(clients, codes, grants, keys, clock, tc);
  audit::AuditLog audit_log(pool, "token");
  // Clients declared in the file are applied before serving, so the first request sees them;
  // before the audit log is set, so that a start does not audit them as an admin's change.
  auto configured = ClientsFromConfig(config);
  if (!configured) throw std::runtime_error(configured.error().message);
  auto seeded = ApplyConfiguredClients(service, *configured);
  if (!seeded) throw std::runtime_error(seeded.error().message);
  if (*seeded) log::Info("configured clients applied", {{"count", *seeded}});
  service.SetAuditLog(&audit_log);
  HttpLogoutNotifier notifier(keys, tc.issuer);
  service.SetLogoutNotifier(&notifier);
  TokenGrpcHandler handler(service, &audit_log);
  store::ExportPoolMetrics(registry, {{"postgres", [&pool] { return pool.Stats(); }},
                                      {"redis", [&redis] { return redis.Stats(); }}});
  rpc::ServerOptions options{config.GetString("token.listen", "127.0.0.1:7004")};
  options.metrics = &registry;
  rpc::GrpcServer server(options, {&handler});
  auto exporter = metrics::StartExporter(config, "token.metrics_listen", registry,
                                         [&server] { return server.serving(); });
  log::Info("serving", {{"port", server.port()}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  if (exporter) exporter->Stop();
  return 0;
}

}  // namespace idp::token
