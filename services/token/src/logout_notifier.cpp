#include "logout_notifier.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>
#include <curl/curl.h>

#include <algorithm>

namespace idp::token {
namespace {

constexpr int kMaxAttempts = 5;

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

HttpLogoutNotifier::HttpLogoutNotifier(KeyRing& keys, std::string issuer)
    : keys_(keys), issuer_(std::move(issuer)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  worker_ = std::thread([this] { Run(); });
}

HttpLogoutNotifier::~HttpLogoutNotifier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
  if (!queue_.empty()) {
    log::Warn("back-channel logout notifications dropped at shutdown",
              {{"count", static_cast<std::int64_t>(queue_.size())}});
  }
}

void HttpLogoutNotifier::Notify(const ClientRecord& client, const std::string& subject,
                                const std::string& sid) {
  // The logout token (Back-Channel Logout §2.4): no nonce, an events claim, sid and sub.
  auto alg = jose::ParseAlg(client.id_token_signed_response_alg).value_or(jose::Alg::kRS256);
  auto key = keys_.Active(alg);
  if (!key) {
    log::Error("no key for a logout token", {{"client_id", client.client_id}});
    return;
  }
  const std::int64_t now = NowUnix();
  boost::json::object claims{
      {"iss", issuer_},
      {"aud", client.client_id},
      {"iat", now},
      {"exp", now + 120},
      {"jti", crypto::RandomToken(16)},
      {"sid", sid},
      {"events", boost::json::object{{"http://schemas.openid.net/event/backchannel-logout",
                                      boost::json::object{}}}},
  };
  if (!subject.empty()) claims["sub"] = subject;
  auto token = jose::Sign(key->key, key->kid, "logout+jwt", boost::json::serialize(claims));
  if (!token) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back({client.client_id, client.backchannel_logout_uri, std::move(*token), 0,
                      std::chrono::steady_clock::now()});
  }
  cv_.notify_all();
}

void HttpLogoutNotifier::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    // The job due first.
    auto it = std::min_element(queue_.begin(), queue_.end(),
                               [](const Job& a, const Job& b) { return a.due < b.due; });
    if (it->due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, it->due);
      continue;
    }
    Job job = std::move(*it);
    queue_.erase(it);
    lock.unlock();
    bool ok = Post(job);
    lock.lock();
    ++job.attempts;
    if (ok) {
      log::Info("back-channel logout delivered", {{"client_id", job.client_id}});
    } else if (job.attempts < kMaxAttempts) {
      job.due = std::chrono::steady_clock::now() + std::chrono::seconds(1 << (job.attempts - 1));
      queue_.push_back(std::move(job));
    } else {
      log::Warn("back-channel logout failed", {{"client_id", job.client_id},
                                               {"attempts", job.attempts}});
    }
  }
}

bool HttpLogoutNotifier::Post(const Job& job) {
  CURL* curl = curl_easy_init();
  if (!curl) return false;
  std::string body = "logout_token=" + job.token;  // base64url and dots: form-safe
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded");
  curl_easy_setopt(curl, CURLOPT_URL, job.uri.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // §2.5: no redirects
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status >= 200 && status < 300;
}

}  // namespace idp::token
