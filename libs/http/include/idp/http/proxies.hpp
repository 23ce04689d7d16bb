#pragma once
/// @file Which peers may speak for the client: a reverse proxy in front of the gateway passes
/// the client's address and scheme in X-Forwarded-For and X-Forwarded-Proto, and those headers
/// are believed only from the configured proxy addresses (anyone else could forge them).

#include "idp/common/error.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idp::http {

class TrustedProxies {
 public:
  /// Parses addresses and CIDR blocks ("10.0.0.0/8", "::1", "192.168.1.7"); kInvalidArgument
  /// naming the first that is neither. An empty list trusts no one.
  [[nodiscard]] static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool empty() const { return v4_.empty() && v6_.empty(); }
  /// True when `address` (IPv4, IPv6, or IPv4-mapped IPv6) is one of the proxies.
  bool Contains(std::string_view address) const;

  /// The client's address: `peer` itself unless `peer` is a proxy; then X-Forwarded-For is read
  /// from the right, skipping proxies, and the first other address is the client (the
  /// leftmost when every hop is a proxy). Malformed entries end the walk at the last good one.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct V4 { unsigned long net; unsigned long mask; };
  struct V6 { unsigned char net[16]; int prefix; };
  std::vector<V4> v4_;
  std::vector<V6> v6_;
};

/// How addresses are grouped for rate limits: one attacker rotating through the addresses of
/// one network (an IPv6 /64 is one host's, a /48 one site's) shares their limits.
struct NetworkPrefixes {
  int v4 = 24;     ///< IPv4: the network of many hosts behind one provider
  int v6_host = 64;  ///< IPv6: the prefix one host (or one LAN) gets
  int v6_site = 48;  ///< IPv6: the prefix one site gets
};

/// The keys a per-address limit counts `address` under, as text: for IPv4 (IPv4-mapped IPv6
/// included) the address itself and its network ("203.0.113.7", "203.0.113.0/24"); for IPv6
/// the host prefix and the site prefix ("2001:db8:1:2::/64", "2001:db8:1::/48"), since one
/// host can use any address of its /64. The first is the "address" key, the second the
/// "network" key. An unparseable `address` gives itself twice.
std::pair<std::string, std::string> LimitKeys(std::string_view address,
                                              const NetworkPrefixes& prefixes = {});

}  // namespace idp::http
