#pragma once
/// @file What the connection pools report for metrics (PgPool::Stats, RedisClient::Stats).

#include <cstddef>
#include <cstdint>

namespace idp::store {

/// A pool's use at one moment (metrics): connections lent out, open, the limit, and how many
/// waits for a free connection gave up (acquire_timeout) since start.
struct PoolStats {
  std::size_t in_use = 0;
  std::size_t open = 0;
  std::size_t max = 0;
  std::uint64_t acquire_timeouts = 0;
};

}  // namespace idp::store
