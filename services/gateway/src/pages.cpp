#include "pages.hpp"

#include "gateway_static.hpp"
#include "gateway_templates.hpp"
#include "i18n.hpp"

#include "idp/crypto/crypto.hpp"

#include <kainjow/mustache.hpp>

#include <map>
#include <stdexcept>

namespace idp::gateway {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

/// Renders template `name` in `lang`: {{#t}}English text{{/t}} becomes the catalog's text,
/// which is then rendered like the rest (so it may use the page's {{values}}, escaped).
std::string Render(const char* name, data values, const std::string& lang) {
  auto text = embedded::gateway_templates(name);
  if (!text) throw std::logic_error(std::string("missing template ") + name);
  values.set("t", kainjow::mustache::lambda{
                      [lang](const std::string& english) { return Translate(lang, english); }});
  mustache tmpl{std::string(*text)};
  return tmpl.render(values);
}

}  // namespace

std::string Pages::Layout(const std::string& title, const std::string& content) const {
  data d;
  d.set("title", Translate(lang_, title));
  d.set("product", product_);
  d.set("content", content);
  d.set("lang", lang_);
  if (!logo_url_.empty()) d.set("logo", logo_url_);
  d.set("theme", theme_);
  return Render("layout.mustache", d, lang_);
}

std::string Pages::Login(const LoginView& v) const {
  data d;
  d.set("flow", v.flow);
  d.set("csrf", v.csrf);
  // Only when there is one: kainjow's sections treat "" as true, and {{#username}} moves the
  // focus to the password box.
  if (!v.username.empty()) d.set("username", v.username);
  if (!v.client_name.empty()) d.set("client_name", v.client_name);
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  return Layout("Sign in", Render("login.mustache", d, lang_));
}

std::string Pages::Portal(const PortalView& v) const {
  data d;
  d.set("username", v.username);
  d.set("csrf", v.csrf);
  data apps{data::type::list};
  for (const auto& a : v.apps) {
    data app;
    app.set("name", a.name);
    app.set("url", a.url);
    if (!a.logo.empty()) app.set("logo", a.logo);
    apps << app;
  }
  d.set("has_apps", !v.apps.empty());
  d.set("advice", v.advice);
  d.set("apps", apps);
  return Layout("Applications", Render("portal.mustache", d, lang_));
}

std::string Pages::Error(const std::string& title, const std::string& message,
                         const std::string& action, const std::string& again) const {
  data d;
  d.set("title", Translate(lang_, title));
  d.set("message", Translate(lang_, message));
  if (!action.empty()) d.set("action", Translate(lang_, action));
  if (!again.empty()) d.set("again", again);
  return Layout(title, Render("error.mustache", d, lang_));
}

std::string Pages::SignedOut() const {
  data d;
  d.set("product", product_);
  return Layout("Signed out", Render("signed_out.mustache", d, lang_));
}

std::string Pages::LogoutConfirm(const LogoutConfirmView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("product", product_);
  if (!v.client_name.empty()) d.set("client_name", v.client_name);
  if (!v.client_id.empty()) d.set("client_id", v.client_id);
  if (!v.post_logout_redirect_uri.empty()) {
    d.set("post_logout_redirect_uri", v.post_logout_redirect_uri);
  }
  if (!v.state.empty()) d.set("state", v.state);
  return Layout("Sign out", Render("logout_confirm.mustache", d, lang_));
}

std::string Pages::Consent(const ConsentView& v) const {
  data d;
  d.set("flow", v.flow);
  d.set("csrf", v.csrf);
  d.set("account", v.account);
  d.set("client_name", v.client_name);
  if (!v.client_logo.empty()) d.set("client_logo", v.client_logo);
  if (!v.client_home.empty()) d.set("client_home", v.client_home);
  data items{data::type::list};
  for (const auto& i : v.items) items << data(Translate(lang_, i));
  d.set("items", items);
  return Layout(Translate(lang_, "Allow {0}?", {v.client_name}),
                Render("consent.mustache", d, lang_));
}

std::string Pages::Sessions(const SessionsView& v) const {
  data d;
  d.set("csrf", v.csrf);
  if (!v.message.empty()) d.set("message", Translate(lang_, v.message));
  data list{data::type::list};
  bool others = false;
  for (const auto& s : v.sessions) {
    data item;
    item.set("id", s.id);
    item.set("browser", s.browser == "Unknown browser" ? Translate(lang_, s.browser) : s.browser);
    item.set("address", s.address);
    item.set("since", s.since);
    item.set("current", s.current);
    item.set("csrf", v.csrf);
    others = others || !s.current;
    list << item;
  }
  d.set("sessions", list);
  d.set("others", others);
  return Layout("Where you are signed in", Render("sessions.mustache", d, lang_));
}

std::string Pages::SelectAccount(const SelectAccountView& v) const {
  data d;
  d.set("flow", v.flow);
  d.set("csrf", v.csrf);
  d.set("account", v.account);
  if (!v.client_name.empty()) d.set("client_name", v.client_name);
  return Layout("Choose an account", Render("select_account.mustache", d, lang_));
}

std::string Pages::FormPost(const std::string& action,
                            const std::vector<std::pair<std::string, std::string>>& fields) const {
  data d;
  d.set("action", action);
  data list{data::type::list};
  for (const auto& [name, value] : fields) {
    data f;
    f.set("name", name);
    f.set("value", value);
    list << f;
  }
  d.set("fields", list);
  return Layout("Returning to the application", Render("form_post.mustache", d, lang_));
}

std::string Pages::Mfa(const MfaView& v) const {
  data d;
  d.set("flow", v.flow);
  d.set("csrf", v.csrf);
  if (!v.client_name.empty()) d.set("client_name", v.client_name);
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  d.set("recovery", v.recovery);
  d.set("has_recovery", v.has_recovery);
  data methods{data::type::list};
  for (const auto& m : v.methods) {
    data md;
    md.set("value", m.value);
    md.set("name", Translate(lang_, m.name));
    if (!m.detail.empty()) {
      md.set("detail", m.detail);
      md.set("detail_id", m.detail_id);
    }
    md.set("checked", m.checked);
    methods << md;
  }
  d.set("methods", methods);
  d.set("can_send", v.can_send);
  if (v.remember_days > 0) d.set("remember_days", std::to_string(v.remember_days));
  if (!v.status.empty()) d.set("status", Translate(lang_, v.status));
  return Layout("Verify it's you", Render("mfa.mustache", d, lang_));
}

std::string Pages::AccountMfa(const AccountMfaView& v) const {
  data d;
  d.set("csrf", v.csrf);
  data totps{data::type::list};
  for (const auto& f : v.totps) {
    data t;
    t.set("id", f.id);
    t.set("label", f.label);
    t.set("csrf", v.csrf);
    totps << t;
  }
  d.set("totps", totps);
  d.set("has_totps", !v.totps.empty());
  for (const auto& [key, list] : {std::pair{"emails", &v.emails}, std::pair{"phones", &v.phones},
                                  std::pair{"browsers", &v.browsers}}) {
    data items{data::type::list};
    for (const auto& f : *list) {
      data t;
      t.set("id", f.id);
      t.set("label", f.label);
      t.set("csrf", v.csrf);
      items << t;
    }
    d.set(key, items);
    d.set(std::string("has_") + key, !list->empty());
  }
  data countries{data::type::list};
  for (const auto& c : v.countries) {
    data o;
    o.set("code", c.code);
    o.set("name", c.name);
    o.set("selected", c.code == v.default_region);
    countries << o;
  }
  d.set("countries", countries);
  d.set("no_default_region", v.default_region.empty());
  // Refusals may come from mfa as it wrote them.
  if (!v.email_error.empty()) d.set("email_error", Translate(lang_, v.email_error));
  if (!v.phone_error.empty()) d.set("phone_error", Translate(lang_, v.phone_error));
  d.set("email_value", v.email_value);
  d.set("phone_value", v.phone_value);
  d.set("recovery_left", std::to_string(v.recovery_left));
  d.set("has_method", !v.totps.empty() || !v.emails.empty() || !v.phones.empty());
  d.set("advice", v.advice);
  if (!v.message.empty()) d.set("message", Translate(lang_, v.message));
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  return Layout("Multi-factor authentication", Render("account_mfa.mustache", d, lang_));
}

std::string Pages::TotpSetup(const TotpSetupView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("factor_id", v.factor_id);
  d.set("secret", v.secret);
  d.set("qr", crypto::Base64Encode(v.qr_svg));
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  d.set("action", v.action);
  if (!v.flow.empty()) d.set("flow", v.flow);
  if (!v.cancel.empty()) d.set("cancel", v.cancel);
  if (!v.required_by.empty()) d.set("required", v.required_by);
  return Layout("Set up authenticator app", Render("totp_setup.mustache", d, lang_));
}

std::string Pages::RecoveryCodes(const std::vector<std::string>& codes) const {
  data d;
  data list{data::type::list};
  for (const auto& c : codes) list << data(c);
  d.set("codes", list);
  return Layout("Recovery codes", Render("recovery_codes.mustache", d, lang_));
}

std::string Pages::SecondMethod(const SecondMethodView& v) const {
  data d;
  d.set("title", Translate(lang_, v.title));
  if (!v.message.empty()) d.set("message", Translate(lang_, v.message));
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  d.set("csrf", v.csrf);
  if (!v.flow.empty()) d.set("flow", v.flow);
  data codes{data::type::list};
  for (const auto& c : v.codes) codes << data(c);
  d.set("codes", codes);
  d.set("has_codes", !v.codes.empty());
  d.set("offer_totp", v.offer_totp);
  d.set("offer_email", v.offer_email);
  d.set("totp_action", v.totp_action);
  d.set("email_action", v.email_action);
  d.set("skip_action", v.skip_action);
  d.set("skip_form", v.skip_form);
  d.set("skip_label", Translate(lang_, v.skip_label));
  return Layout(v.title, Render("second_method.mustache", d, lang_));
}

std::string Pages::VerifyDestination(const std::string& csrf, const std::string& factor_id,
                                     const std::string& label, const std::string& error,
                                     const std::string& action, const std::string& flow) const {
  data d;
  d.set("action", action);
  if (!flow.empty()) d.set("flow", flow);
  d.set("cancel", flow.empty() ? std::string("/account/mfa") : std::string());
  d.set("csrf", csrf);
  d.set("factor_id", factor_id);
  d.set("label", label);
  if (!error.empty()) d.set("error", Translate(lang_, error));
  return Layout("Enter the code we sent", Render("verify_destination.mustache", d, lang_));
}

// Password self-service: forgot, reset (or set, for an invitation), changed, and the
// account's change-password page.

std::string Pages::ForgotPassword(const std::string& csrf, const std::string& username,
                                  const std::string& error) const {
  data d;
  d.set("csrf", csrf);
  d.set("username", username);
  if (!error.empty()) d.set("error", Translate(lang_, error));
  return Layout("Forgot your password?", Render("forgot_password.mustache", d, lang_));
}

std::string Pages::ForgotPasswordSent(long long valid_for) const {
  data d;
  d.set("valid_for", DurationText(lang_, valid_for));
  return Layout("Check your email", Render("forgot_password_sent.mustache", d, lang_));
}

std::string Pages::ResetPassword(const ResetPasswordView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("token", v.token);
  d.set("username", v.username);
  d.set("invite", v.invite);
  if (!v.error.empty()) d.set("error", Translate(lang_, v.error));
  return Layout(v.invite ? "Set your password" : "Choose a new password",
                Render("reset_password.mustache", d, lang_));
}

std::string Pages::PasswordLinkInvalid(long long valid_for) const {
  data d;
  d.set("valid_for", DurationText(lang_, valid_for));
  return Layout("This link does not work", Render("password_link_invalid.mustache", d, lang_));
}

std::string Pages::PasswordChanged(bool invite) const {
  data d;
  d.set("invite", invite);
  return Layout(invite ? "Your password is set" : "Your password was changed",
                Render("password_changed.mustache", d, lang_));
}

std::string Pages::AccountPassword(const AccountPasswordView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("username", v.username);
  if (!v.message.empty()) d.set("message", Translate(lang_, v.message));
  if (!v.current_error.empty()) d.set("current_error", Translate(lang_, v.current_error));
  if (!v.new_error.empty()) d.set("new_error", Translate(lang_, v.new_error));
  return Layout("Change password", Render("account_password.mustache", d, lang_));
}

const std::string* StaticFile(const std::string& name) {
  static const std::map<std::string, std::string> kCache = [] {
    std::map<std::string, std::string> m;
    for (const char* n : {"style.css", "form_post.js", "favicon.svg"}) {
      if (auto f = embedded::gateway_static(n)) m.emplace(n, std::string(*f));
    }
    return m;
  }();
  auto it = kCache.find(name);
  return it == kCache.end() ? nullptr : &it->second;
}

}  // namespace idp::gateway
