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

std::string Duration(std::chrono::seconds s) {
  if (s.count() >= 86400 && s.count() % 86400 == 0) {
    const auto d = s.count() / 86400;
    return std::to_string(d) + (d == 1 ? " day" : " days");
  }
  if (s.count() >= 7200 && s.count() % 3600 == 0) return std::to_string(s.count() / 3600) + " hours";
  return Minutes(s);
}

}  // namespace

bool CarriesCode(TemplateId id) {
  return id == TemplateId::kSignInCode || id == TemplateId::kVerifyAddress;
}

bool CarriesLink(TemplateId id) {
  return id == TemplateId::kPasswordReset || id == TemplateId::kInvitation;
}

bool NamesFactor(TemplateId id) {
  return id == TemplateId::kFactorAdded || id == TemplateId::kFactorRemoved;
}

namespace {

std::string LinkBlock(const std::string& link, std::string_view label) {
  return "<p><a href=\"" + HtmlEscape(link) +
         "\" style=\"font-size: 18px; font-weight: bold\">" + HtmlEscape(label) +
         "</a></p>\n<p>If the button does not work, copy this address into your browser:<br>" +
         HtmlEscape(link) + "</p>";
}

}  // namespace

std::string_view TemplateName(TemplateId id) {
  switch (id) {
    case TemplateId::kSignInCode: return "sign_in_code";
    case TemplateId::kVerifyAddress: return "verify_address";
    case TemplateId::kFactorAdded: return "factor_added";
    case TemplateId::kFactorRemoved: return "factor_removed";
    case TemplateId::kPasswordReset: return "password_reset";
    case TemplateId::kInvitation: return "invitation";
    case TemplateId::kPasswordChanged: return "password_changed";
    case TemplateId::kAccountLocked: return "account_locked";
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
    case TemplateId::kPasswordReset: {
      const std::string works = Duration(v.code_valid_for);
      e.subject = "Reset your " + p + " password";
      e.text = "Someone asked to reset the password of your " + p +
               " account. To choose a new password, open this link:\n\n    " + v.link +
               "\n\nIt works once, for " + works +
               ". If you did not ask for this, ignore this message: your password stays as it "
               "is.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>Someone asked to reset the password of your " +
                                   HtmlEscape(p) + " account. To choose a new password, open "
                                   "this link:</p>\n" + LinkBlock(v.link, "Choose a new password") +
                                   "\n<p>It works once, for " + works +
                                   ". If you did not ask for this, ignore this message: your "
                                   "password stays as it is.</p>\n<p>&mdash; " + HtmlEscape(p) +
                                   "</p>");
      break;
    }
    case TemplateId::kInvitation: {
      const std::string works = Duration(v.code_valid_for);
      e.subject = "You are invited to " + p;
      e.text = "An account was created for you at " + p +
               ". To set your password, open this link:\n\n    " + v.link +
               "\n\nIt works once, for " + works +
               ". If you did not expect this, ignore this message.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>An account was created for you at " + HtmlEscape(p) +
                                   ". To set your password, open this link:</p>\n" +
                                   LinkBlock(v.link, "Set your password") +
                                   "\n<p>It works once, for " + works +
                                   ". If you did not expect this, ignore this message.</p>\n"
                                   "<p>&mdash; " + HtmlEscape(p) + "</p>");
      break;
    }
    case TemplateId::kPasswordChanged:
      e.subject = "Your " + p + " password was changed";
      e.text = "The password of your " + p +
               " account was just changed, and your other sessions were signed out.\n\nIf "
               "this was not you, reset your password at once with \"Forgot your password?\" "
               "on the sign-in page, and review your sign-in methods.\n\n-- \n" + p + "\n";
      e.html = Html(e.subject, "<p>The password of your " + HtmlEscape(p) +
                                   " account was just changed, and your other sessions were "
                                   "signed out.</p>\n<p>If this was not you, reset your "
                                   "password at once with &ldquo;Forgot your password?&rdquo; "
                                   "on the sign-in page, and review your sign-in methods.</p>\n"
                                   "<p>&mdash; " + HtmlEscape(p) + "</p>");
      break;
    case TemplateId::kAccountLocked: {
      const std::string lasts = Duration(v.code_valid_for);
      e.subject = "Your " + p + " account is locked for " + lasts;
      e.text = "There were many failed attempts to sign in to your " + p +
               " account, so it is locked for " + lasts +
               ": until then nobody can sign in to it, not even with the right password. It "
               "unlocks by itself.\n\nIf these attempts were not yours, someone may be trying "
               "to guess your password. Once it unlocks, sign in and change your password, or "
               "choose a new one with \"Forgot your password?\" on the sign-in page.\n\n-- \n" +
               p + "\n";
      e.html = Html(e.subject, "<p>There were many failed attempts to sign in to your " +
                                   HtmlEscape(p) + " account, so it is locked for " + lasts +
                                   ": until then nobody can sign in to it, not even with the "
                                   "right password. It unlocks by itself.</p>\n<p>If these "
                                   "attempts were not yours, someone may be trying to guess your "
                                   "password. Once it unlocks, sign in and change your password, "
                                   "or choose a new one with &ldquo;Forgot your password?&rdquo; "
                                   "on the sign-in page.</p>\n<p>&mdash; " + HtmlEscape(p) +
                                   "</p>");
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
    case TemplateId::kPasswordChanged:
      return p + ": your password was changed. Not you? Reset it at once.";
    case TemplateId::kAccountLocked:
      return p + ": your account is locked for " + Duration(v.code_valid_for) +
             " after many failed sign-ins. Not you? Change your password once it unlocks.";
    case TemplateId::kPasswordReset:
    case TemplateId::kInvitation:  // email only: refused before rendering
    case TemplateId::kUnspecified:
      break;
  }
  return {};
}

}  // namespace idp::delivery
