#pragma once
/// @file Pure policy: velocity-limit specs and the retry schedule (exponential backoff with
/// jitter). No I/O; thread-safe.

#include "idp/common/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace idp::delivery {

/// At most `limit` events in any sliding `window`.
struct RateWindow {
  std::int64_t limit = 0;
  std::chrono::milliseconds window{0};

  bool operator==(const RateWindow&) const = default;
};

/// Parses "1/30s,3/5m,10/1d" (units s, m, h, d; an empty spec means no limit). Limits are at
/// least 1, windows 1 s to 7 days. kInvalidArgument otherwise, naming the bad entry.
[[nodiscard]] Result<std::vector<RateWindow>> ParseRateSpec(std::string_view spec);

/// When to try again after a failed attempt.
struct BackoffPolicy {
  std::chrono::milliseconds base{2000};  ///< the delay after the first failure, before jitter
  std::chrono::milliseconds cap{300000}; ///< no delay exceeds this
  int max_attempts = 8;                  ///< attempts in all, the first included
};

/// The delay after failed attempt number `attempt` (1 for the first attempt): the exponential
/// step d = min(cap, base * 2^(attempt-1)), then "equal jitter": d/2 + jitter01 * d/2, so that
/// instances retrying together spread out yet never retry sooner than d/2. `jitter01` is in
/// [0, 1] (a random draw; fixed in tests).
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt, double jitter01);

/// True when attempt number `attempt` was the last one allowed.
inline bool IsLastAttempt(const BackoffPolicy& policy, int attempt) {
  return attempt >= policy.max_attempts;
}

}  // namespace idp::delivery
