// The Redis outbox: idempotency, velocity limits and the SMS budget (atomic with the enqueue,
// nothing stored on a refusal), the consumer group, retries, dead letters, claims of a dead
// consumer's entries, and the SMS provider breaker.
#include "redis_fixture.hpp"

#include <map>
#include <thread>

using namespace idp::delivery;
using idp::delivery::test::RedisFixture;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kT0 = 1'750'000'000'000;  // ms, a fixed "now"

NewMessage Msg(const std::string& id, std::int64_t now = kT0, const std::string& idem = "",
               const std::string& dest = "d1", Channel ch = Channel::kEmail,
               const std::string& country = "") {
  NewMessage m;
  m.message_id = id;
  m.channel = ch;
  m.idempotency_hash = idem.empty() ? "idem-" + id : idem;
  m.fingerprint = "fp-" + id;
  m.destination_hash = dest;
  m.country = country;
  m.template_name = "sign_in_code";
  m.payload = "sealed-" + id;
  m.queued_at_ms = now;
  m.expires_at_ms = now + 600000;
  return m;
}

}  // namespace

TEST_CASE_METHOD(RedisFixture, "enqueue stores a queued message and one stream entry") {
  auto r = outbox.Enqueue(Msg("m1"), {});
  REQUIRE(r.has_value());
  CHECK(r->outcome == EnqueueResult::Outcome::kQueued);
  CHECK(r->message_id == "m1");
  CHECK(StreamLength() == 1);
  auto s = outbox.GetStatus("m1");
  REQUIRE(s.has_value());
  REQUIRE(s->has_value());
  CHECK((*s)->state == MessageState::kQueued);
  CHECK((*s)->attempts == 0);
  CHECK((*s)->queued_at_ms == kT0);
  CHECK((*s)->updated_at_ms == kT0);
  CHECK_FALSE(outbox.GetStatus("nope").value().has_value());
}

TEST_CASE_METHOD(RedisFixture, "a repeated idempotency key replays and never queues twice") {
  auto first = outbox.Enqueue(Msg("m1", kT0, "key"), {});
  REQUIRE(first.has_value());
  auto again = Msg("m2", kT0 + 5, "key");
  again.fingerprint = "fp-m1";  // the same request
  auto second = outbox.Enqueue(again, {});
  REQUIRE(second.has_value());
  CHECK(second->outcome == EnqueueResult::Outcome::kReplayed);
  CHECK(second->message_id == "m1");
  CHECK(StreamLength() == 1);
  CHECK_FALSE(outbox.GetStatus("m2").value().has_value());

  auto other = Msg("m3", kT0 + 5, "key");  // same key, another request
  auto conflict = outbox.Enqueue(other, {});
  REQUIRE(conflict.has_value());
  CHECK(conflict->outcome == EnqueueResult::Outcome::kConflict);
  CHECK(StreamLength() == 1);
}

TEST_CASE_METHOD(RedisFixture, "destination limits slide and refuse with a retry time") {
  EnqueueLimits limits;
  limits.destination = {{1, seconds(30)}, {3, seconds(300)}};
  auto at = [&](const std::string& id, std::int64_t t) {
    return outbox.Enqueue(Msg(id, t), limits).value();
  };
  CHECK(at("a", kT0).outcome == EnqueueResult::Outcome::kQueued);
  auto refused = at("b", kT0 + 1000);
  CHECK(refused.outcome == EnqueueResult::Outcome::kRefused);
  CHECK(refused.refusal == Refusal::kDestinationRateLimited);
  CHECK(refused.retry_after == milliseconds(29000));
  CHECK_FALSE(outbox.GetStatus("b").value().has_value());  // nothing stored
  CHECK(StreamLength() == 1);
  CHECK(at("c", kT0 + 31000).outcome == EnqueueResult::Outcome::kQueued);
  CHECK(at("d", kT0 + 62000).outcome == EnqueueResult::Outcome::kQueued);
  auto fourth = at("e", kT0 + 93000);
  CHECK(fourth.refusal == Refusal::kDestinationRateLimited);
  CHECK(fourth.retry_after == milliseconds(300000 - 93000));  // until "a" leaves the 5 min window
  // Another destination is not affected.
  CHECK(outbox.Enqueue(Msg("f", kT0 + 93000, "", "d2"), limits).value().outcome ==
        EnqueueResult::Outcome::kQueued);
  CHECK(at("g", kT0 + 300001).outcome == EnqueueResult::Outcome::kQueued);
}

TEST_CASE_METHOD(RedisFixture, "country limits and the daily SMS budget refuse SMS pumping") {
  EnqueueLimits limits;
  limits.country = {{2, seconds(60)}};
  limits.daily_budget = 3;
  auto sms = [&](const std::string& id, std::int64_t t, const std::string& cc,
                 const std::string& dest) {
    return outbox.Enqueue(Msg(id, t, "", dest, Channel::kSms, cc), limits).value();
  };
  CHECK(sms("a", kT0, "NL", "n1").outcome == EnqueueResult::Outcome::kQueued);
  CHECK(sms("b", kT0 + 1, "NL", "n2").outcome == EnqueueResult::Outcome::kQueued);
  auto third = sms("c", kT0 + 2, "NL", "n3");
  CHECK(third.refusal == Refusal::kCountryRateLimited);
  CHECK(third.retry_after == milliseconds(60000 - 2));
  CHECK(sms("d", kT0 + 3, "BE", "n4").outcome == EnqueueResult::Outcome::kQueued);
  auto over = sms("e", kT0 + 4, "DE", "n5");
  CHECK(over.refusal == Refusal::kDailyBudgetExhausted);
  const std::int64_t midnight = (kT0 / 86400000 + 1) * 86400000;
  CHECK(over.retry_after == milliseconds(midnight - (kT0 + 4)));
  CHECK(StreamLength() == 3);
  // The next UTC day has a fresh budget.
  CHECK(sms("f", midnight + 1, "DE", "n6").outcome == EnqueueResult::Outcome::kQueued);
}

TEST_CASE_METHOD(RedisFixture, "a read message is sent and leaves the stream") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  auto leases = outbox.ReadNew("c1", 10, milliseconds(100)).value();
  REQUIRE(leases.size() == 1);
  CHECK(leases[0].message_id == "m1");
  auto work = outbox.Begin(leases[0], kT0).value();
  REQUIRE(work.has_value());
  CHECK(work->attempt == 1);
  CHECK(work->payload == "sealed-m1");
  CHECK(work->channel == Channel::kEmail);
  CHECK(outbox.Depth().value().in_flight == 1);
  CHECK(outbox.MarkSent(leases[0], kT0 + 50, "smtp").value());
  auto s = outbox.GetStatus("m1").value().value();
  CHECK(s.state == MessageState::kSent);
  CHECK(s.sent_at_ms == kT0 + 50);
  CHECK(s.attempts == 1);
  CHECK(StreamLength() == 0);
  CHECK(Int({"HEXISTS", outbox.Key("msg:m1"), "payload"}) == 0);  // the code is gone
  auto d = outbox.Depth().value();
  CHECK(d.in_flight == 0);
  CHECK(d.ready == 0);
  CHECK(outbox.ReadNew("c1", 10, milliseconds(50)).value().empty());
}

TEST_CASE_METHOD(RedisFixture, "a retry waits in the retry set until it is due") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  auto lease = outbox.ReadNew("c1", 1, milliseconds(100)).value().at(0);
  REQUIRE(outbox.Begin(lease, kT0).value().has_value());
  CHECK(outbox.MarkRetry(lease, kT0 + 10, kT0 + 2000, "connect", "smtp").value());
  auto s = outbox.GetStatus("m1").value().value();
  CHECK(s.state == MessageState::kRetrying);
  CHECK(s.next_attempt_at_ms == kT0 + 2000);
  CHECK(s.last_error == "connect");
  CHECK(s.updated_at_ms == kT0 + 10);
  CHECK(StreamLength() == 0);
  CHECK(outbox.Depth().value().retry == 1);
  CHECK(outbox.PromoteDue(kT0 + 1999, 10).value() == 0);
  CHECK(outbox.PromoteDue(kT0 + 2000, 10).value() == 1);
  CHECK(outbox.PromoteDue(kT0 + 2000, 10).value() == 0);  // moved once
  auto again = outbox.ReadNew("c2", 10, milliseconds(100)).value();
  REQUIRE(again.size() == 1);
  auto work = outbox.Begin(again[0], kT0 + 2001).value();
  REQUIRE(work.has_value());
  CHECK(work->attempt == 2);
  CHECK(work->last_error == "connect");
  CHECK(work->last_provider == "smtp");
}

TEST_CASE_METHOD(RedisFixture, "a failed message becomes a dead letter without its payload") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  auto lease = outbox.ReadNew("c1", 1, milliseconds(100)).value().at(0);
  REQUIRE(outbox.Begin(lease, kT0).value().has_value());
  CHECK(outbox.MarkFailed(lease, kT0 + 5, "http_400", "twilio").value());
  auto s = outbox.GetStatus("m1").value().value();
  CHECK(s.state == MessageState::kFailed);
  CHECK(s.last_error == "http_400");
  CHECK(StreamLength() == 0);
  CHECK(Int({"XLEN", outbox.Key("dead")}) == 1);
  auto dead = redis.Command({"XRANGE", outbox.Key("dead"), "-", "+"}).value();
  const auto& fields = dead.elements.at(0).elements.at(1).elements;
  std::map<std::string, std::string> f;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) f[fields[i].str] = fields[i + 1].str;
  CHECK(f["m"] == "m1");
  CHECK(f["error"] == "http_400");
  CHECK(f.count("payload") == 0);
  CHECK(Int({"HEXISTS", outbox.Key("msg:m1"), "payload"}) == 0);
}

TEST_CASE_METHOD(RedisFixture, "a stale entry is claimed and the first holder loses its lease") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  auto dead_worker = outbox.ReadNew("dead", 1, milliseconds(100)).value().at(0);
  REQUIRE(outbox.Begin(dead_worker, kT0).value().has_value());
  // Not idle long enough yet.
  CHECK(outbox.ClaimStale("alive", milliseconds(60000), 10).value().empty());
  std::this_thread::sleep_for(milliseconds(30));
  auto claimed = outbox.ClaimStale("alive", milliseconds(20), 10).value();
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].message_id == "m1");
  CHECK(claimed[0].consumer == "alive");
  auto work = outbox.Begin(claimed[0], kT0 + 1).value();
  REQUIRE(work.has_value());
  CHECK(work->attempt == 2);  // the interrupted attempt counts
  // The old holder wakes up: it must not record anything.
  CHECK_FALSE(outbox.MarkRetry(dead_worker, kT0 + 2, kT0 + 1000, "x", "smtp").value());
  CHECK(outbox.Depth().value().retry == 0);
  CHECK(outbox.MarkSent(claimed[0], kT0 + 3, "smtp").value());
  CHECK_FALSE(outbox.MarkSent(dead_worker, kT0 + 4, "smtp").value());
  CHECK(outbox.GetStatus("m1").value().value().state == MessageState::kSent);
}

TEST_CASE_METHOD(RedisFixture, "an entry for a message already sent is dropped by Begin") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  auto lease = outbox.ReadNew("c1", 1, milliseconds(100)).value().at(0);
  REQUIRE(outbox.Begin(lease, kT0).value().has_value());
  REQUIRE(outbox.MarkSent(lease, kT0, "smtp").value());
  // A stray second entry (say, re-added by hand) must not send again.
  REQUIRE(redis.Command({"XADD", outbox.Key("outbox"), "*", "m", "m1"}).has_value());
  auto again = outbox.ReadNew("c1", 1, milliseconds(100)).value().at(0);
  CHECK_FALSE(outbox.Begin(again, kT0).value().has_value());
  CHECK(StreamLength() == 0);
  CHECK(outbox.Depth().value().in_flight == 0);
}

TEST_CASE_METHOD(RedisFixture, "the group is recreated when Redis lost it") {
  REQUIRE(redis.Command({"DEL", outbox.Key("outbox")}).has_value());
  CHECK(outbox.ReadNew("c1", 1, milliseconds(10)).value().empty());
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  CHECK(outbox.ReadNew("c1", 1, milliseconds(100)).value().size() == 1);
}

TEST_CASE_METHOD(RedisFixture, "idle consumers holding nothing are reaped") {
  REQUIRE(outbox.Enqueue(Msg("m1"), {}).has_value());
  (void)outbox.ReadNew("holder", 1, milliseconds(100)).value();
  for (const char* c : {"empty", "mine"}) {
    REQUIRE(redis.Command({"XGROUP", "CREATECONSUMER", outbox.Key("outbox"), RedisOutbox::kGroup, c})
                .has_value());
  }
  std::this_thread::sleep_for(milliseconds(20));
  CHECK(outbox.ReapConsumers(milliseconds(10), {"mine"}).value() == 1);  // only "empty"
  auto info = redis.Command({"XINFO", "CONSUMERS", outbox.Key("outbox"), RedisOutbox::kGroup});
  CHECK(info.value().elements.size() == 2);
}

TEST_CASE_METHOD(RedisFixture, "the provider breaker opens after failures in a row") {
  CHECK_FALSE(outbox.ProviderTripped("twilio").value());
  REQUIRE(outbox.RecordProviderResult("twilio", false, 3, seconds(60)).has_value());
  REQUIRE(outbox.RecordProviderResult("twilio", false, 3, seconds(60)).has_value());
  REQUIRE(outbox.RecordProviderResult("twilio", true, 3, seconds(60)).has_value());  // resets
  REQUIRE(outbox.RecordProviderResult("twilio", false, 3, seconds(60)).has_value());
  REQUIRE(outbox.RecordProviderResult("twilio", false, 3, seconds(60)).has_value());
  CHECK_FALSE(outbox.ProviderTripped("twilio").value());
  REQUIRE(outbox.RecordProviderResult("twilio", false, 3, seconds(60)).has_value());
  CHECK(outbox.ProviderTripped("twilio").value());
  CHECK_FALSE(outbox.ProviderTripped("other").value());
}
