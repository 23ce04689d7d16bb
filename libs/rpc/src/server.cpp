#include "idp/rpc/server.hpp"

#include "idp/rpc/call_metrics.hpp"
#include "idp/rpc/tls.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/server_interceptor.h>

#include <csignal>
#include <stdexcept>

namespace idp::rpc {
namespace {

namespace gx = grpc::experimental;

/// Times one call from its arrival to the status it sends, and records it.
class MetricsInterceptor final : public gx::Interceptor {
 public:
  MetricsInterceptor(CallMetrics& metrics, const char* method)
      : metrics_(metrics), method_(method ? method : ""), start_(std::chrono::steady_clock::now()) {}

  // gx::Interceptor
  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const auto code = static_cast<int>(methods->GetSendStatus().error_code());
      metrics_.Record(method_, code,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
                          .count());
    }
    methods->Proceed();
  }

 private:
  CallMetrics& metrics_;
  std::string_view method_;  ///< gRPC's static method name, alive for the server's life
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(CallMetrics& metrics) : metrics_(metrics) {}
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  CallMetrics& metrics_;
};

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca;
  options.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(options);
}

}  // namespace

GrpcServer::GrpcServer(const ServerOptions& options, const std::vector<grpc::Service*>& services)
    : grace_(options.shutdown_grace) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  grpc::ResourceQuota quota("idp");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  // gRPC's default of at most 2 polling threads makes a busy sync server start and end a thread
  // for nearly every call past the second concurrent one (ThreadManager::MainWorkLoop): a
  // thread that finishes a call exits when two others already poll. Keep the threads a burst
  // needed instead, up to max_threads.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.max_threads);
  builder.AddListeningPort(options.listen,
                           ServerCredentials(options.tls ? *options.tls : DefaultTls()), &port_);
  if (options.metrics) {
    call_metrics_ = std::make_unique<CallMetrics>(*options.metrics, CallMetrics::Side::kServer);
    std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(std::make_unique<MetricsInterceptorFactory>(*call_metrics_));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  // Clients reconnect at least every 5 minutes, so new instances behind a Kubernetes Service
  // get their share of long-lived channels.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, 5 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 30 * 1000);
  for (auto* s : services) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    throw std::runtime_error("cannot listen on " + options.listen);
  }
  SetServing(true);
}

GrpcServer::~GrpcServer() {
  if (server_) Shutdown();
}

void GrpcServer::SetServing(bool serving) {
  serving_ = serving;
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(serving);
}

void GrpcServer::Shutdown() {
  if (!server_) return;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace_);
  server_->Wait();
  server_.reset();
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::string RequestIdFrom(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(kRequestIdKey.data(), kRequestIdKey.size()));
  if (it != md.end()) {
    std::string id(it->second.data(), it->second.size());
    if (log::IsValidRequestId(id)) return id;
  }
  return log::NewRequestId();
}

CallOrigin CallOriginFrom(const grpc::ServerContextBase& context) {
  const auto& md = context.client_metadata();
  auto field = [&md](std::string_view key, std::size_t max_length) {
    auto it = md.find(grpc::string_ref(key.data(), key.size()));
    if (it == md.end()) return std::string();
    return SanitizeOriginField(std::string_view(it->second.data(), it->second.size()),
                               max_length);
  };
  return CallOrigin{field(kClientAddrKey, kMaxClientAddrLength),
                    field(kUserAgentKey, kMaxUserAgentLength),
                    field(kClientIdKey, kMaxClientIdLength)};
}

grpc::Status Serve(grpc::ServerContextBase* context, std::string_view method,
                   const std::function<Status()>& fn) {
  log::ScopedRequestId rid(RequestIdFrom(*context));
  ScopedCallOrigin origin(CallOriginFrom(*context));
  auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&start] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  try {
    if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "cancelled"};
    Status st = fn();
    if (!st) {
      auto level = st.error().code == ErrorCode::kInternal ? log::Error : log::Warn;
      level("rpc failed", {{"method", method},
                           {"code", ErrorCodeName(st.error().code)},
                           {"error", st.error().message},
                           {"ms", elapsed_ms()}});
      return ToGrpcStatus(st.error());
    }
    log::Debug("rpc", {{"method", method}, {"ms", elapsed_ms()}});
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    log::Error("rpc threw", {{"method", method}, {"error", e.what()}, {"ms", elapsed_ms()}});
  } catch (...) {
    log::Error("rpc threw", {{"method", method}, {"ms", elapsed_ms()}});
  }
  return {grpc::StatusCode::INTERNAL, "internal error"};
}

}  // namespace idp::rpc
