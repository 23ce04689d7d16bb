#pragma once
/// @file The small HTTP listener of a service's operations endpoints: GET /metrics (the
/// registry in the exposition format), /healthz (the process answers) and /readyz (the
/// service's own readiness). Plain HTTP on an address of its own, never the gateway's public
/// listener. Beast stays inside exporter.cpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace idp {
class Config;
}

namespace idp::metrics {

class Registry;

/// Serves on one thread of its own until destroyed (or Stop()). Thread-safe.
class Exporter {
 public:
  /// Binds `listen` ("host:port"; port 0 picks a free one) and starts serving. `ready` answers
  /// /readyz (200 when true, 503 otherwise) and must be cheap and thread-safe. Throws
  /// std::runtime_error when the address is malformed or cannot be bound (a startup error).
  Exporter(const std::string& listen, const Registry& registry, std::function<bool()> ready);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Stops accepting and joins the thread. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The exporter configured by `key` (e.g. "auth.metrics_listen"), or null when the key is
/// absent or empty (off). Logs where it listens.
std::unique_ptr<Exporter> StartExporter(const Config& config, const std::string& key,
                                        const Registry& registry, std::function<bool()> ready);

}  // namespace idp::metrics
