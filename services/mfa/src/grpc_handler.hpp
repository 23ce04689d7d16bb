#pragma once

#include "factor_store.hpp"

#include "idp/mfa/v1/mfa.grpc.pb.h"

namespace idp::mfa {

/// idp.mfa.v1.MfaService: proto <-> store, errors -> statuses.
class MfaGrpcHandler final : public v1::MfaService::Service {
 public:
  explicit MfaGrpcHandler(FactorStore& factors) : factors_(factors) {}

  // v1::MfaService::Service
  grpc::Status ListFactors(grpc::ServerContext* ctx, const v1::ListFactorsRequest* req,
                           v1::ListFactorsResponse* resp) override;

 private:
  FactorStore& factors_;
};

}  // namespace idp::mfa
