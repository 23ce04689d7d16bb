#include "totp.hpp"

#include <liboath/oath.h>

#include <mutex>
#include <stdexcept>

namespace idp::mfa {
namespace {

void InitOath() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (oath_init() != OATH_OK) throw std::runtime_error("liboath initialisation failed");
  });
}

std::string Escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string TotpCode(std::string_view secret, std::int64_t step, int digits) {
  InitOath();
  char out[16] = {};
  int rc = oath_totp_generate(secret.data(), secret.size(), static_cast<time_t>(step * kTotpStep),
                              kTotpStep, 0, static_cast<unsigned>(digits), out);
  if (rc != OATH_OK) throw std::runtime_error("TOTP generation failed");
  return out;
}

std::optional<std::int64_t> TotpMatch(std::string_view secret, std::string_view code,
                                      std::int64_t now_unix) {
  if (!IsCodeShaped(code)) return std::nullopt;
  InitOath();
  std::string otp(code);
  int pos = 0;
  // Window 1: the current step and one either side (RFC 6238 §5.2).
  int rc = oath_totp_validate2(secret.data(), secret.size(), static_cast<time_t>(now_unix),
                               kTotpStep, 0, 1, &pos, otp.c_str());
  if (rc < 0) return std::nullopt;
  return now_unix / kTotpStep + pos;
}

bool IsCodeShaped(std::string_view code, int digits) {
  if (code.size() != static_cast<std::size_t>(digits)) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string Base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string OtpauthUri(std::string_view issuer, std::string_view account, std::string_view secret) {
  return "otpauth://totp/" + Escape(issuer) + ":" + Escape(account) + "?secret=" + Base32(secret) +
         "&issuer=" + Escape(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace idp::mfa
