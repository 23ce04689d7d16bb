#pragma once
/// @file The delivery domain: validates a send request, renders its template, applies the
/// guards and queues it in the outbox; reports status. Knows nothing of gRPC or of providers
/// (the Dispatcher sends).

#include "outbox.hpp"
#include "outbox_cipher.hpp"
#include "policy.hpp"
#include "templates.hpp"

#include "idp/common/clock.hpp"
#include "idp/common/error.hpp"

#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace idp::delivery {

class Metrics;

struct DeliverySettings {
  std::string product_name = "Identity";
  std::string from_address;  ///< required when email is enabled
  std::string from_name;
  bool email_enabled = false;
  bool sms_enabled = false;
  /// ISO codes SMS may go to; a number elsewhere is refused (kUnsupportedCountry).
  std::set<std::string> sms_countries;
  /// Per destination, for the code templates (SECURITY §70: 1/30s, 3/5m, 10/1d).
  std::vector<RateWindow> destination_limits;
  /// Per country, every SMS (pumping).
  std::vector<RateWindow> country_limits;
  /// SMS per UTC day, all countries; 0: none.
  std::int64_t sms_daily_budget = 0;
  std::chrono::seconds default_code_validity{600};
  std::chrono::seconds max_code_validity{3600};
  /// How long a notice (factor added/removed) is worth retrying.
  std::chrono::seconds notice_max_age{86400};
};

/// A send request in domain terms (the gRPC handler maps the proto to it).
struct EmailRequest {
  std::string idempotency_key;
  std::string to_address;
  std::string to_name;
  TemplateId template_id = TemplateId::kUnspecified;
  std::string code;  ///< sensitive
  std::optional<std::chrono::seconds> code_valid_for;
  std::string factor_name;
  std::string link;  ///< sensitive: the reset or invitation link
};

struct SmsRequest {
  std::string idempotency_key;
  std::string to_number;
  TemplateId template_id = TemplateId::kUnspecified;
  std::string code;  ///< sensitive
  std::optional<std::chrono::seconds> code_valid_for;
  std::string factor_name;
};

struct SendResult {
  std::string message_id;  ///< empty when refused
  bool replayed = false;
  Refusal refusal = Refusal::kNone;
  std::chrono::milliseconds retry_after{0};
  std::string country;  ///< SMS: the number's country, when known
};

/// Longest idempotency key, factor name and SMS text accepted.
inline constexpr std::size_t kMaxIdempotencyKey = 128;
inline constexpr std::size_t kMaxFactorNameChars = 64;
/// Longest link, and the longest time a link may be said to work (an invitation: 30 days).
inline constexpr std::size_t kMaxLinkChars = 2048;
inline constexpr std::chrono::seconds kMaxLinkValidity{30 * 86400};

/// Thread-safe (the outbox, cipher, clock and metrics are).
class DeliveryService {
 public:
  DeliveryService(Outbox& outbox, const OutboxCipher& cipher, const Clock& clock,
                  Metrics& metrics, DeliverySettings settings);

  /// Queues an email. kInvalidArgument for a malformed request (nothing queued, the message
  /// names the field); kAlreadyExists when the idempotency key came with another request;
  /// kUnavailable when the outbox cannot be reached. A guard's "no" is a SendResult.
  [[nodiscard]] Result<SendResult> SendEmail(const EmailRequest& request);
  /// Queues an SMS; errors as SendEmail.
  [[nodiscard]] Result<SendResult> SendSms(const SmsRequest& request);
  /// kInvalidArgument for a malformed id, kNotFound for an unknown or expired one.
  [[nodiscard]] Result<MessageStatus> GetStatus(const std::string& message_id);

 private:
  /// Checks the template fields; returns the values to render with.
  Result<TemplateValues> CheckTemplate(TemplateId id, const std::string& code,
                                       const std::optional<std::chrono::seconds>& valid_for,
                                       const std::string& factor_name,
                                       const std::string& link) const;
  Result<SendResult> Enqueue(NewMessage& m, const EnqueueLimits& limits, Channel channel);

  Outbox& outbox_;
  const OutboxCipher& cipher_;
  const Clock& clock_;
  Metrics& metrics_;
  DeliverySettings settings_;
};

}  // namespace idp::delivery
