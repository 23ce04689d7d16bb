// What the servers spend, read from /proc: CPU seconds (user + system, with reaped children)
// and peak RSS, for single processes (with all their threads) and for process trees
// (PostgreSQL: the postmaster and its backends).
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Watched {
  std::string label;  // "gateway", "token", "postgres", ...
  int pid = 0;
  bool tree = false;  // the process and its direct children
};

/// Parses "label=pid" or "label=tree:pid".
Watched ParseWatched(const std::string& spec);

/// Process statistics between two points in time.
class ProcWatch {
 public:
  explicit ProcWatch(std::vector<Watched> watched) : watched_(std::move(watched)) {}

  /// Resets the peak-RSS marks (VmHWM) of the watched processes, so that the next report is
  /// the peak of this run only.
  void ResetPeaks() const;
  void Start();
  void Stop();
  /// {label: {cpu_s, user_s, sys_s, peak_rss_kb, rss_kb}} (pss_kb for trees) for the interval
  /// between Start and Stop.
  boost::json::object Report() const;

 private:
  std::vector<Watched> watched_;
  std::vector<std::pair<double, double>> start_cpu_, stop_cpu_;  // {user, system} seconds
};

/// CPU seconds consumed by this process so far (user + system, all threads).
double SelfCpuSeconds();

}  // namespace bench
