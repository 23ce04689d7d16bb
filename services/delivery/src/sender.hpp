#pragma once
/// @file The providers a message is handed to, and how their answers map to "accepted", "try
/// again later" or "give up". Implementations: SMTP (smtp_sender), an HTTP SMS API in Twilio's
/// shape (twilio_sender), and files under var/outbox for local runs (file_sender).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idp::delivery {

/// What a provider did with one message.
enum class SendVerdict {
  kAccepted,  ///< taken: the message is the provider's now
  kRetry,     ///< not taken, for a reason that may pass (down, busy, 4xx, 5xx, timeout)
  kFail,      ///< refused for good (no such mailbox, invalid number): retrying cannot help
};

struct SendOutcome {
  SendVerdict verdict = SendVerdict::kRetry;
  /// A short stable word for the status and metrics ("connect", "timeout", "smtp_5xx",
  /// "http_400"); empty when accepted. Never holds the destination or the text.
  std::string error;
  /// For logs: the library's or provider's message (no destination, no text).
  std::string detail;
  /// The provider asked for at least this long before the next try (HTTP Retry-After).
  std::chrono::milliseconds retry_after{0};
};

/// An email ready to go: the envelope recipient and the whole MIME message.
struct OutgoingEmail {
  std::string message_id;
  std::string to;    ///< envelope recipient (addr-spec)
  std::string mime;  ///< headers and body, CRLF line ends
  std::int64_t queued_at_ms = 0;
};

/// An SMS ready to go.
struct OutgoingSms {
  std::string message_id;
  std::string to;    ///< E.164
  std::string body;  ///< UTF-8
  std::int64_t queued_at_ms = 0;
};

/// Sends email. Implementations are thread-safe: every worker thread calls Send.
class EmailSender {
 public:
  virtual ~EmailSender() = default;
  /// "smtp", "file": the provider label in metrics and logs.
  virtual std::string_view Name() const = 0;
  /// Hands one message over; blocks at most the provider's configured timeout.
  virtual SendOutcome Send(const OutgoingEmail& email) = 0;
};

/// Sends SMS. Implementations are thread-safe.
class SmsSender {
 public:
  virtual ~SmsSender() = default;
  virtual std::string_view Name() const = 0;
  virtual SendOutcome Send(const OutgoingSms& sms) = 0;
};

/// Maps a libcurl SMTP transfer result: CURLE_OK is accepted; a 4xx reply, a connection,
/// timeout or TLS failure and an authentication refusal (530, 534, 535, 538) are worth another
/// try; any other 5xx reply (550 no such mailbox, 552 too big, 554) is final.
SendOutcome MapSmtpResult(int curl_code, long smtp_code, std::string_view curl_error);

/// Maps an SMS API call in Twilio's shape: 2xx accepted; 408, 429, 5xx, 401/403 (credentials:
/// the provider's problem, not the message's), 404 (a wrong account URL) and transport errors
/// are retried; other 4xx are final, except Twilio's queue and rate-limit error codes
/// (14107, 20429, 21611, 30001) which are retried. `retry_after` comes from the reply's
/// Retry-After header.
SendOutcome MapSmsApiResult(int curl_code, long http_status, std::string_view body,
                            std::optional<std::chrono::seconds> retry_after,
                            std::string_view curl_error);

}  // namespace idp::delivery
