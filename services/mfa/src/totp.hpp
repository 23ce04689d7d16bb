#pragma once
/// @file TOTP (RFC 6238) over liboath: SHA-1, 30 s steps, 6 digits, one step either side.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idp::mfa {

inline constexpr int kTotpStep = 30;
inline constexpr int kTotpDigits = 6;

/// The code for time step `step` (RFC 6238 §4: T = floor(unix time / 30)).
std::string TotpCode(std::string_view secret, std::int64_t step, int digits = kTotpDigits);

/// The time step, within one step of `now_unix`, whose code is `code`; nullopt otherwise.
std::optional<std::int64_t> TotpMatch(std::string_view secret, std::string_view code,
                                      std::int64_t now_unix);

/// True when `code` is exactly `digits` ASCII digits.
bool IsCodeShaped(std::string_view code, int digits = kTotpDigits);

/// RFC 4648 base32 without padding (what authenticator apps take).
std::string Base32(std::string_view bytes);

/// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace idp::mfa
