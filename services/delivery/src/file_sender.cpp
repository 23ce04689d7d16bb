#include "file_sender.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace idp::delivery {
namespace {

std::string FileTime(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace

FileOutbox::FileOutbox(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
}

SendOutcome FileOutbox::Write(std::string_view kind, std::string_view ext,
                              const std::string& message_id, std::int64_t queued_at_ms,
                              const std::string& content) {
  const std::string name = FileTime(queued_at_ms) + "-" + std::string(kind) + "-" + message_id;
  const auto final_path = dir_ / (name + "." + std::string(ext));
  const auto tmp_path = dir_ / ("." + name + ".tmp");
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {SendVerdict::kRetry, "io", std::strerror(errno), {}};
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp_path.c_str());
      return {SendVerdict::kRetry, "io", err, {}};
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp_path.c_str());
    return {SendVerdict::kRetry, "io", "fsync/close failed", {}};
  }
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp_path.c_str());
    return {SendVerdict::kRetry, "io", err, {}};
  }
  return {SendVerdict::kAccepted, "", "", {}};
}

SendOutcome FileEmailSender::Send(const OutgoingEmail& email) {
  return files_.Write("email", "eml", email.message_id, email.queued_at_ms, email.mime);
}

SendOutcome FileSmsSender::Send(const OutgoingSms& sms) {
  return files_.Write("sms", "txt", sms.message_id, sms.queued_at_ms,
                      "To: " + sms.to + "\n\n" + sms.body + "\n");
}

}  // namespace idp::delivery
