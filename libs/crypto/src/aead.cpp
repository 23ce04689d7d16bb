#include "idp/crypto/crypto.hpp"

#include "idp/crypto/c_smart_ptr.hpp"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

namespace idp::crypto {
namespace {

constexpr char kVersion = 0x01;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;

using CipherCtx = CSmartPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

Result<Aead> Aead::FromKey(std::string key) {
  if (key.size() != kKeySize) return idp::InvalidArgument("AEAD key must be 32 bytes");
  return Aead(std::move(key));
}

Result<Aead> Aead::FromEncodedKey(std::string_view encoded) {
  // Tried in order; a form counts only if it decodes to exactly 32 bytes.
  if (encoded.size() == 2 * kKeySize) {
    if (auto key = HexDecode(encoded); key && key->size() == kKeySize) return Aead(std::move(*key));
  }
  if (auto key = Base64UrlDecode(encoded); key && key->size() == kKeySize) {
    return Aead(std::move(*key));
  }
  if (auto key = Base64Decode(encoded); key && key->size() == kKeySize) {
    return Aead(std::move(*key));
  }
  return idp::InvalidArgument("AEAD key must be 32 bytes as hex, base64url or base64");
}

std::string Aead::Seal(std::string_view plaintext, std::string_view aad) const {
  if (plaintext.size() > static_cast<std::size_t>(INT_MAX) ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error("AEAD input too long");
  }
  const std::string nonce = RandomBytes(kNonceSize);
  std::string out;
  out.reserve(1 + kNonceSize + plaintext.size() + kTagSize);
  out.push_back(kVersion);
  out += nonce;
  const std::size_t ct_offset = out.size();
  out.resize(ct_offset + plaintext.size() + kTagSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U8(key_), U8(nonce)) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1) ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), U8(out) + ct_offset, &len, U8(plaintext),
                         static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), U8(out) + ct_offset + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                          U8(out) + ct_offset + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

Result<std::string> Aead::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < 1 + kNonceSize + kTagSize || sealed[0] != kVersion) {
    return idp::InvalidArgument("sealed data is malformed");
  }
  if (sealed.size() > static_cast<std::size_t>(INT_MAX) ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    return idp::InvalidArgument("sealed data is too long");
  }
  const std::string_view nonce = sealed.substr(1, kNonceSize);
  const std::string_view ciphertext =
      sealed.substr(1 + kNonceSize, sealed.size() - 1 - kNonceSize - kTagSize);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer, so copy the tag out.
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string plaintext(ciphertext.size(), '\0');

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U8(key_), U8(nonce)) != 1) {
    return idp::Internal("AES-256-GCM initialisation failed");
  }
  if ((!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1) ||
      (!ciphertext.empty() &&
       EVP_DecryptUpdate(ctx.get(), U8(plaintext), &len, U8(ciphertext),
                         static_cast<int>(ciphertext.size())) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), U8(plaintext) + ciphertext.size(), &len) != 1) {
    // Wrong key, wrong aad and tampering are indistinguishable here by design.
    return idp::InvalidArgument("sealed data failed authentication");
  }
  return plaintext;
}

}  // namespace idp::crypto
