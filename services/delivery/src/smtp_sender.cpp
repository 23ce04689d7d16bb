#include "smtp_sender.hpp"

#include "curl_util.hpp"

#include <cstring>

namespace idp::delivery {
namespace {

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t ReadChunk(char* buffer, std::size_t size, std::size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  const std::size_t room = size * nitems;
  const std::size_t n = std::min(room, up->data->size() - up->pos);
  std::memcpy(buffer, up->data->data() + up->pos, n);
  up->pos += n;
  return n;
}

}  // namespace

Result<StartTls> ParseStartTls(std::string_view s) {
  if (s == "required") return StartTls::kRequired;
  if (s == "optional") return StartTls::kOptional;
  if (s == "off") return StartTls::kOff;
  return InvalidArgument("delivery.smtp_starttls must be required, optional or off");
}

Result<std::unique_ptr<SmtpEmailSender>> SmtpEmailSender::Create(SmtpOptions options) {
  if (options.url.rfind("smtp://", 0) != 0 && options.url.rfind("smtps://", 0) != 0) {
    return InvalidArgument("delivery.smtp_url must start with smtp:// or smtps://");
  }
  if (options.envelope_from.empty()) return InvalidArgument("the envelope sender is required");
  return std::unique_ptr<SmtpEmailSender>(new SmtpEmailSender(std::move(options)));
}

SendOutcome SmtpEmailSender::Send(const OutgoingEmail& email) {
  CurlEasy curl(curl_easy_init());
  if (!curl) return {SendVerdict::kRetry, "internal", "curl_easy_init failed", {}};
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  const bool implicit_tls = options_.url.rfind("smtps://", 0) == 0;
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  long use_ssl = CURLUSESSL_ALL;
  if (!implicit_tls) {
    switch (options_.starttls) {
      case StartTls::kRequired: use_ssl = CURLUSESSL_ALL; break;
      case StartTls::kOptional: use_ssl = CURLUSESSL_TRY; break;
      case StartTls::kOff: use_ssl = CURLUSESSL_NONE; break;
    }
  }
  curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const std::string from = "<" + options_.envelope_from + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  const std::string rcpt_text = "<" + email.to + ">";
  CurlSlist rcpt(curl_slist_append(nullptr, rcpt_text.c_str()));
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  Upload up{&email.mime};
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(email.mime.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));

  const CURLcode rc = curl_easy_perform(c);
  long smtp_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
  return MapSmtpResult(rc, smtp_code, errbuf);
}

}  // namespace idp::delivery
