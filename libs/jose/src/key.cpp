#include "idp/jose/jose.hpp"

#include "idp/crypto/crypto.hpp"
#include "openssl_util.hpp"

#include <boost/json.hpp>
#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace idp::jose {
namespace {

using internal::BioPtr;
using internal::BnPtr;
using internal::ClearOpenSslErrors;
using internal::ParamBldPtr;
using internal::ParamPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::SecretBnPtr;
using internal::U8;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;  // OpenSSL's own verification limit
constexpr std::size_t kP256FieldBytes = 32;
constexpr std::size_t kEd25519KeyBytes = 32;

// --- JWK member access (RFC 7517 §4, RFC 7518 §6) ---

/// Absent -> nullopt; present -> must be a string.
Result<std::optional<std::string_view>> OptionalString(const boost::json::object& jwk,
                                                       std::string_view name) {
  const auto* value = jwk.if_contains(name);
  if (value == nullptr) return std::optional<std::string_view>();
  if (!value->is_string()) {
    return idp::InvalidArgument("JWK member \"" + std::string(name) + "\" is not a string");
  }
  const auto& s = value->get_string();
  return std::optional<std::string_view>(std::string_view(s.data(), s.size()));
}

/// Absent -> nullopt; present -> must be a non-empty strict base64url string (RFC 7518 §6).
Result<std::optional<std::string>> OptionalBytes(const boost::json::object& jwk,
                                                 std::string_view name) {
  auto text = OptionalString(jwk, name);
  if (!text) return text.error();
  if (!text->has_value()) return std::optional<std::string>();
  auto bytes = crypto::Base64UrlDecode(**text);
  if (!bytes || bytes->empty()) {
    return idp::InvalidArgument("JWK member \"" + std::string(name) + "\" is not base64url");
  }
  return std::optional<std::string>(std::move(*bytes));
}

Result<std::string> RequiredBytes(const boost::json::object& jwk, std::string_view name) {
  auto bytes = OptionalBytes(jwk, name);
  if (!bytes) return bytes.error();
  if (!bytes->has_value()) {
    return idp::InvalidArgument("JWK member \"" + std::string(name) + "\" is missing");
  }
  return std::move(**bytes);
}

Result<std::string> FixedBytes(const boost::json::object& jwk, std::string_view name,
                               std::size_t size) {
  auto bytes = RequiredBytes(jwk, name);
  if (bytes && bytes->size() != size) {
    return idp::InvalidArgument("JWK member \"" + std::string(name) + "\" has the wrong length");
  }
  return bytes;
}

/// The BIGNUM of a big-endian unsigned integer; freed with BN_clear_free since it may be secret.
SecretBnPtr ToBn(std::string_view bytes) {
  return SecretBnPtr(BN_bin2bn(U8(bytes), static_cast<int>(bytes.size()), nullptr));
}

// --- OpenSSL helpers ---

PkeyPtr FromData(const char* type, int selection, const OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(const_cast<OSSL_PARAM_BLD*>(bld)));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    ClearOpenSslErrors();
    return nullptr;
  }
  return PkeyPtr(raw);
}

bool PairwiseCheck(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const bool ok = ctx && EVP_PKEY_pairwise_check(ctx.get()) == 1;
  if (!ok) ClearOpenSslErrors();
  return ok;
}

bool PublicCheck(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const bool ok = ctx && EVP_PKEY_public_check(ctx.get()) == 1;
  if (!ok) ClearOpenSslErrors();
  return ok;
}

/// The algorithm we use a key with, or an error for key types and sizes we refuse.
Result<Alg> AlgOfKey(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return idp::InvalidArgument("RSA key size must be 2048 to 16384 bits");
    }
    return Alg::kRS256;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1 ||
        (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0)) {
      ClearOpenSslErrors();
      return idp::InvalidArgument("EC key must be on curve P-256");
    }
    return Alg::kES256;
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) return Alg::kEdDSA;
  return idp::InvalidArgument("unsupported key type");
}

std::string BnParam(EVP_PKEY* pkey, const char* name, int pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    ClearOpenSslErrors();
    throw std::runtime_error("cannot read a public key parameter");
  }
  const BnPtr bn(raw);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(size), '\0');
  const int written =
      pad_to > 0 ? BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), pad_to)
                 : BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  if (written < 0) throw std::runtime_error("public key parameter too large");
  return out;
}

/// The public members that define a key, base64url-encoded (RFC 7518 §6.2.1, §6.3.1,
/// RFC 8037 §2); empty strings for members the key type does not have.
struct PublicMembers {
  std::string_view kty;
  std::string_view crv;
  std::string n, e, x, y;
};

PublicMembers GetPublicMembers(EVP_PKEY* pkey, Alg alg) {
  PublicMembers m;
  switch (alg) {
    case Alg::kRS256:
      m.kty = "RSA";
      m.n = crypto::Base64UrlEncode(BnParam(pkey, OSSL_PKEY_PARAM_RSA_N));
      m.e = crypto::Base64UrlEncode(BnParam(pkey, OSSL_PKEY_PARAM_RSA_E));
      break;
    case Alg::kES256:
      // RFC 7518 §6.2.1.2: coordinates are the full field size, leading zeros kept.
      m.kty = "EC";
      m.crv = "P-256";
      m.x = crypto::Base64UrlEncode(BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kP256FieldBytes));
      m.y = crypto::Base64UrlEncode(BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kP256FieldBytes));
      break;
    case Alg::kEdDSA: {
      m.kty = "OKP";
      m.crv = "Ed25519";
      std::array<unsigned char, kEd25519KeyBytes> pub{};
      std::size_t len = 0;
      if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size(),
                                          &len) != 1 ||
          len != pub.size()) {
        ClearOpenSslErrors();
        throw std::runtime_error("cannot read the Ed25519 public key");
      }
      m.x = crypto::Base64UrlEncode(
          std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()));
      break;
    }
  }
  return m;
}

// --- JWK import per key type ---

Result<PkeyPtr> RsaFromJwk(const boost::json::object& jwk) {
  auto n = RequiredBytes(jwk, "n");
  if (!n) return n.error();
  auto e = RequiredBytes(jwk, "e");
  if (!e) return e.error();
  // Bound the sizes before any arithmetic (RFC 7518 §3.3: at least 2048 bits).
  if (n->size() * 8 > static_cast<std::size_t>(kMaxRsaBits) || e->size() > 8) {
    return idp::InvalidArgument("RSA key parameters are too large");
  }
  const SecretBnPtr n_bn = ToBn(*n);
  const SecretBnPtr e_bn = ToBn(*e);
  if (!n_bn || !e_bn) return idp::Internal("out of memory");
  if (BN_num_bits(n_bn.get()) < kMinRsaBits) {
    return idp::InvalidArgument("RSA key must be at least 2048 bits");
  }
  // RFC 8017 §3.1: the public exponent is odd and at least 3 (OpenSSL takes 0 from data).
  if (!BN_is_odd(e_bn.get()) || BN_is_one(e_bn.get())) {
    return idp::InvalidArgument("RSA public exponent must be an odd number of at least 3");
  }
  if (jwk.contains("oth")) return idp::InvalidArgument("multi-prime RSA keys are not supported");

  auto d = OptionalBytes(jwk, "d");
  if (!d) return d.error();
  static constexpr std::array<std::string_view, 5> kCrtNames = {"p", "q", "dp", "dq", "qi"};
  static constexpr std::array<const char*, 5> kCrtParams = {
      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::vector<SecretBnPtr> crt;
  for (const auto name : kCrtNames) {
    auto value = OptionalBytes(jwk, name);
    if (!value) return value.error();
    if (value->has_value()) crt.push_back(ToBn(**value));
  }
  // RFC 7518 §6.3.2: the CRT members come all together, and only with "d".
  if (!crt.empty() && (crt.size() != kCrtNames.size() || !d->has_value())) {
    return idp::InvalidArgument("RSA JWK must have all of p, q, dp, dq, qi with d, or none");
  }
  SecretBnPtr d_bn;
  if (d->has_value()) d_bn = ToBn(**d);

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1 ||
      (d_bn && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d_bn.get()) != 1)) {
    return idp::Internal("cannot build RSA parameters");
  }
  for (std::size_t i = 0; i < crt.size(); ++i) {
    if (!crt[i] || OSSL_PARAM_BLD_push_BN(bld.get(), kCrtParams[i], crt[i].get()) != 1) {
      return idp::Internal("cannot build RSA parameters");
    }
  }
  PkeyPtr pkey = FromData("RSA", d_bn ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
  if (!pkey) return idp::InvalidArgument("invalid RSA JWK");
  // With the CRT members present OpenSSL can check the whole key (n = p*q, d*e = 1, ...).
  if (!crt.empty() && !PairwiseCheck(pkey.get())) {
    return idp::InvalidArgument("RSA JWK private part does not match its public part");
  }
  return pkey;
}

Result<PkeyPtr> EcFromJwk(const boost::json::object& jwk) {
  auto crv = OptionalString(jwk, "crv");
  if (!crv) return crv.error();
  if (!crv->has_value() || **crv != "P-256") {
    return idp::InvalidArgument("EC JWK must have crv P-256");
  }
  auto x = FixedBytes(jwk, "x", kP256FieldBytes);
  if (!x) return x.error();
  auto y = FixedBytes(jwk, "y", kP256FieldBytes);
  if (!y) return y.error();
  auto d = OptionalBytes(jwk, "d");
  if (!d) return d.error();
  if (d->has_value() && (*d)->size() != kP256FieldBytes) {
    return idp::InvalidArgument("JWK member \"d\" has the wrong length");
  }

  // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y.
  const std::string point = std::string(1, '\x04') + *x + *y;
  SecretBnPtr d_bn;
  if (d->has_value()) d_bn = ToBn(**d);

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (d_bn && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d_bn.get()) != 1)) {
    return idp::Internal("cannot build EC parameters");
  }
  PkeyPtr pkey = FromData("EC", d_bn ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
  // The public check rejects points off the curve (invalid-curve attacks).
  if (!pkey || !PublicCheck(pkey.get())) return idp::InvalidArgument("invalid EC JWK");
  if (d_bn && !PairwiseCheck(pkey.get())) {
    return idp::InvalidArgument("EC JWK private part does not match its public part");
  }
  return pkey;
}

Result<PkeyPtr> OkpFromJwk(const boost::json::object& jwk) {
  auto crv = OptionalString(jwk, "crv");
  if (!crv) return crv.error();
  if (!crv->has_value() || **crv != "Ed25519") {
    return idp::InvalidArgument("OKP JWK must have crv Ed25519");
  }
  auto x = FixedBytes(jwk, "x", kEd25519KeyBytes);
  if (!x) return x.error();
  auto d = OptionalBytes(jwk, "d");
  if (!d) return d.error();
  if (d->has_value() && (*d)->size() != kEd25519KeyBytes) {
    return idp::InvalidArgument("JWK member \"d\" has the wrong length");
  }

  // For a private key, import only "d" and let OpenSSL derive the public key, then compare
  // it with "x": OpenSSL would otherwise accept a mismatched pair (RFC 8037 §2).
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  const bool is_private = d->has_value();
  const std::string& material = is_private ? **d : *x;
  if (!bld || OSSL_PARAM_BLD_push_octet_string(
                  bld.get(), is_private ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_PUB_KEY,
                  material.data(), material.size()) != 1) {
    return idp::Internal("cannot build Ed25519 parameters");
  }
  PkeyPtr pkey =
      FromData("ED25519", is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld.get());
  if (!pkey) return idp::InvalidArgument("invalid OKP JWK");
  if (is_private) {
    const PublicMembers derived = GetPublicMembers(pkey.get(), Alg::kEdDSA);
    if (derived.x != crypto::Base64UrlEncode(*x)) {
      return idp::InvalidArgument("OKP JWK private part does not match its public part");
    }
  }
  return pkey;
}

}  // namespace

std::string_view AlgName(Alg alg) {
  switch (alg) {
    case Alg::kRS256: return "RS256";
    case Alg::kES256: return "ES256";
    case Alg::kEdDSA: return "EdDSA";
  }
  return "";
}

std::optional<Alg> ParseAlg(std::string_view name) {
  // Exact, case-sensitive match (RFC 7515 §4.1.1); "none" (RFC 7518 §3.6) is never accepted.
  if (name == "RS256") return Alg::kRS256;
  if (name == "ES256") return Alg::kES256;
  if (name == "EdDSA") return Alg::kEdDSA;
  return std::nullopt;
}

Result<Key> Key::Generate(Alg alg) {
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case Alg::kRS256:  // e = 65537 is OpenSSL's default
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(kMinRsaBits));
      break;
    case Alg::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Alg::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (raw == nullptr) {
    ClearOpenSslErrors();
    return idp::Internal("key generation failed");
  }
  return Key(std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), alg, true);
}

Result<Key> Key::FromPrivatePem(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return idp::InvalidArgument("PEM too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return idp::Internal("out of memory");
  // A callback that supplies no passphrase: an encrypted PEM fails instead of prompting on a tty.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (raw == nullptr) {
    ClearOpenSslErrors();
    return idp::InvalidArgument("not a PEM private key");
  }
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  auto alg = AlgOfKey(pkey.get());
  if (!alg) return alg.error();
  return Key(std::move(pkey), *alg, true);
}

Result<Key> Key::FromJwk(const boost::json::object& jwk) {
  auto kty = OptionalString(jwk, "kty");
  if (!kty) return kty.error();
  if (!kty->has_value()) return idp::InvalidArgument("JWK member \"kty\" is missing");

  Alg alg = Alg::kRS256;
  Result<PkeyPtr> pkey = idp::InvalidArgument("unsupported kty");
  if (**kty == "RSA") {
    alg = Alg::kRS256;
    pkey = RsaFromJwk(jwk);
  } else if (**kty == "EC") {
    alg = Alg::kES256;
    pkey = EcFromJwk(jwk);
  } else if (**kty == "OKP") {
    alg = Alg::kEdDSA;
    pkey = OkpFromJwk(jwk);
  } else {
    return pkey.error();
  }
  if (!pkey) return pkey.error();

  // RFC 7517 §4.4: a JWK "alg" must agree with the key; §4.2: only signature keys here.
  auto jwk_alg = OptionalString(jwk, "alg");
  if (!jwk_alg) return jwk_alg.error();
  if (jwk_alg->has_value() && ParseAlg(**jwk_alg) != alg) {
    return idp::InvalidArgument("JWK \"alg\" does not match its key type");
  }
  auto use = OptionalString(jwk, "use");
  if (!use) return use.error();
  if (use->has_value() && **use != "sig") return idp::InvalidArgument("JWK \"use\" is not sig");

  const bool has_private = jwk.contains("d");
  return Key(std::shared_ptr<EVP_PKEY>(pkey->release(), EVP_PKEY_free), alg, has_private);
}

Result<std::string> Key::ToPrivatePem() const {
  if (!has_private_) return idp::FailedPrecondition("key has no private part");
  // A secure-memory BIO so the PEM buffer is zeroed when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    ClearOpenSslErrors();
    return idp::Internal("cannot write the private key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return idp::Internal("cannot write the private key");
  return std::string(data, static_cast<std::size_t>(len));
}

boost::json::object Key::PublicJwk(std::string_view kid) const {
  const PublicMembers m = GetPublicMembers(pkey_.get(), alg_);
  boost::json::object jwk;
  jwk["kty"] = m.kty;
  if (!m.crv.empty()) jwk["crv"] = m.crv;
  if (!m.n.empty()) jwk["n"] = m.n;
  if (!m.e.empty()) jwk["e"] = m.e;
  if (!m.x.empty()) jwk["x"] = m.x;
  if (!m.y.empty()) jwk["y"] = m.y;
  if (!kid.empty()) jwk["kid"] = kid;
  jwk["alg"] = AlgName(alg_);
  jwk["use"] = "sig";
  return jwk;
}

std::string Key::Thumbprint() const {
  // RFC 7638 §3.2/§3.3: only the required members, in lexicographic order, no whitespace.
  // All values are base64url or fixed names, so no JSON escaping is needed.
  const PublicMembers m = GetPublicMembers(pkey_.get(), alg_);
  std::string json;
  switch (alg_) {
    case Alg::kRS256:
      json = R"({"e":")" + m.e + R"(","kty":"RSA","n":")" + m.n + R"("})";
      break;
    case Alg::kES256:
      json = R"({"crv":"P-256","kty":"EC","x":")" + m.x + R"(","y":")" + m.y + R"("})";
      break;
    case Alg::kEdDSA:  // RFC 8037 §2: crv, kty, x
      json = R"({"crv":"Ed25519","kty":"OKP","x":")" + m.x + R"("})";
      break;
  }
  return crypto::Base64UrlEncode(crypto::Sha256(json));
}

}  // namespace idp::jose
