#pragma once
/// @file The `claims` request parameter (OIDC Core §5.5): which claims a client asks for by
/// name, in the ID token and from userinfo, beyond what its scopes give.

#include "idp/common/error.hpp"

#include <set>
#include <string>
#include <string_view>

namespace idp::oauth {

struct ClaimsRequest {
  std::set<std::string> userinfo;  ///< supported claim names asked for from userinfo
  std::set<std::string> id_token;  ///< supported claim names asked for in the ID token
  /// acr asked for (in either member) with "value"/"values" (OIDC Core §5.5.1.1).
  std::set<std::string> acr_values;
  bool acr_essential = false;
};

/// The standard claims this provider can return (OIDC Core §5.1, the ones it stores).
const std::set<std::string>& SupportedUserClaims();

/// Parses the parameter's JSON. Members other than userinfo and id_token, and claims this
/// provider does not know, are ignored as §5.5 says; a value that is not JSON, or members that
/// are not objects, or claim requests that are neither null nor objects, are kInvalidArgument.
[[nodiscard]] Result<ClaimsRequest> ParseClaimsRequest(std::string_view json);

}  // namespace idp::oauth
