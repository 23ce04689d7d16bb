#include "i18n.hpp"
#include "context.hpp"
#include "pages.hpp"

#include "gateway_templates.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace idp::gateway;

TEST_CASE("the page language follows the cookie then ui_locales then Accept-Language") {
  CHECK(PickLanguage("", "", "", "en") == "en");
  CHECK(PickLanguage("", "nl-BE en", "", "en") == "nl");
  CHECK(PickLanguage("", "fr de", "nl;q=0.5, fr", "en") == "nl");  // only supported tags count
  CHECK(PickLanguage("", "", "en-US,en;q=0.9,nl;q=0.8", "en") == "en");
  CHECK(PickLanguage("", "", "fr-FR, nl-NL;q=0.7, en;q=0.3", "en") == "nl");
  CHECK(PickLanguage("en", "nl", "nl", "nl") == "en");  // a person's choice wins
  CHECK(PickLanguage("xx", "", "", "nl") == "nl");
  CHECK(PickLanguage("", "fr", "", "") == "");            // nothing supported: no choice
  CHECK(PickLanguage("", "", "garbage;;q=abc,,", "en") == "en");
}

TEST_CASE("translations fill in values and fall back to English") {
  CHECK(Translate("nl", "Sign in") == "Aanmelden");
  CHECK(Translate("en", "Sign in") == "Sign in");
  CHECK(Translate("nl", "A text nobody translated") == "A text nobody translated");
  CHECK(Translate("nl", "Code sent to {0} {1} s ago.", {"a***@example.com", "12"}) ==
        "Code 12 s geleden verstuurd naar a***@example.com.");
}

TEST_CASE("every text the templates mark has a Dutch translation") {
  // The templates are embedded; each {{#t}}...{{/t}} is a message id.
  const std::regex marked(R"(\{\{#t\}\}(.*?)\{\{/t\}\})");
  int count = 0;
  for (const char* name :
       {"layout.mustache", "login.mustache", "portal.mustache", "mfa.mustache",
        "account_mfa.mustache", "totp_setup.mustache", "recovery_codes.mustache",
        "verify_destination.mustache", "signed_out.mustache", "error.mustache",
        "form_post.mustache", "logout_confirm.mustache", "consent.mustache",
        "select_account.mustache", "second_method.mustache", "account_password.mustache",
        "forgot_password.mustache", "forgot_password_sent.mustache", "password_changed.mustache",
        "password_link_invalid.mustache", "reset_password.mustache", "sessions.mustache"}) {
    auto text = idp::embedded::gateway_templates(name);
    REQUIRE(text);
    std::string s(*text);
    for (std::sregex_iterator it(s.begin(), s.end(), marked), end; it != end; ++it) {
      INFO(name << ": " << (*it)[1].str());
      CHECK(Translate("nl", (*it)[1].str()) != (*it)[1].str());
      ++count;
    }
  }
  CHECK(count > 80);
}

TEST_CASE("pages render in the chosen language with values escaped") {
  Pages pages("Portal");
  // Constructed, not assigned (GCC 12 -Wrestrict false positive on string assignment).
  const LoginView v{.flow = "f", .csrf = "c", .username = "", .client_name = "<Modeler>", .error = ""};
  auto en = pages.Login(v);
  CHECK(en.find("<html lang=\"en\">") != std::string::npos);
  CHECK(en.find("to continue to <strong>&lt;Modeler&gt;</strong>") != std::string::npos);
  auto nl = pages.In("nl").Login(v);
  CHECK(nl.find("<html lang=\"nl\">") != std::string::npos);
  CHECK(nl.find("<label for=\"username\">Gebruikersnaam</label>") != std::string::npos);
  CHECK(nl.find("om verder te gaan naar <strong>&lt;Modeler&gt;</strong>") != std::string::npos);
  CHECK(nl.find("<title>Aanmelden · Portal</title>") != std::string::npos);
  // Without a login hint the focus is on Username; with one, on Password.
  CHECK(en.find("required value=\"\" autofocus>") != std::string::npos);
  const LoginView hinted{.flow = "f", .csrf = "c", .username = "ann", .client_name = "", .error = ""};
  auto with_hint = pages.Login(hinted);
  CHECK(with_hint.find("value=\"ann\" autofocus") == std::string::npos);
  CHECK(with_hint.find("autocomplete=\"current-password\" required autofocus>") != std::string::npos);
}

TEST_CASE("a branding accent colour must keep white text readable (WCAG 2.1 AA)") {
  CHECK_FALSE(idp::gateway::CheckAccentColor(""));         // the default accent
  CHECK_FALSE(idp::gateway::CheckAccentColor("#0b5cad"));  // the default, 6.1:1
  CHECK_FALSE(idp::gateway::CheckAccentColor("#5B2A86"));
  CHECK(idp::gateway::CheckAccentColor("#ffff00"));        // yellow: 1.07:1
  CHECK(idp::gateway::CheckAccentColor("#3399ff"));        // 3.0:1
  CHECK(idp::gateway::CheckAccentColor("red"));
  CHECK(idp::gateway::CheckAccentColor("#12345"));
  CHECK(idp::gateway::CheckAccentColor("#gg0000"));
}
