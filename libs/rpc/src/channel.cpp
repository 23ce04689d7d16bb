#include "idp/rpc/channel.hpp"

#include "idp/common/call_origin.hpp"

#include "idp/rpc/call_metrics.hpp"
#include "idp/rpc/server.hpp"
#include "idp/rpc/tls.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_interceptor.h>

namespace idp::rpc {
namespace {

namespace gx = grpc::experimental;

/// Times one call from its start to the status it receives (retries included), and records it.
class MetricsInterceptor final : public gx::Interceptor {
 public:
  MetricsInterceptor(CallMetrics& metrics, const char* method)
      : metrics_(metrics), method_(method ? method : "") {}

  // gx::Interceptor
  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            gx::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
    }
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::POST_RECV_STATUS)) {
      const grpc::Status* status = methods->GetRecvStatus();
      metrics_.Record(method_, status ? static_cast<int>(status->error_code()) : 2,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
                          .count());
    }
    methods->Proceed();
  }

 private:
  CallMetrics& metrics_;
  std::string_view method_;  ///< the generated stub's static method name
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class MetricsInterceptorFactory final : public gx::ClientInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(CallMetrics& metrics) : metrics_(metrics) {}
  gx::Interceptor* CreateClientInterceptor(gx::ClientRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  CallMetrics& metrics_;
};

/// The host of "host:port" (IPv6 brackets removed).
std::string HostOf(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options) {
  grpc::ChannelArguments args;
  // Round robin over every address. Calls are retried on UNAVAILABLE only where a repeat is
  // harmless: reads, delivery's sends (idempotency keys), and the token grants, which carry an
  // attempt id so that a repeat continues the first redemption instead of looking like a reuse. A write such as a code exchange may have been carried out by an instance
  // that died before it answered; repeating it elsewhere would look like a replay (a reused code
  // revokes its grant). gRPC's transparent retry still covers calls that never left the client.
  args.SetServiceConfigJSON(R"({
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [{
      "name": [
        {"service": "grpc.health.v1.Health"},
        {"service": "idp.auth.v1.AuthService", "method": "GetUser"},
        {"service": "idp.auth.v1.AuthService", "method": "FindUser"},
        {"service": "idp.auth.v1.AuthService", "method": "ListUsers"},
        {"service": "idp.auth.v1.AuthService", "method": "VerifyPassword"},
        {"service": "idp.mfa.v1.MfaService", "method": "ListFactors"},
        {"service": "idp.mfa.v1.MfaService", "method": "CodeStatus"},
        {"service": "idp.token.v1.TokenService", "method": "GetClient"},
        {"service": "idp.token.v1.TokenService", "method": "ListClients"},
        {"service": "idp.token.v1.TokenService", "method": "GetJwks"},
        {"service": "idp.token.v1.TokenService", "method": "ValidateAccessToken"},
        {"service": "idp.token.v1.TokenService", "method": "VerifyIdTokenHint"},
        {"service": "idp.token.v1.TokenService", "method": "IntrospectToken"},
        {"service": "idp.token.v1.TokenService", "method": "ExchangeAuthorizationCode"},
        {"service": "idp.token.v1.TokenService", "method": "RefreshToken"},
        {"service": "idp.token.v1.TokenService", "method": "IssueAuthorizationCode"},
        {"service": "idp.token.v1.TokenService", "method": "ClientCredentials"},
        {"service": "idp.token.v1.TokenService", "method": "RevokeToken"},
        {"service": "idp.delivery.v1.DeliveryService", "method": "GetStatus"},
        {"service": "idp.delivery.v1.DeliveryService", "method": "SendEmail"},
        {"service": "idp.delivery.v1.DeliveryService", "method": "SendSms"}
      ],
      "retryPolicy": {
        "maxAttempts": 3, "initialBackoff": "0.05s", "maxBackoff": "0.5s",
        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]
      }
    }]
  })");
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  std::string uri = target;
  const bool list = target.find(',') != std::string::npos;
  if (list) uri = "ipv4:" + target;

  const TlsConfig& tls = options.tls ? *options.tls : DefaultTls();
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls.enabled()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca;
    ssl.pem_private_key = tls.private_key;
    ssl.pem_cert_chain = tls.cert_chain;
    credentials = grpc::SslCredentials(ssl);
    // An ipv4: list has no host name of its own: the server must be certified for the first
    // address (every instance of a service shares its certificate's names).
    if (list) args.SetSslTargetNameOverride(HostOf(target.substr(0, target.find(','))));
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  if (options.metrics == nullptr) return grpc::CreateCustomChannel(uri, credentials, args);
  std::vector<std::unique_ptr<gx::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>(*options.metrics));
  return gx::CreateCustomChannelWithInterceptors(uri, credentials, args, std::move(interceptors));
}

void AddCallOrigin(grpc::ClientContext& context, std::string_view client_addr,
                   std::string_view user_agent, std::string_view client_id) {
  auto client = SanitizeOriginField(client_id, kMaxClientIdLength);
  if (!client.empty()) context.AddMetadata(std::string(kClientIdKey), client);
  auto addr = SanitizeOriginField(client_addr, kMaxClientAddrLength);
  auto agent = SanitizeOriginField(user_agent, kMaxUserAgentLength);
  if (!addr.empty()) context.AddMetadata(std::string(kClientAddrKey), addr);
  if (!agent.empty()) context.AddMetadata(std::string(kUserAgentKey), agent);
}

void PrepareContext(grpc::ClientContext& context, std::string_view request_id,
                    std::chrono::milliseconds deadline) {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!request_id.empty()) {
    context.AddMetadata(std::string(kRequestIdKey), std::string(request_id));
  }
}

}  // namespace idp::rpc
