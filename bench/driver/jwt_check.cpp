#include "jwt_check.hpp"

#include "http_client.hpp"

#include <boost/json.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <chrono>
#include <stdexcept>

namespace bench {
namespace {

namespace json = boost::json;

std::string Str(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string B64(const json::object& o, const char* name) {
  auto v = Base64UrlDecode(Str(o, name));
  if (!v || v->empty()) throw std::runtime_error(std::string("JWK member ") + name + " is missing");
  return *v;
}

EVP_PKEY* FromData(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx && params && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) throw std::runtime_error(std::string("cannot load a ") + type + " public key");
  return pkey;
}

EVP_PKEY* RsaKey(const json::object& jwk) {
  std::string n = B64(jwk, "n"), e = B64(jwk, "e");
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
  EVP_PKEY* pkey = nullptr;
  try {
    pkey = FromData("RSA", bld);
  } catch (...) {
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    throw;
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn);
  BN_free(be);
  return pkey;
}

EVP_PKEY* EcKey(const json::object& jwk) {
  if (Str(jwk, "crv") != "P-256") throw std::runtime_error("only P-256 EC keys");
  std::string x = B64(jwk, "x"), y = B64(jwk, "y");
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  EVP_PKEY* pkey = nullptr;
  try {
    pkey = FromData("EC", bld);
  } catch (...) {
    OSSL_PARAM_BLD_free(bld);
    throw;
  }
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

/// JWS ES256 signatures are r || s (RFC 7518 §3.4); OpenSSL verifies DER.
std::string EcdsaDer(std::string_view raw) {
  if (raw.size() != 64) return {};
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  std::string out;
  if (len > 0) out.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

bool Verify(EVP_PKEY* key, std::string_view signing_input, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::optional<json::object> DecodeObject(std::string_view part) {
  auto text = Base64UrlDecode(part);
  if (!text) return std::nullopt;
  std::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

void Jwks::KeyFree::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

Jwks Jwks::Parse(std::string_view jwks_json) {
  auto doc = json::parse(jwks_json);
  Jwks out;
  for (const auto& k : doc.at("keys").as_array()) {
    const auto& jwk = k.as_object();
    std::string kty = Str(jwk, "kty"), kid = Str(jwk, "kid");
    if (kid.empty()) continue;
    if (kty == "RSA") {
      out.keys_[kid] = Key{"RS256", std::shared_ptr<EVP_PKEY>(RsaKey(jwk), KeyFree{})};
    } else if (kty == "EC" && Str(jwk, "crv") == "P-256") {
      out.keys_[kid] = Key{"ES256", std::shared_ptr<EVP_PKEY>(EcKey(jwk), KeyFree{})};
    }
  }
  if (out.keys_.empty()) throw std::runtime_error("the JWK Set has no RSA or P-256 key");
  return out;
}

std::string Jwks::CheckIdToken(std::string_view jwt, std::string_view expected_alg,
                               std::string_view issuer, std::string_view client_id,
                               std::string_view nonce) const {
  auto dot1 = jwt.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return "id_token is not a JWS";
  auto header = DecodeObject(jwt.substr(0, dot1));
  auto claims = DecodeObject(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header || !claims || !sig) return "id_token is malformed";
  std::string alg = Str(*header, "alg");
  if (alg != expected_alg) return "id_token alg " + alg + ", expected " + std::string(expected_alg);
  auto key = keys_.find(Str(*header, "kid"));
  if (key == keys_.end() || key->second.alg != alg) return "id_token kid is not in the JWKS";
  std::string der;
  std::string_view signature = *sig;
  if (alg == "ES256") {
    der = EcdsaDer(*sig);
    signature = der;
  }
  if (!Verify(key->second.pkey.get(), jwt.substr(0, dot2), signature)) {
    return "id_token signature does not verify";
  }
  if (Str(*claims, "iss") != issuer) return "id_token iss mismatch";
  const auto* aud = claims->if_contains("aud");
  bool aud_ok = false;
  if (aud && aud->is_string()) aud_ok = aud->as_string() == client_id;
  if (aud && aud->is_array()) {
    for (const auto& a : aud->as_array()) aud_ok = aud_ok || (a.is_string() && a.as_string() == client_id);
  }
  if (!aud_ok) return "id_token aud mismatch";
  if (!nonce.empty() && Str(*claims, "nonce") != nonce) return "id_token nonce mismatch";
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto* exp = claims->if_contains("exp");
  const auto* iat = claims->if_contains("iat");
  if (!exp || !exp->is_int64() || exp->as_int64() < now - 5) return "id_token expired";
  if (!iat || !iat->is_int64() || iat->as_int64() > now + 5) return "id_token iat in the future";
  if (Str(*claims, "sub").empty()) return "id_token has no sub";
  return {};
}

json::object JwtHeader(std::string_view jwt) {
  auto dot = jwt.find('.');
  if (dot == std::string_view::npos) return {};
  auto h = DecodeObject(jwt.substr(0, dot));
  return h ? std::move(*h) : json::object();
}

}  // namespace bench
