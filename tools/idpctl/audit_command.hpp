#pragma once
/// @file `idpctl audit`: asks auth, mfa and token for their audit rows and merges them by time.

#include "idp/common/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace idp::idpctl {

struct AuditOptions {
  std::string auth_target, mfa_target, token_target;  ///< host:port of each service
  std::string username;  ///< resolved to a subject through auth
  std::string subject;
  std::string event;     ///< exact name, or a prefix ending in '.'
  std::string since;     ///< a duration back from now: "90s", "15m", "1h", "7d"
  int limit = 100;
  bool json = false;
};

/// "1h" -> 3600 s; nullopt unless digits followed by one of s, m, h, d.
std::optional<std::chrono::seconds> ParseSince(std::string_view text);

/// Runs the command; returns the exit code (0, 1 for a failed call, 2 for bad options).
int RunAudit(const AuditOptions& options);

/// The subject of the account named `username`, asked of auth (FindUser).
Result<std::string> FindSubject(const std::string& auth_target, const std::string& username);

/// What idpctl sends as its user agent, so the services' audit rows show an admin's action as
/// such: "idpctl (<login name>)".
std::string AdminAgent();

}  // namespace idp::idpctl
