#pragma once
/// @file Where a call came from: the browser's source address and user agent as the gateway saw
/// them. The gateway sends them as gRPC metadata on its upstream calls; a service's rpc::Serve
/// makes them the thread's current origin for the duration of the call, for the audit log.

#include <string>
#include <string_view>

namespace idp {

/// gRPC metadata keys (lower-case, as gRPC requires).
inline constexpr std::string_view kClientAddrKey = "x-idp-client-addr";
inline constexpr std::string_view kUserAgentKey = "x-idp-user-agent";
/// The OAuth client the browser is signing in to, when the gateway knows it.
inline constexpr std::string_view kClientIdKey = "x-idp-client-id";

/// Longest source address kept (an IPv6 address with zone fits).
inline constexpr std::size_t kMaxClientAddrLength = 64;
/// Longest user agent kept.
inline constexpr std::size_t kMaxUserAgentLength = 256;
/// Longest client id kept.
inline constexpr std::size_t kMaxClientIdLength = 128;

struct CallOrigin {
  std::string client_addr;  ///< "" when unknown (an idpctl call, or a direct caller)
  std::string user_agent;   ///< "" when unknown
  std::string client_id;    ///< the client of the sign-in in progress, "" when none
};

/// `value` cut to `max_length` bytes (never inside a UTF-8 sequence) with every control
/// character (C0, DEL) removed, so that it is safe to store and to print.
std::string SanitizeOriginField(std::string_view value, std::size_t max_length);

/// Makes `origin` the thread's current origin until destroyed (then restores the previous one).
class ScopedCallOrigin {
 public:
  explicit ScopedCallOrigin(CallOrigin origin);
  ~ScopedCallOrigin();
  ScopedCallOrigin(const ScopedCallOrigin&) = delete;
  ScopedCallOrigin& operator=(const ScopedCallOrigin&) = delete;

 private:
  CallOrigin previous_;
};

/// The current thread's origin (both fields empty outside a call).
const CallOrigin& CurrentCallOrigin();

}  // namespace idp
