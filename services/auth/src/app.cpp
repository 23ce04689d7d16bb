#include "app.hpp"

#include "auth_migrations.hpp"
#include "auth_service.hpp"
#include "grpc_handler.hpp"
#include "mailer.hpp"
#include "password_service.hpp"
#include "password_token_store.hpp"
#include "pg_account_store.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/pool_metrics.hpp"
#include "idp/store/pg.hpp"

#include <algorithm>
#include <thread>

namespace idp::auth {

int RunApp(const Config& config) {
  metrics::Registry registry;  // outlives the server and the exporter that use it
  store::PgPool pool({config.GetString("auth.postgres_dsn", config.RequireString("postgres.dsn")),
                      static_cast<std::size_t>(config.GetInt("auth.pool_size", 8))});
  int applied = store::Migrate(pool, Migrations()).value();
  log::Info("schema migrated", {{"schema", "auth"}, {"applied", applied}});

  crypto::PasswordHashParams params;
  params.ops_limit = static_cast<std::uint64_t>(config.GetInt("auth.argon2_t", 2));
  params.mem_limit = static_cast<std::size_t>(config.GetInt("auth.argon2_m_kib", 19 * 1024)) * 1024;
  if (params.ops_limit < 2 || params.mem_limit < 19u * 1024 * 1024) {
    throw std::runtime_error("auth.argon2_t >= 2 and auth.argon2_m_kib >= 19456 (OWASP minimum)");
  }
  // Argon2id computations at once: each holds argon2_m_kib of memory, and beyond one per core
  // they only share the cores, so a burst of sign-ins waits its turn instead of growing memory.
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t hash_concurrency = config.GetInt("auth.hash_concurrency", cores);
  if (hash_concurrency < 1 || hash_concurrency > 1024) {
    throw std::runtime_error("auth.hash_concurrency must be 1 to 1024");
  }
  crypto::LimitConcurrentPasswordHashes(static_cast<unsigned>(hash_concurrency));
  const std::vector<std::string> no_labels;
  auto& hashes_running =
      registry.AddGauge("idp_auth_password_hashes_running", "Argon2id computations running now.")
          .WithLabels(no_labels);
  auto& hashes_waiting =
      registry
          .AddGauge("idp_auth_password_hashes_waiting",
                    "Argon2id computations waiting for a turn (auth.hash_concurrency).")
          .WithLabels(no_labels);
  registry.OnCollect([&hashes_running, &hashes_waiting] {
    const auto load = crypto::CurrentPasswordHashLoad();
    hashes_running.Set(load.running);
    hashes_waiting.Set(load.waiting);
  });

  PgAccountStore store(pool);
  LockoutPolicy lockout;
  lockout.pair_limit = static_cast<int>(config.GetInt("auth.lockout_pair_failures", 10));
  lockout.pair_window = config.GetSeconds("auth.lockout_pair_window", lockout.pair_window);
  lockout.account_limit = static_cast<int>(config.GetInt("auth.lockout_account_failures", 100));
  lockout.account_window = config.GetSeconds("auth.lockout_account_window", lockout.account_window);
  lockout.lock = config.GetSeconds("auth.lockout_duration", lockout.lock);
  // auth asks delivery to email the password links and the lockout notice.
  auto mailer = MakeGrpcMailer(
      config.GetString("auth.delivery", config.GetString("delivery.listen", "127.0.0.1:7003")));
  AuthService service(store, params, lockout);
  service.SetMailer(mailer.get());
  audit::AuditLog audit_log(pool, "auth");
  service.SetAuditLog(&audit_log);

  // Password self-service: auth owns the tokens and emails the links, so a token never passes
  // through the gateway except in the link the person clicks.
  PasswordServiceSettings password_settings;
  password_settings.issuer = config.GetString("issuer", "http://localhost:8080");
  password_settings.reset_ttl = config.GetSeconds("auth.reset_ttl", password_settings.reset_ttl);
  password_settings.invite_ttl = config.GetSeconds("auth.invite_ttl", password_settings.invite_ttl);
  if (password_settings.reset_ttl.count() <= 0 || password_settings.reset_ttl.count() > 86400 ||
      password_settings.invite_ttl.count() <= 0 ||
      password_settings.invite_ttl.count() > 30 * 86400) {
    throw std::runtime_error("auth.reset_ttl must be 1 s to 1 day, auth.invite_ttl 1 s to 30 days");
  }
  PgPasswordTokenStore tokens(pool);
  PasswordService passwords(service, store, tokens, *mailer, params, password_settings,
                            [](const Account&, const std::string& password) {
                              return PasswordProblemOf(password);
                            });
  AuthGrpcHandler handler(service, passwords, &audit_log);
  store::ExportPoolMetrics(registry, {{"postgres", [&pool] { return pool.Stats(); }}});
  rpc::ServerOptions options{config.GetString("auth.listen", "127.0.0.1:7001"),
                             static_cast<int>(config.GetInt("auth.max_threads", 32))};
  options.metrics = &registry;
  rpc::GrpcServer server(options, {&handler});
  auto exporter = metrics::StartExporter(config, "auth.metrics_listen", registry,
                                         [&server] { return server.serving(); });
  log::Info("serving", {{"port", server.port()}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  if (exporter) exporter->Stop();
  return 0;
}

}  // namespace idp::auth
