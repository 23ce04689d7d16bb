#pragma once

#include "token_service.hpp"

#include "idp/token/v1/token.grpc.pb.h"

namespace idp::token {

/// idp.token.v1.TokenService over TokenService: proto <-> domain, errors -> statuses.
class TokenGrpcHandler final : public v1::TokenService::CallbackService {
 public:
  /// Maps protos to `service`, which takes every decision and records the audit events;
  /// `audit` serves ListAuditEvents (null: the RPC answers FAILED_PRECONDITION).
  explicit TokenGrpcHandler(TokenService& service, audit::AuditLog* audit = nullptr)
      : service_(service), audit_(audit) {}

  // v1::TokenService::CallbackService
  grpc::ServerUnaryReactor* ListAuditEvents(grpc::CallbackServerContext* ctx,
                                            const v1::ListAuditEventsRequest* req,
                                            v1::ListAuditEventsResponse* resp) override;
  grpc::ServerUnaryReactor* GetClient(grpc::CallbackServerContext* ctx,
                                      const v1::GetClientRequest* req,
                                      v1::GetClientResponse* resp) override;
  grpc::ServerUnaryReactor* ListClients(grpc::CallbackServerContext* ctx,
                                        const v1::ListClientsRequest* req,
                                        v1::ListClientsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateClient(grpc::CallbackServerContext* ctx,
                                         const v1::CreateClientRequest* req,
                                         v1::CreateClientResponse* resp) override;
  grpc::ServerUnaryReactor* IssueAuthorizationCode(
      grpc::CallbackServerContext* ctx, const v1::IssueAuthorizationCodeRequest* req,
      v1::IssueAuthorizationCodeResponse* resp) override;
  grpc::ServerUnaryReactor* ExchangeAuthorizationCode(
      grpc::CallbackServerContext* ctx, const v1::ExchangeAuthorizationCodeRequest* req,
      v1::ExchangeAuthorizationCodeResponse* resp) override;
  grpc::ServerUnaryReactor* ValidateAccessToken(grpc::CallbackServerContext* ctx,
                                                const v1::ValidateAccessTokenRequest* req,
                                                v1::ValidateAccessTokenResponse* resp) override;
  grpc::ServerUnaryReactor* GetJwks(grpc::CallbackServerContext* ctx, const v1::GetJwksRequest* req,
                                    v1::GetJwksResponse* resp) override;
  grpc::ServerUnaryReactor* RefreshToken(grpc::CallbackServerContext* ctx,
                                         const v1::RefreshTokenRequest* req,
                                         v1::RefreshTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ClientCredentials(grpc::CallbackServerContext* ctx,
                                              const v1::ClientCredentialsRequest* req,
                                              v1::ClientCredentialsResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* ctx,
                                        const v1::RevokeTokenRequest* req,
                                        v1::RevokeTokenResponse* resp) override;
  grpc::ServerUnaryReactor* IntrospectToken(grpc::CallbackServerContext* ctx,
                                            const v1::IntrospectTokenRequest* req,
                                            v1::IntrospectTokenResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeSession(grpc::CallbackServerContext* ctx,
                                          const v1::RevokeSessionRequest* req,
                                          v1::RevokeSessionResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyIdTokenHint(grpc::CallbackServerContext* ctx,
                                              const v1::VerifyIdTokenHintRequest* req,
                                              v1::VerifyIdTokenHintResponse* resp) override;
  grpc::ServerUnaryReactor* RotateKeys(grpc::CallbackServerContext* ctx,
                                       const v1::RotateKeysRequest* req,
                                       v1::RotateKeysResponse* resp) override;
  grpc::ServerUnaryReactor* GetConsent(grpc::CallbackServerContext* ctx,
                                       const v1::GetConsentRequest* req,
                                       v1::GetConsentResponse* resp) override;
  grpc::ServerUnaryReactor* GrantConsent(grpc::CallbackServerContext* ctx,
                                         const v1::GrantConsentRequest* req,
                                         v1::GrantConsentResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeConsent(grpc::CallbackServerContext* ctx,
                                          const v1::RevokeConsentRequest* req,
                                          v1::RevokeConsentResponse* resp) override;

 private:
  TokenService& service_;
  audit::AuditLog* audit_;
};

}  // namespace idp::token
