// The origin our hosted pages post from, as browsers serialise it (RFC 6454 §6.1).
#include "context.hpp"

#include <catch2/catch.hpp>

using idp::gateway::OriginOf;

TEST_CASE("the issuer's origin: scheme and host and a port other than the default in lower case") {
  CHECK(OriginOf("http://localhost:8080") == "http://localhost:8080");
  CHECK(OriginOf("https://Login.Example.COM") == "https://login.example.com");
  CHECK(OriginOf("https://login.example.com:443/idp") == "https://login.example.com");
  CHECK(OriginOf("http://login.example.com:80") == "http://login.example.com");
  CHECK(OriginOf("https://login.example.com:8443/a/b") == "https://login.example.com:8443");
  CHECK(OriginOf("http://[::1]:8080") == "http://[::1]:8080");
  CHECK(OriginOf("not a url") == "");
}
