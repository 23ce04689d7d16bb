#include "idp/http/proxies.hpp"

#include <catch2/catch.hpp>

using idp::http::TrustedProxies;

TEST_CASE("trusted proxies: CIDR blocks for IPv4 and IPv6") {
  auto p = TrustedProxies::Parse({"10.0.0.0/8", "192.168.1.7", "fd00::/8", " ::1 "});
  REQUIRE(p.has_value());
  CHECK(p->Contains("10.200.3.4"));
  CHECK_FALSE(p->Contains("11.0.0.1"));
  CHECK(p->Contains("192.168.1.7"));
  CHECK_FALSE(p->Contains("192.168.1.8"));
  CHECK(p->Contains("::ffff:10.1.2.3"));  // IPv4-mapped
  CHECK(p->Contains("fd12::1"));
  CHECK(p->Contains("::1"));
  CHECK_FALSE(p->Contains("fe80::1"));
  CHECK_FALSE(p->Contains("not an address"));
  CHECK_FALSE(TrustedProxies::Parse({"10.0.0.0/33"}).has_value());
  CHECK_FALSE(TrustedProxies::Parse({"proxy.example.com"}).has_value());
  CHECK(TrustedProxies::Parse({}).value().empty());
}

TEST_CASE("X-Forwarded-For is believed only from proxies and read from the right") {
  auto p = TrustedProxies::Parse({"10.0.0.0/8"}).value();
  // A direct client cannot choose its address.
  CHECK(p.ClientAddress("203.0.113.9", "1.2.3.4") == "203.0.113.9");
  // Through one proxy.
  CHECK(p.ClientAddress("10.0.0.2", "198.51.100.7") == "198.51.100.7");
  // A client that sends its own forged header first: the proxy appended the real address.
  CHECK(p.ClientAddress("10.0.0.2", "1.2.3.4, 198.51.100.7") == "198.51.100.7");
  // Two proxies of ours in a row.
  CHECK(p.ClientAddress("10.0.0.2", "198.51.100.7, 10.0.0.3") == "198.51.100.7");
  // Garbage stops the walk at the last good hop; no header leaves the proxy's own address.
  CHECK(p.ClientAddress("10.0.0.2", "nonsense") == "10.0.0.2");
  CHECK(p.ClientAddress("10.0.0.2", "") == "10.0.0.2");
  CHECK(p.ClientAddress("10.0.0.2", "2001:db8::1") == "2001:db8::1");
}

TEST_CASE("addresses are grouped for limits: IPv4 by address and /24, IPv6 by /64 and /48") {
  using idp::http::LimitKeys;
  CHECK(LimitKeys("203.0.113.7") == std::pair<std::string, std::string>{"203.0.113.7", "203.0.113.0/24"});
  CHECK(LimitKeys("::ffff:203.0.113.7") == LimitKeys("203.0.113.7"));  // IPv4-mapped
  CHECK(LimitKeys("2001:db8:1:2:aaaa::1").first == "2001:db8:1:2::/64");
  CHECK(LimitKeys("2001:db8:1:2:bbbb::9").first == LimitKeys("2001:db8:1:2:aaaa::1").first);
  CHECK(LimitKeys("2001:db8:1:3::1").first != LimitKeys("2001:db8:1:2::1").first);  // two /64s
  CHECK(LimitKeys("2001:db8:1:3::1").second == "2001:db8:1::/48");
  CHECK(LimitKeys("2001:db8:1:3::1").second == LimitKeys("2001:db8:1:2::1").second);
  idp::http::NetworkPrefixes narrow{28, 56, 40};
  CHECK(LimitKeys("203.0.113.77", narrow).second == "203.0.113.64/28");
  CHECK(LimitKeys("2001:db8:1:2ff::1", narrow).first == "2001:db8:1:200::/56");
  CHECK(LimitKeys("not an address") == std::pair<std::string, std::string>{"not an address", "not an address"});
}
