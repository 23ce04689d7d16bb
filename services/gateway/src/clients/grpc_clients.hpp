#pragma once
/// @file The gateway's clients of auth, mfa and token, and their readiness, over gRPC.

#include "clients/auth_client.hpp"
#include "clients/mfa_client.hpp"
#include "clients/readiness.hpp"
#include "clients/token_client.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace idp::rpc {
class CallMetrics;
}

namespace idp::gateway {

struct UpstreamTargets {
  std::string auth, mfa, delivery, token;  ///< host:port (comma-separated for several)
  /// How long GetClient keeps a client record it got from token (0: never). A change made
  /// with idpctl reaches this gateway within that time.
  std::chrono::milliseconds client_cache_ttl{5000};
};

/// The three clients and the readiness probe over gRPC: one channel per backend (round robin
/// over comma-separated addresses), a deadline and the request id on every call, and token's
/// client records cached for `client_cache_ttl`. Only grpc_clients.cpp includes the stubs.
/// Thread-safe.
class GrpcClients final : public AuthClient,
                          public MfaClient,
                          public TokenClient,
                          public Readiness {
 public:
  /// Calls are counted in `metrics` when given (idp_grpc_client_*).
  explicit GrpcClients(const UpstreamTargets& targets, rpc::CallMetrics* metrics = nullptr);
  ~GrpcClients() override;

  // AuthClient
  Awaitable<Result<auth::v1::VerifyPasswordResponse>> VerifyPassword(
      const rpc::Caller& caller, const auth::v1::VerifyPasswordRequest& req) override;
  Awaitable<Result<auth::v1::GetUserResponse>> GetUser(const rpc::Caller& caller,
                                                       const std::string& subject) override;
  Awaitable<Result<auth::v1::StartPasswordResetResponse>> StartPasswordReset(
      const rpc::Caller& caller, const auth::v1::StartPasswordResetRequest& req) override;
  Awaitable<Result<auth::v1::CheckPasswordTokenResponse>> CheckPasswordToken(
      const rpc::Caller& caller, const auth::v1::CheckPasswordTokenRequest& req) override;
  Awaitable<Result<auth::v1::CompletePasswordResetResponse>> CompletePasswordReset(
      const rpc::Caller& caller, const auth::v1::CompletePasswordResetRequest& req) override;
  Awaitable<Result<auth::v1::ChangePasswordResponse>> ChangePassword(
      const rpc::Caller& caller, const auth::v1::ChangePasswordRequest& req) override;
  // MfaClient
  Awaitable<Result<mfa::v1::ListFactorsResponse>> ListFactors(const rpc::Caller& caller,
                                                              const std::string& subject) override;
  Awaitable<Result<mfa::v1::StartTotpEnrolmentResponse>> StartTotpEnrolment(
      const rpc::Caller& caller, const mfa::v1::StartTotpEnrolmentRequest& req) override;
  Awaitable<Result<mfa::v1::ConfirmTotpEnrolmentResponse>> ConfirmTotpEnrolment(
      const rpc::Caller& caller, const mfa::v1::ConfirmTotpEnrolmentRequest& req) override;
  Awaitable<Result<mfa::v1::RemoveFactorResponse>> RemoveFactor(
      const rpc::Caller& caller, const mfa::v1::RemoveFactorRequest& req) override;
  Awaitable<Result<mfa::v1::StartChallengeResponse>> StartChallenge(
      const rpc::Caller& caller, const std::string& subject) override;
  Awaitable<Result<mfa::v1::VerifyCodeResponse>> VerifyCode(
      const rpc::Caller& caller, const mfa::v1::VerifyCodeRequest& req) override;
  Awaitable<Result<mfa::v1::GenerateRecoveryCodesResponse>> GenerateRecoveryCodes(
      const rpc::Caller& caller, const std::string& subject) override;
  Awaitable<Result<mfa::v1::StartDeliveryEnrolmentResponse>> StartDeliveryEnrolment(
      const rpc::Caller& caller, const mfa::v1::StartDeliveryEnrolmentRequest& req) override;
  Awaitable<Result<mfa::v1::ConfirmDeliveryEnrolmentResponse>> ConfirmDeliveryEnrolment(
      const rpc::Caller& caller, const mfa::v1::ConfirmDeliveryEnrolmentRequest& req) override;
  Awaitable<Result<mfa::v1::SendCodeResponse>> SendCode(
      const rpc::Caller& caller, const mfa::v1::SendCodeRequest& req) override;
  Awaitable<Result<mfa::v1::CodeStatusResponse>> CodeStatus(
      const rpc::Caller& caller, const mfa::v1::CodeStatusRequest& req) override;
  Awaitable<Result<mfa::v1::RememberBrowserResponse>> RememberBrowser(
      const rpc::Caller& caller, const mfa::v1::RememberBrowserRequest& req) override;
  Awaitable<Result<mfa::v1::CheckBrowserResponse>> CheckBrowser(
      const rpc::Caller& caller, const mfa::v1::CheckBrowserRequest& req) override;
  Awaitable<Result<mfa::v1::ListBrowsersResponse>> ListBrowsers(
      const rpc::Caller& caller, const std::string& subject) override;
  Awaitable<Result<mfa::v1::ForgetBrowsersResponse>> ForgetBrowsers(
      const rpc::Caller& caller, const mfa::v1::ForgetBrowsersRequest& req) override;
  // TokenClient
  /// From the cache of `client_cache_ttl` or from token (kNotFound when unknown; a miss is
  /// never cached).
  Awaitable<Result<token::v1::GetClientResponse>> GetClient(const rpc::Caller& caller,
                                                            const std::string& client_id) override;
  Awaitable<Result<token::v1::ListClientsResponse>> ListPortalClients(
      const rpc::Caller& caller) override;
  Awaitable<Result<token::v1::IssueAuthorizationCodeResponse>> IssueCode(
      const rpc::Caller& caller, const token::v1::IssueAuthorizationCodeRequest& req) override;
  Awaitable<Result<token::v1::ExchangeAuthorizationCodeResponse>> ExchangeCode(
      const rpc::Caller& caller, const token::v1::ExchangeAuthorizationCodeRequest& req) override;
  Awaitable<Result<token::v1::ValidateAccessTokenResponse>> ValidateAccessToken(
      const rpc::Caller& caller, const std::string& access_token) override;
  Awaitable<Result<token::v1::GetJwksResponse>> GetJwks(const rpc::Caller& caller) override;
  Awaitable<Result<token::v1::RefreshTokenResponse>> RefreshToken(
      const rpc::Caller& caller, const token::v1::RefreshTokenRequest& req) override;
  Awaitable<Result<token::v1::ClientCredentialsResponse>> ClientCredentials(
      const rpc::Caller& caller, const token::v1::ClientCredentialsRequest& req) override;
  Awaitable<Result<token::v1::RevokeTokenResponse>> RevokeToken(
      const rpc::Caller& caller, const token::v1::RevokeTokenRequest& req) override;
  Awaitable<Result<token::v1::IntrospectTokenResponse>> IntrospectToken(
      const rpc::Caller& caller, const token::v1::IntrospectTokenRequest& req) override;
  Awaitable<Result<token::v1::RevokeSessionResponse>> RevokeSession(
      const rpc::Caller& caller, const token::v1::RevokeSessionRequest& req) override;
  Awaitable<Result<token::v1::GetConsentResponse>> GetConsent(
      const rpc::Caller& caller, const token::v1::GetConsentRequest& req) override;
  Awaitable<Result<token::v1::GrantConsentResponse>> GrantConsent(
      const rpc::Caller& caller, const token::v1::GrantConsentRequest& req) override;
  Awaitable<Result<token::v1::VerifyIdTokenHintResponse>> VerifyIdTokenHint(
      const rpc::Caller& caller, const std::string& id_token) override;
  // Readiness
  Awaitable<bool> Healthy(const rpc::Caller& caller, std::string_view name) override;

 private:
  struct Stubs;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace idp::gateway
