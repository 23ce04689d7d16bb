#pragma once
/// @file OpenID Connect Back-Channel Logout 1.0: logout tokens POSTed to the clients of an ended
/// session, retried with backoff on a thread of its own.

#include "client_store.hpp"
#include "key_ring.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace idp::token {

class LogoutNotifier {
 public:
  virtual ~LogoutNotifier() = default;
  /// Queues a logout token for `client` naming `subject` and `sid`; returns at once.
  virtual void Notify(const ClientRecord& client, const std::string& subject,
                      const std::string& sid) = 0;
};

/// Sends with libcurl: 5 tries (1, 2, 4, 8 s apart), each with a 5 s timeout. The queue lives in
/// memory: a notification still queued when the service stops is lost (logged).
class HttpLogoutNotifier final : public LogoutNotifier {
 public:
  HttpLogoutNotifier(KeyRing& keys, std::string issuer);
  ~HttpLogoutNotifier() override;

  // LogoutNotifier
  void Notify(const ClientRecord& client, const std::string& subject,
              const std::string& sid) override;

 private:
  struct Job {
    std::string client_id;
    std::string uri;
    std::string token;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void Run();
  /// POSTs once; true on a 2xx answer (§2.8).
  bool Post(const Job& job);

  KeyRing& keys_;
  std::string issuer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace idp::token
