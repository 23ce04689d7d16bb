#include "delivery_client.hpp"

#include "idp/common/log.hpp"
#include "idp/delivery/v1/delivery.grpc.pb.h"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/status.hpp"

namespace idp::mfa {
namespace {

namespace dv1 = idp::delivery::v1;

Refusal RefusalOf(dv1::Refusal r) {
  switch (r) {
    case dv1::REFUSAL_UNSPECIFIED: return Refusal{};
    case dv1::REFUSAL_DESTINATION_RATE_LIMITED: return Refused(RefusalReason::kSentRecently);
    case dv1::REFUSAL_COUNTRY_RATE_LIMITED:
    case dv1::REFUSAL_DAILY_BUDGET_EXHAUSTED: return Refused(RefusalReason::kSmsUnavailable);
    case dv1::REFUSAL_UNSUPPORTED_COUNTRY: return Refused(RefusalReason::kSmsCountryRefused);
    case dv1::REFUSAL_CHANNEL_DISABLED: return Refused(RefusalReason::kChannelDisabled);
    default: return Refused(RefusalReason::kNotSent);
  }
}

class GrpcDeliveryClient final : public DeliveryClient {
 public:
  GrpcDeliveryClient(const std::string& target, rpc::CallMetrics* metrics)
      : stub_(dv1::DeliveryService::NewStub(rpc::MakeChannel(target, {nullptr, metrics}))) {}

  Result<SendResult> SendEmail(const std::string& key, const std::string& to, CodePurpose purpose,
                               const std::string& code) override {
    dv1::SendEmailRequest req;
    req.set_idempotency_key(key);
    req.set_to_address(to);
    req.set_template_(purpose == CodePurpose::kSignIn ? dv1::TEMPLATE_SIGN_IN_CODE
                                                      : dv1::TEMPLATE_VERIFY_ADDRESS);
    req.set_code(code);
    req.mutable_code_valid_for()->set_seconds(600);
    dv1::SendEmailResponse resp;
    grpc::ClientContext ctx;
    rpc::PrepareContext(ctx, log::CurrentRequestId());
    auto st = stub_->SendEmail(&ctx, req, &resp);
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    return SendResult{resp.message_id(), RefusalOf(resp.refusal())};
  }

  Result<SendResult> SendSms(const std::string& key, const std::string& to, CodePurpose purpose,
                             const std::string& code) override {
    dv1::SendSmsRequest req;
    req.set_idempotency_key(key);
    req.set_to_number(to);
    req.set_template_(purpose == CodePurpose::kSignIn ? dv1::TEMPLATE_SIGN_IN_CODE
                                                      : dv1::TEMPLATE_VERIFY_ADDRESS);
    req.set_code(code);
    req.mutable_code_valid_for()->set_seconds(600);
    dv1::SendSmsResponse resp;
    grpc::ClientContext ctx;
    rpc::PrepareContext(ctx, log::CurrentRequestId());
    auto st = stub_->SendSms(&ctx, req, &resp);
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    return SendResult{resp.message_id(), RefusalOf(resp.refusal())};
  }

  Result<SendResult> NotifyChange(const std::string& key, bool email, const std::string& to,
                                  bool added, const std::string& factor_name) override {
    auto tmpl = added ? dv1::TEMPLATE_FACTOR_ADDED : dv1::TEMPLATE_FACTOR_REMOVED;
    grpc::ClientContext ctx;
    rpc::PrepareContext(ctx, log::CurrentRequestId());
    if (email) {
      dv1::SendEmailRequest req;
      req.set_idempotency_key(key);
      req.set_to_address(to);
      req.set_template_(tmpl);
      req.set_factor_name(factor_name);
      dv1::SendEmailResponse resp;
      auto st = stub_->SendEmail(&ctx, req, &resp);
      if (!st.ok()) return rpc::FromGrpcStatus(st);
      return SendResult{resp.message_id(), RefusalOf(resp.refusal())};
    }
    dv1::SendSmsRequest req;
    req.set_idempotency_key(key);
    req.set_to_number(to);
    req.set_template_(tmpl);
    req.set_factor_name(factor_name);
    dv1::SendSmsResponse resp;
    auto st = stub_->SendSms(&ctx, req, &resp);
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    return SendResult{resp.message_id(), RefusalOf(resp.refusal())};
  }

  Result<MessageStatus> Status(const std::string& message_id) override {
    dv1::GetStatusRequest req;
    req.set_message_id(message_id);
    dv1::GetStatusResponse resp;
    grpc::ClientContext ctx;
    rpc::PrepareContext(ctx, log::CurrentRequestId());
    auto st = stub_->GetStatus(&ctx, req, &resp);
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    static const char* kStates[] = {"", "queued", "sent", "retrying", "failed"};
    int s = resp.state();
    return MessageStatus{s >= 0 && s <= 4 ? kStates[s] : "", resp.updated_at().seconds()};
  }

 private:
  std::unique_ptr<dv1::DeliveryService::Stub> stub_;
};

}  // namespace

std::unique_ptr<DeliveryClient> MakeGrpcDeliveryClient(const std::string& target,
                                                       rpc::CallMetrics* metrics) {
  return std::make_unique<GrpcDeliveryClient>(target, metrics);
}

}  // namespace idp::mfa
