#include "metrics.hpp"

#include <iterator>
#include <sstream>

namespace idp::delivery {
namespace {

std::string Label(std::string_view v) {
  // Label values here are our own words and ISO codes; escape anyway (exposition format).
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Sent(Channel channel, std::string_view country) {
  std::lock_guard lock(mu_);
  ++counters_[{"sent", std::string(ChannelName(channel)), std::string(country)}];
}

void Metrics::Retried(Channel channel, std::string_view country) {
  std::lock_guard lock(mu_);
  ++counters_[{"retried", std::string(ChannelName(channel)), std::string(country)}];
}

void Metrics::Failed(Channel channel, std::string_view country) {
  std::lock_guard lock(mu_);
  ++counters_[{"failed", std::string(ChannelName(channel)), std::string(country)}];
}

void Metrics::Refused(Channel channel, Refusal why) {
  std::lock_guard lock(mu_);
  ++refused_[{std::string(ChannelName(channel)), std::string(RefusalName(why))}];
}

void Metrics::ProviderLatency(std::string_view provider, std::chrono::steady_clock::duration d) {
  const double secs = std::chrono::duration<double>(d).count();
  std::lock_guard lock(mu_);
  auto& h = latency_[std::string(provider)];
  for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
    if (secs <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += secs;
}

std::int64_t Metrics::Count(std::string_view kind, Channel channel,
                            std::string_view country) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find({std::string(kind), std::string(ChannelName(channel)),
                            std::string(country)});
  return it == counters_.end() ? 0 : it->second;
}

std::string Metrics::Render(const QueueDepth* depth) const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  for (const char* kind : {"sent", "retried", "failed"}) {
    out << "# HELP idp_delivery_" << kind << "_total Messages " << kind
        << " by this instance.\n# TYPE idp_delivery_" << kind << "_total counter\n";
    for (const auto& [key, value] : counters_) {
      if (std::get<0>(key) != kind) continue;
      out << "idp_delivery_" << kind << "_total{channel=\"" << Label(std::get<1>(key))
          << "\",country=\"" << Label(std::get<2>(key)) << "\"} " << value << "\n";
    }
  }
  out << "# HELP idp_delivery_refused_total Send calls refused by a guard.\n"
         "# TYPE idp_delivery_refused_total counter\n";
  for (const auto& [key, value] : refused_) {
    out << "idp_delivery_refused_total{channel=\"" << Label(key.first) << "\",reason=\""
        << Label(key.second) << "\"} " << value << "\n";
  }
  if (depth != nullptr) {
    out << "# HELP idp_delivery_queue_depth Messages in the shared outbox by queue.\n"
           "# TYPE idp_delivery_queue_depth gauge\n"
        << "idp_delivery_queue_depth{queue=\"ready\"} " << depth->ready << "\n"
        << "idp_delivery_queue_depth{queue=\"in_flight\"} " << depth->in_flight << "\n"
        << "idp_delivery_queue_depth{queue=\"retry\"} " << depth->retry << "\n"
        << "idp_delivery_queue_depth{queue=\"dead\"} " << depth->dead << "\n";
  }
  out << "# HELP idp_delivery_provider_latency_seconds Provider call duration.\n"
         "# TYPE idp_delivery_provider_latency_seconds histogram\n";
  for (const auto& [provider, h] : latency_) {
    const std::string p = Label(provider);
    for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
      out << "idp_delivery_provider_latency_seconds_bucket{provider=\"" << p << "\",le=\""
          << kBuckets[i] << "\"} " << h.buckets[i] << "\n";
    }
    out << "idp_delivery_provider_latency_seconds_bucket{provider=\"" << p << "\",le=\"+Inf\"} "
        << h.count << "\n"
        << "idp_delivery_provider_latency_seconds_sum{provider=\"" << p << "\"} " << h.sum
        << "\n"
        << "idp_delivery_provider_latency_seconds_count{provider=\"" << p << "\"} " << h.count
        << "\n";
  }
  return out.str();
}

}  // namespace idp::delivery
