#pragma once
/// @file auth's view of the delivery service: the password emails and the lockout notice.
/// Sending is fire-and-forget so that a caller never waits for the email to be queued (the reset
/// answer must take the same time whether or not an account matched).

#include <chrono>
#include <memory>
#include <string>

namespace idp::auth {

enum class MailKind { kPasswordReset, kInvitation, kPasswordChanged, kAccountLocked };

struct Mail {
  MailKind kind = MailKind::kPasswordChanged;
  std::string idempotency_key;
  std::string to_address;
  std::string to_name;
  std::string link;  ///< sensitive: the reset or invitation link; never logged
  std::chrono::seconds valid_for{0};  ///< how long the link works, or the lock lasts
};

/// Thread-safe.
class Mailer {
 public:
  virtual ~Mailer() = default;
  /// Starts sending `mail` and returns at once; the outcome is only logged.
  virtual void Send(Mail mail) = 0;
};

/// Over gRPC (idp.delivery.v1 SendEmail) with the callback API: no thread waits for the answer.
std::unique_ptr<Mailer> MakeGrpcMailer(const std::string& target);

}  // namespace idp::auth
