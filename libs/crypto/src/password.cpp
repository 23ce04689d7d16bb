#include "idp/crypto/crypto.hpp"

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace idp::crypto {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";

// crypto_pwhash_str_* read a NUL-terminated string of at most STRBYTES - 1 characters.
std::optional<std::string> ToCString(std::string_view hash) {
  if (hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(hash);
}

/// The process's turn-taking for Argon2id computations (LimitConcurrentPasswordHashes).
class HashGate {
 public:
  static HashGate& Instance() {
    static HashGate gate;
    return gate;
  }

  void SetLimit(unsigned n) {
    std::lock_guard lock(mu_);
    limit_ = n;
    turn_.notify_all();
  }

  PasswordHashLoad Load() {
    std::lock_guard lock(mu_);
    return load_;
  }

  /// Holds a turn for its lifetime.
  class Turn {
   public:
    explicit Turn(HashGate& gate) : gate_(gate) { gate_.Enter(); }
    ~Turn() { gate_.Leave(); }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    HashGate& gate_;
  };

 private:
  void Enter() {
    std::unique_lock lock(mu_);
    // Tickets keep the order of arrival, so a waiter is never overtaken indefinitely.
    const std::uint64_t ticket = next_ticket_++;
    ++load_.waiting;
    turn_.wait(lock, [&] {
      return ticket == serving_ && (limit_ == 0 || load_.running < limit_);
    });
    --load_.waiting;
    ++serving_;
    ++load_.running;
    load_.peak = std::max(load_.peak, load_.running);
    turn_.notify_all();  // the next ticket may go too, if there is room
  }

  void Leave() {
    std::lock_guard lock(mu_);
    --load_.running;
    ++load_.done;
    turn_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable turn_;
  unsigned limit_ = 0;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t serving_ = 0;
  PasswordHashLoad load_;
};

}  // namespace

void LimitConcurrentPasswordHashes(unsigned n) { HashGate::Instance().SetLimit(n); }

PasswordHashLoad CurrentPasswordHashLoad() { return HashGate::Instance().Load(); }

std::string HashPassword(std::string_view password, const PasswordHashParams& params) {
  Init();
  char out[crypto_pwhash_STRBYTES];
  HashGate::Turn turn(HashGate::Instance());
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing failed (out of memory or bad parameters)");
  }
  return std::string(out, ::strnlen(out, sizeof(out)));
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  Init();
  const auto c_hash = ToCString(hash);
  if (!c_hash) return false;
  HashGate::Turn turn(HashGate::Instance());
  return crypto_pwhash_str_verify(c_hash->c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view hash, const PasswordHashParams& params) {
  Init();
  // Anything that is not Argon2id (argon2i, bcrypt, garbage) is upgraded on next login.
  if (hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) return true;
  const auto c_hash = ToCString(hash);
  if (!c_hash) return true;
  return crypto_pwhash_str_needs_rehash(c_hash->c_str(), params.ops_limit, params.mem_limit) != 0;
}

}  // namespace idp::crypto
