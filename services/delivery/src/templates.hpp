#pragma once
/// @file The message texts: "your sign-in code", "verify this address", "a factor was added or
/// removed", "reset your password", "you are invited", "your password was changed", "your
/// account is locked for a while", for email
/// (subject, text, HTML) and SMS. Values are escaped for HTML. Only the two link templates
/// (reset, invitation; email only) carry a link; a code message never does (a code message with
/// a link invites phishing look-alikes).

#include <chrono>
#include <string>
#include <string_view>

namespace idp::delivery {

enum class TemplateId {
  kUnspecified,
  kSignInCode,
  kVerifyAddress,
  kFactorAdded,
  kFactorRemoved,
  kPasswordReset,
  kInvitation,
  kPasswordChanged,
  kAccountLocked,
};

/// True for the templates that carry a code.
bool CarriesCode(TemplateId id);
/// True for the templates that carry a link (reset, invitation): email only.
bool CarriesLink(TemplateId id);
/// True for the templates that name a factor.
bool NamesFactor(TemplateId id);

/// A stable name for logs and the outbox ("sign_in_code").
std::string_view TemplateName(TemplateId id);

/// What a template may use. `code` is sensitive.
struct TemplateValues {
  std::string product_name;  ///< "Identity Portal"
  std::string code;
  std::chrono::seconds code_valid_for{600};
  std::string factor_name;
  std::string link;  ///< sensitive: carries a single-use token
};

struct EmailContent {
  std::string subject;
  std::string text;
  std::string html;
};

/// The email for `id` (not kUnspecified).
EmailContent RenderEmail(TemplateId id, const TemplateValues& v);

/// The SMS text for `id` (not kUnspecified): one GSM-7 segment for the code templates when the
/// product name is short.
std::string RenderSms(TemplateId id, const TemplateValues& v);

/// `s` with &, <, >, " and ' escaped.
std::string HtmlEscape(std::string_view s);

}  // namespace idp::delivery
