#pragma once
/// @file Whether the backends the gateway calls are serving (for /readyz).

#include "awaitable.hpp"

#include "idp/rpc/caller.hpp"

#include <string_view>

namespace idp::gateway {

class Readiness {
 public:
  virtual ~Readiness() = default;
  /// grpc.health.v1 Check of backend `name` ("auth", "mfa", "token"): true when SERVING.
  virtual Awaitable<bool> Healthy(const rpc::Caller& caller, std::string_view name) = 0;
};

}  // namespace idp::gateway
