#pragma once
/// @file `idpctl sessions list|revoke`: a person's SSO sessions. The gateway owns them (Redis keys
/// "gw:"); idpctl uses the gateway's own session store code to find and delete them, and asks
/// the token service to revoke each session's grants first (which also sends back-channel
/// logout to the applications), exactly as signing out does.

#include <string>

namespace idp {
class Config;
}

namespace idp::idpctl {

struct SessionsOptions {
  std::string auth_target, token_target;  ///< host:port
  std::string username;  ///< resolved to a subject through auth
  std::string subject;
  bool revoke = false;   ///< false: list
  bool json = false;
};

/// Runs the command; returns the exit code (0, 1 for a failed call, 2 for bad options).
int RunSessions(const SessionsOptions& options, const Config& config);

}  // namespace idp::idpctl
