#pragma once
/// @file Server-rendered pages (mustache templates embedded in the binary). Every value is
/// HTML-escaped by the template engine; only the layout inserts pre-rendered HTML.

#include <string>
#include <vector>

namespace idp::gateway {

struct LoginView {
  std::string flow;
  std::string csrf;
  std::string username;     ///< prefilled (login_hint or the last attempt)
  std::string client_name;  ///< the application being signed in to, if any
  std::string error;        ///< shown in role="alert"
};

struct PortalApp {
  std::string name;
  std::string url;
  std::string logo;
};

struct PortalView {
  std::string username;
  std::string csrf;
  std::vector<PortalApp> apps;
  bool advice = false;  ///< fewer than two ways to verify: suggest adding one
};

struct LogoutConfirmView {
  std::string csrf;
  std::string client_name;
  std::string client_id;
  std::string post_logout_redirect_uri;
  std::string state;
};

struct ConsentView {
  std::string flow;
  std::string csrf;
  std::string account;      ///< who is signed in (name or username)
  std::string client_name;
  std::string client_logo;
  std::string client_home;
  std::vector<std::string> items;  ///< what the application receives, in words
};

struct SelectAccountView {
  std::string flow;
  std::string csrf;
  std::string account;
  std::string client_name;
};

struct SessionItem {
  std::string id;
  std::string browser;  ///< "Firefox · Linux"
  std::string address;
  std::string since;    ///< when it signed in, UTC
  bool current = false;
};

struct SessionsView {
  std::string csrf;
  std::string message;
  std::vector<SessionItem> sessions;
};

struct MfaMethod {
  std::string value;   ///< "totp" or "factor:<id>"
  std::string name;    ///< "Authenticator app", "Email", "SMS"
  std::string detail;     ///< the masked destination: the radio's description, not its name
  std::string detail_id;  ///< the element id of `detail` (aria-describedby)
  bool checked = false;
};

struct MfaView {
  std::vector<MfaMethod> methods;
  bool can_send = false;  ///< an email or SMS method is offered
  int remember_days = 0;  ///< offer "Remember this browser" for that many days
  std::string status;     ///< delivery status of the last code
  std::string flow;
  std::string csrf;
  std::string client_name;
  std::string error;
  bool recovery = false;      ///< the recovery-code form instead of the authenticator app
  bool has_recovery = false;  ///< the person has recovery codes left
};

struct FactorView {
  std::string id;
  std::string label;
};

/// A country of the mobile-number form: the ones SMS may go to (delivery.sms_countries).
struct CountryOption {
  std::string code;  ///< "NL"
  std::string name;  ///< "Netherlands"
};

struct AccountMfaView {
  std::vector<FactorView> browsers;  ///< remembered browsers (label: name and date)
  std::vector<CountryOption> countries;  ///< for numbers typed without +
  std::string default_region;            ///< pre-selected ("" : none)
  /// A refused address or number: shown beside its field, with what was typed kept.
  std::string email_value;
  std::string email_error;
  std::string phone_value;
  std::string phone_error;
  std::string csrf;
  std::vector<FactorView> totps;
  std::vector<FactorView> emails;
  std::vector<FactorView> phones;
  int recovery_left = 0;
  bool advice = false;  ///< fewer than two ways to verify
  std::string message;
  std::string error;
};

struct TotpSetupView {
  std::string csrf;
  std::string factor_id;
  std::string secret;
  std::string qr_svg;
  std::string error;
  std::string action = "/account/mfa/totp/confirm";
  std::string flow;             ///< set when enrolling during a sign-in
  std::string cancel = "/account/mfa";
  std::string required_by;      ///< the application that requires a second factor
};

/// After a person's first method: the recovery codes (once), then a second, different method
/// (the authenticator app and email preferred), or skip.
struct SecondMethodView {
  std::string title;    ///< what the page is for: "Make sure you can always get in"
  std::string message;  ///< role="status": what was just set up
  std::string error;
  std::string csrf;
  std::string flow;     ///< set during a sign-in
  std::vector<std::string> codes;  ///< new recovery codes; empty: none shown
  bool offer_totp = false;
  bool offer_email = false;
  std::string totp_action;
  std::string email_action;
  std::string skip_action;  ///< a link, or with `skip_form` a POST target
  bool skip_form = false;
  std::string skip_label = "Skip for now";
};

struct ResetPasswordView {
  std::string csrf;
  std::string token;     ///< from the emailed link, carried in a hidden field
  std::string username;
  bool invite = false;   ///< "Set your password" (an invitation) instead of a reset
  std::string error;
};

struct AccountPasswordView {
  std::string csrf;
  std::string username;
  std::string message;
  std::string current_error;  ///< tied to "Current password"
  std::string new_error;      ///< tied to "New password"
};

/// Thread-safe (templates are parsed per call; they are small). Texts are English unless a
/// language is chosen with In(); the templates mark each text with {{#t}}...{{/t}}.
class Pages {
 public:
  explicit Pages(std::string product, std::string logo_url = {}, bool theme = false)
      : product_(std::move(product)), logo_url_(std::move(logo_url)), theme_(theme) {}

  /// These pages in `lang` (one of SupportedLanguages()).
  Pages In(std::string lang) const {
    Pages p = *this;
    p.lang_ = std::move(lang);
    return p;
  }
  const std::string& lang() const { return lang_; }

  std::string Login(const LoginView& view) const;
  std::string Portal(const PortalView& view) const;
  /// An error page: what happened and what to do; never internal details. `again`: a local
  /// address where the person starts over (a link "Sign in again"), or "".
  std::string Error(const std::string& title, const std::string& message,
                    const std::string& action = "", const std::string& again = "") const;
  std::string SignedOut() const;
  std::string LogoutConfirm(const LogoutConfirmView& view) const;
  std::string Consent(const ConsentView& view) const;
  std::string Sessions(const SessionsView& view) const;
  std::string SelectAccount(const SelectAccountView& view) const;
  std::string Mfa(const MfaView& view) const;
  std::string AccountMfa(const AccountMfaView& view) const;
  std::string TotpSetup(const TotpSetupView& view) const;
  std::string RecoveryCodes(const std::vector<std::string>& codes) const;
  std::string SecondMethod(const SecondMethodView& view) const;
  /// `action` and `flow`: where the code goes (the account page, or a sign-in's flow).
  std::string VerifyDestination(const std::string& csrf, const std::string& factor_id,
                                const std::string& label, const std::string& error,
                                const std::string& action = "/account/mfa/verify",
                                const std::string& flow = "") const;
  // Password self-service.
  std::string ForgotPassword(const std::string& csrf, const std::string& username,
                             const std::string& error) const;
  /// `valid_for`: seconds a reset link works (auth.reset_ttl), said in words.
  std::string ForgotPasswordSent(long long valid_for) const;
  std::string ResetPassword(const ResetPasswordView& view) const;
  std::string PasswordLinkInvalid(long long valid_for) const;
  std::string PasswordChanged(bool invite) const;
  std::string AccountPassword(const AccountPasswordView& view) const;
  /// OAuth 2.0 Form Post Response Mode: a form of `fields` posted to `action` by a script.
  std::string FormPost(const std::string& action,
                       const std::vector<std::pair<std::string, std::string>>& fields) const;

 private:
  std::string Layout(const std::string& title, const std::string& content) const;
  std::string product_;
  std::string logo_url_;  ///< branding: beside the product name
  bool theme_ = false;    ///< branding: /static/theme.css sets the accent colour
  std::string lang_ = "en";
};

/// The embedded static file (e.g. "style.css"), or nullptr.
const std::string* StaticFile(const std::string& name);

}  // namespace idp::gateway
