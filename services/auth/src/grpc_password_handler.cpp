// idp.auth.v1 password self-service RPCs over PasswordService. Tokens and passwords are never
// logged.
#include "grpc_handler.hpp"

#include "idp/common/log.hpp"
#include "idp/rpc/server.hpp"

namespace idp::auth {
namespace {

v1::PasswordRejection ToProto(PasswordRejection r) {
  switch (r) {
    case PasswordRejection::kNone: return v1::PASSWORD_REJECTION_UNSPECIFIED;
    case PasswordRejection::kInvalidToken: return v1::PASSWORD_REJECTION_INVALID_TOKEN;
    case PasswordRejection::kWeakPassword: return v1::PASSWORD_REJECTION_WEAK_PASSWORD;
    case PasswordRejection::kWrongPassword: return v1::PASSWORD_REJECTION_WRONG_PASSWORD;
  }
  return v1::PASSWORD_REJECTION_UNSPECIFIED;
}

/// The rule a new password broke, as the contract carries it (the limit it names).
void ToProto(const std::optional<PasswordProblem>& problem, v1::PasswordWeakness* out) {
  using W = v1::PasswordWeakness;
  if (!problem) return;
  switch (*problem) {
    case PasswordProblem::kControlCharacters: out->set_problem(W::PROBLEM_CONTROL_CHARACTERS); break;
    case PasswordProblem::kTooShort:
      out->set_problem(W::PROBLEM_TOO_SHORT);
      out->set_limit(kMinPasswordChars);
      break;
    case PasswordProblem::kTooLong:
      out->set_problem(W::PROBLEM_TOO_LONG);
      out->set_limit(kMaxPasswordChars);
      break;
    case PasswordProblem::kCommon: out->set_problem(W::PROBLEM_COMMON); break;
  }
}

}  // namespace

grpc::Status AuthGrpcHandler::StartPasswordReset(grpc::ServerContext* ctx,
                                                 const v1::StartPasswordResetRequest* req,
                                                 v1::StartPasswordResetResponse*) {
  return rpc::Serve(ctx, "StartPasswordReset", [&]() -> Status {
    if (req->username_or_email().size() > 254) {
      return InvalidArgument("username_or_email is longer than 254 characters");
    }
    log::Info("password reset asked", {{"source_address", req->source_address()}});
    return passwords_.StartReset(req->username_or_email());
  });
}

grpc::Status AuthGrpcHandler::CheckPasswordToken(grpc::ServerContext* ctx,
                                                 const v1::CheckPasswordTokenRequest* req,
                                                 v1::CheckPasswordTokenResponse* resp) {
  return rpc::Serve(ctx, "CheckPasswordToken", [&]() -> Status {
    auto grant = passwords_.CheckToken(req->token());
    if (!grant) return grant.error();
    resp->set_valid(grant->has_value());
    if (*grant) {
      resp->set_purpose((*grant)->purpose == TokenPurpose::kInvite ? v1::TOKEN_PURPOSE_INVITE
                                                                   : v1::TOKEN_PURPOSE_RESET);
      resp->set_username((*grant)->username);
    }
    return {};
  });
}

grpc::Status AuthGrpcHandler::CompletePasswordReset(grpc::ServerContext* ctx,
                                                    const v1::CompletePasswordResetRequest* req,
                                                    v1::CompletePasswordResetResponse* resp) {
  return rpc::Serve(ctx, "CompletePasswordReset", [&]() -> Status {
    auto out = passwords_.CompleteReset(req->token(), req->new_password());
    if (!out) return out.error();
    resp->set_rejection(ToProto(out->rejection));
    ToProto(out->problem, resp->mutable_weakness());
    resp->set_subject(out->subject);
    return {};
  });
}

grpc::Status AuthGrpcHandler::ChangePassword(grpc::ServerContext* ctx,
                                             const v1::ChangePasswordRequest* req,
                                             v1::ChangePasswordResponse* resp) {
  return rpc::Serve(ctx, "ChangePassword", [&]() -> Status {
    auto out = passwords_.ChangePassword(req->subject(), req->current_password(),
                                         req->new_password());
    if (!out) return out.error();
    resp->set_rejection(ToProto(out->rejection));
    ToProto(out->problem, resp->mutable_weakness());
    return {};
  });
}

grpc::Status AuthGrpcHandler::InviteUser(grpc::ServerContext* ctx,
                                         const v1::InviteUserRequest* req,
                                         v1::InviteUserResponse* resp) {
  return rpc::Serve(ctx, "InviteUser", [&]() -> Status {
    auto a = passwords_.Invite(req->username(), req->email(), req->name());
    if (!a) return a.error();
    ToProto(*a, resp->mutable_user());
    return {};
  });
}

}  // namespace idp::auth
