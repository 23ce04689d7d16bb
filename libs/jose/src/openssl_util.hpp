#pragma once
// Private to libs/jose: owning pointers for the OpenSSL objects this library uses.

#include "idp/crypto/c_smart_ptr.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <string>
#include <string_view>

namespace idp::jose::internal {

using PkeyPtr = crypto::CSmartPtr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = crypto::CSmartPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = crypto::CSmartPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BnPtr = crypto::CSmartPtr<BIGNUM, BN_free>;
/// For private key components: zeroed before release.
using SecretBnPtr = crypto::CSmartPtr<BIGNUM, BN_clear_free>;
using ParamBldPtr = crypto::CSmartPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = crypto::CSmartPtr<OSSL_PARAM, OSSL_PARAM_free>;
using BioPtr = crypto::CSmartPtr<BIO, BIO_free_all>;
using EcdsaSigPtr = crypto::CSmartPtr<ECDSA_SIG, ECDSA_SIG_free>;

inline const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

/// Drops OpenSSL's thread-local error queue after an expected failure (bad input), so that
/// stale entries are not reported by unrelated code later on this thread.
inline void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace idp::jose::internal
