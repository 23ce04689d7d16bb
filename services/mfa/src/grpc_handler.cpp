#include "grpc_handler.hpp"

#include "idp/rpc/server.hpp"

namespace idp::mfa {
namespace {

v1::FactorType TypeFromName(const std::string& t) {
  if (t == "totp") return v1::FACTOR_TYPE_TOTP;
  if (t == "email") return v1::FACTOR_TYPE_EMAIL;
  if (t == "sms") return v1::FACTOR_TYPE_SMS;
  if (t == "recovery_codes") return v1::FACTOR_TYPE_RECOVERY_CODES;
  return v1::FACTOR_TYPE_UNSPECIFIED;
}

}  // namespace

grpc::Status MfaGrpcHandler::ListFactors(grpc::ServerContext* ctx,
                                         const v1::ListFactorsRequest* req,
                                         v1::ListFactorsResponse* resp) {
  return rpc::Serve(ctx, "ListFactors", [&]() -> Status {
    if (req->subject().empty()) return InvalidArgument("subject is required");
    auto list = factors_.List(req->subject());
    if (!list) return list.error();
    for (const auto& f : *list) {
      auto* p = resp->add_factors();
      p->set_id(f.id);
      p->set_type(TypeFromName(f.type));
      p->set_label(f.label);
      p->set_active(f.active);
      p->set_created_at(f.created_at);
    }
    return {};
  });
}

}  // namespace idp::mfa
