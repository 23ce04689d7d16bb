#include "i18n.hpp"
#include "refusals.hpp"
#include "context.hpp"
#include "pages.hpp"

#include "gateway_templates.hpp"

#include "idp/auth/v1/auth.pb.h"
#include "idp/mfa/v1/mfa.pb.h"
#include "idp/phone/phone.hpp"

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

TEST_CASE("every reason mfa and auth give is said in English and in Dutch") {
  using idp::mfa::v1::Refusal;
  const auto* reasons = idp::mfa::v1::Refusal_Reason_descriptor();
  REQUIRE(reasons->value_count() > 15);
  for (int i = 0; i < reasons->value_count(); ++i) {
    for (const char* region : {"", "BR"}) {
      Refusal r;
      r.set_reason(static_cast<Refusal::Reason>(reasons->value(i)->number()));
      r.set_region(region);
      INFO(reasons->value(i)->name() << " " << region);
      const std::string en = RefusalText("en", r);
      if (r.reason() == Refusal::REASON_UNSPECIFIED) {
        CHECK(en.empty());
        continue;
      }
      CHECK_FALSE(en.empty());
      CHECK(en.find("{0}") == std::string::npos);
      CHECK(RefusalText("nl", r) != en);
    }
  }
  // A country inside: said in the page's language.
  Refusal brazil;
  brazil.set_reason(Refusal::REASON_SMS_COUNTRY_NOT_ALLOWED);
  brazil.set_region("BR");
  CHECK(RefusalText("en", brazil) ==
        "Text messages cannot be sent to numbers in Brazil. Use the authenticator app or email "
        "instead.");
  CHECK(RefusalText("nl", brazil) ==
        "Sms-berichten kunnen niet naar nummers in Brazilië worden gestuurd. Gebruik de "
        "authenticator-app of e-mail.");
  Refusal landline;
  landline.set_reason(Refusal::REASON_PHONE_LANDLINE);
  landline.set_region("NL");
  CHECK(RefusalText("en", landline) == "That is a landline number in the Netherlands: enter a mobile number.");
  CHECK(RefusalText("nl", landline) == "Dat is een vast nummer in Nederland: voer een mobiel nummer in.");

  using idp::auth::v1::PasswordWeakness;
  PasswordWeakness w;
  w.set_problem(PasswordWeakness::PROBLEM_TOO_SHORT);
  w.set_limit(12);
  CHECK(WeaknessText("en", w) == "password must be at least 12 characters");
  CHECK(WeaknessText("nl", w) == "Het wachtwoord moet minstens 12 tekens lang zijn.");
  const auto* problems = idp::auth::v1::PasswordWeakness_Problem_descriptor();
  for (int i = 0; i < problems->value_count(); ++i) {
    w.set_problem(static_cast<PasswordWeakness::Problem>(problems->value(i)->number()));
    INFO(problems->value(i)->name());
    CHECK(WeaknessText("nl", w) != WeaknessText("en", w));
  }
}

TEST_CASE("every number libs/phone refuses has a reason mfa can pass on") {
  idp::phone::ParseOptions options;
  options.default_region = "NL";
  options.require_mobile = true;
  options.allowed_regions = {"NL", "US", "DE"};
  int refused = 0;
  for (const char* typed : {"", "06 CALL ME", "06#1234", "12", "+999 123 4567", "+31 6 1234",
                            "+31 6 1234 5678 9012 3456", "+55 11 91234 5678", "+31 20 123 4567",
                            "0800 0123", "+49 30 1234", "+1 202 555 01", "+31 1234 56789012",
                            "+44 7911 123456", "+49 30 12345678"}) {
    auto parsed = idp::phone::Parse(typed, options);
    if (parsed) continue;
    ++refused;
    INFO(typed << ": " << idp::phone::ProblemName(parsed.error().problem));
    CHECK(idp::phone::ProblemName(parsed.error().problem) != "unknown");
  }
  CHECK(refused >= 10);
}

TEST_CASE("durations are said in words") {
  CHECK(DurationText("en", 1800) == "30 minutes");
  CHECK(DurationText("en", 60) == "1 minute");
  CHECK(DurationText("en", 3600) == "1 hour");
  CHECK(DurationText("en", 7200) == "2 hours");
  CHECK(DurationText("en", 5400) == "90 minutes");
  CHECK(DurationText("en", 90) == "90 seconds");
  CHECK(DurationText("nl", 1800) == "30 minuten");
  CHECK(DurationText("nl", 3600) == "1 uur");
  CHECK(DurationText("nl", 1) == "1 seconde");
  Pages pages("Portal");
  CHECK(pages.ForgotPasswordSent(3600).find("It works for 1 hour.") != std::string::npos);
  CHECK(pages.In("nl").ForgotPasswordSent(7200).find("De link werkt 2 uur.") != std::string::npos);
  CHECK(pages.PasswordLinkInvalid(900).find("A link works once, for 15 minutes.") != std::string::npos);
  CHECK(pages.In("nl").PasswordLinkInvalid(1800).find("Een link werkt één keer, 30 minuten lang.") !=
        std::string::npos);
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
