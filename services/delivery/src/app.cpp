#include "app.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/delivery/v1/delivery.grpc.pb.h"
#include "idp/rpc/server.hpp"

namespace idp::delivery {

int RunApp(const Config& config) {
  // The generated base class answers UNIMPLEMENTED for every RPC: honest until the delivery
  // issue implements them.
  v1::DeliveryService::Service service;
  rpc::GrpcServer server({config.GetString("delivery.listen", "127.0.0.1:7003"),
                          static_cast<int>(config.GetInt("delivery.max_threads", 16))},
                         {&service});
  log::Info("serving", {{"port", server.port()}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  return 0;
}

}  // namespace idp::delivery
