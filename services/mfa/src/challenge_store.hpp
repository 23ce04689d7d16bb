#pragma once
/// @file The second step of one sign-in (Redis keys "mfa:challenge:"): who it is for and how
/// many wrong codes it has seen. Losing it only restarts a sign-in; the durable counts live in
/// PostgreSQL.

#include "idp/common/error.hpp"

#include <chrono>
#include <string>

namespace idp::store {
class RedisClient;
}

namespace idp::mfa {

class ChallengeStore {
 public:
  ChallengeStore(store::RedisClient& redis, std::chrono::seconds ttl) : redis_(redis), ttl_(ttl) {}
  /// A new challenge for `subject`; returns its id.
  [[nodiscard]] Result<std::string> Create(const std::string& subject);
  /// Wrong tries so far; -1 when the challenge is unknown, expired or someone else's.
  [[nodiscard]] Result<int> Tries(const std::string& id, const std::string& subject);
  /// Counts one wrong try atomically; returns the new count (-1 as above).
  [[nodiscard]] Result<int> CountTry(const std::string& id, const std::string& subject);
  [[nodiscard]] Status End(const std::string& id);

 private:
  store::RedisClient& redis_;
  std::chrono::seconds ttl_;
};

}  // namespace idp::mfa
