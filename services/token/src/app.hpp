#pragma once

namespace idp {
class Config;
}

namespace idp::token {

/// Builds the token service from `config`, migrates schema `token`, makes sure signing keys
/// exist, serves gRPC until SIGTERM.
int RunApp(const Config& config);

}  // namespace idp::token
