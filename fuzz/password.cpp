// Fuzzes the password rules of the auth service (services/auth/src/password_policy.cpp):
// NormalizePassword (NFKC by utf8proc), CountPasswordChars, IsCommonPassword, CheckNewPassword.
// Invariants: NFKC is idempotent and yields valid UTF-8; text utf8proc cannot normalise is
// refused by the character count too; an accepted password has 8-128 characters in NFKC form
// and is not common; two spellings with one NFKC form get the same answer.
#include "fuzz_check.hpp"
#include "password_policy.hpp"

#include <cstdint>

using namespace idp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view text = fuzz::AsText(data, size);

  const auto nfkc = auth::NormalizePassword(text);
  if (!nfkc) {
    FUZZ_CHECK(auth::CountPasswordChars(text) < 0);
    FUZZ_CHECK(auth::CheckNewPassword(text).has_value());
    return 0;
  }
  FUZZ_CHECK(auth::NormalizePassword(*nfkc) == *nfkc);
  FUZZ_CHECK(auth::IsCommonPassword(text) == auth::IsCommonPassword(*nfkc));

  const auto why = auth::CheckNewPassword(text);
  if (!why) {
    const int n = auth::CountPasswordChars(*nfkc);
    FUZZ_CHECK(n >= auth::kMinPasswordChars && n <= auth::kMaxPasswordChars);
    FUZZ_CHECK(auth::CountPasswordChars(text) >= 0);
    FUZZ_CHECK(!auth::IsCommonPassword(text));
  } else {
    FUZZ_CHECK(!why->empty());
  }
  if (auth::CountPasswordChars(text) >= 0) {
    // The NFKC form is its own spelling of the same password: same verdict.
    FUZZ_CHECK(auth::CheckNewPassword(*nfkc) == why);
  }
  return 0;
}
