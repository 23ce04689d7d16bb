#pragma once
/// @file The one MFA policy: from the application's policy, the request and the person's
/// factors to what the second step of a sign-in is, which methods count, and which are
/// offered (DESIGN "Main flows" 2-3; SECURITY §38, §45, §57).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idp::gateway::signin {

enum class FactorKind { kTotp, kEmail, kSms, kRecoveryCodes, kOther };

/// A factor of the person, as the mfa service lists it (no secret).
struct Factor {
  FactorKind kind = FactorKind::kOther;
  bool active = false;  ///< proved; a pending enrolment is not
  std::string id;
  std::string label;    ///< the masked destination of email and SMS factors
};

/// What the application and the request ask of the second step.
struct ClientPolicy {
  bool require_mfa = false;  ///< the client's mfa_policy, the stack's gateway.require_mfa, or an
                             ///< essential acr aal2 (claims): a second factor every time
  bool prefer_mfa = false;   ///< acr_values=aal2: a second factor when the person has one
  bool totp_only = false;    ///< only the authenticator app (and its recovery codes) count
  bool forced_reauthentication = false;  ///< prompt=login or max_age: a remembered browser does
                                         ///< not skip the second factor
  bool step_up = false;      ///< a live session is being upgraded
};

/// The client's mfa_policy setting ("", "optional", "required", "totp_only") as a policy; nullopt
/// for a value that is none of them.
std::optional<ClientPolicy> ClientPolicyFromSetting(std::string_view mfa_policy);

/// A method offered on the second-factor page, the authenticator app first.
struct OfferedMethod {
  FactorKind kind = FactorKind::kTotp;  ///< kTotp, kEmail or kSms
  std::string factor_id;                ///< for email and SMS: which factor gets the code
  std::string label;                    ///< the masked destination
};

/// The second step of a sign-in.
enum class Next {
  kNone,              ///< no second step: the password suffices
  kChallenge,         ///< prove one of `offered` (or a recovery code when `recovery`)
  kEnrolFirstFactor,  ///< a second factor is required and the person has none: enrol one
  kRefuse,            ///< the person has factors, none of which this client counts: they add
                      ///< one on the account page first (never enrolled here, SECURITY §57)
};

struct SecondFactorPlan {
  Next next = Next::kNone;
  std::vector<OfferedMethod> offered;
  bool recovery = false;  ///< recovery codes count here
  /// A remembered browser may skip the challenge (then the session says aal1): only when the
  /// second factor is neither required, asked for, nor forced by a re-authentication.
  bool remembered_browser_may_skip = false;
  /// "Remember this browser" may be offered after the challenge.
  bool may_remember = false;
};

/// The plan for `policy` and the person's `factors`.
SecondFactorPlan PlanSecondFactor(const ClientPolicy& policy, const std::vector<Factor>& factors);

}  // namespace idp::gateway::signin
