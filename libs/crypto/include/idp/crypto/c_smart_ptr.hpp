#pragma once
/// @file CSmartPtr: a std::unique_ptr that frees a C object with its library's free function
/// (the pattern of Envoy's source/common/common/c_smart_ptr.h). Used for every OpenSSL object.

#include <memory>

namespace idp::crypto {

/// Calls `Free` on a non-null pointer. Stateless, so a CSmartPtr is one pointer wide.
template <class T, auto Free>
struct CDeleter {
  void operator()(T* p) const noexcept {
    if (p != nullptr) Free(p);
  }
};

/// Owns a `T*` released with `Free`, e.g. `CSmartPtr<EVP_MD_CTX, EVP_MD_CTX_free>`.
template <class T, auto Free>
using CSmartPtr = std::unique_ptr<T, CDeleter<T, Free>>;

}  // namespace idp::crypto
