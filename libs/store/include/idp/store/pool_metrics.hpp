#pragma once
/// @file The connection pools' gauges for /metrics.

#include "idp/store/pool_stats.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace idp::metrics {
class Registry;
}

namespace idp::store {

/// A pool by name ("postgres", "redis") and how to read its use.
using NamedPool = std::pair<std::string, std::function<PoolStats()>>;

/// Registers idp_pool_connections_in_use, idp_pool_connections_open, idp_pool_connections_max
/// (gauges) and idp_pool_acquire_timeouts_total (counter), labelled by pool, read from `pools`
/// at every scrape. Call once per registry; the pools must outlive it.
void ExportPoolMetrics(metrics::Registry& registry, std::vector<NamedPool> pools);

}  // namespace idp::store
