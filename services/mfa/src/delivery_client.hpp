#pragma once
/// @file mfa's view of the delivery service: send a code, ask how it is doing.

#include "refusal.hpp"

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace idp::rpc {
class CallMetrics;
}

namespace idp::mfa {

struct SendResult {
  std::string message_id;
  Refusal refusal;  ///< none when queued; else why delivery refused
};

struct MessageStatus {
  std::string state;  ///< queued | sent | retrying | failed
  std::int64_t updated_at = 0;
};

enum class CodePurpose { kSignIn, kVerifyAddress };

class DeliveryClient {
 public:
  virtual ~DeliveryClient() = default;
  [[nodiscard]] virtual Result<SendResult> SendEmail(const std::string& idempotency_key,
                                                     const std::string& to,
                                                     CodePurpose purpose,
                                                     const std::string& code) = 0;
  [[nodiscard]] virtual Result<SendResult> SendSms(const std::string& idempotency_key,
                                                   const std::string& to, CodePurpose purpose,
                                                   const std::string& code) = 0;
  [[nodiscard]] virtual Result<MessageStatus> Status(const std::string& message_id) = 0;
  /// Tells `to` (an address when `email`, else a number) that `factor_name` was added or
  /// removed.
  [[nodiscard]] virtual Result<SendResult> NotifyChange(const std::string& idempotency_key,
                                                        bool email, const std::string& to,
                                                        bool added,
                                                        const std::string& factor_name) = 0;
};

/// Over gRPC (idp.delivery.v1), with a deadline and the thread's request id; calls are counted
/// in `metrics` when given.
std::unique_ptr<DeliveryClient> MakeGrpcDeliveryClient(const std::string& target,
                                                       rpc::CallMetrics* metrics = nullptr);

}  // namespace idp::mfa
