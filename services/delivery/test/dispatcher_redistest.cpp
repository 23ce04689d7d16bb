// The domain service and the dispatcher on the real Redis outbox, with scripted providers:
// validation refuses bad input before anything is stored, a message goes from queued to sent,
// retries follow the backoff, a final refusal or the last try dead-letters it, SMS falls back
// to the second provider, and worker threads send each message exactly once.
#include "delivery_service.hpp"
#include "dispatcher.hpp"
#include "metrics.hpp"
#include "outbox_cipher.hpp"
#include "redis_fixture.hpp"
#include "sender.hpp"

#include "idp/crypto/crypto.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

using namespace idp;
using namespace idp::delivery;
using idp::delivery::test::RedisFixture;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

/// Answers from a script (the last answer repeats); records what it was given.
template <class Base, class Message>
class ScriptedSender final : public Base {
 public:
  explicit ScriptedSender(std::string name, std::vector<SendOutcome> script = {})
      : name_(std::move(name)), script_(script.begin(), script.end()) {}
  std::string_view Name() const override { return name_; }
  SendOutcome Send(const Message& m) override {
    std::lock_guard lock(mu_);
    got_.push_back(m);
    if (script_.empty()) return {SendVerdict::kAccepted, "", "", {}};
    SendOutcome o = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return o;
  }
  std::vector<Message> Got() {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  std::string name_;
  std::mutex mu_;
  std::deque<SendOutcome> script_;
  std::vector<Message> got_;
};
using FakeEmail = ScriptedSender<EmailSender, OutgoingEmail>;
using FakeSms = ScriptedSender<SmsSender, OutgoingSms>;

const SendOutcome kRetry{SendVerdict::kRetry, "http_500", "status 500", {}};
const SendOutcome kFail{SendVerdict::kFail, "http_400", "status 400", {}};

OutboxCipher Cipher() {
  return OutboxCipher::FromEncodedSecret(std::string(64, 'a')).value();
}

DeliverySettings Settings() {
  DeliverySettings s;
  s.product_name = "Identity Portal";
  s.from_address = "no-reply@idp.example.com";
  s.from_name = "Identity Portal";
  s.email_enabled = true;
  s.sms_enabled = true;
  s.sms_countries = {"NL", "US"};
  s.destination_limits = {{1, seconds(30)}};
  return s;
}

struct Harness : RedisFixture {
  Harness() : clock(1'750'000'000), cipher(Cipher()), service(outbox, cipher, clock, metrics, Settings()) {}

  Dispatcher MakeDispatcher(Providers p, int max_attempts = 4) {
    DispatcherOptions o;
    o.workers = 2;
    o.consumer_prefix = "test-" + test::RandomHex(6);
    o.block = milliseconds(100);
    o.claim_after = milliseconds(60000);
    o.backoff = {milliseconds(1000), milliseconds(8000), max_attempts};
    o.breaker_threshold = 100;
    return Dispatcher(outbox, cipher, p, metrics, clock, o);
  }
  /// Reads the next entry as a single consumer and processes it.
  bool Step(Dispatcher& d) {
    auto leases = outbox.ReadNew("step", 1, milliseconds(100)).value();
    if (leases.empty()) return false;
    d.Process(leases[0]);
    return true;
  }
  std::int64_t NowMs() const {
    return std::chrono::duration_cast<milliseconds>(clock.Now().time_since_epoch()).count();
  }

  FakeClock clock;
  Metrics metrics;
  OutboxCipher cipher;
  DeliveryService service;
};

EmailRequest Email(const std::string& key, const std::string& to = "alice@example.com") {
  EmailRequest r;
  r.idempotency_key = key;
  r.to_address = to;
  r.to_name = "Alice Ångström";
  r.template_id = TemplateId::kSignInCode;
  r.code = "493817";
  return r;
}

SmsRequest Sms(const std::string& key, const std::string& to = "+31612345678") {
  SmsRequest r;
  r.idempotency_key = key;
  r.to_number = to;
  r.template_id = TemplateId::kSignInCode;
  r.code = "493817";
  return r;
}

}  // namespace

TEST_CASE_METHOD(Harness, "bad input is refused with INVALID_ARGUMENT and nothing is queued") {
  std::vector<EmailRequest> bad;
  auto add = [&](auto change) {
    auto r = Email("k-" + std::to_string(bad.size()));
    change(r);
    bad.push_back(r);
  };
  add([](EmailRequest& r) { r.to_address = "alice@example.com\r\nBcc: eve@example.net"; });
  add([](EmailRequest& r) { r.to_name = "Alice\r\nBcc: eve@example.net"; });
  add([](EmailRequest& r) { r.to_name = "Alice\nX-Injected: 1"; });
  add([](EmailRequest& r) { r.to_address = "not an address"; });
  add([](EmailRequest& r) { r.to_name = std::string(5000, 'x'); });
  add([](EmailRequest& r) { r.code = std::string(100000, '1'); });
  add([](EmailRequest& r) { r.code = "12"; });
  add([](EmailRequest& r) { r.idempotency_key = ""; });
  add([](EmailRequest& r) { r.idempotency_key = "bad key\r\n"; });
  add([](EmailRequest& r) { r.template_id = TemplateId::kUnspecified; });
  add([](EmailRequest& r) { r.code_valid_for = seconds(7200); });
  add([](EmailRequest& r) {
    r.template_id = TemplateId::kFactorAdded;
    r.code.clear();
    r.factor_name = std::string(65, 'f');
  });
  add([](EmailRequest& r) {
    r.template_id = TemplateId::kFactorAdded;
    r.code.clear();
    r.factor_name = "Phone\r\nBcc: x@y.z";
  });
  for (const auto& r : bad) {
    auto out = service.SendEmail(r);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == ErrorCode::kInvalidArgument);
  }
  for (const char* n : {"0612345678", "+31 612345678", "+31612345678\n", "+123", "abc"}) {
    auto out = service.SendSms(Sms("s", n));
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == ErrorCode::kInvalidArgument);
  }
  CHECK(StreamLength() == 0);
  CHECK(Int({"EXISTS", outbox.Key("rate:dest:x")}) == 0);
}

TEST_CASE_METHOD(Harness, "the link templates take only a safe absolute link") {
  auto reset = [](const std::string& link) {
    EmailRequest r = Email("link");
    r.template_id = TemplateId::kPasswordReset;
    r.code.clear();
    r.link = link;
    return r;
  };
  std::vector<EmailRequest> bad;
  for (const std::string& link :
       {std::string(), std::string("javascript:alert(1)"), std::string("/password/reset?token=x"),
        std::string("http://idp.example.com/password/reset?token=x"),
        std::string("https://idp.example.com/reset?token=x\r\nBcc: eve@example.net"),
        std::string("https://idp.example.com/a b"), std::string("https://@evil.example/x"),
        std::string("https://user@evil.example/x"),
        "https://idp.example.com/" + std::string(2048, 'a')}) {
    bad.push_back(reset(link));
  }
  auto code_with_link = Email("link");
  code_with_link.link = "https://idp.example.com/x";
  bad.push_back(code_with_link);
  auto reset_with_code = reset("https://idp.example.com/x");
  reset_with_code.code = "493817";
  bad.push_back(reset_with_code);
  auto changed_with_link = reset("https://idp.example.com/x");
  changed_with_link.template_id = TemplateId::kPasswordChanged;
  bad.push_back(changed_with_link);
  auto locked_without_duration = reset("");
  locked_without_duration.template_id = TemplateId::kAccountLocked;
  locked_without_duration.code_valid_for.reset();
  bad.push_back(locked_without_duration);
  auto locked_with_link = reset("https://idp.example.com/x");
  locked_with_link.template_id = TemplateId::kAccountLocked;
  bad.push_back(locked_with_link);
  for (const auto& r : bad) {
    auto out = service.SendEmail(r);
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == ErrorCode::kInvalidArgument);
    CHECK(out.error().message.find("idp.example.com") == std::string::npos);  // never echoed
  }
  auto sms = Sms("s");
  sms.template_id = TemplateId::kPasswordReset;
  sms.code.clear();
  CHECK_FALSE(service.SendSms(sms).has_value());
  CHECK(StreamLength() == 0);

  FakeEmail email("smtp");
  auto d = MakeDispatcher({&email, nullptr, nullptr});
  for (const char* ok : {"https://idp.example.com/password/reset?token=abc",
                         "http://localhost:8080/password/reset?token=abc",
                         "http://127.0.0.1:9/password/reset?token=abc"}) {
    auto r = reset(ok);
    r.idempotency_key = "ok-" + std::to_string(StreamLength());
    auto out = service.SendEmail(r);
    REQUIRE(out.has_value());
    CHECK_FALSE(out->message_id.empty());
  }
  auto changed = reset("");
  changed.template_id = TemplateId::kPasswordChanged;
  changed.idempotency_key = "changed";
  REQUIRE(service.SendEmail(changed).has_value());
  REQUIRE(Step(d));
  auto got = email.Got();
  REQUIRE_FALSE(got.empty());
  // The token is sealed at rest like a code.
  CHECK(got[0].mime.find("token=3Dabc") != std::string::npos);
}

TEST_CASE_METHOD(Harness, "an email goes from queued to sent with the code in valid MIME") {
  FakeEmail email("smtp");
  auto d = MakeDispatcher({&email, nullptr, nullptr});
  auto out = service.SendEmail(Email("k1"));
  REQUIRE(out.has_value());
  REQUIRE_FALSE(out->message_id.empty());
  CHECK(service.GetStatus(out->message_id).value().state == MessageState::kQueued);
  // The payload at rest is sealed: neither the code nor the address is readable in Redis.
  auto raw = redis.Command({"HGET", outbox.Key("msg:" + out->message_id), "payload"}).value();
  CHECK(raw.str.find("493817") == std::string::npos);
  CHECK(raw.str.find("alice@example.com") == std::string::npos);

  REQUIRE(Step(d));
  auto got = email.Got();
  REQUIRE(got.size() == 1);
  CHECK(got[0].to == "alice@example.com");
  CHECK(got[0].mime.find("493817") != std::string::npos);
  CHECK(got[0].mime.find("Message-ID: <" + out->message_id + "@idp.example.com>") !=
        std::string::npos);
  CHECK(got[0].mime.find("To: =?UTF-8?B?") != std::string::npos);
  auto s = service.GetStatus(out->message_id).value();
  CHECK(s.state == MessageState::kSent);
  CHECK(s.attempts == 1);
  CHECK(s.sent_at_ms == NowMs());
  CHECK(metrics.Count("sent", Channel::kEmail, "") == 1);
}

TEST_CASE_METHOD(Harness, "a retried call with the same key returns the same message") {
  auto a = service.SendEmail(Email("same")).value();
  clock.Advance(seconds(1));
  auto b = service.SendEmail(Email("same")).value();  // not rate limited: nothing new
  CHECK(b.replayed);
  CHECK(b.message_id == a.message_id);
  CHECK(b.refusal == Refusal::kNone);
  CHECK(StreamLength() == 1);
  auto other = Email("same");
  other.code = "111111";
  auto conflict = service.SendEmail(other);
  REQUIRE_FALSE(conflict.has_value());
  CHECK(conflict.error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE_METHOD(Harness, "the destination limit refuses a second code within 30 s") {
  REQUIRE(service.SendEmail(Email("k1")).value().refusal == Refusal::kNone);
  clock.Advance(seconds(10));
  auto second = service.SendEmail(Email("k2", "ALICE@example.com")).value();
  CHECK(second.refusal == Refusal::kDestinationRateLimited);
  CHECK(second.retry_after == milliseconds(20000));
  CHECK(second.message_id.empty());
  CHECK(StreamLength() == 1);
  // Notices are not codes: they pass.
  auto notice = Email("k3");
  notice.template_id = TemplateId::kFactorRemoved;
  notice.code.clear();
  notice.factor_name = "Work phone";
  CHECK(service.SendEmail(notice).value().refusal == Refusal::kNone);
}

TEST_CASE_METHOD(Harness, "SMS outside the supported countries is refused") {
  auto out = service.SendSms(Sms("k1", "+4915112345678")).value();
  CHECK(out.refusal == Refusal::kUnsupportedCountry);
  CHECK(out.country == "DE");
  CHECK(service.SendSms(Sms("k2", "+19005550143")).value().refusal ==
        Refusal::kUnsupportedCountry);  // premium rate
  CHECK(StreamLength() == 0);
  CHECK(service.SendSms(Sms("k3", "+12025550143")).value().country == "US");
}

TEST_CASE_METHOD(Harness, "500 twice then 201 is delivered once after two retries") {
  FakeSms sms("twilio", {kRetry, kRetry, SendOutcome{SendVerdict::kAccepted, "", "", {}}});
  auto d = MakeDispatcher({nullptr, &sms, nullptr});
  auto id = service.SendSms(Sms("k1")).value().message_id;
  REQUIRE(Step(d));
  auto s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kRetrying);
  CHECK(s.last_error == "http_500");
  // Backoff: attempt 1 -> 500-1000 ms.
  CHECK(s.next_attempt_at_ms >= NowMs() + 500);
  CHECK(s.next_attempt_at_ms <= NowMs() + 1000);
  CHECK_FALSE(Step(d));  // not due yet
  clock.Advance(seconds(1));
  REQUIRE(outbox.PromoteDue(NowMs(), 10).value() == 1);
  REQUIRE(Step(d));
  s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kRetrying);
  CHECK(s.next_attempt_at_ms >= NowMs() + 1000);  // attempt 2 -> 1000-2000 ms
  CHECK(s.next_attempt_at_ms <= NowMs() + 2000);
  clock.Advance(seconds(2));
  REQUIRE(outbox.PromoteDue(NowMs(), 10).value() == 1);
  REQUIRE(Step(d));
  s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kSent);
  CHECK(s.attempts == 3);
  CHECK(sms.Got().size() == 3);
  CHECK(metrics.Count("retried", Channel::kSms, "NL") == 2);
  CHECK(metrics.Count("sent", Channel::kSms, "NL") == 1);
  CHECK(metrics.Render(nullptr).find("idp_delivery_sent_total{channel=\"sms\",country=\"NL\"} 1") !=
        std::string::npos);
}

TEST_CASE_METHOD(Harness, "a 400 fails at once and becomes a dead letter") {
  FakeSms sms("twilio", {kFail});
  auto d = MakeDispatcher({nullptr, &sms, nullptr});
  auto id = service.SendSms(Sms("k1")).value().message_id;
  REQUIRE(Step(d));
  auto s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kFailed);
  CHECK(s.attempts == 1);
  CHECK(s.last_error == "http_400");
  CHECK(Int({"XLEN", outbox.Key("dead")}) == 1);
  CHECK(outbox.Depth().value().retry == 0);
  CHECK(metrics.Count("failed", Channel::kSms, "NL") == 1);
}

TEST_CASE_METHOD(Harness, "the last failed try dead-letters the message") {
  FakeEmail email("smtp", {kRetry});
  auto d = MakeDispatcher({&email, nullptr, nullptr}, /*max_attempts=*/3);
  auto id = service.SendEmail(Email("k1")).value().message_id;
  for (int i = 0; i < 3; ++i) {
    clock.Advance(seconds(10));
    (void)outbox.PromoteDue(NowMs(), 10);
    REQUIRE(Step(d));
  }
  auto s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kFailed);
  CHECK(s.attempts == 3);
  CHECK(email.Got().size() == 3);
  CHECK(Int({"XLEN", outbox.Key("dead")}) == 1);
}

TEST_CASE_METHOD(Harness, "a code that expired while waiting is not sent") {
  FakeEmail email("smtp");
  auto d = MakeDispatcher({&email, nullptr, nullptr});
  auto req = Email("k1");
  req.code_valid_for = seconds(60);
  auto id = service.SendEmail(req).value().message_id;
  clock.Advance(seconds(61));
  REQUIRE(Step(d));
  CHECK(email.Got().empty());
  auto s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kFailed);
  CHECK(s.last_error == "expired");
}

TEST_CASE_METHOD(Harness, "SMS falls back to the second provider after the first failed") {
  FakeSms primary("twilio", {kRetry});
  FakeSms fallback("twilio_fallback");
  auto d = MakeDispatcher({nullptr, &primary, &fallback});
  auto id = service.SendSms(Sms("k1")).value().message_id;
  REQUIRE(Step(d));
  CHECK(primary.Got().size() == 1);
  clock.Advance(seconds(5));
  REQUIRE(outbox.PromoteDue(NowMs(), 10).value() == 1);
  REQUIRE(Step(d));
  CHECK(fallback.Got().size() == 1);
  CHECK(fallback.Got()[0].body.find("493817") != std::string::npos);
  CHECK(service.GetStatus(id).value().state == MessageState::kSent);
}

TEST_CASE_METHOD(Harness, "worker threads send each of 60 messages exactly once") {
  SystemClock real;
  DeliveryService svc(outbox, cipher, real, metrics, [] {
    auto s = Settings();
    s.destination_limits.clear();
    return s;
  }());
  FakeEmail email("smtp");
  DispatcherOptions o;
  o.workers = 3;
  o.consumer_prefix = "threads-" + test::RandomHex(6);
  o.block = milliseconds(100);
  o.tick = milliseconds(50);
  Dispatcher d(outbox, cipher, {&email, nullptr, nullptr}, metrics, real, o);
  d.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    const std::string n = std::to_string(i);
    std::string key = "t";
    key += n;
    std::string to = "u";
    to += n;
    to += "@example.com";
    ids.push_back(svc.SendEmail(Email(key, to)).value().message_id);
  }
  for (int i = 0; i < 100 && email.Got().size() < 60; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  d.Stop();
  auto got = email.Got();
  CHECK(got.size() == 60);
  std::map<std::string, int> seen;
  for (const auto& m : got) ++seen[m.message_id];
  for (const auto& id : ids) CHECK(seen[id] == 1);
  CHECK(outbox.Depth().value().in_flight == 0);
}

TEST_CASE_METHOD(Harness, "a message whose attempts keep dying is given up") {
  FakeEmail email("smtp");
  auto d = MakeDispatcher({&email, nullptr, nullptr}, /*max_attempts=*/2);
  auto id = service.SendEmail(Email("k1")).value().message_id;
  auto lease = outbox.ReadNew("crashy", 1, milliseconds(100)).value().at(0);
  // Two attempts that started and never finished (their worker died mid-send).
  for (int i = 0; i < 2; ++i) REQUIRE(outbox.Begin(lease, NowMs()).value().has_value());
  d.Process(lease);
  CHECK(email.Got().empty());
  auto s = service.GetStatus(id).value();
  CHECK(s.state == MessageState::kFailed);
  CHECK(s.last_error == "too_many_attempts");
}
