#pragma once
/// @file This instance's delivery metrics, rendered in the Prometheus text format (0.0.4).
/// Counters live in memory (one set per instance, as Prometheus expects); the queue depth is
/// read from the shared outbox at render time.

#include "outbox.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace idp::delivery {

/// Thread-safe.
class Metrics {
 public:
  void Sent(Channel channel, std::string_view country);
  void Retried(Channel channel, std::string_view country);
  void Failed(Channel channel, std::string_view country);
  void Refused(Channel channel, Refusal why);
  /// One provider call's duration.
  void ProviderLatency(std::string_view provider, std::chrono::steady_clock::duration d);

  /// The exposition text; the queue gauges are omitted when `depth` is null (store down).
  std::string Render(const QueueDepth* depth) const;

  /// The value of a counter (tests): kind is "sent", "retried" or "failed".
  std::int64_t Count(std::string_view kind, Channel channel, std::string_view country) const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, channel, country
  static constexpr double kBuckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  struct Histogram {
    std::int64_t buckets[std::size(kBuckets)] = {};
    std::int64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<Key, std::int64_t> counters_;
  std::map<std::pair<std::string, std::string>, std::int64_t> refused_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace idp::delivery
