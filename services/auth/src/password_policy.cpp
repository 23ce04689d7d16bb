#include "password_policy.hpp"

#include "common_passwords.hpp"  // generated from data/passwords/common.txt

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <unordered_set>

namespace idp::auth {
namespace {

/// utf8proc_map over `s` with `options`; nullopt when `s` is not valid UTF-8.
std::optional<std::string> Map(std::string_view s, int options) {
  if (s.empty()) return std::string();
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                   static_cast<utf8proc_ssize_t>(s.size()), &out,
                   static_cast<utf8proc_option_t>(options));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  if (n < 0) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

constexpr int kNfkc = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;

/// The list, one lower-case entry a line, in a hash set built once.
const std::unordered_set<std::string_view>& CommonPasswords() {
  static const std::unordered_set<std::string_view> kSet = [] {
    std::unordered_set<std::string_view> set;
    const std::string_view text = embedded::common_passwords();
    set.reserve(20000);
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) set.insert(line);
      start = end + 1;
    }
    return set;
  }();
  return kSet;
}

}  // namespace

std::optional<std::string> NormalizePassword(std::string_view password) {
  return Map(password, kNfkc);
}

int CountPasswordChars(std::string_view s) {
  int count = 0;
  for (std::size_t i = 0; i < s.size();) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t len =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                         static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (len <= 0) return -1;  // malformed, overlong, surrogate or above U+10FFFF
    if (cp < 0x20 || cp == 0x7F) return -1;
    ++count;
    i += static_cast<std::size_t>(len);
  }
  return count;
}

bool IsCommonPassword(std::string_view password) {
  // NFKC_Casefold-like: compatibility forms and case differences do not escape the list.
  auto folded = Map(password, kNfkc | UTF8PROC_CASEFOLD);
  if (!folded) return false;
  return CommonPasswords().count(*folded) != 0;
}

std::size_t CommonPasswordCount() { return CommonPasswords().size(); }

std::optional<PasswordProblem> PasswordProblemOf(std::string_view password) {
  if (CountPasswordChars(password) < 0) return PasswordProblem::kControlCharacters;
  const auto normalized = NormalizePassword(password);
  const int n = normalized ? CountPasswordChars(*normalized) : -1;
  if (n < 0) return PasswordProblem::kControlCharacters;
  if (n < kMinPasswordChars) return PasswordProblem::kTooShort;
  if (n > kMaxPasswordChars) return PasswordProblem::kTooLong;
  if (IsCommonPassword(*normalized)) return PasswordProblem::kCommon;
  return std::nullopt;
}

std::string PasswordProblemText(PasswordProblem problem) {
  switch (problem) {
    case PasswordProblem::kControlCharacters:
      return "password must be valid UTF-8 text without control characters";
    case PasswordProblem::kTooShort:
      return "password must be at least " + std::to_string(kMinPasswordChars) + " characters";
    case PasswordProblem::kTooLong:
      return "password must be at most " + std::to_string(kMaxPasswordChars) + " characters";
    case PasswordProblem::kCommon:
      break;
  }
  return "password is too common (it appears in lists of leaked passwords); choose another";
}

std::optional<std::string> CheckNewPassword(std::string_view password) {
  auto problem = PasswordProblemOf(password);
  if (!problem) return std::nullopt;
  return PasswordProblemText(*problem);
}

}  // namespace idp::auth
