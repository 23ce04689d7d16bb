#include "grpc_handler.hpp"

#include "idp/audit/audit_rpc.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/rpc/server.hpp"

namespace idp::mfa {
namespace {

/// The domain's refusal as the contract carries it: a reason and a country, never a sentence.
void ToProto(const Refusal& r, v1::Refusal* out) {
  using R = v1::Refusal;
  out->set_region(r.region);
  switch (r.reason) {
    case RefusalReason::kNone: out->set_reason(R::REASON_UNSPECIFIED); return;
    case RefusalReason::kEmailMalformed: out->set_reason(R::REASON_EMAIL_MALFORMED); return;
    case RefusalReason::kSmsCountryNotAllowed: out->set_reason(R::REASON_SMS_COUNTRY_NOT_ALLOWED); return;
    case RefusalReason::kSentRecently: out->set_reason(R::REASON_SENT_RECENTLY); return;
    case RefusalReason::kSmsUnavailable: out->set_reason(R::REASON_SMS_UNAVAILABLE); return;
    case RefusalReason::kSmsCountryRefused: out->set_reason(R::REASON_SMS_COUNTRY_REFUSED); return;
    case RefusalReason::kChannelDisabled: out->set_reason(R::REASON_CHANNEL_DISABLED); return;
    case RefusalReason::kNotSent: out->set_reason(R::REASON_NOT_SENT); return;
    case RefusalReason::kKeepTwoMethods: out->set_reason(R::REASON_KEEP_TWO_METHODS); return;
    case RefusalReason::kPhone: break;
  }
  switch (r.phone) {
    case phone::Problem::kEmpty: out->set_reason(R::REASON_PHONE_EMPTY); return;
    case phone::Problem::kLetters: out->set_reason(R::REASON_PHONE_LETTERS); return;
    case phone::Problem::kCharacters: out->set_reason(R::REASON_PHONE_CHARACTERS); return;
    case phone::Problem::kTooShort: out->set_reason(R::REASON_PHONE_TOO_SHORT); return;
    case phone::Problem::kTooLong: out->set_reason(R::REASON_PHONE_TOO_LONG); return;
    case phone::Problem::kNoCountry: out->set_reason(R::REASON_PHONE_NO_COUNTRY); return;
    case phone::Problem::kUnknownCountryCode: out->set_reason(R::REASON_PHONE_UNKNOWN_COUNTRY_CODE); return;
    case phone::Problem::kWrongLength: out->set_reason(R::REASON_PHONE_WRONG_LENGTH); return;
    case phone::Problem::kInvalidForRegion: out->set_reason(R::REASON_PHONE_INVALID); return;
    case phone::Problem::kNotMobile: out->set_reason(R::REASON_PHONE_LANDLINE); return;
    case phone::Problem::kServiceNumber: out->set_reason(R::REASON_PHONE_SERVICE_NUMBER); return;
    case phone::Problem::kUnsupportedCountry: out->set_reason(R::REASON_SMS_COUNTRY_NOT_ALLOWED); return;
  }
  out->set_reason(R::REASON_PHONE_INVALID);
}

v1::FactorType TypeFromName(const std::string& t) {
  if (t == "totp") return v1::FACTOR_TYPE_TOTP;
  if (t == "email") return v1::FACTOR_TYPE_EMAIL;
  if (t == "sms") return v1::FACTOR_TYPE_SMS;
  if (t == "recovery_codes") return v1::FACTOR_TYPE_RECOVERY_CODES;
  return v1::FACTOR_TYPE_UNSPECIFIED;
}

}  // namespace

grpc::ServerUnaryReactor* MfaGrpcHandler::ListFactors(grpc::CallbackServerContext* ctx,
                                                      const v1::ListFactorsRequest* req,
                                                      v1::ListFactorsResponse* resp) {
  return rpc::ServeUnary(ctx, "ListFactors", [&]() -> Status {
    if (req->subject().empty()) return InvalidArgument("subject is required");
    auto list = service_.List(req->subject());
    if (!list) return list.error();
    for (const auto& f : *list) {
      auto* p = resp->add_factors();
      p->set_id(f.id);
      p->set_type(TypeFromName(f.type));
      p->set_label(f.label);
      p->set_active(f.active);
      p->set_created_at(f.created_at);
    }
    // Recovery codes show as one factor whose label says how many are left.
    auto left = service_.RecoveryCodesLeft(req->subject());
    if (!left) return left.error();
    if (*left > 0) {
      auto* p = resp->add_factors();
      p->set_type(v1::FACTOR_TYPE_RECOVERY_CODES);
      p->set_label(std::to_string(*left) + " recovery codes left");
      p->set_active(true);
    }
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::StartTotpEnrolment(
    grpc::CallbackServerContext* ctx, const v1::StartTotpEnrolmentRequest* req,
    v1::StartTotpEnrolmentResponse* resp) {
  return rpc::ServeUnary(ctx, "StartTotpEnrolment", [&]() -> Status {
    auto e = service_.StartTotp(req->subject(), req->label(), req->account_name());
    if (!e) return e.error();
    resp->set_factor_id(e->factor_id);
    resp->set_secret_base32(e->secret_base32);
    resp->set_otpauth_uri(e->otpauth_uri);
    resp->set_qr_svg(e->qr_svg);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ConfirmTotpEnrolment(
    grpc::CallbackServerContext* ctx, const v1::ConfirmTotpEnrolmentRequest* req,
    v1::ConfirmTotpEnrolmentResponse* resp) {
  return rpc::ServeUnary(ctx, "ConfirmTotpEnrolment", [&]() -> Status {
    auto outcome = service_.ConfirmTotp(req->subject(), req->factor_id(), req->code());
    if (!outcome) return outcome.error();
    using R = v1::ConfirmTotpEnrolmentResponse;
    resp->set_outcome(*outcome == CodeOutcome::kVerified    ? R::OUTCOME_CONFIRMED
                      : *outcome == CodeOutcome::kMalformed ? R::OUTCOME_MALFORMED_CODE
                                                            : R::OUTCOME_WRONG_CODE);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::RemoveFactor(grpc::CallbackServerContext* ctx,
                                                       const v1::RemoveFactorRequest* req,
                                                       v1::RemoveFactorResponse* resp) {
  return rpc::ServeUnary(ctx, "RemoveFactor", [&]() -> Status {
    auto refusal = service_.Remove(req->subject(), req->factor_id());
    if (!refusal) return refusal.error();
    ToProto(*refusal, resp->mutable_refusal());
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::StartChallenge(grpc::CallbackServerContext* ctx,
                                                         const v1::StartChallengeRequest* req,
                                                         v1::StartChallengeResponse* resp) {
  return rpc::ServeUnary(ctx, "StartChallenge", [&]() -> Status {
    auto id = service_.StartChallenge(req->subject());
    if (!id) return id.error();
    resp->set_challenge_id(*id);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::VerifyCode(grpc::CallbackServerContext* ctx,
                                                     const v1::VerifyCodeRequest* req,
                                                     v1::VerifyCodeResponse* resp) {
  return rpc::ServeUnary(ctx, "VerifyCode", [&]() -> Status {
    VerifyMethod method = VerifyMethod::kTotp;
    switch (req->method()) {
      case v1::CODE_METHOD_TOTP: method = VerifyMethod::kTotp; break;
      case v1::CODE_METHOD_RECOVERY: method = VerifyMethod::kRecovery; break;
      case v1::CODE_METHOD_SENT: method = VerifyMethod::kSent; break;
      default: return InvalidArgument("method must be TOTP, RECOVERY or SENT");
    }
    auto v = service_.Verify(req->challenge_id(), req->subject(), method, req->code());
    if (!v) return v.error();
    using R = v1::VerifyCodeResponse;
    switch (v->outcome) {
      case CodeOutcome::kVerified: resp->set_outcome(R::OUTCOME_VERIFIED); break;
      case CodeOutcome::kWrong: resp->set_outcome(R::OUTCOME_WRONG_CODE); break;
      case CodeOutcome::kMalformed: resp->set_outcome(R::OUTCOME_MALFORMED_CODE); break;
      case CodeOutcome::kChallengeEnded: resp->set_outcome(R::OUTCOME_CHALLENGE_ENDED); break;
      case CodeOutcome::kLocked: resp->set_outcome(R::OUTCOME_LOCKED); break;
    }
    if (v->outcome == CodeOutcome::kVerified) resp->set_amr(v->amr);
    resp->set_tries_left(v->tries_left);
    resp->set_recovery_codes_left(v->recovery_codes_left);
    resp->set_retry_after_seconds(static_cast<std::int32_t>(v->retry_after.count()));
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::GenerateRecoveryCodes(
    grpc::CallbackServerContext* ctx, const v1::GenerateRecoveryCodesRequest* req,
    v1::GenerateRecoveryCodesResponse* resp) {
  return rpc::ServeUnary(ctx, "GenerateRecoveryCodes", [&]() -> Status {
    auto codes = service_.GenerateRecoveryCodes(req->subject());
    if (!codes) return codes.error();
    for (const auto& c : *codes) resp->add_codes(c);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::RememberBrowser(grpc::CallbackServerContext* ctx,
                                                          const v1::RememberBrowserRequest* req,
                                                          v1::RememberBrowserResponse* resp) {
  return rpc::ServeUnary(ctx, "RememberBrowser", [&]() -> Status {
    auto token = service_.RememberBrowser(req->subject(), req->label(), req->days());
    if (!token) return token.error();
    resp->set_token(*token);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::CheckBrowser(grpc::CallbackServerContext* ctx,
                                                       const v1::CheckBrowserRequest* req,
                                                       v1::CheckBrowserResponse* resp) {
  return rpc::ServeUnary(ctx, "CheckBrowser", [&]() -> Status {
    auto ok = service_.CheckBrowser(req->subject(), req->token());
    if (!ok) return ok.error();
    resp->set_remembered(*ok);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ListBrowsers(grpc::CallbackServerContext* ctx,
                                                       const v1::ListBrowsersRequest* req,
                                                       v1::ListBrowsersResponse* resp) {
  return rpc::ServeUnary(ctx, "ListBrowsers", [&]() -> Status {
    auto list = service_.ListBrowsers(req->subject());
    if (!list) return list.error();
    for (const auto& b : *list) {
      auto* p = resp->add_browsers();
      p->set_id(b.id);
      p->set_label(b.label);
      p->set_created_at(b.created_at);
      p->set_expires_at(b.expires_at);
    }
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ForgetBrowsers(grpc::CallbackServerContext* ctx,
                                                         const v1::ForgetBrowsersRequest* req,
                                                         v1::ForgetBrowsersResponse* resp) {
  return rpc::ServeUnary(ctx, "ForgetBrowsers", [&]() -> Status {
    auto n = service_.ForgetBrowsers(req->subject(), req->id());
    if (!n) return n.error();
    resp->set_forgotten(*n);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ResetFactors(grpc::CallbackServerContext* ctx,
                                                       const v1::ResetFactorsRequest* req,
                                                       v1::ResetFactorsResponse* resp) {
  return rpc::ServeUnary(ctx, "ResetFactors", [&]() -> Status {
    auto n = service_.Reset(req->subject());
    if (!n) return n.error();
    resp->set_removed(*n);
    return {};
  });
}

namespace {

v1::VerifyCodeResponse::Outcome ToProto(CodeOutcome o) {
  using R = v1::VerifyCodeResponse;
  switch (o) {
    case CodeOutcome::kVerified: return R::OUTCOME_VERIFIED;
    case CodeOutcome::kWrong: return R::OUTCOME_WRONG_CODE;
    case CodeOutcome::kMalformed: return R::OUTCOME_MALFORMED_CODE;
    case CodeOutcome::kChallengeEnded: return R::OUTCOME_CHALLENGE_ENDED;
    case CodeOutcome::kLocked: return R::OUTCOME_LOCKED;
  }
  return R::OUTCOME_UNSPECIFIED;
}

std::string TypeName(v1::FactorType t) {
  return t == v1::FACTOR_TYPE_EMAIL ? "email" : t == v1::FACTOR_TYPE_SMS ? "sms" : "";
}

}  // namespace

grpc::ServerUnaryReactor* MfaGrpcHandler::StartDeliveryEnrolment(
    grpc::CallbackServerContext* ctx, const v1::StartDeliveryEnrolmentRequest* req,
    v1::StartDeliveryEnrolmentResponse* resp) {
  return rpc::ServeUnary(ctx, "StartDeliveryEnrolment", [&]() -> Status {
    auto e = service_.StartDeliveryEnrolment(req->subject(), TypeName(req->type()),
                                             req->destination(), req->region());
    if (!e) return e.error();
    ToProto(e->refusal, resp->mutable_refusal());
    resp->set_factor_id(e->factor_id);
    resp->set_label(e->label);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ConfirmDeliveryEnrolment(
    grpc::CallbackServerContext* ctx, const v1::ConfirmDeliveryEnrolmentRequest* req,
    v1::ConfirmDeliveryEnrolmentResponse* resp) {
  return rpc::ServeUnary(ctx, "ConfirmDeliveryEnrolment", [&]() -> Status {
    auto v = service_.ConfirmDeliveryEnrolment(req->subject(), req->factor_id(), req->code());
    if (!v) return v.error();
    resp->set_outcome(ToProto(v->outcome));
    resp->set_tries_left(v->tries_left);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::SendCode(grpc::CallbackServerContext* ctx,
                                                   const v1::SendCodeRequest* req,
                                                   v1::SendCodeResponse* resp) {
  return rpc::ServeUnary(ctx, "SendCode", [&]() -> Status {
    auto r = service_.SendCode(req->challenge_id(), req->subject(), req->factor_id());
    if (!r) return r.error();
    ToProto(r->refusal, resp->mutable_refusal());
    resp->set_label(r->label);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::CodeStatus(grpc::CallbackServerContext* ctx,
                                                     const v1::CodeStatusRequest* req,
                                                     v1::CodeStatusResponse* resp) {
  return rpc::ServeUnary(ctx, "CodeStatus", [&]() -> Status {
    auto r = service_.CodeStatus(req->challenge_id(), req->subject());
    if (!r) return r.error();
    resp->set_state(r->first.state);
    resp->set_updated_at(r->first.updated_at);
    resp->set_label(r->second);
    return {};
  });
}

grpc::ServerUnaryReactor* MfaGrpcHandler::ListAuditEvents(grpc::CallbackServerContext* ctx,
                                                          const v1::ListAuditEventsRequest* req,
                                                          v1::ListAuditEventsResponse* resp) {
  return rpc::ServeUnary(ctx, "ListAuditEvents", [&]() -> Status {
    if (audit_ == nullptr) return Error{ErrorCode::kFailedPrecondition, "no audit log"};
    return audit::ListAuditEvents(*audit_, *req, resp);
  });
}

}  // namespace idp::mfa
