#pragma once

#include "mfa_service.hpp"

#include "idp/audit/audit.hpp"

#include "idp/mfa/v1/mfa.grpc.pb.h"

namespace idp::mfa {

/// idp.mfa.v1.MfaService over MfaService: proto <-> domain, errors -> statuses.
class MfaGrpcHandler final : public v1::MfaService::CallbackService {
 public:
  /// Maps protos to `service`, which takes every decision and records the audit events;
  /// `audit` serves ListAuditEvents (null: refused).
  explicit MfaGrpcHandler(MfaService& service, audit::AuditLog* audit = nullptr)
      : service_(service), audit_(audit) {}

  // v1::MfaService::CallbackService
  grpc::ServerUnaryReactor* ListFactors(grpc::CallbackServerContext* ctx,
                                        const v1::ListFactorsRequest* req,
                                        v1::ListFactorsResponse* resp) override;
  grpc::ServerUnaryReactor* StartTotpEnrolment(grpc::CallbackServerContext* ctx,
                                               const v1::StartTotpEnrolmentRequest* req,
                                               v1::StartTotpEnrolmentResponse* resp) override;
  grpc::ServerUnaryReactor* ConfirmTotpEnrolment(grpc::CallbackServerContext* ctx,
                                                 const v1::ConfirmTotpEnrolmentRequest* req,
                                                 v1::ConfirmTotpEnrolmentResponse* resp) override;
  grpc::ServerUnaryReactor* RemoveFactor(grpc::CallbackServerContext* ctx,
                                         const v1::RemoveFactorRequest* req,
                                         v1::RemoveFactorResponse* resp) override;
  grpc::ServerUnaryReactor* StartChallenge(grpc::CallbackServerContext* ctx,
                                           const v1::StartChallengeRequest* req,
                                           v1::StartChallengeResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyCode(grpc::CallbackServerContext* ctx,
                                       const v1::VerifyCodeRequest* req,
                                       v1::VerifyCodeResponse* resp) override;
  grpc::ServerUnaryReactor* GenerateRecoveryCodes(grpc::CallbackServerContext* ctx,
                                                  const v1::GenerateRecoveryCodesRequest* req,
                                                  v1::GenerateRecoveryCodesResponse* resp) override;
  grpc::ServerUnaryReactor* StartDeliveryEnrolment(
      grpc::CallbackServerContext* ctx, const v1::StartDeliveryEnrolmentRequest* req,
      v1::StartDeliveryEnrolmentResponse* resp) override;
  grpc::ServerUnaryReactor* ConfirmDeliveryEnrolment(
      grpc::CallbackServerContext* ctx, const v1::ConfirmDeliveryEnrolmentRequest* req,
      v1::ConfirmDeliveryEnrolmentResponse* resp) override;
  grpc::ServerUnaryReactor* SendCode(grpc::CallbackServerContext* ctx,
                                     const v1::SendCodeRequest* req,
                                     v1::SendCodeResponse* resp) override;
  grpc::ServerUnaryReactor* CodeStatus(grpc::CallbackServerContext* ctx,
                                       const v1::CodeStatusRequest* req,
                                       v1::CodeStatusResponse* resp) override;
  grpc::ServerUnaryReactor* RememberBrowser(grpc::CallbackServerContext* ctx,
                                            const v1::RememberBrowserRequest* req,
                                            v1::RememberBrowserResponse* resp) override;
  grpc::ServerUnaryReactor* CheckBrowser(grpc::CallbackServerContext* ctx,
                                         const v1::CheckBrowserRequest* req,
                                         v1::CheckBrowserResponse* resp) override;
  grpc::ServerUnaryReactor* ListBrowsers(grpc::CallbackServerContext* ctx,
                                         const v1::ListBrowsersRequest* req,
                                         v1::ListBrowsersResponse* resp) override;
  grpc::ServerUnaryReactor* ForgetBrowsers(grpc::CallbackServerContext* ctx,
                                           const v1::ForgetBrowsersRequest* req,
                                           v1::ForgetBrowsersResponse* resp) override;
  grpc::ServerUnaryReactor* ResetFactors(grpc::CallbackServerContext* ctx,
                                         const v1::ResetFactorsRequest* req,
                                         v1::ResetFactorsResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEvents(grpc::CallbackServerContext* ctx,
                                            const v1::ListAuditEventsRequest* req,
                                            v1::ListAuditEventsResponse* resp) override;

 private:
  MfaService& service_;
  audit::AuditLog* audit_;
};

}  // namespace idp::mfa
