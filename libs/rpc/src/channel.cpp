#include "idp/rpc/channel.hpp"

#include "idp/rpc/server.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace idp::rpc {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // Round robin over every address; retry calls that never reached a server.
  args.SetServiceConfigJSON(R"({
    "loadBalancingConfig": [{"round_robin": {}}],
    "methodConfig": [{
      "name": [{}],
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
