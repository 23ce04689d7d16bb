#pragma once
/// @file Crypto primitives over libsodium and OpenSSL: CSPRNG, encodings, hashes, constant-time
/// compare, AEAD and password hashing. All functions are thread-safe.

#include "idp/common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idp::crypto {

/// Initialises libsodium; call once at start (idempotent, thread-safe). Throws on failure.
void Init();

// --- randomness (libsodium's CSPRNG) ---
/// `n` random bytes.
std::string RandomBytes(std::size_t n);
/// A random token of `bytes` bytes (default 32 = 256 bits), base64url without padding.
std::string RandomToken(std::size_t bytes = 32);
/// A uniformly random integer in [0, upper).
std::uint32_t RandomUniform(std::uint32_t upper);

// --- encodings ---
/// RFC 4648 §5 base64url without padding (RFC 7515 §2 "Base64url Encoding").
std::string Base64UrlEncode(std::string_view bytes);
/// Decodes base64url without padding; nullopt on any character outside the alphabet, on
/// padding, or on a non-canonical trailing group.
std::optional<std::string> Base64UrlDecode(std::string_view text);
/// RFC 4648 §4 standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view text);

// --- hashes ---
/// SHA-256 / SHA-384 / SHA-512 digests (raw bytes).
std::string Sha256(std::string_view data);
std::string Sha384(std::string_view data);
std::string Sha512(std::string_view data);
/// HMAC-SHA-256 (raw bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
/// Compares in time that depends only on the lengths.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// --- AEAD: AES-256-GCM (OpenSSL) ---
/// Encrypts secrets at rest under a 32-byte key. Output layout: version byte 0x01 ||
/// 12-byte random nonce || ciphertext || 16-byte tag. `aad` binds the ciphertext to its
/// context (for example the row id) and must be given again to Open.
class Aead {
 public:
  /// Fails with kInvalidArgument unless `key` is exactly 32 bytes.
  [[nodiscard]] static Result<Aead> FromKey(std::string key);
  /// Accepts a 32-byte key written as base64url, standard base64 or 64 hex characters.
  [[nodiscard]] static Result<Aead> FromEncodedKey(std::string_view encoded);

  std::string Seal(std::string_view plaintext, std::string_view aad) const;
  /// Fails with kInvalidArgument on a malformed or tampered input, or the wrong key or aad.
  [[nodiscard]] Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  explicit Aead(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// --- password hashing: Argon2id (libsodium crypto_pwhash_str) ---
struct PasswordHashParams {
  /// Iterations (t). OWASP minimum with 19 MiB: 2.
  std::uint64_t ops_limit = 2;
  /// Memory in bytes (m). OWASP minimum: 19 MiB.
  std::size_t mem_limit = 19u * 1024u * 1024u;
};

/// The PHC-format string ($argon2id$v=19$m=...,t=...,p=1$salt$hash) for `password`.
/// Throws std::bad_alloc-like std::runtime_error only when the memory cannot be had.
std::string HashPassword(std::string_view password, const PasswordHashParams& params = {});
/// True when `password` matches `hash`. A malformed hash is a mismatch.
bool VerifyPassword(std::string_view hash, std::string_view password);
/// True when `hash` was made with parameters other than `params` (rehash on next login).
bool PasswordNeedsRehash(std::string_view hash, const PasswordHashParams& params = {});

/// At most `n` Argon2id computations (HashPassword, VerifyPassword) run at once in this
/// process; the others wait their turn, first come first served. Each holds `mem_limit` bytes
/// while it runs, so this bounds the memory of a burst of sign-ins; about one per core loses no
/// throughput, as more than that only share the cores. 0: no limit (the default). Thread-safe.
void LimitConcurrentPasswordHashes(unsigned n);

/// The Argon2id computations of this process now (for metrics and tests).
struct PasswordHashLoad {
  unsigned running = 0;  ///< computing
  unsigned waiting = 0;  ///< waiting for a turn
  unsigned peak = 0;     ///< the most that ever ran at once
  std::uint64_t done = 0;  ///< computations finished since the process started
};
PasswordHashLoad CurrentPasswordHashLoad();

}  // namespace idp::crypto
