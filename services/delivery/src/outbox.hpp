#pragma once
/// @file The durable outbox: messages, their status, the work queue shared by every delivery
/// instance, the velocity limits and the SMS provider health. One implementation, over Redis
/// Streams (RedisOutbox); the interface keeps the domain and the dispatcher free of Redis.
///
/// Life of a message: Enqueue stores it (status `queued`) and adds an entry to the outbox
/// stream. A worker reads the entry through the consumer group (ReadNew) or takes over one
/// left by a dead worker (ClaimStale), starts an attempt (Begin), hands the message to the
/// provider, and records the outcome: MarkSent, MarkRetry (the entry leaves the stream and the
/// message waits in the retry set until PromoteDue puts a new entry in the stream) or
/// MarkFailed (dead-letter stream). Each Mark* removes the entry in the same atomic step that
/// records the outcome, so a message is never without an entry or a retry slot until it is
/// sent or failed, and an entry is acknowledged only after the provider accepted the message
/// (or the message was moved on).

#include "policy.hpp"

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace idp::delivery {

enum class Channel { kEmail, kSms };
enum class MessageState { kQueued, kSent, kRetrying, kFailed };

/// Why a well-formed request queued nothing (a business outcome, not an error).
enum class Refusal {
  kNone,
  kDestinationRateLimited,
  kCountryRateLimited,
  kDailyBudgetExhausted,
  kUnsupportedCountry,
  kChannelDisabled,
};

/// "email", "sms".
std::string_view ChannelName(Channel c);
/// "destination_rate_limited", ... ("none" for kNone): metric labels and logs.
std::string_view RefusalName(Refusal r);

/// A message to store. Every field but the payload is free of personal data.
struct NewMessage {
  std::string message_id;
  Channel channel = Channel::kEmail;
  std::string idempotency_hash;  ///< keyed hash of the caller's idempotency key
  std::string fingerprint;       ///< keyed hash of the whole request (replay vs conflict)
  std::string destination_hash;  ///< keyed hash of the destination (its rate-limit bucket)
  std::string country;           ///< ISO code for SMS; "" for email
  std::string template_name;
  std::string payload;           ///< sealed: destination and text
  std::int64_t queued_at_ms = 0;
  std::int64_t expires_at_ms = 0;  ///< no attempt starts after this
};

/// Guards checked and counted atomically with the enqueue.
struct EnqueueLimits {
  std::vector<RateWindow> destination;  ///< per destination_hash; empty: none
  std::vector<RateWindow> country;      ///< per country; empty (or no country): none
  std::int64_t daily_budget = 0;        ///< messages per UTC day on the channel; 0: none
};

struct EnqueueResult {
  enum class Outcome {
    kQueued,    ///< stored and in the stream
    kReplayed,  ///< the idempotency key was known with the same request: `message_id` is its
    kRefused,   ///< a guard said no: `refusal`, `retry_after`
    kConflict,  ///< the idempotency key was known with a different request
  };
  Outcome outcome = Outcome::kQueued;
  std::string message_id;
  Refusal refusal = Refusal::kNone;
  std::chrono::milliseconds retry_after{0};
};

struct MessageStatus {
  MessageState state = MessageState::kQueued;
  Channel channel = Channel::kEmail;
  int attempts = 0;
  std::int64_t queued_at_ms = 0;
  std::int64_t updated_at_ms = 0;       ///< last change of state
  std::int64_t sent_at_ms = 0;          ///< 0 unless sent
  std::int64_t next_attempt_at_ms = 0;  ///< 0 unless retrying
  std::string last_error;
};

/// An outbox entry delivered to a consumer; the consumer owns it until it marks it.
struct Lease {
  std::string entry_id;
  std::string message_id;
  std::string consumer;
};

/// What an attempt needs, read by Begin.
struct Work {
  Channel channel = Channel::kEmail;
  std::string country;
  std::string payload;  ///< sealed
  int attempt = 1;      ///< this attempt's number, 1 for the first
  std::int64_t queued_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::string last_provider;  ///< who handled the previous attempt ("" for none)
  std::string last_error;     ///< how the previous attempt failed ("" for none)
};

/// Sizes of the queues, for metrics.
struct QueueDepth {
  std::int64_t ready = 0;     ///< entries in the stream no consumer holds
  std::int64_t in_flight = 0; ///< entries held by a consumer (pending)
  std::int64_t retry = 0;     ///< messages waiting for their next attempt
  std::int64_t dead = 0;      ///< dead letters kept
};

/// Thread-safe. Every method fails with kUnavailable when the store cannot be reached; a
/// failed Mark* leaves the entry with its consumer, so another instance claims it later.
class Outbox {
 public:
  virtual ~Outbox() = default;

  /// Stores the message unless replayed, conflicting or refused (see EnqueueResult).
  [[nodiscard]] virtual Result<EnqueueResult> Enqueue(const NewMessage& m,
                                                      const EnqueueLimits& limits) = 0;
  /// The status of a message, or nullopt when unknown or expired.
  [[nodiscard]] virtual Result<std::optional<MessageStatus>> GetStatus(
      const std::string& message_id) = 0;

  /// Creates the stream and its consumer group when missing (idempotent).
  [[nodiscard]] virtual Status EnsureGroup() = 0;
  /// Up to `count` entries no consumer has seen, waiting at most `block` for one.
  [[nodiscard]] virtual Result<std::vector<Lease>> ReadNew(const std::string& consumer, int count,
                                                           std::chrono::milliseconds block) = 0;
  /// Takes over up to `count` entries that another consumer has held for longer than
  /// `min_idle` (XAUTOCLAIM): their worker died or hung.
  [[nodiscard]] virtual Result<std::vector<Lease>> ClaimStale(const std::string& consumer,
                                                              std::chrono::milliseconds min_idle,
                                                              int count) = 0;
  /// Moves up to `max` messages whose retry time has come back into the stream.
  [[nodiscard]] virtual Result<int> PromoteDue(std::int64_t now_ms, int max) = 0;

  /// Starts an attempt: counts it and returns the work, or nullopt when the message is
  /// already sent, failed or gone (the entry is then acknowledged and removed).
  [[nodiscard]] virtual Result<std::optional<Work>> Begin(const Lease& lease,
                                                          std::int64_t now_ms) = 0;
  /// The provider accepted the message. False when the lease was lost (another consumer
  /// claimed the entry, or it is gone): nothing is changed then.
  [[nodiscard]] virtual Result<bool> MarkSent(const Lease& lease, std::int64_t now_ms,
                                              std::string_view provider) = 0;
  /// The attempt failed; the next one is due at `next_ms`. False when the lease was lost.
  [[nodiscard]] virtual Result<bool> MarkRetry(const Lease& lease, std::int64_t now_ms,
                                               std::int64_t next_ms, std::string_view error,
                                               std::string_view provider) = 0;
  /// Gives up: status `failed`, a dead letter (no payload). False when the lease was lost.
  [[nodiscard]] virtual Result<bool> MarkFailed(const Lease& lease, std::int64_t now_ms,
                                                std::string_view error,
                                                std::string_view provider) = 0;

  [[nodiscard]] virtual Result<QueueDepth> Depth() = 0;
  /// Deletes consumers of the group that hold nothing and were idle longer than `idle`
  /// (instances that stopped), except those in `keep`. Returns how many went.
  [[nodiscard]] virtual Result<int> ReapConsumers(std::chrono::milliseconds idle,
                                                  const std::set<std::string>& keep) = 0;

  /// True while `provider` is considered down (its breaker is open).
  [[nodiscard]] virtual Result<bool> ProviderTripped(std::string_view provider) = 0;
  /// Records an attempt's outcome for `provider`: `threshold` failures in a row open its
  /// breaker for `cooldown`; a success closes the count.
  [[nodiscard]] virtual Status RecordProviderResult(std::string_view provider, bool ok,
                                                    int threshold,
                                                    std::chrono::seconds cooldown) = 0;
};

}  // namespace idp::delivery
