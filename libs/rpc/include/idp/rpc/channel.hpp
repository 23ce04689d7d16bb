#pragma once
/// @file Outbound gRPC: channels and per-call contexts (deadline, request id).

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace idp::rpc {

struct TlsConfig;
class CallMetrics;

/// Default deadline of a call between services.
inline constexpr std::chrono::milliseconds kDefaultDeadline{3000};

struct ChannelOptions {
  /// Mutual TLS; null means the process default (DefaultTls(), plaintext when not enabled).
  const TlsConfig* tls = nullptr;
  /// When set, every call is counted and timed there (idp_grpc_client_*).
  CallMetrics* metrics = nullptr;
};

/// A channel to `target` ("host:port", or a comma-separated list of host:port for client-side
/// round robin over several instances), with round-robin load balancing and retries of
/// UNAVAILABLE for idempotent methods. Over mutual TLS when configured: the server's
/// certificate must name the target's host (for a comma list, the first address).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options = {});

/// Adds the browser's source address and user agent as metadata (x-idp-client-addr,
/// x-idp-user-agent), bounded and without control characters; an empty field is not sent.
void AddCallOrigin(grpc::ClientContext& context, std::string_view client_addr,
                   std::string_view user_agent, std::string_view client_id = {});

/// Sets the deadline and forwards the request id in metadata.
void PrepareContext(grpc::ClientContext& context, std::string_view request_id,
                    std::chrono::milliseconds deadline = kDefaultDeadline);

}  // namespace idp::rpc
