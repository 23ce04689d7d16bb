#include "idp/rpc/channel.hpp"

#include "idp/rpc/server.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace idp::rpc {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
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
  if (target.find(',') != std::string::npos) uri = "ipv4:" + target;
  return grpc::CreateCustomChannel(uri, grpc::InsecureChannelCredentials(), args);
}

void PrepareContext(grpc::ClientContext& context, std::string_view request_id,
                    std::chrono::milliseconds deadline) {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!request_id.empty()) {
    context.AddMetadata(std::string(kRequestIdKey), std::string(request_id));
  }
}

}  // namespace idp::rpc
