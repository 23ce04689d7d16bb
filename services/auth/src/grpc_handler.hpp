#pragma once

#include "auth_service.hpp"
#include "password_service.hpp"

#include "idp/auth/v1/auth.grpc.pb.h"

namespace idp::auth {

/// The account as other services see it (no password hash).
void ToProto(const Account& a, v1::User* u);

/// idp.auth.v1.AuthService over AuthService: proto <-> domain, errors -> statuses.
class AuthGrpcHandler final : public v1::AuthService::Service {
 public:
  /// `audit` serves ListAuditEvents (null: the RPC answers FAILED_PRECONDITION).
  AuthGrpcHandler(AuthService& service, PasswordService& passwords,
                  audit::AuditLog* audit = nullptr)
      : service_(service), passwords_(passwords), audit_(audit) {}

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
  // Password self-service (grpc_password_handler.cpp).
  grpc::Status StartPasswordReset(grpc::ServerContext* ctx,
                                  const v1::StartPasswordResetRequest* req,
                                  v1::StartPasswordResetResponse* resp) override;
  grpc::Status CheckPasswordToken(grpc::ServerContext* ctx,
                                  const v1::CheckPasswordTokenRequest* req,
                                  v1::CheckPasswordTokenResponse* resp) override;
  grpc::Status CompletePasswordReset(grpc::ServerContext* ctx,
                                     const v1::CompletePasswordResetRequest* req,
                                     v1::CompletePasswordResetResponse* resp) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const v1::ChangePasswordRequest* req,
                              v1::ChangePasswordResponse* resp) override;
  grpc::Status ListAuditEvents(grpc::ServerContext* ctx, const v1::ListAuditEventsRequest* req,
                               v1::ListAuditEventsResponse* resp) override;
  grpc::Status InviteUser(grpc::ServerContext* ctx, const v1::InviteUserRequest* req,
                          v1::InviteUserResponse* resp) override;

 private:
  AuthService& service_;
  PasswordService& passwords_;
  audit::AuditLog* audit_;
};

}  // namespace idp::auth
