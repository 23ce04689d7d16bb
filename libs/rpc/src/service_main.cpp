#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/rpc/server.hpp"
#include "idp/rpc/tls.hpp"

#include <absl/synchronization/mutex.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace idp::rpc {

int ServiceMain(int argc, char** argv, std::string_view service,
                const std::function<int(const Config&)>& run) {
  BlockShutdownSignals();
  // Debian builds abseil without NDEBUG, so every absl::Mutex that gRPC takes also updates a
  // global lock-order graph to detect deadlocks: 2-3 % of a service's CPU under load, for a
  // debugging aid. Off, as in abseil's release builds.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string path;
  if (const char* env = std::getenv("IDP_CONFIG")) path = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else {
      std::fprintf(stderr, "usage: %s [--config PATH]\n", argv[0]);
      return 2;
    }
  }
  try {
    Config config = Config::Load(path);
    log::Init(service, config.GetString("log.level", "info"));
    crypto::Init();
    // Every server and channel of the process uses it (mutual TLS, or plaintext when unset).
    SetDefaultTls(LoadTlsConfig(config));
    if (DefaultTls().enabled()) {
      log::Info("gRPC between services uses mutual TLS");
    } else {
      log::Info("gRPC between services is plaintext (rpc.tls_* unset)");
    }
    int rc = run(config);
    log::Info("stopped", {{"exit_code", rc}});
    log::Flush();
    return rc;
  } catch (const std::exception& e) {
    log::Init(service);
    log::Error("fatal", {{"error", e.what()}});
    log::Flush();
    return 1;
  }
}

}  // namespace idp::rpc
