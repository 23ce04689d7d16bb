// The one MFA policy (src/signin/second_factor_policy.hpp): what the second step is for each
// application policy and set of factors, which methods are offered, and when a remembered
// browser may skip the challenge.
#include "signin/second_factor_policy.hpp"

#include <catch2/catch.hpp>

using namespace idp::gateway::signin;

namespace {

Factor Totp() { return {FactorKind::kTotp, true, "t1", "Phone"}; }
Factor Email() { return {FactorKind::kEmail, true, "e1", "a\u2022\u2022\u2022@example.test"}; }
Factor Sms() { return {FactorKind::kSms, true, "s1", "+31 \u2022\u2022\u2022 78"}; }
Factor Recovery() { return {FactorKind::kRecoveryCodes, true, "r1", "10"}; }
Factor Pending(Factor f) {
  f.active = false;
  return f;
}

ClientPolicy Required() { return *ClientPolicyFromSetting("required"); }
ClientPolicy TotpOnly() { return *ClientPolicyFromSetting("totp_only"); }

}  // namespace

TEST_CASE("the client's mfa_policy setting") {
  CHECK_FALSE(ClientPolicyFromSetting("")->require_mfa);
  CHECK_FALSE(ClientPolicyFromSetting("optional")->require_mfa);
  CHECK(Required().require_mfa);
  CHECK_FALSE(Required().totp_only);
  CHECK(TotpOnly().require_mfa);
  CHECK(TotpOnly().totp_only);
  CHECK_FALSE(ClientPolicyFromSetting("sometimes"));
}

TEST_CASE("the second step for each policy and set of factors") {
  struct Row {
    const char* what;
    ClientPolicy policy;
    std::vector<Factor> factors;
    Next next;
  };
  const std::vector<Row> rows{
      {"no factor, optional: the password suffices", {}, {}, Next::kNone},
      {"a pending factor does not count", {}, {Pending(Totp())}, Next::kNone},
      {"no factor, required: enrol one", Required(), {}, Next::kEnrolFirstFactor},
      {"pending only, required: enrol one", Required(), {Pending(Totp())}, Next::kEnrolFirstFactor},
      {"an app: challenge", {}, {Totp(), Recovery()}, Next::kChallenge},
      {"email only: challenge", {}, {Email()}, Next::kChallenge},
      {"recovery codes only: challenge", {}, {Recovery()}, Next::kChallenge},
      {"totp_only, an app: challenge", TotpOnly(), {Totp(), Email()}, Next::kChallenge},
      {"totp_only, email only: refused, never enrolled past it", TotpOnly(), {Email(), Recovery()},
       Next::kRefuse},
      {"totp_only, nothing: enrol the app", TotpOnly(), {}, Next::kEnrolFirstFactor},
  };
  for (const auto& row : rows) {
    INFO(row.what);
    CHECK(PlanSecondFactor(row.policy, row.factors).next == row.next);
  }
}

TEST_CASE("offered methods: the app first then email and SMS unless only the app counts") {
  auto plan = PlanSecondFactor({}, {Email(), Sms(), Totp(), Recovery()});
  REQUIRE(plan.offered.size() == 3);
  CHECK(plan.offered[0].kind == FactorKind::kTotp);
  CHECK(plan.offered[1].kind == FactorKind::kEmail);
  CHECK(plan.offered[1].factor_id == "e1");
  CHECK(plan.offered[2].kind == FactorKind::kSms);
  CHECK(plan.recovery);

  auto only = PlanSecondFactor(TotpOnly(), {Email(), Sms(), Totp(), Recovery()});
  REQUIRE(only.offered.size() == 1);
  CHECK(only.offered[0].kind == FactorKind::kTotp);
  CHECK(only.recovery);
  // Without an app, recovery codes stand for the email this client refuses.
  CHECK_FALSE(PlanSecondFactor(TotpOnly(), {Email(), Recovery()}).recovery);
}

TEST_CASE("a remembered browser skips the challenge only when nothing asks for the factor") {
  const std::vector<Factor> factors{Totp()};
  CHECK(PlanSecondFactor({}, factors).remembered_browser_may_skip);
  ClientPolicy preferred;
  preferred.prefer_mfa = true;
  ClientPolicy forced;
  forced.forced_reauthentication = true;  // prompt=login, max_age
  ClientPolicy step_up;
  step_up.step_up = true;
  for (const ClientPolicy& p : {Required(), TotpOnly(), preferred, forced, step_up}) {
    CHECK_FALSE(PlanSecondFactor(p, factors).remembered_browser_may_skip);
  }
  CHECK(PlanSecondFactor({}, factors).may_remember);
  CHECK_FALSE(PlanSecondFactor(Required(), factors).may_remember);
  CHECK_FALSE(PlanSecondFactor(TotpOnly(), factors).may_remember);
}
