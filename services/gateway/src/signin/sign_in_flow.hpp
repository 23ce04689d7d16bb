#pragma once
/// @file The sign-in as a state machine (issue "sign-in domain"; hydra's flow/flow.go is the
/// model): every step of a sign-in is a named transition that checks the state it starts from,
/// and a route may act on a flow only in the states its step allows. Pure: no HTTP, protobuf or
/// Redis; time comes in as `now`.
///
///   AwaitingPassword ── POST /login, or a step-up of a live session ──► PasswordVerified
///        ▲                                                                   │
///        │ "use another account"          ┌─────────────────┬──────────────┼───────────────┐
///        │                                │ has a factor    │ none; one is │ no second     │
///        │                                ▼                 ▼ required     │ step needed   │
///   AwaitingAccountChoice     AwaitingSecondFactor   EnrollingFirstFactor  │ (or a         │
///        │ confirmed                      │ proved         │ proved (the   │  remembered   │
///        ▼                                │                ▼ password in   │  browser)     │
///     Finished ◄── approved ── AwaitingConsent   OfferingSecondMethod the  │               │
///                                         │                │ window)       │               │
///                                         └──────► Finished ◄──────────────┴───────────────┘
///
/// AwaitingConsent and AwaitingAccountChoice are questions asked of a person who is already
/// signed in: they name that person but prove nothing, so no factor can be enrolled from them
/// and no session is made by them (the live session is used as it is). A password posted
/// again (the back button) restarts a sign-in from any of its unfinished password-proved
/// states; nothing leaves Finished.

#include "signin/records.hpp"

#include "idp/common/error.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace idp::gateway::signin {

/// The state's name as stored with the flow ("awaiting_password", ...).
std::string_view StateName(FlowState state);
/// The state named `name`; nullopt for a name that is none.
std::optional<FlowState> StateFromName(std::string_view name);

/// kFailedPrecondition, naming the state, unless `flow` is in one of `allowed`.
[[nodiscard]] Status Require(const Flow& flow, std::initializer_list<FlowState> allowed);

/// How long after the password a first factor may be enrolled (SECURITY §57).
struct Windows {
  std::int64_t reauthenticate = 15 * 60;
};

/// POST /login may verify a password for this flow: it is a sign-in, not a question, and has
/// not finished.
[[nodiscard]] Status MayVerifyPassword(const Flow& flow);

/// The password of `subject` was proved at `now` (POST /login): PasswordVerified, with the
/// later steps of an earlier try forgotten. From the states MayVerifyPassword allows.
[[nodiscard]] Status PasswordVerified(Flow& flow, const std::string& subject, std::int64_t now);

/// A live session of `subject` (sid `sid`, last authenticated at `auth_time`) is upgraded by
/// this new flow: PasswordVerified as of `auth_time`, its sid kept. From AwaitingPassword.
[[nodiscard]] Status StepUp(Flow& flow, const std::string& subject, std::int64_t auth_time,
                            const std::string& sid);

/// A challenge `challenge_id` for an existing second factor is open: AwaitingSecondFactor.
/// From PasswordVerified.
[[nodiscard]] Status ToSecondFactor(Flow& flow, const std::string& challenge_id);

/// A second factor is required that the person does not have: EnrollingFirstFactor. From
/// PasswordVerified with the password within the window at `now`; refused otherwise (a
/// step-up of an older session signs in again instead).
[[nodiscard]] Status ToEnrolment(Flow& flow, std::int64_t now, const Windows& windows);

/// The flow may enrol its person's first factor now: EnrollingFirstFactor with the password
/// within the window at `now`.
[[nodiscard]] Status MayEnrolFirstFactor(const Flow& flow, std::int64_t now, const Windows& windows);

/// The first factor was enrolled and proved at `now`: OfferingSecondMethod, where a second
/// method is offered. From what MayEnrolFirstFactor allows.
[[nodiscard]] Status FirstFactorEnrolled(Flow& flow, std::int64_t now, const Windows& windows);

/// The question flows, made for a person who is signed in as `subject`.
Flow AskConsent(Flow flow, const std::string& subject);
Flow AskAccountChoice(Flow flow, const std::string& subject);

/// The account-choice question was answered "use another account": AwaitingPassword, with
/// nobody named.
[[nodiscard]] Status OtherAccountChosen(Flow& flow);

/// The same request signed in from scratch: a new AwaitingPassword flow for `flow`'s browser,
/// authorization request and return page, nobody named, nothing proved, its CSRF token kept (a
/// step-up of an old session that must enrol, a challenge that ended). From any state.
Flow StartOver(const Flow& flow);

/// How a flow finished, for the session it makes (authentication.hpp).
enum class Finish {
  kPasswordOnly,    ///< the password, and no second step (none needed, or a remembered browser)
  kSecondFactor,    ///< an existing second factor was proved
  kFirstFactorSet,  ///< a first factor was enrolled and proved in this flow
  kQuestion,        ///< a question answered: the live session is used, none is made
};

/// The flow finished as `how`: Finished, from the one state each ending is allowed from
/// (PasswordVerified, AwaitingSecondFactor, OfferingSecondMethod, and the two questions).
[[nodiscard]] Status Finished(Flow& flow, Finish how);

}  // namespace idp::gateway::signin
