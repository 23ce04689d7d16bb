#include "idp/metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <type_traits>

namespace idp::metrics {
namespace {

bool ValidName(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += EscapeHelp(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

/// `{a="x",b="y"` without the closing brace (so that `le` can follow), or "" for no labels.
std::string OpenLabels(const std::vector<std::string>& names,
                       const std::vector<std::string>& values) {
  if (names.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  return out;
}

void Sample(std::string& out, const std::string& name, std::string_view suffix,
            const std::string& open_labels, std::string_view extra, double value) {
  out += name;
  out += suffix;
  if (!open_labels.empty() || !extra.empty()) {
    out += open_labels.empty() ? "{" : open_labels;
    if (!open_labels.empty() && !extra.empty()) out += ',';
    out += extra;
    out += '}';
  }
  out += ' ';
  out += FormatValue(value);
  out += '\n';
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest text that reads back as the same double; integers come out without ".0".
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double v) {
  // The first bound >= v (le is inclusive); past the last bound: the +Inf bucket.
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                    bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

template <class T>
T& Family<T>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != labels_.size()) {
    std::string message = name_;
    message += ": expected ";
    message += std::to_string(labels_.size());
    message += " label values";
    throw std::invalid_argument(message);
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  std::unique_ptr<T> series;
  if constexpr (std::is_same_v<T, Histogram>) {
    series = std::make_unique<Histogram>(bounds_);
  } else {
    series = std::make_unique<T>();
  }
  return *series_.emplace(values, std::move(series)).first->second;
}

template <class T>
void Family<T>::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if constexpr (std::is_same_v<T, Counter>) {
    Header(out, name_, help_, "counter");
    for (const auto& [values, c] : series_) {
      Sample(out, name_, "", OpenLabels(labels_, values), "", c->Value());
    }
  } else if constexpr (std::is_same_v<T, Gauge>) {
    Header(out, name_, help_, "gauge");
    for (const auto& [values, g] : series_) {
      Sample(out, name_, "", OpenLabels(labels_, values), "", g->Value());
    }
  } else {
    Header(out, name_, help_, "histogram");
    for (const auto& [values, h] : series_) {
      const std::string open = OpenLabels(labels_, values);
      const auto snap = h->Snap();
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        std::string le = "le=\"";
        le += i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
        le += '"';
        Sample(out, name_, "_bucket", open, le, static_cast<double>(snap.cumulative[i]));
      }
      Sample(out, name_, "_sum", open, "", snap.sum);
      Sample(out, name_, "_count", open, "", static_cast<double>(snap.count));
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::Claim(const std::string& name, Type type, const std::vector<std::string>& labels) {
  if (!ValidName(name, true)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& l : labels) {
    if (!ValidName(l, false) || l.rfind("__", 0) == 0) {
      throw std::invalid_argument(name + ": invalid label name: " + l);
    }
    if (type == Type::kHistogram && l == "le") {
      throw std::invalid_argument(name + ": a histogram cannot have a label le");
    }
  }
  std::vector<std::string> sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    throw std::invalid_argument(name + ": a label name repeats");
  }
  // A histogram also owns name_bucket, name_sum and name_count.
  std::vector<std::string> claimed{name};
  if (type == Type::kHistogram) {
    for (const char* s : {"_bucket", "_sum", "_count"}) claimed.push_back(name + s);
  }
  for (const auto& c : claimed) {
    if (std::find(names_.begin(), names_.end(), c) != names_.end()) {
      throw std::invalid_argument("metric registered twice: " + c);
    }
  }
  names_.insert(names_.end(), claimed.begin(), claimed.end());
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Claim(name, Type::kCounter, labels);
  counters_.emplace_back(new Family<Counter>(std::move(name), std::move(help), std::move(labels), {}));
  order_.emplace_back(Type::kCounter, counters_.back().get());
  return *counters_.back();
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Claim(name, Type::kGauge, labels);
  gauges_.emplace_back(new Family<Gauge>(std::move(name), std::move(help), std::move(labels), {}));
  order_.emplace_back(Type::kGauge, gauges_.back().get());
  return *gauges_.back();
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> labels,
                                          std::vector<double> bounds) {
  if (bounds.empty()) throw std::invalid_argument(name + ": a histogram needs bucket bounds");
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw std::invalid_argument(name + ": bucket bounds must be finite and increase");
    }
  }
  std::lock_guard lock(mu_);
  Claim(name, Type::kHistogram, labels);
  histograms_.emplace_back(
      new Family<Histogram>(std::move(name), std::move(help), std::move(labels), std::move(bounds)));
  order_.emplace_back(Type::kHistogram, histograms_.back().get());
  return *histograms_.back();
}

void Registry::OnCollect(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

void Registry::AddTextSource(std::function<std::string()> fn) {
  std::lock_guard lock(mu_);
  text_sources_.push_back(std::move(fn));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> collectors;
  std::vector<std::function<std::string()>> sources;
  std::vector<std::pair<Type, void*>> order;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
    sources = text_sources_;
    order = order_;
  }
  for (const auto& c : collectors) c();
  std::string out;
  for (const auto& [type, family] : order) {
    switch (type) {
      case Type::kCounter: static_cast<const Family<Counter>*>(family)->Render(out); break;
      case Type::kGauge: static_cast<const Family<Gauge>*>(family)->Render(out); break;
      case Type::kHistogram: static_cast<const Family<Histogram>*>(family)->Render(out); break;
    }
  }
  for (const auto& s : sources) {
    std::string text = s();
    if (!text.empty() && text.back() != '\n') text += '\n';
    out += text;
  }
  return out;
}

}  // namespace idp::metrics
