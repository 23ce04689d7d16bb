#include "app.hpp"

#include "factor_store.hpp"
#include "grpc_handler.hpp"
#include "mfa_migrations.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/pg.hpp"

namespace idp::mfa {

int RunApp(const Config& config) {
  store::PgPool pool({config.GetString("mfa.postgres_dsn", config.RequireString("postgres.dsn")),
                      static_cast<std::size_t>(config.GetInt("mfa.pool_size", 8))});
  int applied = store::Migrate(pool, Migrations()).value();
  log::Info("schema migrated", {{"schema", "mfa"}, {"applied", applied}});

  PgFactorStore factors(pool);
  MfaGrpcHandler handler(factors);
  rpc::GrpcServer server({config.GetString("mfa.listen", "127.0.0.1:7002"),
                          static_cast<int>(config.GetInt("mfa.max_threads", 32))},
                         {&handler});
  log::Info("serving", {{"port", server.port()}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  return 0;
}

}  // namespace idp::mfa
