#include "idp/jose/jose.hpp"

#include "idp/crypto/crypto.hpp"
#include "openssl_util.hpp"

#include <boost/json.hpp>
#include <openssl/rsa.h>

#include <array>

namespace idp::jose {
namespace {

using internal::BnPtr;
using internal::ClearOpenSslErrors;
using internal::EcdsaSigPtr;
using internal::MdCtxPtr;
using internal::U8;

constexpr std::size_t kMaxCompactSize = 16 * 1024;
constexpr int kEs256CoordinateBytes = 32;

/// SHA-256 for RS256 and ES256; none for Ed25519, which hashes internally (RFC 8032).
const EVP_MD* DigestFor(Alg alg) { return alg == Alg::kEdDSA ? nullptr : EVP_sha256(); }

/// RSASSA-PKCS1-v1_5 for RS256 (RFC 7518 §3.3); OpenSSL's default, but set it explicitly.
bool ConfigurePadding(EVP_PKEY_CTX* pctx, Alg alg) {
  return alg != Alg::kRS256 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
}

/// RFC 7518 §3.4: DER ECDSA-Sig-Value -> R || S, each left-padded to 32 octets.
std::optional<std::string> DerToRaw(std::string_view der) {
  const unsigned char* p = U8(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256CoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256CoordinateBytes) != kEs256CoordinateBytes ||
      BN_bn2binpad(s, out + kEs256CoordinateBytes, kEs256CoordinateBytes) !=
          kEs256CoordinateBytes) {
    return std::nullopt;
  }
  return raw;
}

/// RFC 7518 §3.4: R || S (exactly 64 octets) -> DER ECDSA-Sig-Value for OpenSSL.
std::optional<std::string> RawToDer(std::string_view raw) {
  if (raw.size() != 2 * kEs256CoordinateBytes) return std::nullopt;
  BnPtr r(BN_bin2bn(U8(raw), kEs256CoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(U8(raw) + kEs256CoordinateBytes, kEs256CoordinateBytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  // ECDSA_SIG_set0 took ownership.
  (void)r.release();
  (void)s.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<std::string> SignRaw(const Key& key, std::string_view signing_input) {
  if (!key.has_private()) return idp::FailedPrecondition("key has no private part");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  std::size_t sig_len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), &pctx, DigestFor(key.alg()), nullptr, key.native()) != 1 ||
      !ConfigurePadding(pctx, key.alg()) ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, U8(signing_input), signing_input.size()) != 1) {
    ClearOpenSslErrors();
    return idp::Internal("signing failed");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     U8(signing_input), signing_input.size()) != 1) {
    ClearOpenSslErrors();
    return idp::Internal("signing failed");
  }
  sig.resize(sig_len);
  if (key.alg() == Alg::kES256) {
    auto raw = DerToRaw(sig);
    if (!raw) return idp::Internal("signing failed");
    return std::move(*raw);
  }
  return sig;
}

Result<std::string> Sign(const Key& key, std::string_view kid, std::string_view typ,
                         std::string_view payload, const boost::json::object& extra_header) {
  if (!key.has_private()) return idp::FailedPrecondition("key has no private part");
  // RFC 7515 §4.1: the JOSE header; "alg" always comes from the key.
  boost::json::object header;
  header["alg"] = AlgName(key.alg());
  if (!kid.empty()) header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  for (const auto& member : extra_header) {
    // "crit" would make our own Parse refuse the token (RFC 7515 §4.1.11).
    if (header.contains(member.key()) || member.key() == "crit") {
      return idp::InvalidArgument("extra header member \"" + std::string(member.key()) +
                                  "\" is not allowed");
    }
    header[member.key()] = member.value();
  }
  // RFC 7515 §7.1: BASE64URL(UTF8(header)) '.' BASE64URL(payload) '.' BASE64URL(signature).
  std::string compact = crypto::Base64UrlEncode(boost::json::serialize(header));
  compact += '.';
  compact += crypto::Base64UrlEncode(payload);
  auto signature = SignRaw(key, compact);
  if (!signature) return signature.error();
  compact += '.';
  compact += crypto::Base64UrlEncode(*signature);
  return compact;
}

Result<Jws> Parse(std::string_view compact) {
  if (compact.size() > kMaxCompactSize) return idp::InvalidArgument("JWS is larger than 16 KiB");
  // RFC 7515 §7.1: exactly three parts separated by two periods.
  const std::size_t dot1 = compact.find('.');
  const std::size_t dot2 =
      dot1 == std::string_view::npos ? std::string_view::npos : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos) {
    return idp::InvalidArgument("JWS must have exactly three parts");
  }
  auto header_bytes = crypto::Base64UrlDecode(compact.substr(0, dot1));
  auto payload = crypto::Base64UrlDecode(compact.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = crypto::Base64UrlDecode(compact.substr(dot2 + 1));
  if (!header_bytes || !payload || !signature) {
    return idp::InvalidArgument("JWS part is not base64url");
  }

  boost::json::error_code ec;
  boost::json::value header = boost::json::parse(*header_bytes, ec);
  if (ec || !header.is_object()) {
    return idp::InvalidArgument("JWS header is not a JSON object");
  }
  const auto* alg = header.get_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return idp::InvalidArgument("JWS header has no string \"alg\"");
  }
  // RFC 7515 §4.1.11: we understand no extensions, so any "crit" must be refused.
  if (header.get_object().contains("crit")) {
    return idp::InvalidArgument("JWS header \"crit\" is not supported");
  }

  Jws jws;
  jws.header = std::move(header.get_object());
  jws.payload = std::move(*payload);
  jws.signing_input = std::string(compact.substr(0, dot2));
  jws.signature = std::move(*signature);
  return jws;
}

bool VerifySignature(const Jws& jws, const Key& key) {
  // RFC 7515 §5.2 step 8 and RFC 8725 §3.1: the algorithm is fixed by the key, never chosen
  // by the token; "none" and anything unknown never verify.
  const auto* alg_value = jws.header.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) return false;
  const auto& alg_name = alg_value->get_string();
  const auto alg = ParseAlg(std::string_view(alg_name.data(), alg_name.size()));
  if (!alg || *alg != key.alg() || key.native() == nullptr) return false;

  std::string der;
  std::string_view signature = jws.signature;
  if (*alg == Alg::kES256) {
    auto converted = RawToDer(jws.signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  } else if (*alg == Alg::kEdDSA && signature.size() != 64) {
    return false;
  } else if (*alg == Alg::kRS256 &&
             signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.native()))) {
    return false;
  }

  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const bool ok =
      ctx &&
      EVP_DigestVerifyInit(ctx.get(), &pctx, DigestFor(*alg), nullptr, key.native()) == 1 &&
      ConfigurePadding(pctx, *alg) &&
      EVP_DigestVerify(ctx.get(), U8(signature), signature.size(), U8(jws.signing_input),
                       jws.signing_input.size()) == 1;
  if (!ok) ClearOpenSslErrors();
  return ok;
}

Result<boost::json::object> VerifyJwt(std::string_view compact, const KeyLookup& lookup) {
  auto jws = Parse(compact);
  if (!jws) return jws.error();
  const auto& alg_name = jws->header.at("alg").get_string();
  if (!ParseAlg(std::string_view(alg_name.data(), alg_name.size()))) {
    return idp::Unauthenticated("JWS alg is not accepted");
  }
  const std::optional<Key> key = lookup ? lookup(jws->header) : std::nullopt;
  if (!key) return idp::Unauthenticated("unknown signing key");
  if (!VerifySignature(*jws, *key)) return idp::Unauthenticated("invalid JWS signature");

  // RFC 7519 §7.2 step 10: the claims set must be a JSON object.
  boost::json::error_code ec;
  boost::json::value claims = boost::json::parse(jws->payload, ec);
  if (ec || !claims.is_object()) {
    return idp::InvalidArgument("JWT claims set is not a JSON object");
  }
  return std::move(claims.get_object());
}

}  // namespace idp::jose
