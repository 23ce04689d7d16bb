#pragma once
/// @file The records of a sign-in: the authenticated session, the authorization request a
/// sign-in resumes, and the flow in progress. Plain data: no HTTP, protobuf or Redis types
/// (sessions.hpp stores them; sign_in_flow.hpp changes a flow's state).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idp::gateway {

/// An authenticated SSO session (SECURITY §49-55).
struct Session {
  std::string subject;
  std::int64_t auth_time = 0;      ///< last real authentication (OIDC auth_time)
  std::vector<std::string> amr;
  std::string acr;
  std::string sid;                 ///< public session id told to RPs (OIDC sid)
  std::string csrf;                ///< anti-CSRF token of forms shown to this session
  std::int64_t created_at = 0;     ///< for the absolute lifetime
  std::string user_agent;          ///< of the browser that signed in (shown to its owner)
  std::string address;             ///< the source address it signed in from
};

/// The authorization request a sign-in will resume (OIDC Core §3.1.2.1), already validated.
struct AuthorizeRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string state;
  std::string nonce;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string response_mode;
  std::string login_hint;
  std::string ui_locales;       ///< the client's preferred languages for our pages
  bool prompt_none = false;
  bool prompt_login = false;
  bool prompt_consent = false;  ///< ask for consent even when it was given before
  bool select_account = false;  ///< let the person choose the account (prompt=select_account)
  /// Claims asked for with the claims parameter (OIDC Core §5.5), space-separated names.
  std::string userinfo_claims;
  std::string id_token_claims;
  /// Set (never stored) once the person approved this request on the consent page.
  bool consent_given = false;
  /// The client's MFA policy requires a second factor (acr aal2).
  bool require_mfa = false;
  /// acr_values asked for aal2: a second factor when the person has one (voluntary, OIDC Core
  /// §5.5.1.1), never an error when they have none.
  bool prefer_mfa = false;
  /// The client counts only the authenticator app (no email or SMS codes).
  bool totp_only = false;
  std::optional<std::int64_t> max_age;
};

/// Where a sign-in stands (sign_in_flow.hpp has the diagram and the transitions).
enum class FlowState {
  kAwaitingPassword,       ///< made by /authorize or the portal; nobody proved yet
  kPasswordVerified,       ///< the password proved (or a live session taken for a step-up);
                           ///< the second step not yet chosen
  kAwaitingSecondFactor,   ///< the password (or, for a step-up, the live session) proved; a
                           ///< challenge is open
  kEnrollingFirstFactor,   ///< the password just proved; a second factor is required and the
                           ///< person has none
  kOfferingSecondMethod,   ///< a first factor was enrolled in this flow; a second is offered
  kAwaitingConsent,        ///< a signed-in person is asked to approve the application
  kAwaitingAccountChoice,  ///< a signed-in person confirms the account (prompt=select_account)
  kFinished,               ///< done: only its replays are answered (FinishedFlow)
};

/// A sign-in in progress: bound to the browser and protected by its own CSRF token. Its state
/// changes only through the transitions of sign_in_flow.hpp.
struct Flow {
  FlowState state = FlowState::kAwaitingPassword;
  std::string browser;                      ///< value of the browser cookie that started it
  std::string csrf;
  std::optional<AuthorizeRequest> authorize;  ///< empty when the portal itself was opened
  std::string return_to;                    ///< a local page to go back to (portal flows)
  std::int64_t created_at = 0;
  // After the password (the partial, pre-MFA state: it never counts as signed in).
  std::string subject;
  /// When the person last proved their password for this flow: at POST /login, or the live
  /// session's auth_time for a step-up; 0: not proved.
  std::int64_t password_at = 0;
  std::string challenge_id;                 ///< the mfa service's challenge for this sign-in
  std::string enrol_factor_id;              ///< a factor being enrolled during sign-in
  std::string step_up_sid;                  ///< upgrading this live session (its sid is kept)
  /// When a first factor was enrolled and proved during this sign-in (then a second one is
  /// offered before going on); 0: not yet.
  std::int64_t enrolled_at = 0;
};

/// What is kept of a sign-in after it finished, for as long as the flow could have lived: a
/// replay of its forms (a double submit, the back button) is sent on instead of failing.
struct FinishedFlow {
  std::string browser;    ///< the browser cookie that started it
  std::string subject;    ///< who signed in
  std::string client_id;  ///< the application it signed in to ("" : the portal)
  std::string return_to;  ///< the portal flow's local return page
};

}  // namespace idp::gateway
