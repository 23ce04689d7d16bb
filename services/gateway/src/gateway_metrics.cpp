#include "gateway_metrics.hpp"

#include "idp/metrics/registry.hpp"

#include <string>

namespace idp::gateway {
namespace {

constexpr std::array<std::string_view, 4> kMethodNames = {"GET", "HEAD", "POST", "other"};
constexpr std::array<std::string_view, 5> kClassNames = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::size_t MethodIndex(std::string_view m) {
  if (m == "GET") return 0;
  if (m == "HEAD") return 1;
  if (m == "POST") return 2;
  return 3;
}

}  // namespace

std::size_t RouteIndex(std::string_view path) {
  // Keep in step with Dispatch (gateway.cpp): exact paths, then the two prefixes.
  for (std::size_t i = 0; i < kRouteTemplates.size(); ++i) {
    if (kRouteTemplates[i].find('{') == std::string_view::npos && path == kRouteTemplates[i]) {
      return i;
    }
  }
  auto index_of = [](std::string_view t) {
    for (std::size_t i = 0; i < kRouteTemplates.size(); ++i) {
      if (kRouteTemplates[i] == t) return i;
    }
    return kRouteTemplates.size() - 1;
  };
  if (path.rfind("/account/mfa/", 0) == 0) return index_of("/account/mfa/{action}");
  if (path.rfind("/static/", 0) == 0) return index_of("/static/{file}");
  return kRouteTemplates.size() - 1;  // "other"
}

GatewayMetrics::GatewayMetrics(metrics::Registry& registry)
    : requests_(registry.AddCounter("idp_http_requests_total",
                                    "HTTP requests answered, by route template, method and "
                                    "status class.",
                                    {"route", "method", "status"})),
      seconds_(registry.AddHistogram("idp_http_request_duration_seconds",
                                     "Time to answer an HTTP request (body read to response "
                                     "ready), by route template.",
                                     {"route"}, metrics::LatencyBuckets())),
      limited_(registry.AddCounter("idp_gateway_rate_limited_total",
                                   "Requests refused by a rate limit, by limit.", {"limit"})) {
  for (std::size_t i = 0; i < kRouteTemplates.size(); ++i) {
    latency_[i] = &seconds_.WithLabels({kRouteTemplates[i]});
  }
  // The limits exist from the start, so that a rate of zero is visible.
  for (const char* l : {"login_address", "mfa_send_refused", "mfa_verify"}) limited_.WithLabels({l});
}

void GatewayMetrics::Request(std::string_view path, std::string_view method, int status,
                             double seconds) {
  const std::size_t route = RouteIndex(path);
  const std::size_t m = MethodIndex(method);
  const std::size_t c = status >= 100 && status < 600 ? static_cast<std::size_t>(status / 100 - 1)
                                                      : 4;
  auto& slot = counts_[(route * kMethods + m) * kClasses + c];
  metrics::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &requests_.WithLabels({kRouteTemplates[route], kMethodNames[m], kClassNames[c]});
    slot.store(counter, std::memory_order_release);
  }
  counter->Inc();
  latency_[route]->Observe(seconds);
}

void GatewayMetrics::RateLimited(std::string_view limit) { limited_.WithLabels({limit}).Inc(); }

}  // namespace idp::gateway
