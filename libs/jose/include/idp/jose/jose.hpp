#pragma once
/// @file JOSE over OpenSSL 3: keys (RSA 2048+, P-256, Ed25519), JWK (RFC 7517/7518), JWS
/// compact serialization (RFC 7515) and JWT claims checks (RFC 7519).

#include "idp/common/error.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: OpenSSL's own forward declaration

namespace idp::jose {

/// JWS algorithms we sign and verify with (RFC 7518 §3.1, RFC 8037 §3.1).
enum class Alg { kRS256, kES256, kEdDSA };

/// "RS256", "ES256", "EdDSA".
std::string_view AlgName(Alg alg);
/// nullopt for any other name, "none" included.
std::optional<Alg> ParseAlg(std::string_view name);

/// An asymmetric key; holds a private key or only a public one. Cheap to copy (shared).
class Key {
 public:
  /// A new key for `alg`: RSA 2048 bits (e = 65537), P-256 or Ed25519.
  [[nodiscard]] static Result<Key> Generate(Alg alg);
  /// Reads a PKCS#8 PEM private key; the algorithm follows from the key type
  /// (RSA -> RS256, P-256 -> ES256, Ed25519 -> EdDSA).
  [[nodiscard]] static Result<Key> FromPrivatePem(std::string_view pem);
  /// Reads a JWK (RSA, EC P-256, OKP Ed25519), public or private. `alg` of the JWK, if
  /// present, must agree with the key type. kInvalidArgument on anything malformed.
  [[nodiscard]] static Result<Key> FromJwk(const boost::json::object& jwk);

  Alg alg() const { return alg_; }
  bool has_private() const { return has_private_; }
  /// PKCS#8 PEM of the private key; kFailedPrecondition for a public-only key.
  [[nodiscard]] Result<std::string> ToPrivatePem() const;
  /// The public JWK: kty and the public members only (never d/p/q/dp/dq/qi), plus
  /// "kid" (when not empty), "alg" and "use":"sig".
  boost::json::object PublicJwk(std::string_view kid) const;
  /// RFC 7638 thumbprint (SHA-256, base64url) of the public key.
  std::string Thumbprint() const;

  EVP_PKEY* native() const { return pkey_.get(); }

 private:
  Key(std::shared_ptr<EVP_PKEY> pkey, Alg alg, bool has_private)
      : pkey_(std::move(pkey)), alg_(alg), has_private_(has_private) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  Alg alg_;
  bool has_private_;
};

/// A parsed (not yet verified) compact JWS.
struct Jws {
  boost::json::object header;
  std::string payload;           ///< decoded payload bytes
  std::string signing_input;     ///< ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
  std::string signature;         ///< decoded signature bytes
};

/// Signs `payload` with `key`: header {"alg", "kid" (if not empty), "typ" (if not empty)}
/// plus `extra_header` members. ES256 signatures are R||S (64 bytes, RFC 7518 §3.4).
/// kFailedPrecondition for a public-only key.
[[nodiscard]] Result<std::string> Sign(const Key& key, std::string_view kid, std::string_view typ,
                                       std::string_view payload,
                                       const boost::json::object& extra_header = {});

/// Signs the exact octets `signing_input` (normally ASCII(BASE64URL(header) '.'
/// BASE64URL(payload)), RFC 7515 §5.1) and returns the raw JWS Signature: PKCS#1 v1.5 for
/// RS256, R||S (64 bytes) for ES256, 64 bytes for EdDSA. kFailedPrecondition for a public-only
/// key, kInternal when OpenSSL fails.
[[nodiscard]] Result<std::string> SignRaw(const Key& key, std::string_view signing_input);

/// Splits and decodes a compact JWS: exactly three base64url parts, a JSON object header with
/// a string "alg". kInvalidArgument otherwise. Size is capped at 16 KiB.
[[nodiscard]] Result<Jws> Parse(std::string_view compact);

/// Verifies `jws` with `key`: header alg must equal key.alg() ("none" never verifies).
bool VerifySignature(const Jws& jws, const Key& key);

/// Finds the key for a header (by "kid" and "alg"); nullopt when unknown.
using KeyLookup = std::function<std::optional<Key>(const boost::json::object& header)>;

/// Parse + find key + verify + payload is a JSON object. kInvalidArgument on malformed input,
/// kUnauthenticated on an unknown key or a bad signature.
[[nodiscard]] Result<boost::json::object> VerifyJwt(std::string_view compact,
                                                    const KeyLookup& lookup);

}  // namespace idp::jose
