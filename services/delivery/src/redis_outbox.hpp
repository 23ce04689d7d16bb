#pragma once
/// @file The outbox over Redis: Streams with a consumer group for the work, hashes for the
/// messages, a sorted set for retries, Lua scripts for every step that must be atomic.
///
/// Keys (prefix "delivery:" by default):
///   outbox              stream, group "senders"; entries {m: message id}
///   retry               sorted set: message id by next attempt time (ms)
///   dead                stream of dead letters (no payload), capped
///   msg:<id>            hash: state, channel, country, template, attempts, times, last error,
///                       sealed payload (removed once sent or failed); expires after status_ttl
///   idem:<hash>         "<message id>|<fingerprint>", expires after idempotency_ttl
///   rate:dest:<hash>    sorted set of recent sends to one destination (sliding windows)
///   rate:cc:<country>   sorted set of recent SMS to one country
///   budget:sms:<day>    SMS queued on a UTC day
///   breaker:<provider>  consecutive failures; breaker:<provider>:open while tripped

#include "outbox.hpp"

namespace idp::store {
class RedisClient;
}

namespace idp::delivery {

struct RedisOutboxOptions {
  /// Every key starts with it; must start with "delivery:" (tests add a random part).
  std::string prefix = "delivery:";
  std::chrono::seconds idempotency_ttl{86400};
  std::chrono::seconds status_ttl{7 * 86400};
  std::int64_t dead_letter_max = 10000;  ///< approximate cap of the dead-letter stream
};

class RedisOutbox final : public Outbox {
 public:
  /// The consumer group's name.
  static constexpr const char* kGroup = "senders";

  RedisOutbox(store::RedisClient& redis, RedisOutboxOptions options);

  Result<EnqueueResult> Enqueue(const NewMessage& m, const EnqueueLimits& limits) override;
  Result<std::optional<MessageStatus>> GetStatus(const std::string& message_id) override;
  Status EnsureGroup() override;
  Result<std::vector<Lease>> ReadNew(const std::string& consumer, int count,
                                     std::chrono::milliseconds block) override;
  Result<std::vector<Lease>> ClaimStale(const std::string& consumer,
                                        std::chrono::milliseconds min_idle, int count) override;
  Result<int> PromoteDue(std::int64_t now_ms, int max) override;
  Result<std::optional<Work>> Begin(const Lease& lease, std::int64_t now_ms) override;
  Result<bool> MarkSent(const Lease& lease, std::int64_t now_ms,
                        std::string_view provider) override;
  Result<bool> MarkRetry(const Lease& lease, std::int64_t now_ms, std::int64_t next_ms,
                         std::string_view error, std::string_view provider) override;
  Result<bool> MarkFailed(const Lease& lease, std::int64_t now_ms, std::string_view error,
                          std::string_view provider) override;
  Result<QueueDepth> Depth() override;
  Result<int> ReapConsumers(std::chrono::milliseconds idle,
                            const std::set<std::string>& keep) override;
  Result<bool> ProviderTripped(std::string_view provider) override;
  Status RecordProviderResult(std::string_view provider, bool ok, int threshold,
                              std::chrono::seconds cooldown) override;

  /// The full name of key `suffix` ("outbox" -> "delivery:outbox"), for tests and tools.
  std::string Key(std::string_view suffix) const { return options_.prefix + std::string(suffix); }

 private:
  store::RedisClient& redis_;
  RedisOutboxOptions options_;
};

}  // namespace idp::delivery
