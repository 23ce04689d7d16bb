#include "idp/rpc/call_metrics.hpp"

#include "idp/metrics/registry.hpp"

#include <array>
#include <mutex>

namespace idp::rpc {
namespace {

constexpr std::array<std::string_view, 17> kCodes = {
    "OK",           "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",   "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",  "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",      "DATA_LOSS",
    "UNAUTHENTICATED"};
constexpr std::size_t kMaxMethods = 256;

}  // namespace

std::string_view StatusCodeName(int code) {
  if (code < 0 || static_cast<std::size_t>(code) >= kCodes.size()) return "UNKNOWN";
  return kCodes[static_cast<std::size_t>(code)];
}

struct CallMetrics::Method {
  std::string service, method;
  metrics::Histogram* latency = nullptr;
  std::array<std::atomic<metrics::Counter*>, kCodes.size()> by_code{};
};

CallMetrics::CallMetrics(metrics::Registry& registry, Side side)
    : handled_(side == Side::kServer
                   ? registry.AddCounter("idp_grpc_server_handled_total",
                                         "gRPC calls served, by method and status code.",
                                         {"service", "method", "code"})
                   : registry.AddCounter("idp_grpc_client_handled_total",
                                         "gRPC calls made to other services, by method and "
                                         "status code.",
                                         {"service", "method", "code"})),
      seconds_(side == Side::kServer
                   ? registry.AddHistogram("idp_grpc_server_handling_seconds",
                                           "Time to serve a gRPC call, until its status is sent.",
                                           {"service", "method"}, metrics::LatencyBuckets())
                   : registry.AddHistogram("idp_grpc_client_handling_seconds",
                                           "Time from a gRPC call's start to its status, "
                                           "retries included.",
                                           {"service", "method"}, metrics::LatencyBuckets())) {}

CallMetrics::~CallMetrics() = default;

CallMetrics::Method& CallMetrics::Find(std::string_view full_method) {
  {
    std::shared_lock lock(mu_);
    auto it = methods_.find(std::string(full_method));
    if (it != methods_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto it = methods_.find(std::string(full_method));
  if (it != methods_.end()) return *it->second;
  auto m = std::make_unique<Method>();
  std::string_view path = full_method;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  auto slash = path.find('/');
  if (methods_.size() >= kMaxMethods) {
    m->service = m->method = "other";
  } else if (slash == std::string_view::npos) {
    m->service = "unknown";
    m->method = std::string(path);
  } else {
    m->service = std::string(path.substr(0, slash));
    m->method = std::string(path.substr(slash + 1));
  }
  m->latency = &seconds_.WithLabels({m->service, m->method});
  if (methods_.size() >= kMaxMethods) {
    // Every further unknown name shares one entry.
    auto [other, inserted] = methods_.try_emplace("\x01other", std::move(m));
    (void)inserted;
    return *other->second;
  }
  return *methods_.emplace(std::string(full_method), std::move(m)).first->second;
}

void CallMetrics::Record(std::string_view full_method, int code, double seconds) {
  Method& m = Find(full_method);
  auto index = static_cast<std::size_t>(code);
  if (code < 0 || index >= kCodes.size()) index = 2;  // UNKNOWN
  metrics::Counter* counter = m.by_code[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &handled_.WithLabels({m.service, m.method, kCodes[index]});
    m.by_code[index].store(counter, std::memory_order_release);
  }
  counter->Inc();
  m.latency->Observe(seconds);
}

}  // namespace idp::rpc
