#include "outbox_cipher.hpp"

namespace idp::delivery {

Result<OutboxCipher> OutboxCipher::FromEncodedSecret(std::string_view encoded) {
  std::optional<std::string> raw;
  if (encoded.size() == 64) raw = crypto::HexDecode(encoded);
  if (!raw || raw->size() != 32) raw = crypto::Base64UrlDecode(encoded);
  if (!raw || raw->size() != 32) raw = crypto::Base64Decode(encoded);
  if (!raw || raw->size() != 32) {
    return InvalidArgument("the outbox key must be 32 bytes (64 hex characters or base64)");
  }
  // Key separation: one derived key per use (HMAC as a PRF, in the manner of HKDF-Expand).
  auto aead = crypto::Aead::FromKey(crypto::HmacSha256(*raw, "idp delivery outbox seal v1"));
  if (!aead) return aead.error();
  return OutboxCipher(std::move(*aead), crypto::HmacSha256(*raw, "idp delivery outbox hash v1"));
}

std::string OutboxCipher::Seal(std::string_view plaintext, std::string_view message_id) const {
  return aead_.Seal(plaintext, message_id);
}

Result<std::string> OutboxCipher::Open(std::string_view sealed,
                                       std::string_view message_id) const {
  return aead_.Open(sealed, message_id);
}

std::string OutboxCipher::Hash(std::string_view purpose, std::string_view data) const {
  std::string input(purpose);
  input += '\0';
  input += data;
  return crypto::Base64UrlEncode(crypto::HmacSha256(hash_key_, input));
}

}  // namespace idp::delivery
