// The exporter over a real loopback socket: /metrics with the exposition Content-Type,
// /readyz following the readiness callback, 404 elsewhere, 405 for writes.
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace {

// One request on a fresh connection (Connection: close); the whole answer as text.
std::string Fetch(std::uint16_t port, const std::string& method, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("the exporter serves metrics health and readiness") {
  idp::metrics::Registry registry;
  registry.AddCounter("idp_test_total", "A test counter.").WithLabels({}).Inc(5);
  std::atomic<bool> ready{true};
  idp::metrics::Exporter exporter("127.0.0.1:0", registry, [&ready] { return ready.load(); });
  REQUIRE(exporter.port() > 0);

  auto metrics = Fetch(exporter.port(), "GET", "/metrics");
  CHECK(metrics.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(metrics.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(metrics.find("\r\n\r\n# HELP idp_test_total A test counter.\n# TYPE idp_test_total "
                     "counter\nidp_test_total 5\n") != std::string::npos);

  CHECK(Fetch(exporter.port(), "GET", "/healthz").rfind("HTTP/1.1 200", 0) == 0);
  CHECK(Fetch(exporter.port(), "GET", "/readyz").rfind("HTTP/1.1 200", 0) == 0);
  ready = false;
  CHECK(Fetch(exporter.port(), "GET", "/readyz").rfind("HTTP/1.1 503", 0) == 0);
  CHECK(Fetch(exporter.port(), "GET", "/").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(Fetch(exporter.port(), "POST", "/metrics").rfind("HTTP/1.1 405", 0) == 0);
  exporter.Stop();
  exporter.Stop();  // idempotent
}

TEST_CASE("the exporter refuses a malformed address") {
  idp::metrics::Registry registry;
  CHECK_THROWS(idp::metrics::Exporter("no-port", registry, nullptr));
  CHECK_THROWS(idp::metrics::Exporter("127.0.0.1:99999", registry, nullptr));
}
