#pragma once

namespace idp {
class Config;
}

namespace idp::gateway {

/// Builds the gateway from `config` and serves HTTP until SIGTERM.
int RunApp(const Config& config);

}  // namespace idp::gateway
