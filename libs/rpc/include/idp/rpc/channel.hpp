#pragma once
/// @file Outbound gRPC: channels and per-call contexts (deadline, request id).

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace idp::rpc {

/// Default deadline of a call between services.
inline constexpr std::chrono::milliseconds kDefaultDeadline{3000};

/// A channel to `target` ("host:port", or a comma-separated list of host:port for client-side
/// round robin over several instances), insecure for now (mTLS comes with the operations issue),
/// with round-robin load balancing and retries of UNAVAILABLE for idempotent methods.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target);

/// Sets the deadline and forwards the request id in metadata.
void PrepareContext(grpc::ClientContext& context, std::string_view request_id,
                    std::chrono::milliseconds deadline = kDefaultDeadline);

}  // namespace idp::rpc
