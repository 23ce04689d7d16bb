#include "clients/grpc_clients.hpp"

#include "grpc/health/v1/health.grpc.pb.h"
#include "idp/auth/v1/auth.grpc.pb.h"
#include "idp/mfa/v1/mfa.grpc.pb.h"
#include "idp/rpc/async_call.hpp"
#include "idp/token/v1/token.grpc.pb.h"

#include <mutex>
#include <optional>
#include <unordered_map>

namespace idp::gateway {

using HealthStub = grpc::health::v1::Health::Stub;

struct GrpcClients::Stubs {
  std::unique_ptr<auth::v1::AuthService::Stub> auth;
  std::unique_ptr<mfa::v1::MfaService::Stub> mfa;
  std::unique_ptr<token::v1::TokenService::Stub> token;
  std::map<std::string, std::unique_ptr<HealthStub>, std::less<>> health;

  // Client records: every /authorize and consent reads one, and they rarely change.
  struct CachedClient {
    token::v1::GetClientResponse record;
    std::chrono::steady_clock::time_point fetched;
  };
  static constexpr std::size_t kMaxCachedClients = 4096;
  std::chrono::milliseconds client_ttl{0};
  std::mutex client_mu;
  std::unordered_map<std::string, CachedClient> clients;

  std::optional<token::v1::GetClientResponse> CachedClientRecord(const std::string& id) {
    if (client_ttl.count() <= 0) return std::nullopt;
    std::lock_guard lock(client_mu);
    auto it = clients.find(id);
    if (it == clients.end()) return std::nullopt;
    if (std::chrono::steady_clock::now() - it->second.fetched >= client_ttl) {
      clients.erase(it);
      return std::nullopt;
    }
    return it->second.record;
  }

  void KeepClientRecord(const std::string& id, const token::v1::GetClientResponse& record) {
    if (client_ttl.count() <= 0) return;
    std::lock_guard lock(client_mu);
    if (clients.size() >= kMaxCachedClients) clients.clear();  // a bound, not an LRU
    clients[id] = {record, std::chrono::steady_clock::now()};
  }
};

GrpcClients::GrpcClients(const UpstreamTargets& t, rpc::CallMetrics* metrics)
    : stubs_(std::make_unique<Stubs>()) {
  stubs_->client_ttl = t.client_cache_ttl;
  const rpc::ChannelOptions options{nullptr, metrics};
  auto auth = rpc::MakeChannel(t.auth, options);
  auto mfa = rpc::MakeChannel(t.mfa, options);
  auto delivery = rpc::MakeChannel(t.delivery, options);
  auto token = rpc::MakeChannel(t.token, options);
  stubs_->auth = auth::v1::AuthService::NewStub(auth);
  stubs_->mfa = mfa::v1::MfaService::NewStub(mfa);
  stubs_->token = token::v1::TokenService::NewStub(token);
  stubs_->health["auth"] = grpc::health::v1::Health::NewStub(auth);
  stubs_->health["mfa"] = grpc::health::v1::Health::NewStub(mfa);
  stubs_->health["delivery"] = grpc::health::v1::Health::NewStub(delivery);
  stubs_->health["token"] = grpc::health::v1::Health::NewStub(token);
}

GrpcClients::~GrpcClients() = default;

// One line per RPC: the callback-API call wrapped as an awaitable (libs/rpc/async_call.hpp).
// The start lambda is a named local so that no non-trivial temporary sits in the co_await.
#define IDP_UNARY(stub, Method, Resp, req)                                                   \
  auto* s = stubs_->stub.get();                                                              \
  auto start = [s](grpc::ClientContext* c, const auto* q, Resp* r, auto cb) {                \
    s->async()->Method(c, q, r, std::move(cb));                                              \
  };                                                                                         \
  auto result = co_await rpc::AsyncUnary<std::decay_t<decltype(req)>, Resp>(req, start, rid); \
  co_return result

Awaitable<Result<auth::v1::VerifyPasswordResponse>> GrpcClients::VerifyPassword(
    const rpc::Caller& rid, const auth::v1::VerifyPasswordRequest& req) {
  IDP_UNARY(auth, VerifyPassword, auth::v1::VerifyPasswordResponse, req);
}

Awaitable<Result<auth::v1::GetUserResponse>> GrpcClients::GetUser(const rpc::Caller& rid,
                                                                const std::string& subject) {
  auth::v1::GetUserRequest req;
  req.set_subject(subject);
  IDP_UNARY(auth, GetUser, auth::v1::GetUserResponse, req);
}

Awaitable<Result<mfa::v1::ListFactorsResponse>> GrpcClients::ListFactors(const rpc::Caller& rid,
                                                                       const std::string& subject) {
  mfa::v1::ListFactorsRequest req;
  req.set_subject(subject);
  IDP_UNARY(mfa, ListFactors, mfa::v1::ListFactorsResponse, req);
}

Awaitable<Result<mfa::v1::StartTotpEnrolmentResponse>> GrpcClients::StartTotpEnrolment(
    const rpc::Caller& rid, const mfa::v1::StartTotpEnrolmentRequest& req) {
  IDP_UNARY(mfa, StartTotpEnrolment, mfa::v1::StartTotpEnrolmentResponse, req);
}

Awaitable<Result<mfa::v1::ConfirmTotpEnrolmentResponse>> GrpcClients::ConfirmTotpEnrolment(
    const rpc::Caller& rid, const mfa::v1::ConfirmTotpEnrolmentRequest& req) {
  IDP_UNARY(mfa, ConfirmTotpEnrolment, mfa::v1::ConfirmTotpEnrolmentResponse, req);
}

Awaitable<Result<mfa::v1::RemoveFactorResponse>> GrpcClients::RemoveFactor(
    const rpc::Caller& rid, const mfa::v1::RemoveFactorRequest& req) {
  IDP_UNARY(mfa, RemoveFactor, mfa::v1::RemoveFactorResponse, req);
}

Awaitable<Result<mfa::v1::StartChallengeResponse>> GrpcClients::StartChallenge(
    const rpc::Caller& rid, const std::string& subject) {
  mfa::v1::StartChallengeRequest req;
  req.set_subject(subject);
  IDP_UNARY(mfa, StartChallenge, mfa::v1::StartChallengeResponse, req);
}

Awaitable<Result<mfa::v1::VerifyCodeResponse>> GrpcClients::VerifyCode(
    const rpc::Caller& rid, const mfa::v1::VerifyCodeRequest& req) {
  IDP_UNARY(mfa, VerifyCode, mfa::v1::VerifyCodeResponse, req);
}

Awaitable<Result<mfa::v1::GenerateRecoveryCodesResponse>> GrpcClients::GenerateRecoveryCodes(
    const rpc::Caller& rid, const std::string& subject) {
  mfa::v1::GenerateRecoveryCodesRequest req;
  req.set_subject(subject);
  IDP_UNARY(mfa, GenerateRecoveryCodes, mfa::v1::GenerateRecoveryCodesResponse, req);
}

Awaitable<Result<mfa::v1::StartDeliveryEnrolmentResponse>> GrpcClients::StartDeliveryEnrolment(
    const rpc::Caller& rid, const mfa::v1::StartDeliveryEnrolmentRequest& req) {
  IDP_UNARY(mfa, StartDeliveryEnrolment, mfa::v1::StartDeliveryEnrolmentResponse, req);
}

Awaitable<Result<mfa::v1::ConfirmDeliveryEnrolmentResponse>> GrpcClients::ConfirmDeliveryEnrolment(
    const rpc::Caller& rid, const mfa::v1::ConfirmDeliveryEnrolmentRequest& req) {
  IDP_UNARY(mfa, ConfirmDeliveryEnrolment, mfa::v1::ConfirmDeliveryEnrolmentResponse, req);
}

Awaitable<Result<mfa::v1::SendCodeResponse>> GrpcClients::SendCode(
    const rpc::Caller& rid, const mfa::v1::SendCodeRequest& req) {
  IDP_UNARY(mfa, SendCode, mfa::v1::SendCodeResponse, req);
}

Awaitable<Result<mfa::v1::CodeStatusResponse>> GrpcClients::CodeStatus(
    const rpc::Caller& rid, const mfa::v1::CodeStatusRequest& req) {
  IDP_UNARY(mfa, CodeStatus, mfa::v1::CodeStatusResponse, req);
}

Awaitable<Result<mfa::v1::RememberBrowserResponse>> GrpcClients::RememberBrowser(
    const rpc::Caller& rid, const mfa::v1::RememberBrowserRequest& req) {
  IDP_UNARY(mfa, RememberBrowser, mfa::v1::RememberBrowserResponse, req);
}

Awaitable<Result<mfa::v1::CheckBrowserResponse>> GrpcClients::CheckBrowser(
    const rpc::Caller& rid, const mfa::v1::CheckBrowserRequest& req) {
  IDP_UNARY(mfa, CheckBrowser, mfa::v1::CheckBrowserResponse, req);
}

Awaitable<Result<mfa::v1::ListBrowsersResponse>> GrpcClients::ListBrowsers(
    const rpc::Caller& rid, const std::string& subject) {
  mfa::v1::ListBrowsersRequest req;
  req.set_subject(subject);
  IDP_UNARY(mfa, ListBrowsers, mfa::v1::ListBrowsersResponse, req);
}

Awaitable<Result<mfa::v1::ForgetBrowsersResponse>> GrpcClients::ForgetBrowsers(
    const rpc::Caller& rid, const mfa::v1::ForgetBrowsersRequest& req) {
  IDP_UNARY(mfa, ForgetBrowsers, mfa::v1::ForgetBrowsersResponse, req);
}

Awaitable<Result<token::v1::GetClientResponse>> GrpcClients::GetClient(const rpc::Caller& rid,
                                                                     const std::string& client_id) {
  if (auto cached = stubs_->CachedClientRecord(client_id)) co_return std::move(*cached);
  token::v1::GetClientRequest req;
  req.set_client_id(client_id);
  auto* s = stubs_->token.get();
  auto start = [s](grpc::ClientContext* c, const auto* q, token::v1::GetClientResponse* r,
                   auto cb) { s->async()->GetClient(c, q, r, std::move(cb)); };
  auto result =
      co_await rpc::AsyncUnary<token::v1::GetClientRequest, token::v1::GetClientResponse>(
          req, start, rid);
  if (result) stubs_->KeepClientRecord(client_id, *result);
  co_return result;
}

Awaitable<Result<token::v1::ListClientsResponse>> GrpcClients::ListPortalClients(
    const rpc::Caller& rid) {
  token::v1::ListClientsRequest req;
  req.set_portal_only(true);
  IDP_UNARY(token, ListClients, token::v1::ListClientsResponse, req);
}

Awaitable<Result<token::v1::IssueAuthorizationCodeResponse>> GrpcClients::IssueCode(
    const rpc::Caller& rid, const token::v1::IssueAuthorizationCodeRequest& req) {
  IDP_UNARY(token, IssueAuthorizationCode,
                               token::v1::IssueAuthorizationCodeResponse, req);
}

Awaitable<Result<token::v1::ExchangeAuthorizationCodeResponse>> GrpcClients::ExchangeCode(
    const rpc::Caller& rid, const token::v1::ExchangeAuthorizationCodeRequest& req) {
  IDP_UNARY(token, ExchangeAuthorizationCode,
                               token::v1::ExchangeAuthorizationCodeResponse, req);
}

Awaitable<Result<token::v1::ValidateAccessTokenResponse>> GrpcClients::ValidateAccessToken(
    const rpc::Caller& rid, const std::string& access_token) {
  token::v1::ValidateAccessTokenRequest req;
  req.set_access_token(access_token);
  IDP_UNARY(token, ValidateAccessToken, token::v1::ValidateAccessTokenResponse,
                               req);
}

Awaitable<Result<token::v1::GetJwksResponse>> GrpcClients::GetJwks(const rpc::Caller& rid) {
  token::v1::GetJwksRequest req;
  IDP_UNARY(token, GetJwks, token::v1::GetJwksResponse, req);
}

Awaitable<Result<token::v1::RefreshTokenResponse>> GrpcClients::RefreshToken(
    const rpc::Caller& rid, const token::v1::RefreshTokenRequest& req) {
  IDP_UNARY(token, RefreshToken, token::v1::RefreshTokenResponse, req);
}

Awaitable<Result<token::v1::ClientCredentialsResponse>> GrpcClients::ClientCredentials(
    const rpc::Caller& rid, const token::v1::ClientCredentialsRequest& req) {
  IDP_UNARY(token, ClientCredentials, token::v1::ClientCredentialsResponse, req);
}

Awaitable<Result<token::v1::RevokeTokenResponse>> GrpcClients::RevokeToken(
    const rpc::Caller& rid, const token::v1::RevokeTokenRequest& req) {
  IDP_UNARY(token, RevokeToken, token::v1::RevokeTokenResponse, req);
}

Awaitable<Result<token::v1::IntrospectTokenResponse>> GrpcClients::IntrospectToken(
    const rpc::Caller& rid, const token::v1::IntrospectTokenRequest& req) {
  IDP_UNARY(token, IntrospectToken, token::v1::IntrospectTokenResponse, req);
}

Awaitable<Result<token::v1::RevokeSessionResponse>> GrpcClients::RevokeSession(
    const rpc::Caller& rid, const token::v1::RevokeSessionRequest& req) {
  IDP_UNARY(token, RevokeSession, token::v1::RevokeSessionResponse, req);
}

Awaitable<Result<token::v1::GetConsentResponse>> GrpcClients::GetConsent(
    const rpc::Caller& rid, const token::v1::GetConsentRequest& req) {
  IDP_UNARY(token, GetConsent, token::v1::GetConsentResponse, req);
}

Awaitable<Result<token::v1::GrantConsentResponse>> GrpcClients::GrantConsent(
    const rpc::Caller& rid, const token::v1::GrantConsentRequest& req) {
  IDP_UNARY(token, GrantConsent, token::v1::GrantConsentResponse, req);
}

Awaitable<Result<token::v1::VerifyIdTokenHintResponse>> GrpcClients::VerifyIdTokenHint(
    const rpc::Caller& rid, const std::string& id_token) {
  token::v1::VerifyIdTokenHintRequest req;
  req.set_id_token(id_token);
  IDP_UNARY(token, VerifyIdTokenHint, token::v1::VerifyIdTokenHintResponse, req);
}

Awaitable<bool> GrpcClients::Healthy(const rpc::Caller& rid, std::string_view name) {
  auto it = stubs_->health.find(name);
  if (it == stubs_->health.end()) co_return false;
  grpc::health::v1::HealthCheckRequest req;
  auto* s = it->second.get();
  auto start = [s](grpc::ClientContext* c, const auto* q, auto* r, auto cb) {
    s->async()->Check(c, q, r, std::move(cb));
  };
  auto result = co_await rpc::AsyncUnary<grpc::health::v1::HealthCheckRequest,
                                         grpc::health::v1::HealthCheckResponse>(
      req, start, rid, std::chrono::milliseconds(1000));
  co_return result && result->status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

// Password self-service.
Awaitable<Result<auth::v1::StartPasswordResetResponse>> GrpcClients::StartPasswordReset(
    const rpc::Caller& rid, const auth::v1::StartPasswordResetRequest& req) {
  IDP_UNARY(auth, StartPasswordReset, auth::v1::StartPasswordResetResponse, req);
}

Awaitable<Result<auth::v1::CheckPasswordTokenResponse>> GrpcClients::CheckPasswordToken(
    const rpc::Caller& rid, const auth::v1::CheckPasswordTokenRequest& req) {
  IDP_UNARY(auth, CheckPasswordToken, auth::v1::CheckPasswordTokenResponse, req);
}

Awaitable<Result<auth::v1::CompletePasswordResetResponse>> GrpcClients::CompletePasswordReset(
    const rpc::Caller& rid, const auth::v1::CompletePasswordResetRequest& req) {
  IDP_UNARY(auth, CompletePasswordReset, auth::v1::CompletePasswordResetResponse, req);
}

Awaitable<Result<auth::v1::ChangePasswordResponse>> GrpcClients::ChangePassword(
    const rpc::Caller& rid, const auth::v1::ChangePasswordRequest& req) {
  IDP_UNARY(auth, ChangePassword, auth::v1::ChangePasswordResponse, req);
}

#undef IDP_UNARY

}  // namespace idp::gateway
