#include "dispatcher.hpp"

#include "metrics.hpp"
#include "outbox_cipher.hpp"
#include "phone.hpp"
#include "sender.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

namespace idp::delivery {
namespace {

/// Reads a string member of a payload object; "" when absent.
std::string Member(const boost::json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return {};
}

double Jitter() { return static_cast<double>(crypto::RandomUniform(1000001)) / 1e6; }

}  // namespace

Dispatcher::Dispatcher(Outbox& outbox, const OutboxCipher& cipher, Providers providers,
                       Metrics& metrics, const Clock& clock, DispatcherOptions options)
    : outbox_(outbox),
      cipher_(cipher),
      providers_(providers),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)) {}

Dispatcher::~Dispatcher() { Stop(); }

std::int64_t Dispatcher::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

std::vector<std::string> Dispatcher::ConsumerNames() const {
  std::vector<std::string> names;
  for (int i = 0; i < options_.workers; ++i) {
    names.push_back(options_.consumer_prefix + "-w" + std::to_string(i));
  }
  names.push_back(options_.consumer_prefix + "-m");
  return names;
}

void Dispatcher::Start() {
  if (auto st = outbox_.EnsureGroup(); !st) {
    // Not fatal: the workers create it once Redis answers.
    log::Warn("outbox group not created yet", {{"error", st.error().message}});
  }
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  threads_.emplace_back([this] { MaintenanceLoop(); });
  log::Info("dispatcher started", {{"workers", options_.workers},
                                   {"consumer", options_.consumer_prefix},
                                   {"claim_after_ms", static_cast<std::int64_t>(
                                                          options_.claim_after.count())}});
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_.exchange(true) && threads_.empty()) return;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool Dispatcher::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_.load();
}

void Dispatcher::WorkerLoop(int index) {
  const std::string consumer = options_.consumer_prefix + "-w" + std::to_string(index);
  std::chrono::milliseconds backoff{250};
  bool failing = false;
  while (!stopping_.load()) {
    auto leases = outbox_.ReadNew(consumer, 1, options_.block);
    if (!leases) {
      if (!failing) {
        log::Warn("outbox read failed; retrying", {{"consumer", consumer},
                                                   {"error", leases.error().message}});
      }
      failing = true;
      SleepFor(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(4000));
      continue;
    }
    if (failing) log::Info("outbox reachable again", {{"consumer", consumer}});
    failing = false;
    backoff = std::chrono::milliseconds(250);
    for (const auto& lease : *leases) Process(lease);
  }
}

void Dispatcher::MaintenanceLoop() {
  const std::string consumer = options_.consumer_prefix + "-m";
  const auto claim_every =
      std::max(options_.tick, std::chrono::milliseconds(options_.claim_after.count() / 4));
  auto last_claim = std::chrono::steady_clock::now();
  auto last_reap = std::chrono::steady_clock::now();
  const auto names = ConsumerNames();
  const std::set<std::string> keep(names.begin(), names.end());
  while (SleepFor(options_.tick)) {
    if (auto n = outbox_.PromoteDue(NowMs(), 200); n && *n > 0) {
      log::Debug("retries due", {{"count", *n}});
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_claim >= claim_every) {
      last_claim = now;
      auto leases = outbox_.ClaimStale(consumer, options_.claim_after, 16);
      if (leases && !leases->empty()) {
        log::Info("claimed entries of a stopped consumer",
                  {{"count", static_cast<std::int64_t>(leases->size())}});
        for (const auto& lease : *leases) {
          if (stopping_.load()) break;
          Process(lease);
        }
      }
    }
    if (now - last_reap >= std::chrono::minutes(5)) {
      last_reap = now;
      if (auto n = outbox_.ReapConsumers(std::chrono::hours(1), keep); n && *n > 0) {
        log::Info("removed idle consumers", {{"count", *n}});
      }
    }
  }
}

void Dispatcher::Process(const Lease& lease) {
  auto begun = outbox_.Begin(lease, NowMs());
  if (!begun) {
    // The entry stays pending under this consumer; ClaimStale picks it up later.
    log::Warn("cannot start an attempt", {{"message_id", lease.message_id},
                                          {"error", begun.error().message}});
    return;
  }
  if (!*begun) return;  // already sent or failed (a duplicate entry, or a status that expired)
  const Work& w = **begun;
  const std::string_view channel = ChannelName(w.channel);

  const auto fail = [&](std::string_view error, std::string_view provider) {
    auto r = outbox_.MarkFailed(lease, NowMs(), error, provider);
    if (r && *r) metrics_.Failed(w.channel, w.country);
    log::Warn("failed", {{"message_id", lease.message_id},
                         {"channel", channel},
                         {"attempt", w.attempt},
                         {"error", std::string(error)},
                         {"recorded", r.has_value() && *r}});
  };

  if (NowMs() > w.expires_at_ms) return fail("expired", "");
  // Attempts cut short by crashes count too: a message that kills its worker every time must
  // not take the instances down one after the other forever.
  if (w.attempt > options_.backoff.max_attempts) return fail("too_many_attempts", "");
  auto plain = cipher_.Open(w.payload, lease.message_id);
  if (!plain) return fail("unreadable", "");  // sealed under another key
  boost::system::error_code ec;
  auto json = boost::json::parse(*plain, ec);
  if (ec || !json.is_object()) return fail("unreadable", "");
  const auto& obj = json.as_object();

  SendOutcome outcome;
  std::string provider;
  std::string masked;
  const auto t0 = std::chrono::steady_clock::now();
  if (w.channel == Channel::kEmail) {
    if (providers_.email == nullptr) return fail("no_provider", "");
    OutgoingEmail email{lease.message_id, Member(obj, "to"), Member(obj, "mime"), w.queued_at_ms};
    masked = MaskAddress(email.to);
    provider = std::string(providers_.email->Name());
    outcome = providers_.email->Send(email);
  } else {
    if (providers_.sms == nullptr) return fail("no_provider", "");
    SmsSender* sender = providers_.sms;
    if (providers_.sms_fallback != nullptr) {
      // Fall back while the primary's breaker is open, and right after this very message
      // failed on the primary (so one message does not wait out a dead primary's backoff).
      const auto breaker = outbox_.ProviderTripped(providers_.sms->Name());
      const bool tripped = breaker.has_value() && *breaker;
      const bool failed_here = !w.last_error.empty() && w.last_provider == providers_.sms->Name();
      if (tripped || failed_here) sender = providers_.sms_fallback;
    }
    OutgoingSms sms{lease.message_id, Member(obj, "to"), Member(obj, "body"), w.queued_at_ms};
    masked = MaskNumber(sms.to);
    provider = std::string(sender->Name());
    outcome = sender->Send(sms);
    if (sender == providers_.sms && providers_.sms_fallback != nullptr) {
      // A final refusal is about the message, not the provider: it counts as "up".
      (void)outbox_.RecordProviderResult(sender->Name(), outcome.verdict != SendVerdict::kRetry,
                                         options_.breaker_threshold, options_.breaker_cooldown);
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  metrics_.ProviderLatency(provider, elapsed);
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  const std::int64_t now = NowMs();

  switch (outcome.verdict) {
    case SendVerdict::kAccepted: {
      auto r = outbox_.MarkSent(lease, now, provider);
      if (r && *r) metrics_.Sent(w.channel, w.country);
      if (!r) {
        // Sent but not recorded: the entry stays pending and is sent again after claim_after
        // (at-least-once; the Message-ID lets a mail system drop the copy).
        log::Error("sent but not recorded", {{"message_id", lease.message_id},
                                             {"error", r.error().message}});
        return;
      }
      log::Info("sent", {{"message_id", lease.message_id},
                         {"channel", channel},
                         {"provider", provider},
                         {"to", masked},
                         {"attempt", w.attempt},
                         {"ms", ms},
                         {"recorded", *r}});
      return;
    }
    case SendVerdict::kFail:
      log::Warn("provider refused the message", {{"message_id", lease.message_id},
                                                 {"provider", provider},
                                                 {"to", masked},
                                                 {"detail", outcome.detail}});
      return fail(outcome.error, provider);
    case SendVerdict::kRetry:
      break;
  }

  if (IsLastAttempt(options_.backoff, w.attempt)) {
    log::Warn("last attempt failed", {{"message_id", lease.message_id},
                                      {"provider", provider},
                                      {"detail", outcome.detail}});
    return fail(outcome.error, provider);
  }
  const auto delay =
      std::max(BackoffDelay(options_.backoff, w.attempt, Jitter()), outcome.retry_after);
  const std::int64_t next = now + delay.count();
  if (next > w.expires_at_ms) {
    log::Warn("gave up: the next attempt would come after the code expired",
              {{"message_id", lease.message_id}, {"provider", provider},
               {"detail", outcome.detail}});
    return fail(outcome.error, provider);
  }
  auto r = outbox_.MarkRetry(lease, now, next, outcome.error, provider);
  if (r && *r) metrics_.Retried(w.channel, w.country);
  log::Info("retrying", {{"message_id", lease.message_id},
                         {"channel", channel},
                         {"provider", provider},
                         {"attempt", w.attempt},
                         {"error", outcome.error},
                         {"detail", outcome.detail},
                         {"delay_ms", static_cast<std::int64_t>(delay.count())},
                         {"recorded", r.has_value() && *r}});
}

}  // namespace idp::delivery
