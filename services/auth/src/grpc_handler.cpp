#include "grpc_handler.hpp"

#include "idp/audit/audit_rpc.hpp"

#include "idp/rpc/server.hpp"

namespace idp::auth {

void ToProto(const Account& a, v1::User* u) {
  u->set_subject(a.subject);
  u->set_username(a.username);
  u->set_email(a.email);
  u->set_email_verified(a.email_verified);
  u->set_name(a.name);
  u->set_given_name(a.given_name);
  u->set_family_name(a.family_name);
  u->set_updated_at(a.updated_at);
  u->set_disabled(a.disabled);
  u->set_phone_number(a.phone_number);
  u->set_phone_number_verified(a.phone_number_verified);
}

grpc::Status AuthGrpcHandler::VerifyPassword(grpc::ServerContext* ctx,
                                             const v1::VerifyPasswordRequest* req,
                                             v1::VerifyPasswordResponse* resp) {
  return rpc::Serve(ctx, "VerifyPassword", [&]() -> Status {
    auto check = service_.VerifyPassword(req->username(), req->password(), req->source_address());
    if (!check) return check.error();
    if (check->ok) {
      resp->mutable_verified()->set_subject(check->subject);
      log::Info("password verified", {{"subject", check->subject}});
    } else {
      resp->set_rejected(v1::VerifyPasswordResponse::REJECT_REASON_INVALID_CREDENTIALS);
      log::Info("password rejected", {{"source_address", req->source_address()}});
    }
    return {};
  });
}

grpc::Status AuthGrpcHandler::GetUser(grpc::ServerContext* ctx, const v1::GetUserRequest* req,
                                      v1::GetUserResponse* resp) {
  return rpc::Serve(ctx, "GetUser", [&]() -> Status {
    auto a = service_.GetBySubject(req->subject());
    if (!a) return a.error();
    ToProto(*a, resp->mutable_user());
    return {};
  });
}

grpc::Status AuthGrpcHandler::FindUser(grpc::ServerContext* ctx, const v1::FindUserRequest* req,
                                       v1::FindUserResponse* resp) {
  return rpc::Serve(ctx, "FindUser", [&]() -> Status {
    auto a = service_.GetByUsername(req->username());
    if (!a) return a.error();
    ToProto(*a, resp->mutable_user());
    return {};
  });
}

grpc::Status AuthGrpcHandler::CreateUser(grpc::ServerContext* ctx,
                                         const v1::CreateUserRequest* req,
                                         v1::CreateUserResponse* resp) {
  return rpc::Serve(ctx, "CreateUser", [&]() -> Status {
    NewAccount n{req->username(),   req->email(),       req->email_verified(), req->name(),
                 req->given_name(), req->family_name(), req->password(),       req->phone_number()};
    auto a = service_.CreateByAdmin(n);
    if (!a) return a.error();
    ToProto(*a, resp->mutable_user());
    return {};
  });
}

grpc::Status AuthGrpcHandler::SetPassword(grpc::ServerContext* ctx,
                                          const v1::SetPasswordRequest* req,
                                          v1::SetPasswordResponse*) {
  return rpc::Serve(ctx, "SetPassword", [&]() -> Status {
    return service_.SetPassword(req->subject(), req->password());
  });
}

grpc::Status AuthGrpcHandler::ListUsers(grpc::ServerContext* ctx, const v1::ListUsersRequest* req,
                                        v1::ListUsersResponse* resp) {
  return rpc::Serve(ctx, "ListUsers", [&]() -> Status {
    auto list = service_.List(req->limit());
    if (!list) return list.error();
    for (const auto& a : *list) ToProto(a, resp->add_users());
    return {};
  });
}

grpc::Status AuthGrpcHandler::UnlockUser(grpc::ServerContext* ctx, const v1::UnlockUserRequest* req,
                                         v1::UnlockUserResponse*) {
  return rpc::Serve(ctx, "UnlockUser", [&]() -> Status {
    auto st = service_.Unlock(req->username());
    if (st) log::Info("account unlocked by an administrator", {});
    return st;
  });
}

grpc::Status AuthGrpcHandler::ListAuditEvents(grpc::ServerContext* ctx,
                                              const v1::ListAuditEventsRequest* req,
                                              v1::ListAuditEventsResponse* resp) {
  return rpc::Serve(ctx, "ListAuditEvents", [&]() -> Status {
    if (audit_ == nullptr) return Error{ErrorCode::kFailedPrecondition, "no audit log"};
    return audit::ListAuditEvents(*audit_, *req, resp);
  });
}

}  // namespace idp::auth
