#pragma once
/// @file Typed, awaitable clients of the backend services (auth, mfa, token) and their health.
/// Only upstreams.cpp includes the gRPC stubs; callers see the messages.

#include "idp/auth/v1/auth.pb.h"
#include "idp/common/error.hpp"
#include "idp/mfa/v1/mfa.pb.h"
#include "idp/rpc/caller.hpp"
#include "idp/token/v1/token.pb.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace idp::rpc {
class CallMetrics;
}

namespace idp::gateway {

template <class T>
using Awaitable = boost::asio::awaitable<T>;

struct UpstreamTargets {
  std::string auth, mfa, delivery, token;  ///< host:port (comma-separated for several)
  /// How long GetClient keeps a client record it got from token (0: never). A change made
  /// with idpctl reaches this gateway within that time.
  std::chrono::milliseconds client_cache_ttl{5000};
};

/// Parameters are references (see libs/rpc/async_call.hpp on GCC PR 99576).
/// Thread-safe. Every call has a deadline and forwards the request id; failures of the call
/// itself come back as Error (kUnavailable, kDeadlineExceeded, ...).
class Upstreams {
 public:
  /// Calls are counted in `metrics` when given (idp_grpc_client_*).
  explicit Upstreams(const UpstreamTargets& targets, rpc::CallMetrics* metrics = nullptr);
  ~Upstreams();

  Awaitable<Result<auth::v1::VerifyPasswordResponse>> VerifyPassword(
      const rpc::Caller& rid, const auth::v1::VerifyPasswordRequest& req);
  Awaitable<Result<auth::v1::GetUserResponse>> GetUser(const rpc::Caller& rid, const std::string& subject);
  Awaitable<Result<mfa::v1::ListFactorsResponse>> ListFactors(const rpc::Caller& rid,
                                                              const std::string& subject);
  Awaitable<Result<mfa::v1::StartTotpEnrolmentResponse>> StartTotpEnrolment(
      const rpc::Caller& rid, const mfa::v1::StartTotpEnrolmentRequest& req);
  Awaitable<Result<mfa::v1::ConfirmTotpEnrolmentResponse>> ConfirmTotpEnrolment(
      const rpc::Caller& rid, const mfa::v1::ConfirmTotpEnrolmentRequest& req);
  Awaitable<Result<mfa::v1::RemoveFactorResponse>> RemoveFactor(
      const rpc::Caller& rid, const mfa::v1::RemoveFactorRequest& req);
  Awaitable<Result<mfa::v1::StartChallengeResponse>> StartChallenge(const rpc::Caller& rid,
                                                                    const std::string& subject);
  Awaitable<Result<mfa::v1::VerifyCodeResponse>> VerifyCode(const rpc::Caller& rid,
                                                            const mfa::v1::VerifyCodeRequest& req);
  Awaitable<Result<mfa::v1::GenerateRecoveryCodesResponse>> GenerateRecoveryCodes(
      const rpc::Caller& rid, const std::string& subject);
  Awaitable<Result<mfa::v1::StartDeliveryEnrolmentResponse>> StartDeliveryEnrolment(
      const rpc::Caller& rid, const mfa::v1::StartDeliveryEnrolmentRequest& req);
  Awaitable<Result<mfa::v1::ConfirmDeliveryEnrolmentResponse>> ConfirmDeliveryEnrolment(
      const rpc::Caller& rid, const mfa::v1::ConfirmDeliveryEnrolmentRequest& req);
  Awaitable<Result<mfa::v1::SendCodeResponse>> SendCode(const rpc::Caller& rid,
                                                        const mfa::v1::SendCodeRequest& req);
  Awaitable<Result<mfa::v1::CodeStatusResponse>> CodeStatus(const rpc::Caller& rid,
                                                            const mfa::v1::CodeStatusRequest& req);
  Awaitable<Result<mfa::v1::RememberBrowserResponse>> RememberBrowser(
      const rpc::Caller& rid, const mfa::v1::RememberBrowserRequest& req);
  Awaitable<Result<mfa::v1::CheckBrowserResponse>> CheckBrowser(
      const rpc::Caller& rid, const mfa::v1::CheckBrowserRequest& req);
  Awaitable<Result<mfa::v1::ListBrowsersResponse>> ListBrowsers(const rpc::Caller& rid,
                                                                const std::string& subject);
  Awaitable<Result<mfa::v1::ForgetBrowsersResponse>> ForgetBrowsers(
      const rpc::Caller& rid, const mfa::v1::ForgetBrowsersRequest& req);
  /// The client record, from the cache of `client_cache_ttl` or from token (kNotFound when
  /// unknown; a miss is never cached).
  Awaitable<Result<token::v1::GetClientResponse>> GetClient(const rpc::Caller& rid,
                                                            const std::string& client_id);
  Awaitable<Result<token::v1::ListClientsResponse>> ListPortalClients(const rpc::Caller& rid);
  Awaitable<Result<token::v1::IssueAuthorizationCodeResponse>> IssueCode(
      const rpc::Caller& rid, const token::v1::IssueAuthorizationCodeRequest& req);
  Awaitable<Result<token::v1::ExchangeAuthorizationCodeResponse>> ExchangeCode(
      const rpc::Caller& rid, const token::v1::ExchangeAuthorizationCodeRequest& req);
  Awaitable<Result<token::v1::ValidateAccessTokenResponse>> ValidateAccessToken(
      const rpc::Caller& rid, const std::string& access_token);
  Awaitable<Result<token::v1::GetJwksResponse>> GetJwks(const rpc::Caller& rid);
  Awaitable<Result<token::v1::RefreshTokenResponse>> RefreshToken(
      const rpc::Caller& rid, const token::v1::RefreshTokenRequest& req);
  Awaitable<Result<token::v1::ClientCredentialsResponse>> ClientCredentials(
      const rpc::Caller& rid, const token::v1::ClientCredentialsRequest& req);
  Awaitable<Result<token::v1::RevokeTokenResponse>> RevokeToken(
      const rpc::Caller& rid, const token::v1::RevokeTokenRequest& req);
  Awaitable<Result<token::v1::IntrospectTokenResponse>> IntrospectToken(
      const rpc::Caller& rid, const token::v1::IntrospectTokenRequest& req);
  Awaitable<Result<token::v1::RevokeSessionResponse>> RevokeSession(
      const rpc::Caller& rid, const token::v1::RevokeSessionRequest& req);
  Awaitable<Result<token::v1::GetConsentResponse>> GetConsent(
      const rpc::Caller& rid, const token::v1::GetConsentRequest& req);
  Awaitable<Result<token::v1::GrantConsentResponse>> GrantConsent(
      const rpc::Caller& rid, const token::v1::GrantConsentRequest& req);
  Awaitable<Result<token::v1::VerifyIdTokenHintResponse>> VerifyIdTokenHint(
      const rpc::Caller& rid, const std::string& id_token);
  // Password self-service (upstreams_password.cpp).
  Awaitable<Result<auth::v1::StartPasswordResetResponse>> StartPasswordReset(
      const rpc::Caller& rid, const auth::v1::StartPasswordResetRequest& req);
  Awaitable<Result<auth::v1::CheckPasswordTokenResponse>> CheckPasswordToken(
      const rpc::Caller& rid, const auth::v1::CheckPasswordTokenRequest& req);
  Awaitable<Result<auth::v1::CompletePasswordResetResponse>> CompletePasswordReset(
      const rpc::Caller& rid, const auth::v1::CompletePasswordResetRequest& req);
  Awaitable<Result<auth::v1::ChangePasswordResponse>> ChangePassword(
      const rpc::Caller& rid, const auth::v1::ChangePasswordRequest& req);
  /// grpc.health.v1 Check of service `name` ("auth", "mfa", "delivery", "token"): true when
  /// SERVING.
  Awaitable<bool> Healthy(const rpc::Caller& rid, std::string_view name);

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace idp::gateway
