#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace {

struct StatLine {
  int ppid = 0;
  double user_ticks = 0;  // utime + cutime
  double sys_ticks = 0;   // stime + cstime
  bool ok = false;
};

StatLine ReadStat(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  StatLine out;
  if (!std::getline(in, line)) return out;
  auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s && f.size() < 16;) f.push_back(s);
  if (f.size() < 15) return out;
  // Fields from 3 (state): ppid is 4, utime 14, stime 15, cutime 16, cstime 17.
  out.ppid = std::atoi(f[1].c_str());
  out.user_ticks = std::atof(f[11].c_str()) + std::atof(f[13].c_str());
  out.sys_ticks = std::atof(f[12].c_str()) + std::atof(f[14].c_str());
  out.ok = true;
  return out;
}

std::vector<int> Children(int parent) {
  std::vector<int> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    auto s = ReadStat(pid);
    if (s.ok && s.ppid == parent) out.push_back(pid);
  }
  closedir(d);
  return out;
}

/// A "Name:   123 kB" line of /proc/PID/status or smaps_rollup, in kB (0 when absent).
long StatusKb(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, name.size() + 1, name + ":") == 0) {
      return std::atol(line.c_str() + name.size() + 1);
    }
  }
  return 0;
}

/// {user, system} CPU seconds of a process (with its reaped children), or of a tree.
std::pair<double, double> CpuSeconds(const Watched& w) {
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto root = ReadStat(w.pid);
  double user = root.ok ? root.user_ticks : 0, sys = root.ok ? root.sys_ticks : 0;
  if (w.tree) {
    for (int child : Children(w.pid)) {
      auto s = ReadStat(child);
      if (s.ok) {
        user += s.user_ticks;
        sys += s.sys_ticks;
      }
    }
  }
  return {user / kTicks, sys / kTicks};
}

}  // namespace

Watched ParseWatched(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos) throw std::runtime_error("--watch wants label=pid or label=tree:pid");
  Watched w;
  w.label = spec.substr(0, eq);
  std::string rest = spec.substr(eq + 1);
  if (rest.rfind("tree:", 0) == 0) {
    w.tree = true;
    rest = rest.substr(5);
  }
  w.pid = std::atoi(rest.c_str());
  if (w.pid <= 0) throw std::runtime_error("bad pid in --watch " + spec);
  return w;
}

void ProcWatch::ResetPeaks() const {
  for (const auto& w : watched_) {
    if (w.tree) continue;
    // Writing 5 to clear_refs resets the peak RSS mark (VmHWM) to the current RSS.
    std::ofstream out("/proc/" + std::to_string(w.pid) + "/clear_refs");
    out << "5";
  }
}

void ProcWatch::Start() {
  start_cpu_.clear();
  for (const auto& w : watched_) start_cpu_.push_back(CpuSeconds(w));
}

void ProcWatch::Stop() {
  stop_cpu_.clear();
  for (const auto& w : watched_) stop_cpu_.push_back(CpuSeconds(w));
}

boost::json::object ProcWatch::Report() const {
  boost::json::object out;
  for (std::size_t i = 0; i < watched_.size(); ++i) {
    const auto& w = watched_[i];
    boost::json::object o;
    const bool have = i < stop_cpu_.size() && i < start_cpu_.size();
    const double user = have ? stop_cpu_[i].first - start_cpu_[i].first : 0.0;
    const double sys = have ? stop_cpu_[i].second - start_cpu_[i].second : 0.0;
    o["cpu_s"] = user + sys;
    o["user_s"] = user;
    o["sys_s"] = sys;
    const std::string base = "/proc/" + std::to_string(w.pid);
    if (w.tree) {
      // Backends share PostgreSQL's buffers: the proportional set size adds up without counting
      // shared pages once per process.
      long pss = StatusKb(base + "/smaps_rollup", "Pss");
      for (int child : Children(w.pid)) {
        pss += StatusKb("/proc/" + std::to_string(child) + "/smaps_rollup", "Pss");
      }
      o["pss_kb"] = pss;
    } else {
      o["peak_rss_kb"] = StatusKb(base + "/status", "VmHWM");
      o["rss_kb"] = StatusKb(base + "/status", "VmRSS");
      // Without the shared libraries' pages counted once per process: private memory, and the
      // proportional set size (shared pages divided among the processes that map them).
      o["anon_kb"] = StatusKb(base + "/status", "RssAnon");
      o["pss_kb"] = StatusKb(base + "/smaps_rollup", "Pss");
    }
    out[w.label] = std::move(o);
  }
  return out;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace bench
