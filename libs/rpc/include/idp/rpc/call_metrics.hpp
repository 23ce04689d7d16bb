#pragma once
/// @file Counts and times gRPC calls by method and status code, on either side of the wire:
/// idp_grpc_server_handled_total / idp_grpc_server_handling_seconds (GrpcServer, through a
/// server interceptor) and idp_grpc_client_handled_total / idp_grpc_client_handling_seconds
/// (MakeChannel, through a client interceptor).

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace idp::metrics {
class Counter;
class Histogram;
template <class T>
class Family;
class Registry;
}  // namespace idp::metrics

namespace idp::rpc {

/// One side's families in a registry. Thread-safe; create one per side per registry (the
/// constructor registers the families) and share it between servers or channels.
class CallMetrics {
 public:
  enum class Side { kServer, kClient };
  CallMetrics(metrics::Registry& registry, Side side);
  ~CallMetrics();

  /// Records a finished call: `full_method` is gRPC's "/package.Service/Method", `code` a
  /// grpc::StatusCode. The series of a method are looked up once; past 256 distinct methods
  /// (a peer probing names) new ones count as service "other", method "other".
  void Record(std::string_view full_method, int code, double seconds);

 private:
  struct Method;
  Method& Find(std::string_view full_method);

  metrics::Family<metrics::Counter>& handled_;
  metrics::Family<metrics::Histogram>& seconds_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Method>> methods_;
};

/// The canonical name of a grpc::StatusCode ("OK", "UNAVAILABLE", ...); "UNKNOWN" past the range.
std::string_view StatusCodeName(int code);

}  // namespace idp::rpc
