#pragma once
/// @file The sending side: worker threads that take messages from the outbox (their own and
/// those of dead instances), hand them to the providers, and record the outcome with backoff,
/// dead-lettering and SMS failover.

#include "outbox.hpp"
#include "policy.hpp"

#include "idp/common/clock.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace idp::delivery {

class EmailSender;
class Metrics;
class OutboxCipher;
class SmsSender;

/// The providers, not owned. Null for a channel that is disabled; `sms_fallback` is optional.
struct Providers {
  EmailSender* email = nullptr;
  SmsSender* sms = nullptr;
  SmsSender* sms_fallback = nullptr;
};

struct DispatcherOptions {
  int workers = 4;
  /// Unique per process (host, pid, random); worker i consumes as "<consumer_prefix>-w<i>".
  std::string consumer_prefix;
  /// How long XREADGROUP blocks; also the worst-case stop latency.
  std::chrono::milliseconds block{1000};
  /// An entry held this long by a consumer is taken over. Must exceed the longest provider
  /// call, or a slow send could be sent twice (checked at startup).
  std::chrono::milliseconds claim_after{60000};
  /// How often the maintenance thread promotes due retries and looks for stale entries.
  std::chrono::milliseconds tick{250};
  BackoffPolicy backoff;
  /// SMS failover: this many failures in a row open the primary's breaker for `breaker_cooldown`.
  int breaker_threshold = 3;
  std::chrono::seconds breaker_cooldown{60};
};

/// Thread-safe. Start() once, Stop() once (also from the destructor).
class Dispatcher {
 public:
  Dispatcher(Outbox& outbox, const OutboxCipher& cipher, Providers providers, Metrics& metrics,
             const Clock& clock, DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  /// Starts the workers and the maintenance thread.
  void Start();
  /// Asks every thread to stop and joins them: an attempt in progress finishes first (bounded
  /// by the provider timeout), entries not started stay in the outbox for the next instance.
  void Stop();

  /// Runs one attempt for `lease` (the workers' step; public for tests).
  void Process(const Lease& lease);

  /// The consumer names this process uses (to keep them when reaping).
  std::vector<std::string> ConsumerNames() const;

 private:
  void WorkerLoop(int index);
  void MaintenanceLoop();
  /// Sleeps up to `d`, returning early when stopping; false when stopping.
  bool SleepFor(std::chrono::milliseconds d);
  std::int64_t NowMs() const;

  Outbox& outbox_;
  const OutboxCipher& cipher_;
  Providers providers_;
  Metrics& metrics_;
  const Clock& clock_;
  DispatcherOptions options_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

}  // namespace idp::delivery
