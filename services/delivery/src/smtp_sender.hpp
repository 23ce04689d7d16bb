#pragma once
/// @file Email over SMTP with libcurl: implicit TLS (smtps://) or STARTTLS, AUTH when a user
/// name is set, one connection per message.

#include "sender.hpp"

#include "idp/common/error.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace idp::delivery {

/// How an smtp:// connection uses STARTTLS (smtps:// is TLS from the first byte regardless).
enum class StartTls {
  kRequired,  ///< refuse to send in clear (the default)
  kOptional,  ///< upgrade when the server offers it
  kOff,       ///< never (a relay on loopback)
};

/// Parses "required", "optional", "off"; kInvalidArgument otherwise.
[[nodiscard]] Result<StartTls> ParseStartTls(std::string_view s);

struct SmtpOptions {
  std::string url;            ///< smtp://host:port or smtps://host:port
  StartTls starttls = StartTls::kRequired;
  std::string username;       ///< AUTH when not empty
  std::string password;       ///< sensitive
  std::string ca_file;        ///< trust these CAs instead of the system's (PEM)
  std::string envelope_from;  ///< MAIL FROM
  std::chrono::milliseconds timeout{20000};
  std::chrono::milliseconds connect_timeout{5000};
};

/// EmailSender over SMTP. Thread-safe: each Send uses its own curl handle.
class SmtpEmailSender final : public EmailSender {
 public:
  /// kInvalidArgument for a URL that is not smtp:// or smtps://, or an empty envelope sender.
  [[nodiscard]] static Result<std::unique_ptr<SmtpEmailSender>> Create(SmtpOptions options);

  std::string_view Name() const override { return "smtp"; }
  SendOutcome Send(const OutgoingEmail& email) override;

 private:
  explicit SmtpEmailSender(SmtpOptions options) : options_(std::move(options)) {}
  SmtpOptions options_;
};

}  // namespace idp::delivery
