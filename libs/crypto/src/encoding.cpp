#include "idp/crypto/crypto.hpp"

#include <sodium.h>

namespace idp::crypto {
namespace {

std::string Encode(std::string_view bytes, int variant) {
  Init();
  const std::size_t encoded_len = sodium_base64_ENCODED_LEN(bytes.size(), variant);
  std::string out(encoded_len, '\0');  // includes the terminating NUL
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
  out.resize(encoded_len - 1);
  return out;
}

// True when every byte of `text` is in the variant's alphabet ('=' only for padded ones).
bool InAlphabet(std::string_view text, int variant) {
  const bool urlsafe = variant == sodium_base64_VARIANT_URLSAFE ||
                       variant == sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  const bool padded =
      variant == sodium_base64_VARIANT_ORIGINAL || variant == sodium_base64_VARIANT_URLSAFE;
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    (urlsafe ? (c == '-' || c == '_') : (c == '+' || c == '/')) ||
                    (padded && c == '=');
    if (!ok) return false;
  }
  return true;
}

// Strict decoding: no ignored characters (so no whitespace) and no trailing garbage
// (b64_end == nullptr makes libsodium fail unless the whole input was consumed). libsodium
// also rejects non-zero unused bits in the last group and, for the NO_PADDING variants, '='.
// Bytes outside the alphabet are refused before libsodium sees them: libsodium 1.0.18 decodes
// every byte >= 0x80 as the 64th character ('_' or '/'), which made a second spelling of any
// encoded value (found by fuzz/jws.cpp: a JWS signature with '_' replaced by 0xFF verified).
std::optional<std::string> Decode(std::string_view text, int variant) {
  Init();
  if (text.empty()) return std::string();
  if (!InAlphabet(text, variant)) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t out_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &out_len, nullptr, variant) != 0) {
    return std::nullopt;
  }
  out.resize(out_len);
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string Base64Encode(std::string_view bytes) {
  return Encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  return Decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::string HexEncode(std::string_view bytes) {
  Init();
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

std::optional<std::string> HexDecode(std::string_view text) {
  Init();
  if (text.size() % 2 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(text.size() / 2, '\0');
  std::size_t out_len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                     text.size(), nullptr, &out_len, nullptr) != 0 ||
      out_len != out.size()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace idp::crypto
