#pragma once
/// @file The password rules (NIST SP 800-63B §3.1.1.2): 8 to 128 characters of any Unicode,
/// compared in NFKC form, not one of the common passwords shipped in data/passwords/. Pure
/// functions over utf8proc and the embedded list; thread-safe (fuzzed by fuzz/fuzz_password.cpp).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace idp::auth {

inline constexpr int kMinPasswordChars = 8;
inline constexpr int kMaxPasswordChars = 128;

/// The NFKC form (Unicode normalization form KC) of `password`: what is hashed and what a typed
/// password is verified as, so "ｐａｓｓｗｏｒｄ" and "password", or a composed and a decomposed
/// "é", are the same password. ASCII is unchanged. nullopt when `password` is not valid UTF-8.
std::optional<std::string> NormalizePassword(std::string_view password);

/// Code points in valid UTF-8 `s`; -1 when it is malformed or holds a control character
/// (U+0000-U+001F, U+007F).
int CountPasswordChars(std::string_view s);

/// True when the NFKC form of `password`, case-folded, is in the common-password list.
bool IsCommonPassword(std::string_view password);

/// How many entries the common-password list has (loaded on first use).
std::size_t CommonPasswordCount();

/// Which rule a new password breaks.
enum class PasswordProblem {
  kControlCharacters,  ///< not valid UTF-8, or a control character
  kTooShort,           ///< fewer than kMinPasswordChars characters
  kTooLong,            ///< more than kMaxPasswordChars characters
  kCommon,             ///< in the common-password list
};

/// nullopt when `password` may be set, else the rule it breaks. Length is counted in
/// characters (code points) of the NFKC form, not in bytes.
std::optional<PasswordProblem> PasswordProblemOf(std::string_view password);

/// `problem` in English, for operators (idpctl); a person's page says it in their language.
std::string PasswordProblemText(PasswordProblem problem);

/// PasswordProblemOf as PasswordProblemText: nullopt when `password` may be set.
std::optional<std::string> CheckNewPassword(std::string_view password);

}  // namespace idp::auth
