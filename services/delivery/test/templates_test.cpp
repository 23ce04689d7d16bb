// The message texts carry the code or the factor name, escaped where it matters.
#include "templates.hpp"

#include <catch2/catch.hpp>

using namespace idp::delivery;

namespace {
TemplateValues Values() {
  TemplateValues v;
  v.product_name = "Identity Portal";
  v.code = "493817";
  v.code_valid_for = std::chrono::seconds(600);
  v.factor_name = "<script>alert(1)</script> & co";
  return v;
}
}  // namespace

TEST_CASE("code templates carry the code and its validity everywhere") {
  for (auto id : {TemplateId::kSignInCode, TemplateId::kVerifyAddress}) {
    const auto e = RenderEmail(id, Values());
    CHECK(e.text.find("493817") != std::string::npos);
    CHECK(e.html.find("493817") != std::string::npos);
    CHECK(e.text.find("10 minutes") != std::string::npos);
    CHECK(e.subject.find("Identity Portal") != std::string::npos);
    CHECK(e.subject.find("493817") == std::string::npos);  // not in the subject (lock screens)
    const auto sms = RenderSms(id, Values());
    CHECK(sms.rfind("493817", 0) == 0);
    CHECK(sms.size() <= 160);
  }
  CHECK(RenderEmail(TemplateId::kSignInCode, Values()).subject == "Your Identity Portal sign-in code");
}

TEST_CASE("factor templates escape the factor name in HTML") {
  const auto added = RenderEmail(TemplateId::kFactorAdded, Values());
  CHECK(added.subject == "A sign-in method was added");
  CHECK(added.html.find("<script>") == std::string::npos);
  CHECK(added.html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co") != std::string::npos);
  CHECK(added.text.find("<script>alert(1)</script> & co") != std::string::npos);
  const auto removed = RenderEmail(TemplateId::kFactorRemoved, Values());
  CHECK(removed.text.find("removed from") != std::string::npos);
  CHECK(RenderSms(TemplateId::kFactorRemoved, Values()).find("removed") != std::string::npos);
}

TEST_CASE("validity is shown in whole minutes rounded up") {
  auto v = Values();
  v.code_valid_for = std::chrono::seconds(60);
  CHECK(RenderSms(TemplateId::kSignInCode, v).find("1 minute.") != std::string::npos);
  v.code_valid_for = std::chrono::seconds(61);
  CHECK(RenderSms(TemplateId::kSignInCode, v).find("2 minutes") != std::string::npos);
}

TEST_CASE("reset and invitation emails carry the link escaped and say how long it works") {
  auto v = Values();
  v.link = "https://idp.example.com/password/reset?token=abc&x=\"y";
  v.code_valid_for = std::chrono::seconds(1800);
  const auto reset = RenderEmail(TemplateId::kPasswordReset, v);
  CHECK(reset.subject == "Reset your Identity Portal password");
  CHECK(reset.text.find(v.link) != std::string::npos);
  CHECK(reset.text.find("30 minutes") != std::string::npos);
  CHECK(reset.html.find("token=abc&amp;x=&quot;y") != std::string::npos);
  CHECK(reset.html.find("x=\"y") == std::string::npos);
  v.code_valid_for = std::chrono::seconds(7 * 86400);
  const auto invite = RenderEmail(TemplateId::kInvitation, v);
  CHECK(invite.subject == "You are invited to Identity Portal");
  CHECK(invite.text.find("7 days") != std::string::npos);
  CHECK(invite.text.find(v.link) != std::string::npos);
  CHECK(CarriesLink(TemplateId::kInvitation));
  CHECK_FALSE(CarriesLink(TemplateId::kSignInCode));
}

TEST_CASE("the password changed notice has no link") {
  const auto e = RenderEmail(TemplateId::kPasswordChanged, Values());
  CHECK(e.subject == "Your Identity Portal password was changed");
  CHECK(e.text.find("http") == std::string::npos);
  CHECK(e.html.find("href") == std::string::npos);
  CHECK(RenderSms(TemplateId::kPasswordChanged, Values()).find("password was changed") !=
        std::string::npos);
}

TEST_CASE("the account locked notice says how long the lock lasts and has no link") {
  auto v = Values();
  v.code_valid_for = std::chrono::seconds(15 * 60);
  const auto e = RenderEmail(TemplateId::kAccountLocked, v);
  CHECK(e.subject == "Your Identity Portal account is locked for 15 minutes");
  CHECK(e.text.find("locked for 15 minutes") != std::string::npos);
  CHECK(e.text.find("Forgot your password?") != std::string::npos);
  CHECK(e.text.find("http") == std::string::npos);
  CHECK(e.html.find("href") == std::string::npos);
  v.code_valid_for = std::chrono::seconds(2 * 3600);
  CHECK(RenderSms(TemplateId::kAccountLocked, v).find("locked for 2 hours") != std::string::npos);
  CHECK(TemplateName(TemplateId::kAccountLocked) == "account_locked");
}
