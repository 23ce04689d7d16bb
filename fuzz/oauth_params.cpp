// Fuzzes the OAuth parameter rules of libs/oauth: scopes (ParseScope, JoinScope), PKCE
// (IsValidCodeVerifier, IsValidS256Challenge, S256Challenge, VerifyS256) and error texts
// (IsValidErrorText, SanitizeErrorText, TokenErrorStatus).
// Invariants: scope parse -> join -> parse is stable and tokens hold no space; a verifier
// verifies against its own challenge exactly when it is valid; a sanitised error text is
// valid and a valid one is left alone; every error maps to 400, 401, 500 or 503.
#include "fuzz_check.hpp"
#include "idp/oauth/oauth.hpp"

#include <cstdint>

using namespace idp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::AsText(data, size);

  const auto scopes = oauth::ParseScope(text);
  for (const auto& s : scopes) FUZZ_CHECK(!s.empty() && s.find(' ') == std::string::npos);
  const std::string joined = oauth::JoinScope(scopes);
  FUZZ_CHECK(oauth::ParseScope(joined) == scopes);
  FUZZ_CHECK(oauth::JoinScope(oauth::ParseScope(joined)) == joined);
  if (scopes.count("openid")) FUZZ_CHECK(joined.rfind("openid", 0) == 0);

  const std::string challenge = oauth::S256Challenge(text);
  FUZZ_CHECK(oauth::IsValidS256Challenge(challenge));
  FUZZ_CHECK(oauth::VerifyS256(text, challenge) == oauth::IsValidCodeVerifier(text));
  if (oauth::IsValidCodeVerifier(text)) {
    FUZZ_CHECK(text.size() >= 43 && text.size() <= 128);
  }
  if (oauth::IsValidS256Challenge(text)) {
    FUZZ_CHECK(text.size() == 43);
    FUZZ_CHECK(!oauth::VerifyS256(text, text) || oauth::S256Challenge(text) == text);
  }

  const std::string sanitized = oauth::SanitizeErrorText(text);
  FUZZ_CHECK(sanitized.size() == text.size());
  FUZZ_CHECK(oauth::IsValidErrorText(sanitized));
  if (oauth::IsValidErrorText(text)) FUZZ_CHECK(sanitized == text);
  const int status = oauth::TokenErrorStatus(text);
  FUZZ_CHECK(status == 400 || status == 401 || status == 500 || status == 503);
  return 0;
}
