#pragma once

namespace idp {
class Config;
}

namespace idp::mfa {

/// Builds the mfa service from `config`, migrates schema `mfa`, serves gRPC until SIGTERM.
int RunApp(const Config& config);

}  // namespace idp::mfa
