#pragma once
/// @file The gateway's own metrics: HTTP requests by route template (never the raw path, whose
/// values are unbounded), method and status class, their latency, and rate-limit refusals. The
/// outgoing gRPC calls are counted by rpc::CallMetrics on the upstream channels.

#include <array>
#include <atomic>
#include <cstddef>
#include <string_view>

namespace idp::metrics {
class Counter;
class Histogram;
template <class T>
class Family;
class Registry;
}  // namespace idp::metrics

namespace idp::gateway {

/// The route templates Dispatch serves (gateway.cpp), and "other" for everything else.
inline constexpr std::array<std::string_view, 26> kRouteTemplates = {
    "/.well-known/openid-configuration", "/jwks", "/authorize", "/login", "/logout", "/token",
    "/revoke", "/introspect", "/end_session", "/userinfo", "/mfa", "/mfa/enrol", "/account/mfa",
    "/account/mfa/{action}", "/consent", "/select-account", "/account/sessions",
    "/account/password", "/password/forgot", "/password/reset", "/", "/healthz", "/readyz",
    "/favicon.ico", "/static/{file}", "other"};

/// The index in kRouteTemplates of the template `path` falls under.
std::size_t RouteIndex(std::string_view path);

/// Thread-safe; series are looked up once and kept.
class GatewayMetrics {
 public:
  explicit GatewayMetrics(metrics::Registry& registry);

  /// One request served: idp_http_requests_total{route,method,status} and
  /// idp_http_request_duration_seconds{route}.
  void Request(std::string_view path, std::string_view method, int status, double seconds);
  /// A request refused by a limit (idp_gateway_rate_limited_total{limit}): "login_address"
  /// (failed passwords per source address), "mfa_send_refused" (delivery refused a code),
  /// "mfa_verify" (a person locked after wrong codes).
  void RateLimited(std::string_view limit);

 private:
  static constexpr std::size_t kMethods = 4;  // GET, HEAD, POST, other
  static constexpr std::size_t kClasses = 5;  // 1xx .. 5xx
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& seconds_;
  metrics::Family<metrics::Counter>& limited_;
  std::array<metrics::Histogram*, kRouteTemplates.size()> latency_{};
  std::array<std::atomic<metrics::Counter*>, kRouteTemplates.size() * kMethods * kClasses>
      counts_{};
};

}  // namespace idp::gateway
