// The sign-in state machine (src/signin/sign_in_flow.hpp), table-driven over the states: each
// transition is allowed from exactly the states it names and refused from every other one, and
// a refused transition leaves the flow as it was. Time is a parameter (a fake clock).
#include "signin/sign_in_flow.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

using namespace idp::gateway;
namespace signin = idp::gateway::signin;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;
const signin::Windows kWindows{15 * 60};

const std::vector<FlowState> kAllStates{
    FlowState::kAwaitingPassword,     FlowState::kPasswordVerified,
    FlowState::kAwaitingSecondFactor, FlowState::kEnrollingFirstFactor,
    FlowState::kOfferingSecondMethod, FlowState::kAwaitingConsent,
    FlowState::kAwaitingAccountChoice, FlowState::kFinished};

/// A flow in `state` as the transitions would have left it, its password proved `age` seconds
/// before kNow (for the states that have one).
Flow FlowIn(FlowState state, std::int64_t age = 10) {
  Flow f;
  f.browser = "browser";
  f.csrf = "csrf";
  f.state = state;
  if (state != FlowState::kAwaitingPassword) f.subject = "alice";
  switch (state) {
    case FlowState::kAwaitingSecondFactor:
      f.challenge_id = "challenge";
      [[fallthrough]];
    case FlowState::kPasswordVerified:
    case FlowState::kEnrollingFirstFactor:
      f.password_at = kNow - age;
      break;
    case FlowState::kOfferingSecondMethod:
      f.password_at = kNow - age;
      f.enrolled_at = kNow - 1;
      break;
    default:
      break;
  }
  return f;
}

bool Same(const Flow& a, const Flow& b) {
  return a.state == b.state && a.subject == b.subject && a.password_at == b.password_at &&
         a.challenge_id == b.challenge_id && a.step_up_sid == b.step_up_sid &&
         a.enrolled_at == b.enrolled_at;
}

struct Transition {
  const char* name;
  std::set<FlowState> allowed_from;
  std::function<idp::Status(Flow&)> apply;
  FlowState to;
};

std::vector<Transition> Transitions() {
  using S = FlowState;
  const std::set<S> sign_in{S::kAwaitingPassword, S::kPasswordVerified, S::kAwaitingSecondFactor,
                            S::kEnrollingFirstFactor, S::kOfferingSecondMethod};
  return {
      {"PasswordVerified", sign_in,
       [](Flow& f) { return signin::PasswordVerified(f, "bob", kNow); }, S::kPasswordVerified},
      {"StepUp", {S::kAwaitingPassword},
       [](Flow& f) { return signin::StepUp(f, "alice", kNow - 60, "sid-1"); }, S::kPasswordVerified},
      {"ToSecondFactor", {S::kPasswordVerified},
       [](Flow& f) { return signin::ToSecondFactor(f, "challenge-2"); }, S::kAwaitingSecondFactor},
      {"ToEnrolment", {S::kPasswordVerified},
       [](Flow& f) { return signin::ToEnrolment(f, kNow, kWindows); }, S::kEnrollingFirstFactor},
      {"FirstFactorEnrolled", {S::kEnrollingFirstFactor},
       [](Flow& f) { return signin::FirstFactorEnrolled(f, kNow, kWindows); },
       S::kOfferingSecondMethod},
      {"OtherAccountChosen", {S::kAwaitingAccountChoice},
       [](Flow& f) { return signin::OtherAccountChosen(f); }, S::kAwaitingPassword},
      {"Finished(password only)", {S::kPasswordVerified},
       [](Flow& f) { return signin::Finished(f, signin::Finish::kPasswordOnly); }, S::kFinished},
      {"Finished(second factor)", {S::kAwaitingSecondFactor},
       [](Flow& f) { return signin::Finished(f, signin::Finish::kSecondFactor); }, S::kFinished},
      {"Finished(first factor set)", {S::kOfferingSecondMethod},
       [](Flow& f) { return signin::Finished(f, signin::Finish::kFirstFactorSet); }, S::kFinished},
      {"Finished(question)", {S::kAwaitingConsent, S::kAwaitingAccountChoice},
       [](Flow& f) { return signin::Finished(f, signin::Finish::kQuestion); }, S::kFinished},
  };
}

}  // namespace

TEST_CASE("every transition is allowed from its states and refused from all others") {
  for (const auto& t : Transitions()) {
    for (FlowState from : kAllStates) {
      Flow flow = FlowIn(from);
      const Flow before = flow;
      idp::Status result = t.apply(flow);
      INFO(t.name << " from " << signin::StateName(from));
      if (t.allowed_from.count(from)) {
        CHECK(result);
        CHECK(flow.state == t.to);
      } else {
        REQUIRE_FALSE(result);
        CHECK(result.error().code == idp::ErrorCode::kFailedPrecondition);
        CHECK(Same(flow, before));
      }
    }
  }
}

TEST_CASE("a question flow names its person but can neither enrol a factor nor make a session") {
  Flow base;
  base.browser = "browser";
  for (const Flow& asked : {signin::AskConsent(base, "alice"), signin::AskAccountChoice(base, "alice")}) {
    CHECK(asked.subject == "alice");
    CHECK(asked.password_at == 0);
    CHECK_FALSE(signin::MayVerifyPassword(asked));
    CHECK_FALSE(signin::MayEnrolFirstFactor(asked, kNow, kWindows));
    Flow f = asked;
    CHECK_FALSE(signin::FirstFactorEnrolled(f, kNow, kWindows));
    for (auto how : {signin::Finish::kPasswordOnly, signin::Finish::kSecondFactor,
                     signin::Finish::kFirstFactorSet}) {
      Flow g = asked;
      CHECK_FALSE(signin::Finished(g, how));
      CHECK(g.state == asked.state);
    }
  }
  CHECK(signin::AskConsent(base, "alice").state == FlowState::kAwaitingConsent);
  CHECK(signin::AskAccountChoice(base, "alice").state == FlowState::kAwaitingAccountChoice);
}

TEST_CASE("a first factor is enrolled only within the re-authentication window of the password") {
  SECTION("a fresh password may enrol, an old one may not") {
    Flow fresh = FlowIn(FlowState::kPasswordVerified, 60);
    CHECK(signin::ToEnrolment(fresh, kNow, kWindows));
    CHECK(signin::MayEnrolFirstFactor(fresh, kNow, kWindows));
    // The window runs out while the page is open: the confirmation is refused too.
    CHECK_FALSE(signin::MayEnrolFirstFactor(fresh, kNow + kWindows.reauthenticate, kWindows));
    CHECK_FALSE(signin::FirstFactorEnrolled(fresh, kNow + kWindows.reauthenticate, kWindows));
    CHECK(fresh.state == FlowState::kEnrollingFirstFactor);

    Flow old = FlowIn(FlowState::kPasswordVerified, kWindows.reauthenticate + 1);
    CHECK_FALSE(signin::ToEnrolment(old, kNow, kWindows));
    CHECK(old.state == FlowState::kPasswordVerified);
  }
  SECTION("a step-up counts from the session's last authentication") {
    Flow up = FlowIn(FlowState::kAwaitingPassword);
    REQUIRE(signin::StepUp(up, "alice", kNow - 2 * kWindows.reauthenticate, "sid-1"));
    CHECK(up.step_up_sid == "sid-1");
    CHECK_FALSE(signin::ToEnrolment(up, kNow, kWindows));
    Flow recent = FlowIn(FlowState::kAwaitingPassword);
    REQUIRE(signin::StepUp(recent, "alice", kNow - 30, "sid-1"));
    CHECK(signin::ToEnrolment(recent, kNow, kWindows));
  }
}

TEST_CASE("a password posted again forgets the later steps of the earlier try") {
  Flow f = FlowIn(FlowState::kAwaitingPassword);
  REQUIRE(signin::StepUp(f, "alice", kNow - 30, "sid-1"));
  REQUIRE(signin::ToSecondFactor(f, "challenge-1"));
  REQUIRE(signin::PasswordVerified(f, "bob", kNow));
  CHECK(f.subject == "bob");
  CHECK(f.step_up_sid.empty());  // never the sid of another person's session
  CHECK(f.challenge_id.empty());
  CHECK(f.password_at == kNow);
  CHECK(f.state == FlowState::kPasswordVerified);
  CHECK_FALSE(signin::PasswordVerified(f, "", kNow));
}

TEST_CASE("nothing leaves Finished: a double submit after finishing is refused") {
  Flow f = FlowIn(FlowState::kAwaitingSecondFactor);
  REQUIRE(signin::Finished(f, signin::Finish::kSecondFactor));
  CHECK_FALSE(signin::Finished(f, signin::Finish::kSecondFactor));
  CHECK_FALSE(signin::PasswordVerified(f, "alice", kNow));
  CHECK_FALSE(signin::Require(f, {FlowState::kAwaitingSecondFactor}));
}

TEST_CASE("state names round-trip; an unknown name is none") {
  for (FlowState s : kAllStates) CHECK(signin::StateFromName(signin::StateName(s)) == s);
  CHECK_FALSE(signin::StateFromName("signed_in"));
  CHECK_FALSE(signin::StateFromName(""));
}

TEST_CASE("starting over keeps the request and forgets who and what was proved") {
  for (FlowState from : kAllStates) {
    Flow f = FlowIn(from);
    f.step_up_sid = "sid-1";
    f.return_to = "/account/mfa";
    const Flow fresh = signin::StartOver(f);
    INFO(signin::StateName(from));
    CHECK(fresh.state == FlowState::kAwaitingPassword);
    CHECK(fresh.subject.empty());
    CHECK(fresh.password_at == 0);
    CHECK(fresh.challenge_id.empty());
    CHECK(fresh.step_up_sid.empty());
    CHECK(fresh.enrolled_at == 0);
    CHECK(fresh.browser == f.browser);
    CHECK(fresh.csrf == f.csrf);
    CHECK(fresh.return_to == "/account/mfa");
  }
}
