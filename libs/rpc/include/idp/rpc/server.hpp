#pragma once
/// @file gRPC server bootstrap for the backend services: the standard grpc.health.v1 service,
/// request ids from metadata, graceful stop on SIGTERM/SIGINT. A service's methods are on the
/// callback API (ServeUnary: run on gRPC's own polling threads, no hand-off; token, mfa,
/// delivery) or, when they hold a thread for long, on the sync API (Serve: a bounded pool of
/// handler threads; auth, whose calls hash passwords).

#include "idp/common/call_origin.hpp"
#include "idp/common/error.hpp"
#include "idp/common/log.hpp"
#include "idp/rpc/status.hpp"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace idp::metrics {
class Registry;
}

namespace idp::rpc {

struct TlsConfig;
class CallMetrics;

/// The metadata key that carries the request id from the gateway through every hop.
inline constexpr std::string_view kRequestIdKey = "x-request-id";

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  ///< host:port; port 0 picks a free one
  int max_threads = 32;  ///< handler threads of sync-API methods (ResourceQuota::SetMaxThreads)
  std::chrono::seconds shutdown_grace{5};
  /// When set, every call is counted and timed there (idp_grpc_server_*, call_metrics.hpp).
  metrics::Registry* metrics = nullptr;
  /// Mutual TLS; null means the process default (DefaultTls(), plaintext when not enabled).
  const TlsConfig* tls = nullptr;
};

/// A running gRPC server with the health service. Thread-safe.
class GrpcServer {
 public:
  /// Builds and starts the server. Throws std::runtime_error when it cannot bind.
  GrpcServer(const ServerOptions& options, const std::vector<grpc::Service*>& services);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  /// The bound port.
  int port() const { return port_; }
  /// Marks the health service SERVING or NOT_SERVING (overall and per service name).
  void SetServing(bool serving);
  /// Reports NOT_SERVING, then stops: in-flight calls get `shutdown_grace` to finish.
  void Shutdown();
  /// What the health service reports (SERVING after start, NOT_SERVING from Shutdown on), for
  /// the HTTP /readyz beside /metrics.
  bool serving() const { return serving_.load(); }

 private:
  std::unique_ptr<CallMetrics> call_metrics_;
  std::atomic<bool> serving_{false};
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  std::chrono::seconds grace_;
  int port_ = 0;
};

/// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later. Call first
/// thing in main(), before any thread exists.
void BlockShutdownSignals();
/// Waits for SIGTERM or SIGINT (blocked by BlockShutdownSignals) and returns its number.
int WaitForShutdownSignal();

/// The request id sent by the caller, or a new one when absent or malformed.
std::string RequestIdFrom(const grpc::ServerContextBase& context);

/// The caller's origin from `x-idp-client-addr` / `x-idp-user-agent` / `x-idp-client-id` metadata, bounded in
/// length and stripped of control characters (empty fields when absent).
CallOrigin CallOriginFrom(const grpc::ServerContextBase& context);

/// Serves one call: sets the thread's request id and call origin (idp/common/call_origin.hpp), runs `fn`, logs the outcome and its duration,
/// maps an idp::Error to a grpc::Status, and turns an escaping exception into INTERNAL (logged,
/// never sent to the caller). `fn` returns idp::Status and fills the response itself.
grpc::Status Serve(grpc::ServerContextBase* context, std::string_view method,
                   const std::function<Status()>& fn);

/// Serve() for a method on gRPC's callback API: runs `fn` on the thread that received the call
/// and finishes it at once. For handlers that do not wait long (no password hashing).
inline grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                            std::string_view method,
                                            const std::function<Status()>& fn) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(Serve(context, method, fn));
  return reactor;
}

}  // namespace idp::rpc

namespace idp {
class Config;
}

namespace idp::rpc {

/// The whole of a service's main(): blocks shutdown signals, loads the configuration named by
/// `--config PATH` (or IDP_CONFIG), sets up logging and crypto, then runs `run`. A startup
/// exception is logged as fatal and exits 1.
int ServiceMain(int argc, char** argv, std::string_view service,
                const std::function<int(const Config&)>& run);

}  // namespace idp::rpc
