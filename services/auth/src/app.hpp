#pragma once

namespace idp {
class Config;
}

namespace idp::auth {

/// Builds the auth service from `config`, migrates schema `auth`, serves gRPC until SIGTERM.
int RunApp(const Config& config);

}  // namespace idp::auth
