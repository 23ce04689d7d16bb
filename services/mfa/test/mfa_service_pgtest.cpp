#include "challenge_store.hpp"
#include "factor_store.hpp"
#include "mfa_migrations.hpp"
#include "mfa_service.hpp"
#include "totp.hpp"

#include "../../../tests/support/pg_test_db.hpp"
#include "idp/store/pg.hpp"
#include "idp/store/redis.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace idp;
using namespace idp::mfa;

namespace {

store::RedisOptions RedisFromEnv() {
  const char* url = std::getenv("IDP_TEST_REDIS_URL");
  REQUIRE(url != nullptr);
  return store::ParseRedisUrl(url).value();
}

std::string Decode32(const std::string& b32) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : b32) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c - '2' + 26;
    buf = (buf << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buf >> (bits - 8)) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

/// Records what would be sent (a domain test; the real delivery is in the e2e tests).
class RecordingDelivery final : public DeliveryClient {
 public:
  Result<SendResult> SendEmail(const std::string&, const std::string& to, CodePurpose,
                               const std::string& code) override {
    sent.push_back({to, code});
    SendResult r;
    r.message_id = std::to_string(sent.size());
    r.refusal = refuse;
    return r;
  }
  Result<SendResult> SendSms(const std::string& k, const std::string& to, CodePurpose p,
                             const std::string& code) override {
    return SendEmail(k, to, p, code);
  }
  Result<MessageStatus> Status(const std::string&) override { return MessageStatus{"sent", 1}; }
  Result<SendResult> NotifyChange(const std::string&, bool, const std::string& to, bool added,
                                  const std::string& name) override {
    notices.push_back(to + (added ? " +" : " -") + name);
    return SendResult{};
  }
  std::vector<std::string> notices;
  std::vector<std::pair<std::string, std::string>> sent;
  Refusal refuse;
};

struct Fixture {
  Fixture()
      : pool({testing::CreateTestDatabase("mfa_test"), 4}),
        redis(RedisFromEnv()),
        factors(pool),
        challenges(redis, std::chrono::seconds(600)),
        browsers(pool),
        audit(pool, "mfa"),
        service(factors, challenges, delivery, browsers,
                crypto::Aead::FromKey(std::string(32, 'm')).value(), clock, {}, &audit) {
    crypto::Init();
    REQUIRE(store::Migrate(pool, Migrations()).value() >= 2);
  }
  /// Enrols and confirms an authenticator app; returns its seed.
  std::string Enrol() {
    auto e = service.StartTotp(subject, "Phone", "alice").value();
    std::string seed = Decode32(e.secret_base32);
    REQUIRE(seed.size() == 20);
    CHECK(service.ConfirmTotp(subject, e.factor_id, "000000x").value() == CodeOutcome::kMalformed);
    auto code = TotpCode(seed, clock.NowUnix() / 30);
    REQUIRE(service.ConfirmTotp(subject, e.factor_id, code).value() == CodeOutcome::kVerified);
    return seed;
  }
  Verification Totp(const std::string& challenge, const std::string& code) {
    return service.Verify(challenge, subject, VerifyMethod::kTotp, code).value();
  }

  FakeClock clock{1'800'000'000};
  store::PgPool pool;
  store::RedisClient redis;
  PgFactorStore factors;
  ChallengeStore challenges;
  BrowserStore browsers;
  audit::AuditLog audit;
  RecordingDelivery delivery;
  MfaService service;
  std::string subject = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
};

}  // namespace

TEST_CASE("an enrolled authenticator app verifies each time step once", "[mfa]") {
  Fixture f;
  auto seed = f.Enrol();
  auto list = f.service.List(f.subject).value();
  REQUIRE(list.size() == 1);
  CHECK(list[0].active);
  CHECK(list[0].sealed_secret.find(seed) == std::string::npos);  // sealed at rest

  // The enrolment code's step is used up: the same code is a replay.
  f.clock.Advance(std::chrono::seconds(5));
  auto c1 = f.service.StartChallenge(f.subject).value();
  const auto step = f.clock.NowUnix() / 30;
  CHECK(f.Totp(c1, TotpCode(seed, step)).outcome == CodeOutcome::kWrong);
  f.clock.Advance(std::chrono::seconds(30));
  auto now_step = f.clock.NowUnix() / 30;
  CHECK(f.Totp(c1, TotpCode(seed, now_step - 2)).outcome == CodeOutcome::kWrong);  // too old
  CHECK(f.Totp(c1, TotpCode(seed, now_step)).outcome == CodeOutcome::kVerified);
  // The challenge is over once verified, and the step cannot come back, nor an earlier one.
  auto c2 = f.service.StartChallenge(f.subject).value();
  CHECK(f.Totp(c2, TotpCode(seed, now_step)).outcome == CodeOutcome::kWrong);
  CHECK(f.Totp(c2, TotpCode(seed, now_step - 1)).outcome == CodeOutcome::kWrong);
  CHECK(f.Totp(c1, TotpCode(seed, now_step + 1)).outcome == CodeOutcome::kChallengeEnded);
}

TEST_CASE("the sixth try after five wrong codes finds the challenge ended and ten lock the person", "[mfa]") {
  Fixture f;
  auto seed = f.Enrol();
  f.clock.Advance(std::chrono::seconds(60));
  auto c1 = f.service.StartChallenge(f.subject).value();
  for (int i = 0; i < 5; ++i) {
    auto v = f.Totp(c1, "000000");
    CHECK(v.outcome == CodeOutcome::kWrong);
    CHECK(v.tries_left == 4 - i);
  }
  // The sixth try, even with the right code, finds the challenge ended.
  CHECK(f.Totp(c1, TotpCode(seed, f.clock.NowUnix() / 30)).outcome == CodeOutcome::kChallengeEnded);
  // Malformed codes do not count.
  auto c2 = f.service.StartChallenge(f.subject).value();
  CHECK(f.Totp(c2, "12 345").outcome == CodeOutcome::kMalformed);
  for (int i = 0; i < 4; ++i) CHECK(f.Totp(c2, "000000").outcome == CodeOutcome::kWrong);
  // Ten wrong codes across challenges: locked, and a right code does not pass.
  auto locked = f.Totp(c2, "000000");
  CHECK(locked.outcome == CodeOutcome::kLocked);
  CHECK(locked.retry_after == idp::mfa::MfaPolicy{}.failure_window);  // the page says how long
  auto c3 = f.service.StartChallenge(f.subject).value();
  f.clock.Advance(std::chrono::seconds(30));
  auto still = f.Totp(c3, TotpCode(seed, f.clock.NowUnix() / 30));
  CHECK(still.outcome == CodeOutcome::kLocked);
  CHECK(still.retry_after.count() > 0);
}

TEST_CASE("recovery codes work once each and are replaced by a new set", "[mfa]") {
  Fixture f;
  f.Enrol();
  auto codes = f.service.GenerateRecoveryCodes(f.subject).value();
  REQUIRE(codes.size() == 10);
  CHECK(codes[0].size() == 11);
  CHECK(codes[0][5] == '-');
  auto c = f.service.StartChallenge(f.subject).value();
  auto v = f.service.Verify(c, f.subject, VerifyMethod::kRecovery, codes[3]).value();
  CHECK(v.outcome == CodeOutcome::kVerified);
  CHECK(v.recovery_codes_left == 9);
  auto c2 = f.service.StartChallenge(f.subject).value();
  CHECK(f.service.Verify(c2, f.subject, VerifyMethod::kRecovery, codes[3]).value().outcome == CodeOutcome::kWrong);
  // Case, spaces and the dash do not matter.
  std::string shouted = codes[4];
  for (auto& ch : shouted) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  shouted.erase(5, 1);
  CHECK(f.service.Verify(c2, f.subject, VerifyMethod::kRecovery, shouted).value().outcome == CodeOutcome::kVerified);
  auto fresh = f.service.GenerateRecoveryCodes(f.subject).value();
  auto c3 = f.service.StartChallenge(f.subject).value();
  CHECK(f.service.Verify(c3, f.subject, VerifyMethod::kRecovery, codes[5]).value().outcome == CodeOutcome::kWrong);
  CHECK(f.service.Verify(c3, f.subject, VerifyMethod::kRecovery, fresh[0]).value().outcome == CodeOutcome::kVerified);
  CHECK(f.service.Reset(f.subject).value() == 1);
  CHECK(f.service.List(f.subject).value().empty());
  CHECK(f.service.RecoveryCodesLeft(f.subject).value() == 0);
}

TEST_CASE("email codes: enrolment by a code and only the newest sign-in code is valid", "[mfa]") {
  Fixture f;
  auto bad = f.service.StartDeliveryEnrolment(f.subject, "email", "not an address").value();
  CHECK(bad.refusal.reason == RefusalReason::kEmailMalformed);
  CHECK(f.delivery.sent.empty());
  CHECK(f.service.List(f.subject).value().empty());  // nothing half-created

  auto e = f.service.StartDeliveryEnrolment(f.subject, "email", "Alice@Example.com").value();
  REQUIRE_FALSE(e.refusal);
  CHECK(e.label.rfind("a", 0) == 0);
  CHECK(e.label.find("@example.com") != std::string::npos);
  REQUIRE(f.delivery.sent.size() == 1);
  CHECK(f.delivery.sent[0].first == "alice@example.com");
  auto code = f.delivery.sent[0].second;
  CHECK(f.service.ConfirmDeliveryEnrolment(f.subject, e.factor_id, "000000x").value().outcome ==
        CodeOutcome::kMalformed);
  CHECK(f.service.ConfirmDeliveryEnrolment(f.subject, e.factor_id, code == "000000" ? "111111" : "000000")
            .value().outcome == CodeOutcome::kWrong);
  CHECK(f.service.ConfirmDeliveryEnrolment(f.subject, e.factor_id, code).value().outcome ==
        CodeOutcome::kVerified);

  // The new email address is not told about itself; a later factor is announced to it.
  CHECK(f.delivery.notices.empty());
  f.Enrol();
  REQUIRE(f.delivery.notices.size() == 1);
  CHECK(f.delivery.notices[0] == "alice@example.com +Phone");

  auto c = f.service.StartChallenge(f.subject).value();
  REQUIRE_FALSE(f.service.SendCode(c, f.subject, e.factor_id).value().refusal);
  auto first = f.delivery.sent.back().second;
  REQUIRE_FALSE(f.service.SendCode(c, f.subject, e.factor_id).value().refusal);
  auto second = f.delivery.sent.back().second;
  if (first != second) {
    CHECK(f.service.Verify(c, f.subject, VerifyMethod::kSent, first).value().outcome ==
          CodeOutcome::kWrong);
  }
  auto v = f.service.Verify(c, f.subject, VerifyMethod::kSent, second).value();
  CHECK(v.outcome == CodeOutcome::kVerified);
  CHECK(v.amr == "email");

  // An expired code is refused.
  auto c2 = f.service.StartChallenge(f.subject).value();
  REQUIRE_FALSE(f.service.SendCode(c2, f.subject, e.factor_id).value().refusal);
  auto late = f.delivery.sent.back().second;
  f.clock.Advance(std::chrono::seconds(601));
  CHECK(f.service.Verify(c2, f.subject, VerifyMethod::kSent, late).value().outcome ==
        CodeOutcome::kWrong);
  // A refusal by delivery is passed on and stores nothing.
  f.delivery.refuse = Refused(RefusalReason::kSmsUnavailable);
  auto refused = f.service.StartDeliveryEnrolment(f.subject, "sms", "+31 6 12345678").value();
  CHECK(refused.refusal.reason == RefusalReason::kSmsUnavailable);
  CHECK(f.service.List(f.subject).value().size() == 2);
}

TEST_CASE("mobile numbers are parsed by libphonenumber and refused with the reason", "[mfa]") {
  Fixture f;
  MfaPolicy policy;
  policy.default_phone_region = "NL";
  policy.sms_countries = {"NL", "US"};
  MfaService service(f.factors, f.challenges, f.delivery, f.browsers,
                     crypto::Aead::FromKey(std::string(32, 'm')).value(), f.clock, policy);
  // Refused before anything is sent or stored.
  struct Bad {
    const char* typed;
    RefusalReason reason;
    phone::Problem problem;
    const char* region;
  };
  const Bad bad[] = {
      {"06 1234abcd", RefusalReason::kPhone, phone::Problem::kLetters, ""},
      {"06 1234", RefusalReason::kPhone, phone::Problem::kTooShort, "NL"},
      {"+999 123 456 789", RefusalReason::kPhone, phone::Problem::kUnknownCountryCode, ""},
      {"020 123 4567", RefusalReason::kPhone, phone::Problem::kNotMobile, "NL"},
      {"+55 11 91234 5678", RefusalReason::kSmsCountryNotAllowed,
       phone::Problem::kUnsupportedCountry, "BR"},
      {"", RefusalReason::kPhone, phone::Problem::kEmpty, ""},
  };
  for (const auto& b : bad) {
    INFO(b.typed);
    auto e = service.StartDeliveryEnrolment(f.subject, "sms", b.typed).value();
    CHECK(e.refusal.reason == b.reason);
    CHECK(e.refusal.phone == b.problem);
    CHECK(e.refusal.region == b.region);
    CHECK(e.factor_id.empty());
  }
  CHECK(f.delivery.sent.empty());
  CHECK(f.service.List(f.subject).value().empty());
  // Without a default region, a national number needs its country.
  auto no_region = f.service.StartDeliveryEnrolment(f.subject, "sms", "06 12345678").value();
  CHECK(no_region.refusal.phone == phone::Problem::kNoCountry);
  // National format with the default region, or with the region the person chose.
  auto e = service.StartDeliveryEnrolment(f.subject, "sms", "06-1234 5678").value();
  REQUIRE_FALSE(e.refusal);
  CHECK(e.label == "+31 \u2022\u2022\u2022 \u2022\u2022\u2022 78");
  REQUIRE(f.delivery.sent.size() == 1);
  CHECK(f.delivery.sent[0].first == "+31612345678");
  auto us = service.StartDeliveryEnrolment(f.subject, "sms", "(202) 555-0143", "US").value();
  REQUIRE_FALSE(us.refusal);
  CHECK(f.delivery.sent.back().first == "+12025550143");
  CHECK(f.service.List(f.subject).value().size() == 2);  // both pending
}

TEST_CASE("with keep_two_methods the second-to-last method cannot be removed", "[mfa]") {
  Fixture f;
  MfaPolicy policy;
  policy.keep_two_methods = true;
  MfaService service(f.factors, f.challenges, f.delivery, f.browsers,
                     crypto::Aead::FromKey(std::string(32, 'm')).value(), f.clock, policy);
  f.Enrol();
  f.clock.Advance(std::chrono::seconds(60));
  f.Enrol();
  auto list = f.service.List(f.subject).value();
  REQUIRE(list.size() == 2);
  auto refused = service.Remove(f.subject, list[0].id);
  REQUIRE(refused.has_value());
  CHECK(refused->reason == RefusalReason::kKeepTwoMethods);
  CHECK(f.service.List(f.subject).value().size() == 2);
  // A pending factor can always go; with a third method, one of three can too.
  auto pending = service.StartTotp(f.subject, "Tablet", "alice").value();
  REQUIRE_FALSE(service.Remove(f.subject, pending.factor_id).value());
  f.clock.Advance(std::chrono::seconds(60));
  f.Enrol();
  REQUIRE_FALSE(service.Remove(f.subject, list[0].id).value());
  CHECK(f.service.List(f.subject).value().size() == 2);
  CHECK(service.Remove(f.subject, list[1].id).value().reason == RefusalReason::kKeepTwoMethods);
  // Without the policy (the default) the same removal goes through.
  REQUIRE_FALSE(f.service.Remove(f.subject, list[1].id).value());
  CHECK(f.service.List(f.subject).value().size() == 1);
}

TEST_CASE("the domain records its audit events; a reset also forgets remembered browsers", "[mfa]") {
  Fixture f;
  f.Enrol();
  auto challenge = f.service.StartChallenge(f.subject).value();
  CHECK(f.Totp(challenge, "000000").outcome == CodeOutcome::kWrong);
  auto token = f.service.RememberBrowser(f.subject, "Firefox", 30).value();
  CHECK(token.size() >= 43);
  CHECK(f.service.CheckBrowser(f.subject, token).value());
  CHECK_FALSE(f.service.CheckBrowser(f.subject, token + "x").value());
  CHECK_FALSE(f.service.RememberBrowser(f.subject, "Firefox", 0).has_value());

  CHECK(f.service.Reset(f.subject).value() >= 1);
  CHECK_FALSE(f.service.CheckBrowser(f.subject, token).value());
  CHECK(f.service.List(f.subject).value().empty());

  audit::Query q;
  q.subject = f.subject;
  std::vector<std::string> events;
  for (const auto& row : f.audit.List(q).value()) events.push_back(row.event);
  for (const char* e : {"mfa.factor_added", "mfa.enrolment_failure", "mfa.failure", "admin.factors_reset"}) {
    INFO(e);
    CHECK(std::find(events.begin(), events.end(), e) != events.end());
  }
}
