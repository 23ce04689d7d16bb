#include "sender.hpp"

#include <curl/curl.h>

#include <boost/json.hpp>

namespace idp::delivery {
namespace {

SendOutcome Retry(std::string error, std::string detail) {
  return {SendVerdict::kRetry, std::move(error), std::move(detail), {}};
}
SendOutcome Fail(std::string error, std::string detail) {
  return {SendVerdict::kFail, std::move(error), std::move(detail), {}};
}

/// Transport failures common to both protocols; nullopt when `code` is not one.
std::optional<SendOutcome> TransportFailure(int code, std::string_view curl_error) {
  std::string detail = curl_easy_strerror(static_cast<CURLcode>(code));
  if (!curl_error.empty()) detail += ": " + std::string(curl_error);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Retry("connect", detail);
    case CURLE_OPERATION_TIMEDOUT:
      return Retry("timeout", detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return Retry("tls", detail);
    default:
      return std::nullopt;
  }
}

}  // namespace

SendOutcome MapSmtpResult(int curl_code, long smtp_code, std::string_view curl_error) {
  if (curl_code == CURLE_OK) return {SendVerdict::kAccepted, "", "", {}};
  if (curl_code == CURLE_LOGIN_DENIED) {
    return Retry("auth", "the SMTP server refused the credentials");
  }
  if (auto t = TransportFailure(curl_code, curl_error)) return *t;
  std::string detail = "smtp " + std::to_string(smtp_code) + ": " +
                       curl_easy_strerror(static_cast<CURLcode>(curl_code));
  if (smtp_code >= 400 && smtp_code < 500) return Retry("smtp_4xx", detail);
  if (smtp_code >= 500 && smtp_code < 600) {
    // RFC 4954 §6: 530 authentication required, 534 mechanism too weak, 535 credentials
    // invalid, 538 encryption required: the relay's configuration, not the message.
    if (smtp_code == 530 || smtp_code == 534 || smtp_code == 535 || smtp_code == 538) {
      return Retry("auth", detail);
    }
    return Fail("smtp_5xx", detail);
  }
  return Retry("transport", detail);
}

SendOutcome MapSmsApiResult(int curl_code, long http_status, std::string_view body,
                            std::optional<std::chrono::seconds> retry_after,
                            std::string_view curl_error) {
  if (curl_code != CURLE_OK) {
    if (auto t = TransportFailure(curl_code, curl_error)) return *t;
    std::string detail = curl_easy_strerror(static_cast<CURLcode>(curl_code));
    return Retry("transport", detail);
  }
  if (http_status >= 200 && http_status < 300) return {SendVerdict::kAccepted, "", "", {}};

  // Twilio's error body: {"code": 21211, "message": "...", "more_info": "...", "status": 400}.
  // Its message may quote the number, so only the code goes to the logs.
  std::int64_t provider_code = 0;
  {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
      if (const auto* c = v.as_object().if_contains("code"); c && c->is_int64()) {
        provider_code = c->as_int64();
      }
    }
  }
  const std::string error = "http_" + std::to_string(http_status);
  std::string detail = "status " + std::to_string(http_status);
  if (provider_code != 0) detail += ", provider code " + std::to_string(provider_code);

  SendOutcome out;
  const bool retryable_code = provider_code == 14107 || provider_code == 20429 ||
                              provider_code == 21611 || provider_code == 30001;
  if (http_status == 408 || http_status == 429 || http_status >= 500 || http_status == 401 ||
      http_status == 403 || http_status == 404 || retryable_code) {
    out = Retry(error, detail);
  } else {
    out = Fail(error, detail);
  }
  if (retry_after && out.verdict == SendVerdict::kRetry) {
    out.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
  }
  return out;
}

}  // namespace idp::delivery
