#include "idp/store/pool_metrics.hpp"

#include "idp/metrics/registry.hpp"

#include <memory>
#include <mutex>

namespace idp::store {

void ExportPoolMetrics(metrics::Registry& registry, std::vector<NamedPool> pools) {
  auto& in_use = registry.AddGauge("idp_pool_connections_in_use",
                                   "Connections of the pool lent out right now.", {"pool"});
  auto& open = registry.AddGauge("idp_pool_connections_open",
                                 "Connections of the pool open (in use or idle).", {"pool"});
  auto& max = registry.AddGauge("idp_pool_connections_max",
                                "The pool's size limit.", {"pool"});
  auto& timeouts = registry.AddCounter(
      "idp_pool_acquire_timeouts_total", "Waits for a free connection that gave up.", {"pool"});
  struct Series {
    std::function<PoolStats()> read;
    metrics::Gauge* in_use;
    metrics::Gauge* open;
    metrics::Gauge* max;
    metrics::Counter* timeouts;
    std::uint64_t seen = 0;  ///< the pool's tally already added to `timeouts`
  };
  auto series = std::make_shared<std::vector<Series>>();
  for (auto& [name, read] : pools) {
    series->push_back({std::move(read), &in_use.WithLabels({name}), &open.WithLabels({name}),
                      &max.WithLabels({name}), &timeouts.WithLabels({name})});
  }
  // Scrapes may run at once: the tally's catch-up is serialised.
  auto mu = std::make_shared<std::mutex>();
  registry.OnCollect([series, mu] {
    std::lock_guard lock(*mu);
    for (auto& s : *series) {
      const PoolStats st = s.read();
      s.in_use->Set(static_cast<double>(st.in_use));
      s.open->Set(static_cast<double>(st.open));
      s.max->Set(static_cast<double>(st.max));
      if (st.acquire_timeouts > s.seen) {
        s.timeouts->Inc(static_cast<double>(st.acquire_timeouts - s.seen));
        s.seen = st.acquire_timeouts;
      }
    }
  });
}

}  // namespace idp::store
