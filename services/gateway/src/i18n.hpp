#pragma once
/// @file The languages of the hosted pages. English texts are the message ids, written in the
/// templates and the code as they are; each other language is a catalog (locales/<lang>.json,
/// embedded) from those texts to its own, and a text without a translation shows in English.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace idp::gateway {

/// "en" first, then every language with a catalog.
const std::vector<std::string>& SupportedLanguages();

/// The first supported language among, in order: `preferred` (a language a person chose, e.g.
/// from a cookie), `ui_locales` (space-separated BCP 47 tags, OIDC Core §3.1.2.1), and
/// `accept_language` (RFC 9110 §12.5.4, by q-value); else `fallback` ("en" when `fallback` is
/// not supported, "" when it is empty). "nl-BE" matches "nl".
std::string PickLanguage(std::string_view preferred, std::string_view ui_locales,
                         std::string_view accept_language, std::string_view fallback);

/// `english` in `lang`; `english` itself when the catalog has no entry.
std::string Translate(std::string_view lang, std::string_view english);

/// Translate, then "{0}", "{1}", ... replaced by `args` (the values are not translated).
std::string Translate(std::string_view lang, std::string_view english,
                      std::initializer_list<std::string_view> args);

/// A duration in words in `lang`: "30 minutes", "1 hour", "90 seconds".
std::string DurationText(std::string_view lang, long long seconds);

}  // namespace idp::gateway
