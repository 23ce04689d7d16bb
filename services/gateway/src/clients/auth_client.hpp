#pragma once
/// @file The gateway's port to the auth service: what the routes may ask of it.
/// Implemented over gRPC by GrpcClients (grpc_clients.hpp); tests give fakes. Every call
/// carries `caller` (the request id, the browser's address and user agent, the client being
/// signed in to); a failure of the call itself comes back as Error (kUnavailable,
/// kDeadlineExceeded, ...), a business outcome in the response. Parameters are references (GCC
/// PR 99576, libs/rpc/async_call.hpp).

#include "awaitable.hpp"

#include "idp/auth/v1/auth.pb.h"
#include "idp/common/error.hpp"
#include "idp/rpc/caller.hpp"

#include <string>

namespace idp::gateway {

class AuthClient {
 public:
  virtual ~AuthClient() = default;

  virtual Awaitable<Result<auth::v1::VerifyPasswordResponse>> VerifyPassword(
      const rpc::Caller& caller, const auth::v1::VerifyPasswordRequest& req) = 0;
  virtual Awaitable<Result<auth::v1::GetUserResponse>> GetUser(const rpc::Caller& caller,
                                                               const std::string& subject) = 0;
  virtual Awaitable<Result<auth::v1::StartPasswordResetResponse>> StartPasswordReset(
      const rpc::Caller& caller, const auth::v1::StartPasswordResetRequest& req) = 0;
  virtual Awaitable<Result<auth::v1::CheckPasswordTokenResponse>> CheckPasswordToken(
      const rpc::Caller& caller, const auth::v1::CheckPasswordTokenRequest& req) = 0;
  virtual Awaitable<Result<auth::v1::CompletePasswordResetResponse>> CompletePasswordReset(
      const rpc::Caller& caller, const auth::v1::CompletePasswordResetRequest& req) = 0;
  virtual Awaitable<Result<auth::v1::ChangePasswordResponse>> ChangePassword(
      const rpc::Caller& caller, const auth::v1::ChangePasswordRequest& req) = 0;
};

}  // namespace idp::gateway
