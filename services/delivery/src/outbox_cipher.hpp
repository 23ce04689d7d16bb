#pragma once
/// @file Keys for what the outbox keeps: payloads (destination and text, with the code) are
/// sealed with AES-256-GCM bound to their message id, so that Redis, its AOF file and its
/// backups never hold a code or a destination in clear; idempotency keys, request
/// fingerprints and rate-limit buckets are keyed hashes (HMAC-SHA-256), so that a 6-digit code
/// cannot be recovered from a fingerprint by trying all of them.

#include "idp/common/error.hpp"
#include "idp/crypto/crypto.hpp"

#include <string>
#include <string_view>

namespace idp::delivery {

/// Thread-safe (immutable after construction).
class OutboxCipher {
 public:
  /// From a 32-byte secret written as 64 hex characters, base64url or base64 (the format of
  /// IDP_MASTER_KEY). Separate keys for sealing and hashing are derived from it.
  /// kInvalidArgument when it is not 32 bytes.
  [[nodiscard]] static Result<OutboxCipher> FromEncodedSecret(std::string_view encoded);

  std::string Seal(std::string_view plaintext, std::string_view message_id) const;
  /// kInvalidArgument when tampered with, or sealed under another key or id.
  [[nodiscard]] Result<std::string> Open(std::string_view sealed,
                                         std::string_view message_id) const;
  /// base64url(HMAC-SHA-256(hash key, purpose || 0x00 || data)).
  std::string Hash(std::string_view purpose, std::string_view data) const;

 private:
  OutboxCipher(crypto::Aead aead, std::string hash_key)
      : aead_(std::move(aead)), hash_key_(std::move(hash_key)) {}
  crypto::Aead aead_;
  std::string hash_key_;
};

}  // namespace idp::delivery
