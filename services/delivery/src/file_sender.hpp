#pragma once
/// @file The `file` provider for local runs: each message becomes a file under a directory
/// (var/outbox/ for `make run`), so a person trying the product out can read their code.
/// Never for production: the files hold the codes in clear.

#include "sender.hpp"

#include <filesystem>
#include <string>

namespace idp::delivery {

/// Writes `<dir>/<queued UTC time>-<kind>-<message id>.<ext>` atomically (temporary file,
/// then rename), mode 0600. A message sent twice overwrites its own file.
class FileOutbox {
 public:
  /// Creates `dir` when missing; throws std::runtime_error when it cannot (startup).
  explicit FileOutbox(std::filesystem::path dir);
  /// Writes one file; kAccepted, or kRetry "io" when the disk says no.
  SendOutcome Write(std::string_view kind, std::string_view ext, const std::string& message_id,
                    std::int64_t queued_at_ms, const std::string& content);

 private:
  std::filesystem::path dir_;
};

/// EmailSender writing the MIME message as an .eml file.
class FileEmailSender final : public EmailSender {
 public:
  explicit FileEmailSender(FileOutbox& files) : files_(files) {}
  std::string_view Name() const override { return "file"; }
  SendOutcome Send(const OutgoingEmail& email) override;

 private:
  FileOutbox& files_;
};

/// SmsSender writing "To:" and the text as a .txt file.
class FileSmsSender final : public SmsSender {
 public:
  explicit FileSmsSender(FileOutbox& files) : files_(files) {}
  std::string_view Name() const override { return "file"; }
  SendOutcome Send(const OutgoingSms& sms) override;

 private:
  FileOutbox& files_;
};

}  // namespace idp::delivery
