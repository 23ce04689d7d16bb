#include "templates.hpp"

#include <algorithm>

namespace idp::delivery {
namespace {

std::string Minutes(std::chrono::seconds s) {
  const auto m = std::max<long long>(1, (static_cast<long long>(s.count()) + 59) / 60);
  return std::to_string(m) + (m == 1 ? " minute" : " minutes");
}

std::string Html(std::string_view title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>" +
         HtmlEscape(title) +
         "</title></head>\n<body style=\"font-family: sans-serif; line-height: 1.5\">\n" +
         body_html + "\n</body>\n</html>\n";
}

std::string CodeBlock(const std::string& code) {
  return "<p style=\"font-size: 28px; font-weight: bold; letter-spacing: 4px\">" +
         HtmlEscape(code) + "</p>";
}

}  // namespace

bool CarriesCode(TemplateId id) {
  return id == TemplateId::kSignInCode || id == TemplateId::kVerifyAddress;
}

std::string_view TemplateName(TemplateId id) {
  switch (id) {
    case TemplateId::kSignInCode: return "sign_in_code";
    case TemplateId::kVerifyAddress: return "verify_address";
    case TemplateId::kFactorAdded: return "factor_added";
    case TemplateId::kFactorRemoved: return "factor_removed";
    case TemplateId::kUnspecified: break;
  }
  return "unspecified";
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

EmailContent RenderEmail(TemplateId id, const TemplateValues& v) {
  const std::string& p = v.product_name;
  const std::string valid = Minutes(v.code_valid_for);
  EmailContent e;
  switch (id) {
    case TemplateId::kSignInCode:
      e.subject = "Your " + p + " sign-in code";
      e.text = "Your sign-in code is:\n\n    " + v.code + "\n\nIt is valid for " + valid +
               ". Enter it on the page that asked for it.\n\nIf you did not try to sign in, "
               "someone else knows your password: change it, and do not share this code with "
               "anyone.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>Your sign-in code is:</p>\n" + CodeBlock(v.code) +
                                   "\n<p>It is valid for " + valid +
                                   ". Enter it on the page that asked for it.</p>\n"
                                   "<p>If you did not try to sign in, someone else knows your "
                                   "password: change it, and do not share this code with "
                                   "anyone.</p>\n<p>&mdash; " + HtmlEscape(p) + "</p>");
      break;
    case TemplateId::kVerifyAddress:
      e.subject = "Verify your email address for " + p;
      e.text = "Your verification code is:\n\n    " + v.code + "\n\nIt is valid for " + valid +
               ". Enter it to confirm that this address is yours.\n\nIf you did not ask for "
               "this, ignore this message.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>Your verification code is:</p>\n" + CodeBlock(v.code) +
                                   "\n<p>It is valid for " + valid +
                                   ". Enter it to confirm that this address is yours.</p>\n"
                                   "<p>If you did not ask for this, ignore this message.</p>\n"
                                   "<p>&mdash; " + HtmlEscape(p) + "</p>");
      break;
    case TemplateId::kFactorAdded:
    case TemplateId::kFactorRemoved: {
      const bool added = id == TemplateId::kFactorAdded;
      const std::string what = added ? "added to" : "removed from";
      e.subject = std::string("A sign-in method was ") + (added ? "added" : "removed");
      e.text = "The sign-in method \"" + v.factor_name + "\" was " + what + " your " + p +
               " account.\n\nIf this was not you, sign in and review your sign-in methods, "
               "and change your password.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>The sign-in method <strong>" + HtmlEscape(v.factor_name) +
                                   "</strong> was " + what + " your " + HtmlEscape(p) +
                                   " account.</p>\n<p>If this was not you, sign in and review "
                                   "your sign-in methods, and change your password.</p>\n"
                                   "<p>&mdash; " + HtmlEscape(p) + "</p>");
      break;
    }
    case TemplateId::kUnspecified:
      break;
  }
  return e;
}

std::string RenderSms(TemplateId id, const TemplateValues& v) {
  const std::string& p = v.product_name;
  switch (id) {
    case TemplateId::kSignInCode:
      return v.code + " is your " + p + " sign-in code. Valid " + Minutes(v.code_valid_for) +
             ". Do not share it.";
    case TemplateId::kVerifyAddress:
      return v.code + " is your " + p + " verification code. Valid " +
             Minutes(v.code_valid_for) + ".";
    case TemplateId::kFactorAdded:
      return p + ": the sign-in method \"" + v.factor_name +
             "\" was added to your account. Not you? Review your account.";
    case TemplateId::kFactorRemoved:
      return p + ": the sign-in method \"" + v.factor_name +
             "\" was removed from your account. Not you? Review your account.";
    case TemplateId::kUnspecified:
      break;
  }
  return {};
}

}  // namespace idp::delivery
