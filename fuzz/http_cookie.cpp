// Fuzzes the Cookie header parser of libs/http (ParseCookieHeader, Request::Cookie).
// Invariants: every pair has a non-empty token name and no ';' anywhere;
// Request::Cookie answers the first value of a name; serialize -> parse gives the same pairs.
#include "fuzz_check.hpp"
#include "idp/http/message.hpp"

#include <cstdint>
#include <set>

using namespace idp::http;

namespace {

// RFC 7230 tchar: visible ASCII except the separators.
bool IsTokenChar(unsigned char c) {
  constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={}";
  return c > 0x20 && c < 0x7F && kSeparators.find(static_cast<char>(c)) == std::string_view::npos;
}

bool Quoted(std::string_view v) { return v.size() >= 2 && v.front() == '"' && v.back() == '"'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = idp::fuzz::AsText(data, size);
  const auto pairs = ParseCookieHeader(text);

  for (const auto& [name, value] : pairs) {
    FUZZ_CHECK(!name.empty());
    for (char c : name) FUZZ_CHECK(IsTokenChar(static_cast<unsigned char>(c)));
    FUZZ_CHECK(value.find(';') == std::string::npos);
  }

  Request req;
  req.headers.emplace_back("cookie", std::string(text));
  std::set<std::string> seen;
  for (const auto& [name, value] : pairs) {
    if (!seen.insert(name).second) continue;
    FUZZ_CHECK(req.Cookie(name) == value);
  }

  // The pairs again as a header: the same pairs come back (a value that still looks quoted
  // would lose its quotes a second time, which is the RFC 6265 grammar, not a loss).
  std::string header;
  std::vector<std::pair<std::string, std::string>> expected;
  for (const auto& [name, value] : pairs) {
    const bool padded = !value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                                           value.back() == ' ' || value.back() == '\t');
    if (Quoted(value) || padded) continue;
    if (!header.empty()) header += "; ";
    header += SetCookieValue(name, value, CookieOptions{false, false, "", "", std::nullopt});
    expected.emplace_back(name, value);
  }
  FUZZ_CHECK(ParseCookieHeader(header) == expected);
  return 0;
}
