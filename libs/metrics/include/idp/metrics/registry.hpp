#pragma once
/// @file Prometheus metrics without a client library (Debian 12 ships none for C++): counters,
/// gauges and histograms with labels, rendered in the text exposition format 0.0.4.
///
/// Register families once at startup (names are checked then; a bad name throws), look a
/// series up once with WithLabels() and keep the reference: it stays valid for the registry's
/// life, and updating it is a few relaxed atomic operations, safe from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace idp::metrics {

/// A value that only goes up (resets on restart). Thread-safe, lock-free.
class Counter {
 public:
  /// Adds `v` (must be >= 0; a negative value is ignored).
  void Inc(double v = 1) {
    if (v >= 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Observations counted into fixed buckets. Thread-safe, lock-free. The rendered `_count` and
/// `+Inf` bucket come from one snapshot of the buckets, so they always agree.
class Histogram {
 public:
  /// `bounds`: the finite upper bounds, strictly increasing (checked by the registry).
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  ///< one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Snap() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  ///< per bucket (not cumulative), + Inf
  std::atomic<double> sum_{0};
};

/// Latency buckets in seconds, from 1 ms to 10 s.
std::vector<double> LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

/// The series of one metric name, one per combination of label values.
template <class T>
class Family {
 public:
  /// The series with these label values (as many as the family's label names, in order),
  /// created on first use. Takes a mutex: call once and keep the reference. A wrong number
  /// of values throws std::invalid_argument.
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::vector<std::string>(values.begin(), values.end()));
  }
  T& WithLabels(const std::vector<std::string>& values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  void Render(std::string& out) const;

  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  ///< histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

/// Every family of a process, and what renders them. Thread-safe.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers a family. Throws std::invalid_argument on an invalid metric or label name
  /// ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':' and not starting "__", no "le" on a
  /// histogram), on a name already registered, or on bucket bounds that do not increase.
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds);

  /// Runs `fn` at the start of every Render(), e.g. to set gauges read from a pool. `fn` must
  /// not call Render(); it may be copied and may run on two threads at once (keep any state
  /// behind a shared pointer and a lock).
  void OnCollect(std::function<void()> fn);
  /// Appends text produced elsewhere in the exposition format (families of its own names).
  void AddTextSource(std::function<std::string()> fn);

  /// The exposition text (Content-Type: text/plain; version=0.0.4), families in registration
  /// order, series sorted by label values.
  std::string Render() const;

 private:
  void Claim(const std::string& name, Type type, const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::vector<std::string> names_;
  std::vector<std::pair<Type, void*>> order_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::function<void()>> collectors_;
  std::vector<std::function<std::string()>> text_sources_;
};

/// The exposition format's escaping of a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view v);
/// A sample value as the exposition format writes it ("+Inf", "NaN", integers without ".0").
std::string FormatValue(double v);

/// The Content-Type of Render()'s text.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace idp::metrics
