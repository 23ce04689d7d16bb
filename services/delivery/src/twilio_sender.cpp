#include "twilio_sender.hpp"

#include "curl_util.hpp"

#include <cctype>
#include <charconv>
#include <optional>

namespace idp::delivery {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

struct Reply {
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
};

std::size_t OnBody(char* ptr, std::size_t size, std::size_t nmemb, void* userdata) {
  auto* r = static_cast<Reply*>(userdata);
  const std::size_t n = size * nmemb;
  if (r->body.size() < kMaxBody) r->body.append(ptr, std::min(n, kMaxBody - r->body.size()));
  return n;
}

std::size_t OnHeader(char* ptr, std::size_t size, std::size_t nitems, void* userdata) {
  auto* r = static_cast<Reply*>(userdata);
  const std::size_t n = size * nitems;
  std::string_view line(ptr, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) match = false;
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      long secs = 0;
      // Only the delta-seconds form (RFC 9110 §10.2.3); an HTTP date is ignored.
      if (auto res = std::from_chars(v.data(), v.data() + v.size(), secs);
          res.ec == std::errc() && secs >= 0 && secs <= 3600) {
        r->retry_after = std::chrono::seconds(secs);
      }
    }
  }
  return n;
}

std::string Escape(CURL* c, const std::string& s) {
  char* e = curl_easy_escape(c, s.data(), static_cast<int>(s.size()));
  if (e == nullptr) return {};
  std::string out(e);
  curl_free(e);
  return out;
}

}  // namespace

Result<std::unique_ptr<TwilioSmsSender>> TwilioSmsSender::Create(SmsApiOptions options) {
  if (options.base_url.rfind("https://", 0) != 0 && options.base_url.rfind("http://", 0) != 0) {
    return InvalidArgument("the SMS API base URL must start with https:// or http://");
  }
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (options.account_sid.empty() || options.auth_token.empty() || options.from.empty()) {
    return InvalidArgument("the SMS API needs an account sid, an auth token and a sender");
  }
  for (char ch : options.account_sid) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) {
      return InvalidArgument("the SMS account sid must be letters and digits");
    }
  }
  return std::unique_ptr<TwilioSmsSender>(new TwilioSmsSender(std::move(options)));
}

SendOutcome TwilioSmsSender::Send(const OutgoingSms& sms) {
  CurlEasy curl(curl_easy_init());
  if (!curl) return {SendVerdict::kRetry, "internal", "curl_easy_init failed", {}};
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string url =
      options_.base_url + "/2010-04-01/Accounts/" + options_.account_sid + "/Messages.json";
  const std::string form = "To=" + Escape(c, sms.to) + "&From=" + Escape(c, options_.from) +
                           "&Body=" + Escape(c, sms.body);
  Reply reply;
  CurlSlist headers(curl_slist_append(nullptr, "Accept: application/json"));
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  curl_easy_setopt(c, CURLOPT_USERNAME, options_.account_sid.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, options_.auth_token.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return MapSmsApiResult(rc, status, reply.body, reply.retry_after, errbuf);
}

}  // namespace idp::delivery
