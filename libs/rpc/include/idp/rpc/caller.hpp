#pragma once
/// @file Who an outbound call is made for: the request id and, for calls the gateway makes on a
/// browser's behalf, the browser's source address and user agent (sent as metadata, see
/// idp/common/call_origin.hpp). Holds views only: the viewed strings must outlive the call.

#include <string>
#include <string_view>

namespace idp::rpc {

struct Caller {
  std::string_view request_id;
  std::string_view client_addr;  ///< "" when the call is not made for a browser
  std::string_view user_agent;
  std::string_view client_id;    ///< the client of the sign-in in progress, "" when none

  // Implicit on purpose: a bare request id is a Caller without an origin.
  Caller(std::string_view rid) : request_id(rid) {}               // NOLINT
  Caller(const std::string& rid) : request_id(rid) {}             // NOLINT
  Caller(const char* rid) : request_id(rid) {}                    // NOLINT
  Caller(std::string_view rid, std::string_view addr, std::string_view agent)
      : request_id(rid), client_addr(addr), user_agent(agent) {}
};

}  // namespace idp::rpc
