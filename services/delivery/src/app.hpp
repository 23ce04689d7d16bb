#pragma once

namespace idp {
class Config;
}

namespace idp::delivery {

/// Builds the delivery service from `config` (the [delivery] keys in docs/operations.md):
/// the Redis outbox, the providers, the dispatcher's worker threads and the gRPC server;
/// serves until SIGTERM, then stops taking calls and lets attempts in progress finish.
/// Throws std::runtime_error on a configuration error (startup is fatal).
int RunApp(const Config& config);

}  // namespace idp::delivery
