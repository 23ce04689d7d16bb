#pragma once

#include "delivery_service.hpp"

#include "idp/delivery/v1/delivery.grpc.pb.h"

#include <functional>

namespace idp::delivery {

class Metrics;

/// idp.delivery.v1.DeliveryService over DeliveryService: proto <-> domain, errors -> statuses.
class DeliveryGrpcHandler final : public v1::DeliveryService::CallbackService {
 public:
  /// `depth` reads the shared queue depth for GetMetrics (may fail when Redis is down).
  DeliveryGrpcHandler(DeliveryService& service, Metrics& metrics,
                      std::function<Result<QueueDepth>()> depth)
      : service_(service), metrics_(metrics), depth_(std::move(depth)) {}

  // v1::DeliveryService::CallbackService
  grpc::ServerUnaryReactor* SendEmail(grpc::CallbackServerContext* ctx,
                                      const v1::SendEmailRequest* req,
                                      v1::SendEmailResponse* resp) override;
  grpc::ServerUnaryReactor* SendSms(grpc::CallbackServerContext* ctx, const v1::SendSmsRequest* req,
                                    v1::SendSmsResponse* resp) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* req,
                                      v1::GetStatusResponse* resp) override;
  grpc::ServerUnaryReactor* GetMetrics(grpc::CallbackServerContext* ctx,
                                       const v1::GetMetricsRequest* req,
                                       v1::GetMetricsResponse* resp) override;

 private:
  DeliveryService& service_;
  Metrics& metrics_;
  std::function<Result<QueueDepth>()> depth_;
};

}  // namespace idp::delivery
