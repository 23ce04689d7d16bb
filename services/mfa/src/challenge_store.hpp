#pragma once
/// @file The second step of one sign-in (Redis keys "mfa:challenge:"): who it is for and how
/// many wrong codes it has seen. Losing it only restarts a sign-in; the durable counts live in
/// PostgreSQL.

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

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

  /// The code last sent in a challenge: only the newest is valid.
  struct SentCode {
    std::string hash;
    std::string factor_id;
    std::int64_t expires_at = 0;
    std::string message_id;
  };
  /// Records a newly sent code (replacing the previous one). kNotFound when the challenge is
  /// gone or someone else's.
  [[nodiscard]] Status SetCode(const std::string& id, const std::string& subject,
                               const SentCode& code);
  /// The code last sent, or nullopt.
  [[nodiscard]] Result<std::optional<SentCode>> GetCode(const std::string& id,
                                                        const std::string& subject);

  /// Pending enrolment of an email or SMS factor: the code sent to it and its wrong tries.
  [[nodiscard]] Status SetEnrolCode(const std::string& factor_id, const std::string& hash);
  /// The code hash and tries so far; nullopt when expired.
  [[nodiscard]] Result<std::optional<std::pair<std::string, int>>> EnrolCode(
      const std::string& factor_id);
  [[nodiscard]] Result<int> CountEnrolTry(const std::string& factor_id);

 private:
  store::RedisClient& redis_;
  std::chrono::seconds ttl_;
};

}  // namespace idp::mfa
