#pragma once

#include "token_service.hpp"

#include "idp/token/v1/token.grpc.pb.h"

namespace idp::token {

/// idp.token.v1.TokenService over TokenService: proto <-> domain, errors -> statuses.
class TokenGrpcHandler final : public v1::TokenService::Service {
 public:
  explicit TokenGrpcHandler(TokenService& service) : service_(service) {}

  // v1::TokenService::Service
  grpc::Status GetClient(grpc::ServerContext* ctx, const v1::GetClientRequest* req,
                         v1::GetClientResponse* resp) override;
  grpc::Status ListClients(grpc::ServerContext* ctx, const v1::ListClientsRequest* req,
                           v1::ListClientsResponse* resp) override;
  grpc::Status CreateClient(grpc::ServerContext* ctx, const v1::CreateClientRequest* req,
                            v1::CreateClientResponse* resp) override;
  grpc::Status IssueAuthorizationCode(grpc::ServerContext* ctx,
                                      const v1::IssueAuthorizationCodeRequest* req,
                                      v1::IssueAuthorizationCodeResponse* resp) override;
  grpc::Status ExchangeAuthorizationCode(grpc::ServerContext* ctx,
                                         const v1::ExchangeAuthorizationCodeRequest* req,
                                         v1::ExchangeAuthorizationCodeResponse* resp) override;
  grpc::Status ValidateAccessToken(grpc::ServerContext* ctx,
                                   const v1::ValidateAccessTokenRequest* req,
                                   v1::ValidateAccessTokenResponse* resp) override;
  grpc::Status GetJwks(grpc::ServerContext* ctx, const v1::GetJwksRequest* req,
                       v1::GetJwksResponse* resp) override;

 private:
  TokenService& service_;
};

}  // namespace idp::token
