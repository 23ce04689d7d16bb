#pragma once
/// @file The gateway's port to the mfa service: what the routes may ask of it.
/// Implemented over gRPC by GrpcClients (grpc_clients.hpp); tests give fakes. Every call
/// carries `caller` (the request id, the browser's address and user agent, the client being
/// signed in to); a failure of the call itself comes back as Error (kUnavailable,
/// kDeadlineExceeded, ...), a business outcome in the response. Parameters are references (GCC
/// PR 99576, libs/rpc/async_call.hpp).

#include "awaitable.hpp"

#include "idp/common/error.hpp"
#include "idp/mfa/v1/mfa.pb.h"
#include "idp/rpc/caller.hpp"

#include <string>

namespace idp::gateway {

class MfaClient {
 public:
  virtual ~MfaClient() = default;

  virtual Awaitable<Result<mfa::v1::ListFactorsResponse>> ListFactors(
      const rpc::Caller& caller, const std::string& subject) = 0;
  virtual Awaitable<Result<mfa::v1::StartTotpEnrolmentResponse>> StartTotpEnrolment(
      const rpc::Caller& caller, const mfa::v1::StartTotpEnrolmentRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::ConfirmTotpEnrolmentResponse>> ConfirmTotpEnrolment(
      const rpc::Caller& caller, const mfa::v1::ConfirmTotpEnrolmentRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::RemoveFactorResponse>> RemoveFactor(
      const rpc::Caller& caller, const mfa::v1::RemoveFactorRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::StartChallengeResponse>> StartChallenge(
      const rpc::Caller& caller, const std::string& subject) = 0;
  virtual Awaitable<Result<mfa::v1::VerifyCodeResponse>> VerifyCode(
      const rpc::Caller& caller, const mfa::v1::VerifyCodeRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::GenerateRecoveryCodesResponse>> GenerateRecoveryCodes(
      const rpc::Caller& caller, const std::string& subject) = 0;
  virtual Awaitable<Result<mfa::v1::StartDeliveryEnrolmentResponse>> StartDeliveryEnrolment(
      const rpc::Caller& caller, const mfa::v1::StartDeliveryEnrolmentRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::ConfirmDeliveryEnrolmentResponse>> ConfirmDeliveryEnrolment(
      const rpc::Caller& caller, const mfa::v1::ConfirmDeliveryEnrolmentRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::SendCodeResponse>> SendCode(
      const rpc::Caller& caller, const mfa::v1::SendCodeRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::CodeStatusResponse>> CodeStatus(
      const rpc::Caller& caller, const mfa::v1::CodeStatusRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::RememberBrowserResponse>> RememberBrowser(
      const rpc::Caller& caller, const mfa::v1::RememberBrowserRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::CheckBrowserResponse>> CheckBrowser(
      const rpc::Caller& caller, const mfa::v1::CheckBrowserRequest& req) = 0;
  virtual Awaitable<Result<mfa::v1::ListBrowsersResponse>> ListBrowsers(
      const rpc::Caller& caller, const std::string& subject) = 0;
  virtual Awaitable<Result<mfa::v1::ForgetBrowsersResponse>> ForgetBrowsers(
      const rpc::Caller& caller, const mfa::v1::ForgetBrowsersRequest& req) = 0;
};

}  // namespace idp::gateway
