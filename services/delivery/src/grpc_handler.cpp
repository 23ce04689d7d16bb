#include "grpc_handler.hpp"

#include "metrics.hpp"

#include "idp/rpc/server.hpp"

#include <google/protobuf/util/time_util.h>

namespace idp::delivery {
namespace {

using google::protobuf::util::TimeUtil;

TemplateId FromProto(v1::Template t) {
  switch (t) {
    case v1::TEMPLATE_SIGN_IN_CODE: return TemplateId::kSignInCode;
    case v1::TEMPLATE_VERIFY_ADDRESS: return TemplateId::kVerifyAddress;
    case v1::TEMPLATE_FACTOR_ADDED: return TemplateId::kFactorAdded;
    case v1::TEMPLATE_FACTOR_REMOVED: return TemplateId::kFactorRemoved;
    case v1::TEMPLATE_PASSWORD_RESET: return TemplateId::kPasswordReset;
    case v1::TEMPLATE_INVITATION: return TemplateId::kInvitation;
    case v1::TEMPLATE_PASSWORD_CHANGED: return TemplateId::kPasswordChanged;
    case v1::TEMPLATE_ACCOUNT_LOCKED: return TemplateId::kAccountLocked;
    default: return TemplateId::kUnspecified;
  }
}

v1::Refusal ToProto(Refusal r) {
  switch (r) {
    case Refusal::kNone: return v1::REFUSAL_UNSPECIFIED;
    case Refusal::kDestinationRateLimited: return v1::REFUSAL_DESTINATION_RATE_LIMITED;
    case Refusal::kCountryRateLimited: return v1::REFUSAL_COUNTRY_RATE_LIMITED;
    case Refusal::kDailyBudgetExhausted: return v1::REFUSAL_DAILY_BUDGET_EXHAUSTED;
    case Refusal::kUnsupportedCountry: return v1::REFUSAL_UNSUPPORTED_COUNTRY;
    case Refusal::kChannelDisabled: return v1::REFUSAL_CHANNEL_DISABLED;
  }
  return v1::REFUSAL_UNSPECIFIED;
}

v1::MessageState ToProto(MessageState s) {
  switch (s) {
    case MessageState::kQueued: return v1::MESSAGE_STATE_QUEUED;
    case MessageState::kSent: return v1::MESSAGE_STATE_SENT;
    case MessageState::kRetrying: return v1::MESSAGE_STATE_RETRYING;
    case MessageState::kFailed: return v1::MESSAGE_STATE_FAILED;
  }
  return v1::MESSAGE_STATE_UNSPECIFIED;
}

/// The validity of a code, when given: whole seconds, within what a Duration can hold.
Result<std::optional<std::chrono::seconds>> ValidFor(bool has, const google::protobuf::Duration& d) {
  if (!has) return std::optional<std::chrono::seconds>{};
  if (d.seconds() < 0 || d.seconds() > 30 * 86400 || d.nanos() != 0) {
    return InvalidArgument("code_valid_for must be whole seconds, at most 1 h (30 days for a link)");
  }
  return std::optional<std::chrono::seconds>{std::chrono::seconds(d.seconds())};
}

void SetTime(std::int64_t ms, google::protobuf::Timestamp* t) {
  *t = TimeUtil::MillisecondsToTimestamp(ms);
}

}  // namespace

grpc::ServerUnaryReactor* DeliveryGrpcHandler::SendEmail(grpc::CallbackServerContext* ctx,
                                                         const v1::SendEmailRequest* req,
                                                         v1::SendEmailResponse* resp) {
  return rpc::ServeUnary(ctx, "SendEmail", [&]() -> Status {
    auto valid_for = ValidFor(req->has_code_valid_for(), req->code_valid_for());
    if (!valid_for) return valid_for.error();
    EmailRequest r;
    r.idempotency_key = req->idempotency_key();
    r.to_address = req->to_address();
    r.to_name = req->to_name();
    r.template_id = FromProto(req->template_());
    r.code = req->code();
    r.code_valid_for = *valid_for;
    r.factor_name = req->factor_name();
    r.link = req->link();
    auto out = service_.SendEmail(r);
    if (!out) return out.error();
    resp->set_message_id(out->message_id);
    resp->set_replayed(out->replayed);
    resp->set_refusal(ToProto(out->refusal));
    if (out->retry_after.count() > 0) {
      *resp->mutable_retry_after() = TimeUtil::MillisecondsToDuration(out->retry_after.count());
    }
    return {};
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcHandler::SendSms(grpc::CallbackServerContext* ctx,
                                                       const v1::SendSmsRequest* req,
                                                       v1::SendSmsResponse* resp) {
  return rpc::ServeUnary(ctx, "SendSms", [&]() -> Status {
    auto valid_for = ValidFor(req->has_code_valid_for(), req->code_valid_for());
    if (!valid_for) return valid_for.error();
    SmsRequest r;
    r.idempotency_key = req->idempotency_key();
    r.to_number = req->to_number();
    r.template_id = FromProto(req->template_());
    r.code = req->code();
    r.code_valid_for = *valid_for;
    r.factor_name = req->factor_name();
    auto out = service_.SendSms(r);
    if (!out) return out.error();
    resp->set_message_id(out->message_id);
    resp->set_replayed(out->replayed);
    resp->set_refusal(ToProto(out->refusal));
    resp->set_country(out->country);
    if (out->retry_after.count() > 0) {
      *resp->mutable_retry_after() = TimeUtil::MillisecondsToDuration(out->retry_after.count());
    }
    return {};
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcHandler::GetStatus(grpc::CallbackServerContext* ctx,
                                                         const v1::GetStatusRequest* req,
                                                         v1::GetStatusResponse* resp) {
  return rpc::ServeUnary(ctx, "GetStatus", [&]() -> Status {
    auto s = service_.GetStatus(req->message_id());
    if (!s) return s.error();
    resp->set_state(ToProto(s->state));
    resp->set_channel(s->channel == Channel::kSms ? v1::CHANNEL_SMS : v1::CHANNEL_EMAIL);
    resp->set_attempts(s->attempts);
    SetTime(s->queued_at_ms, resp->mutable_queued_at());
    SetTime(s->updated_at_ms, resp->mutable_updated_at());
    if (s->sent_at_ms > 0) SetTime(s->sent_at_ms, resp->mutable_sent_at());
    if (s->next_attempt_at_ms > 0) SetTime(s->next_attempt_at_ms, resp->mutable_next_attempt_at());
    resp->set_last_error(s->last_error);
    return {};
  });
}

grpc::ServerUnaryReactor* DeliveryGrpcHandler::GetMetrics(grpc::CallbackServerContext* ctx,
                                                          const v1::GetMetricsRequest* /*req*/,
                                                          v1::GetMetricsResponse* resp) {
  return rpc::ServeUnary(ctx, "GetMetrics", [&]() -> Status {
    auto depth = depth_();
    resp->set_text(metrics_.Render(depth ? &*depth : nullptr));
    return {};
  });
}

}  // namespace idp::delivery
