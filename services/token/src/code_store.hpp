#pragma once
/// @file Authorization codes: short-lived, single use, in Redis under "token:code:".

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace idp::store {
class RedisClient;
}

namespace idp::token {

/// What a code was issued for; the code itself is never stored, only its SHA-256.
struct CodeGrant {
  std::string client_id;
  std::string redirect_uri;
  std::string scope;
  std::string nonce;
  std::string code_challenge;  ///< S256 challenge, empty when none was sent
  std::string subject;
  std::int64_t auth_time = 0;
  std::vector<std::string> amr;
  std::string acr;
  std::string sid;
  /// Claims asked for by name for userinfo with the claims parameter (OIDC Core §5.5).
  std::string userinfo_claims;
  /// Claim values for the ID token (a JSON object), asked for with the claims parameter.
  std::string id_token_claims;
};

enum class RedeemOutcome {
  kRedeemed,   ///< first use: the grant is returned
  kReused,     ///< the code was redeemed before (RFC 6749 §4.1.2: must not be used twice)
  kUnknown,    ///< never issued, or expired
};

struct Redemption {
  RedeemOutcome outcome = RedeemOutcome::kUnknown;
  CodeGrant grant;         ///< what the code was issued for (kRedeemed and kReused)
  std::string grant_id;    ///< kReused: the grant the first redemption created (to revoke)
  std::string attempt_id;  ///< kReused: the attempt that redeemed it first
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  /// Stores `grant` under a new random code (256 bits) for `ttl`; returns the code.
  [[nodiscard]] virtual Result<std::string> Issue(const CodeGrant& grant,
                                                  std::chrono::seconds ttl) = 0;
  /// Atomically marks the code used by `grant_id` and returns its grant, exactly once however
  /// many callers race for it, across every instance. Later callers get kReused with the
  /// winner's grant id, so that its tokens can be revoked (RFC 6749 §4.1.2).
  [[nodiscard]] virtual Result<Redemption> Redeem(const std::string& code,
                                                  const std::string& grant_id,
                                                  const std::string& attempt_id) = 0;
};

/// CodeStore over Redis: a hash {g: grant JSON, used: marker} with a TTL, redeemed by a Lua
/// script (HSETNX), so that the code and its used flag live and die together (SECURITY §88).
class RedisCodeStore final : public CodeStore {
 public:
  explicit RedisCodeStore(store::RedisClient& redis) : redis_(redis) {}

  // CodeStore
  Result<std::string> Issue(const CodeGrant& grant, std::chrono::seconds ttl) override;
  Result<Redemption> Redeem(const std::string& code, const std::string& grant_id,
                            const std::string& attempt_id) override;

 private:
  store::RedisClient& redis_;
};

}  // namespace idp::token
