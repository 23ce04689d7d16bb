// ID token checks, as a relying party makes them (OIDC Core §3.1.3.7): the signature with the
// issuer's published key and the client's registered alg, iss, aud, nonce, exp and iat.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

typedef struct evp_pkey_st EVP_PKEY;

namespace bench {

class Jwks {
 public:
  /// Loads the public keys (RSA and P-256) of a JWK Set document; throws on a malformed one.
  static Jwks Parse(std::string_view jwks_json);
  std::size_t size() const { return keys_.size(); }

  /// Checks an ID token; returns an empty string when it is valid, else what is wrong.
  std::string CheckIdToken(std::string_view jwt, std::string_view expected_alg,
                           std::string_view issuer, std::string_view client_id,
                           std::string_view nonce) const;

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* k) const;
  };
  struct Key {
    std::string alg;  // RS256 or ES256
    std::shared_ptr<EVP_PKEY> pkey;
  };
  std::unordered_map<std::string, Key> keys_;  // by kid
};

/// The protected header of a JWT, decoded but not verified (empty object when malformed).
boost::json::object JwtHeader(std::string_view jwt);

}  // namespace bench
