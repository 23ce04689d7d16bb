#pragma once
/// @file SMS through an HTTP API in the shape of Twilio's Messages API: a form POST of To, From
/// and Body to {base}/2010-04-01/Accounts/{sid}/Messages.json with HTTP basic auth (sid, token).

#include "sender.hpp"

#include "idp/common/error.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace idp::delivery {

struct SmsApiOptions {
  std::string name = "twilio";  ///< provider label in metrics and logs
  std::string base_url = "https://api.twilio.com";
  std::string account_sid;
  std::string auth_token;  ///< sensitive
  std::string from;        ///< sender number (E.164) or alphanumeric sender id
  std::string ca_file;     ///< trust these CAs instead of the system's (PEM)
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds connect_timeout{5000};
};

/// SmsSender over the HTTP API. Thread-safe: each Send uses its own curl handle.
class TwilioSmsSender final : public SmsSender {
 public:
  /// kInvalidArgument for a base URL that is not http(s)://, or a missing sid, token or from.
  [[nodiscard]] static Result<std::unique_ptr<TwilioSmsSender>> Create(SmsApiOptions options);

  std::string_view Name() const override { return options_.name; }
  SendOutcome Send(const OutgoingSms& sms) override;

 private:
  explicit TwilioSmsSender(SmsApiOptions options) : options_(std::move(options)) {}
  SmsApiOptions options_;
};

}  // namespace idp::delivery
