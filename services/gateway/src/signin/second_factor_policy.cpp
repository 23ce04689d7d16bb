#include "signin/second_factor_policy.hpp"

namespace idp::gateway::signin {

std::optional<ClientPolicy> ClientPolicyFromSetting(std::string_view mfa_policy) {
  ClientPolicy p;
  if (mfa_policy.empty() || mfa_policy == "optional") return p;
  if (mfa_policy == "required") {
    p.require_mfa = true;
    return p;
  }
  if (mfa_policy == "totp_only") {
    p.require_mfa = true;
    p.totp_only = true;
    return p;
  }
  return std::nullopt;
}

SecondFactorPlan PlanSecondFactor(const ClientPolicy& policy, const std::vector<Factor>& factors) {
  SecondFactorPlan plan;
  bool totp = false;
  bool recovery = false;
  bool other = false;  // an active factor this client does not count
  for (const auto& f : factors) {
    if (!f.active) continue;
    if (f.kind == FactorKind::kTotp) totp = true;
    if (f.kind == FactorKind::kRecoveryCodes) recovery = true;
  }
  if (totp) plan.offered.push_back({FactorKind::kTotp, "", ""});
  for (const auto& f : factors) {
    if (!f.active) continue;
    const bool sent = f.kind == FactorKind::kEmail || f.kind == FactorKind::kSms;
    if (sent && !policy.totp_only) plan.offered.push_back({f.kind, f.id, f.label});
    if ((sent && policy.totp_only) || f.kind == FactorKind::kOther) other = true;
  }
  // Recovery codes back up the person's methods. For a client that counts only the app they
  // count only beside an app: without one they stand for the email or SMS it refuses.
  plan.recovery = recovery && (!policy.totp_only || totp);
  if (recovery && !plan.recovery) other = true;
  const bool has_factor = !plan.offered.empty() || plan.recovery;

  if (!has_factor) {
    if (!policy.require_mfa) {
      plan.next = Next::kNone;
    } else {
      plan.next = other ? Next::kRefuse : Next::kEnrolFirstFactor;
    }
    return plan;
  }
  plan.next = Next::kChallenge;
  plan.remembered_browser_may_skip = !policy.require_mfa && !policy.prefer_mfa &&
                                     !policy.totp_only && !policy.forced_reauthentication &&
                                     !policy.step_up;
  plan.may_remember = !policy.require_mfa && !policy.totp_only;
  return plan;
}

}  // namespace idp::gateway::signin
