#pragma once
/// @file Helpers shared by the store tests: the servers under test come from the environment
/// (a missing variable fails the test, it never skips), names get a random suffix.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <string>

namespace idp::store::test {

/// The value of environment variable `name`; fails the current test when unset or empty.
inline std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  INFO(name << " must be set (source <(bash scripts/test-services.sh env))");
  REQUIRE(value != nullptr);
  REQUIRE(*value != '\0');
  return value;
}

/// 12 random lowercase hex characters, for schema names and key prefixes.
inline std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += kHex[rng() % 16];
  return out;
}

/// A loopback TCP port with nothing listening on it (bound to port 0, then closed).
inline int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// `dsn` (a postgresql:// URL) with one more query parameter.
inline std::string WithParam(const std::string& dsn, const std::string& param) {
  return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + param;
}

}  // namespace idp::store::test
