#pragma once

#include "auth_service.hpp"

#include "idp/auth/v1/auth.grpc.pb.h"

namespace idp::auth {

/// idp.auth.v1.AuthService over AuthService: proto <-> domain, errors -> statuses.
class AuthGrpcHandler final : public v1::AuthService::Service {
 public:
  explicit AuthGrpcHandler(AuthService& service) : service_(service) {}

  // v1::AuthService::Service
  grpc::Status VerifyPassword(grpc::ServerContext* ctx, const v1::VerifyPasswordRequest* req,
                              v1::VerifyPasswordResponse* resp) override;
  grpc::Status GetUser(grpc::ServerContext* ctx, const v1::GetUserRequest* req,
                       v1::GetUserResponse* resp) override;
  grpc::Status FindUser(grpc::ServerContext* ctx, const v1::FindUserRequest* req,
                        v1::FindUserResponse* resp) override;
  grpc::Status CreateUser(grpc::ServerContext* ctx, const v1::CreateUserRequest* req,
                          v1::CreateUserResponse* resp) override;
  grpc::Status SetPassword(grpc::ServerContext* ctx, const v1::SetPasswordRequest* req,
                           v1::SetPasswordResponse* resp) override;
  grpc::Status UnlockUser(grpc::ServerContext* ctx, const v1::UnlockUserRequest* req,
                          v1::UnlockUserResponse* resp) override;
  grpc::Status ListUsers(grpc::ServerContext* ctx, const v1::ListUsersRequest* req,
                         v1::ListUsersResponse* resp) override;

 private:
  AuthService& service_;
};

}  // namespace idp::auth
