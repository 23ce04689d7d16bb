// The password self-service pages: forgot, reset (or set, for an invitation), changed, and the
// account's change-password page.
#include "pages.hpp"

#include "gateway_templates.hpp"

#include <kainjow/mustache.hpp>

#include <stdexcept>

namespace idp::gateway {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

std::string Render(const char* name, const data& values) {
  auto text = embedded::gateway_templates(name);
  if (!text) throw std::logic_error(std::string("missing template ") + name);
  mustache tmpl{std::string(*text)};
  return tmpl.render(values);
}

}  // namespace

std::string Pages::ForgotPassword(const std::string& csrf, const std::string& username,
                                  const std::string& error) const {
  data d;
  d.set("csrf", csrf);
  d.set("username", username);
  if (!error.empty()) d.set("error", error);
  return Layout("Forgot your password?", Render("forgot_password.mustache", d));
}

std::string Pages::ForgotPasswordSent() const {
  return Layout("Check your email", Render("forgot_password_sent.mustache", data{}));
}

std::string Pages::ResetPassword(const ResetPasswordView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("token", v.token);
  d.set("username", v.username);
  d.set("invite", v.invite);
  if (!v.error.empty()) d.set("error", v.error);
  return Layout(v.invite ? "Set your password" : "Choose a new password",
                Render("reset_password.mustache", d));
}

std::string Pages::PasswordLinkInvalid() const {
  return Layout("This link does not work", Render("password_link_invalid.mustache", data{}));
}

std::string Pages::PasswordChanged(bool invite) const {
  data d;
  d.set("invite", invite);
  return Layout(invite ? "Your password is set" : "Your password was changed",
                Render("password_changed.mustache", d));
}

std::string Pages::AccountPassword(const AccountPasswordView& v) const {
  data d;
  d.set("csrf", v.csrf);
  d.set("username", v.username);
  if (!v.message.empty()) d.set("message", v.message);
  if (!v.current_error.empty()) d.set("current_error", v.current_error);
  if (!v.new_error.empty()) d.set("new_error", v.new_error);
  return Layout("Change password", Render("account_password.mustache", d));
}

}  // namespace idp::gateway
