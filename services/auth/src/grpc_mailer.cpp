#include "mailer.hpp"

#include "idp/common/log.hpp"
#include "idp/delivery/v1/delivery.grpc.pb.h"
#include "idp/rpc/channel.hpp"

namespace idp::auth {
namespace {

namespace dv1 = idp::delivery::v1;

dv1::Template ToProto(MailKind k) {
  switch (k) {
    case MailKind::kPasswordReset: return dv1::TEMPLATE_PASSWORD_RESET;
    case MailKind::kInvitation: return dv1::TEMPLATE_INVITATION;
    case MailKind::kPasswordChanged: return dv1::TEMPLATE_PASSWORD_CHANGED;
    case MailKind::kAccountLocked: return dv1::TEMPLATE_ACCOUNT_LOCKED;
  }
  return dv1::TEMPLATE_UNSPECIFIED;
}

const char* KindName(MailKind k) {
  switch (k) {
    case MailKind::kPasswordReset: return "password_reset";
    case MailKind::kInvitation: return "invitation";
    case MailKind::kPasswordChanged: return "password_changed";
    case MailKind::kAccountLocked: return "account_locked";
  }
  return "";
}

class GrpcMailer final : public Mailer {
 public:
  explicit GrpcMailer(const std::string& target)
      : stub_(dv1::DeliveryService::NewStub(rpc::MakeChannel(target))) {}

  void Send(Mail mail) override {
    // The call's state lives until its callback has run (on a gRPC thread).
    struct Call {
      grpc::ClientContext ctx;
      dv1::SendEmailRequest req;
      dv1::SendEmailResponse resp;
      std::string request_id;
      MailKind kind;
    };
    auto* call = new Call();
    call->kind = mail.kind;
    call->request_id = log::CurrentRequestId();
    // Nobody waits for the answer, so the call may wait out a delivery instance that is
    // starting or restarting instead of failing at once (the idempotency key makes a retried
    // send harmless).
    rpc::PrepareContext(call->ctx, call->request_id, std::chrono::seconds(15));
    call->ctx.set_wait_for_ready(true);
    call->req.set_idempotency_key(mail.idempotency_key);
    call->req.set_to_address(mail.to_address);
    call->req.set_to_name(mail.to_name);
    call->req.set_template_(ToProto(mail.kind));
    if (!mail.link.empty()) call->req.set_link(mail.link);
    if (mail.valid_for.count() > 0) call->req.mutable_code_valid_for()->set_seconds(mail.valid_for.count());
    stub_->async()->SendEmail(&call->ctx, &call->req, &call->resp, [call](grpc::Status st) {
      std::unique_ptr<Call> done(call);
      if (!st.ok()) {
        log::Warn("email not queued", {{"request_id", done->request_id},
                                       {"template", KindName(done->kind)},
                                       {"grpc_code", static_cast<int>(st.error_code())},
                                       {"error", st.error_message()}});
      } else if (done->resp.refusal() != dv1::REFUSAL_UNSPECIFIED) {
        log::Warn("email refused by delivery",
                  {{"request_id", done->request_id},
                   {"template", KindName(done->kind)},
                   {"refusal", dv1::Refusal_Name(done->resp.refusal())}});
      } else {
        log::Info("email queued", {{"request_id", done->request_id},
                                   {"template", KindName(done->kind)},
                                   {"message_id", done->resp.message_id()}});
      }
    });
  }

 private:
  std::unique_ptr<dv1::DeliveryService::Stub> stub_;
};

}  // namespace

std::unique_ptr<Mailer> MakeGrpcMailer(const std::string& target) {
  return std::make_unique<GrpcMailer>(target);
}

}  // namespace idp::auth
