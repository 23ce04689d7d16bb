#include "signin/sign_in_flow.hpp"

#include <array>
#include <utility>

namespace idp::gateway::signin {
namespace {

constexpr std::array<std::pair<FlowState, std::string_view>, 8> kNames{{
    {FlowState::kAwaitingPassword, "awaiting_password"},
    {FlowState::kPasswordVerified, "password_verified"},
    {FlowState::kAwaitingSecondFactor, "awaiting_second_factor"},
    {FlowState::kEnrollingFirstFactor, "enrolling_first_factor"},
    {FlowState::kOfferingSecondMethod, "offering_second_method"},
    {FlowState::kAwaitingConsent, "awaiting_consent"},
    {FlowState::kAwaitingAccountChoice, "awaiting_account_choice"},
    {FlowState::kFinished, "finished"},
}};

/// Forgets what a sign-in proved after its password, for a new try.
void ForgetLaterSteps(Flow& flow) {
  flow.challenge_id.clear();
  flow.enrol_factor_id.clear();
  flow.step_up_sid.clear();
  flow.enrolled_at = 0;
}

bool PasswordFresh(const Flow& flow, std::int64_t now, const Windows& windows) {
  return flow.password_at != 0 && now - flow.password_at <= windows.reauthenticate;
}

}  // namespace

std::string_view StateName(FlowState state) {
  for (const auto& [s, name] : kNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<FlowState> StateFromName(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

Status Require(const Flow& flow, std::initializer_list<FlowState> allowed) {
  for (FlowState s : allowed) {
    if (flow.state == s) return {};
  }
  return FailedPrecondition("the sign-in is " + std::string(StateName(flow.state)) +
                            ", not at this step");
}

Status MayVerifyPassword(const Flow& flow) {
  return Require(flow, {FlowState::kAwaitingPassword, FlowState::kPasswordVerified,
                        FlowState::kAwaitingSecondFactor, FlowState::kEnrollingFirstFactor,
                        FlowState::kOfferingSecondMethod});
}

Status PasswordVerified(Flow& flow, const std::string& subject, std::int64_t now) {
  if (auto allowed = MayVerifyPassword(flow); !allowed) return allowed;
  if (subject.empty()) return InvalidArgument("no subject");
  ForgetLaterSteps(flow);
  flow.subject = subject;
  flow.password_at = now;
  flow.state = FlowState::kPasswordVerified;
  return {};
}

Status StepUp(Flow& flow, const std::string& subject, std::int64_t auth_time,
              const std::string& sid) {
  if (auto allowed = Require(flow, {FlowState::kAwaitingPassword}); !allowed) return allowed;
  if (subject.empty() || sid.empty()) return InvalidArgument("no session to step up");
  ForgetLaterSteps(flow);
  flow.subject = subject;
  flow.password_at = auth_time;
  flow.step_up_sid = sid;
  flow.state = FlowState::kPasswordVerified;
  return {};
}

Status ToSecondFactor(Flow& flow, const std::string& challenge_id) {
  if (auto allowed = Require(flow, {FlowState::kPasswordVerified}); !allowed) return allowed;
  if (challenge_id.empty()) return InvalidArgument("no challenge");
  flow.challenge_id = challenge_id;
  flow.state = FlowState::kAwaitingSecondFactor;
  return {};
}

Status ToEnrolment(Flow& flow, std::int64_t now, const Windows& windows) {
  if (auto allowed = Require(flow, {FlowState::kPasswordVerified}); !allowed) return allowed;
  if (!PasswordFresh(flow, now, windows)) {
    return FailedPrecondition("the password is too old to enrol a factor");
  }
  flow.state = FlowState::kEnrollingFirstFactor;
  return {};
}

Status MayEnrolFirstFactor(const Flow& flow, std::int64_t now, const Windows& windows) {
  if (auto allowed = Require(flow, {FlowState::kEnrollingFirstFactor}); !allowed) return allowed;
  if (!PasswordFresh(flow, now, windows)) {
    return FailedPrecondition("the password is too old to enrol a factor");
  }
  return {};
}

Status FirstFactorEnrolled(Flow& flow, std::int64_t now, const Windows& windows) {
  if (auto allowed = MayEnrolFirstFactor(flow, now, windows); !allowed) return allowed;
  flow.enrolled_at = now;
  flow.state = FlowState::kOfferingSecondMethod;
  return {};
}

Flow AskConsent(Flow flow, const std::string& subject) {
  ForgetLaterSteps(flow);
  flow.subject = subject;
  flow.password_at = 0;
  flow.state = FlowState::kAwaitingConsent;
  return flow;
}

Flow AskAccountChoice(Flow flow, const std::string& subject) {
  Flow asked = AskConsent(std::move(flow), subject);
  asked.state = FlowState::kAwaitingAccountChoice;
  return asked;
}

Flow StartOver(const Flow& flow) {
  Flow fresh;
  fresh.browser = flow.browser;
  fresh.csrf = flow.csrf;
  fresh.authorize = flow.authorize;
  fresh.return_to = flow.return_to;
  fresh.created_at = flow.created_at;
  return fresh;
}

Status OtherAccountChosen(Flow& flow) {
  if (auto allowed = Require(flow, {FlowState::kAwaitingAccountChoice}); !allowed) return allowed;
  ForgetLaterSteps(flow);
  flow.subject.clear();
  flow.password_at = 0;
  flow.state = FlowState::kAwaitingPassword;
  return {};
}

Status Finished(Flow& flow, Finish how) {
  Status allowed;
  switch (how) {
    case Finish::kPasswordOnly:
      allowed = Require(flow, {FlowState::kPasswordVerified});
      break;
    case Finish::kSecondFactor:
      allowed = Require(flow, {FlowState::kAwaitingSecondFactor});
      break;
    case Finish::kFirstFactorSet:
      allowed = Require(flow, {FlowState::kOfferingSecondMethod});
      break;
    case Finish::kQuestion:
      allowed = Require(flow, {FlowState::kAwaitingConsent, FlowState::kAwaitingAccountChoice});
      break;
  }
  if (!allowed) return allowed;
  flow.state = FlowState::kFinished;
  return {};
}

}  // namespace idp::gateway::signin
