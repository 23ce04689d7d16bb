#include "idp/http/server.hpp"

#include "idp/common/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using idp::http::Request;
using idp::http::Response;
using idp::http::Server;
using idp::http::ServerOptions;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;  // 0: no answer (closed, timed out or unparsable)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

// A blocking loopback client speaking raw HTTP. POSIX sockets rather than Asio's sync socket:
// SO_RCVTIMEO bounds every read, so a broken server fails the test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{};
    tv.tv_sec = 5;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads one response; `head` when it answers a HEAD (no body despite Content-Length).
  Reply Read(bool head = false) {
    Reply reply;
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    const std::string block = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    std::size_t pos = block.find("\r\n");
    const std::string status_line = block.substr(0, pos);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return reply;
    const int status = std::stoi(status_line.substr(9, 3));
    std::size_t length = 0;
    for (pos += 2; pos < block.size();) {
      const std::size_t eol = block.find("\r\n", pos);
      const std::string line = block.substr(pos, eol - pos);
      pos = eol + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) return reply;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") length = std::stoul(value);
      reply.headers.emplace_back(std::move(name), std::move(value));
    }
    if (!head) {
      while (buffer_.size() < length) {
        if (!Fill()) return reply;
      }
      reply.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    }
    reply.status = status;
    return reply;
  }

  /// Sends `request` and reads the response.
  Reply Exchange(std::string_view request, bool head = false) {
    if (!Send(request)) return {};
    return Read(head);
  }

  /// True when the server closed the connection (EOF or reset) within the receive timeout.
  bool ClosedByServer() {
    char c = 0;
    for (;;) {
      const ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

boost::asio::awaitable<Response> Echo(Request& req) {
  if (req.path == "/throw") throw std::runtime_error("boom");
  if (req.path == "/wait") {
    // Proves that a handler may suspend: the session waits for it on its strand.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, 300ms);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  std::string body = "method=" + req.method + "\npath=" + req.path + "\nquery=" + req.query +
                     "\nx-test=" + std::string(req.Header("x-test").value_or("")) +
                     "\nrequest_id=" + req.request_id + "\nremote=" + req.remote_addr +
                     "\nbody=" + req.body + "\n";
  co_return Response::Text(200, std::move(body));
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.port = 0;
  options.max_target = 256;
  options.max_header = 1024;
  options.max_body = 1024;
  options.read_timeout = 5s;
  options.idle_timeout = 5s;
  return options;
}

// A server on an ephemeral port, its io_context run by one background thread.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = TestOptions())
      : server_(ioc_, std::move(options), Echo) {
    server_.Start();
    runner_ = std::async(std::launch::async, [this] { ioc_.run(); });
  }
  ~TestServer() {
    server_.Stop();
    if (!StoppedWithin(5s)) ioc_.stop();
    runner_.wait();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return server_.port(); }
  void Stop() { server_.Stop(); }
  bool StoppedWithin(std::chrono::seconds limit) {
    return runner_.wait_for(limit) == std::future_status::ready;
  }

 private:
  boost::asio::io_context ioc_;
  Server server_;
  std::future<void> runner_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

bool ServesNewConnection(std::uint16_t port) {
  Client client(port);
  const Reply reply = client.Exchange(Get("/alive", "Connection: close\r\n"));
  return reply.status == 200 && reply.body.find("path=/alive\n") != std::string::npos;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("GET requests share one keep-alive connection") {
  TestServer server;
  REQUIRE(server.port() != 0);
  Client client(server.port());
  REQUIRE(client.connected());

  const Reply first = client.Exchange(Get("/a%20b/c+d?x=1&y=%2F", "X-Test: hello\r\n"));
  REQUIRE(first.status == 200);
  CHECK(first.Header("content-type") == "text/plain;charset=utf-8");
  CHECK(first.Header("content-length") == std::to_string(first.body.size()));
  CHECK(first.Header("date").has_value());
  CHECK(Contains(first.body, "method=GET\n"));
  CHECK(Contains(first.body, "path=/a b/c+d\n"));
  CHECK(Contains(first.body, "query=x=1&y=%2F\n"));
  CHECK(Contains(first.body, "x-test=hello\n"));
  CHECK(Contains(first.body, "remote=127.0.0.1\n"));
  CHECK(first.Header("connection") != "close");

  // The same socket serves a second request, which asks to close.
  const Reply second = client.Exchange(Get("/second", "Connection: close\r\n"));
  REQUIRE(second.status == 200);
  CHECK(Contains(second.body, "path=/second\n"));
  CHECK(second.Header("connection") == "close");
  CHECK(client.ClosedByServer());
}

TEST_CASE("HEAD answers with the length of the GET body but no body") {
  TestServer server;
  Client client(server.port());
  const Reply head = client.Exchange("HEAD /h HTTP/1.1\r\nHost: test\r\n\r\n", /*head=*/true);
  REQUIRE(head.status == 200);
  CHECK(head.Header("content-length") != "0");
  // The connection is still in step: no stray body bytes precede the next answer.
  const Reply next = client.Exchange(Get("/after-head"));
  REQUIRE(next.status == 200);
  CHECK(Contains(next.body, "path=/after-head\n"));
}

TEST_CASE("POST bodies reach the handler") {
  TestServer server;
  Client client(server.port());

  SECTION("with Content-Length") {
    const Reply reply = client.Exchange(
        "POST /token HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 29\r\n\r\ngrant_type=authorization_code");
    REQUIRE(reply.status == 200);
    CHECK(Contains(reply.body, "method=POST\n"));
    CHECK(Contains(reply.body, "body=grant_type=authorization_code\n"));
  }
  SECTION("chunked") {
    const Reply reply = client.Exchange(
        "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    REQUIRE(reply.status == 200);
    CHECK(Contains(reply.body, "body=hello world\n"));
  }
  SECTION("after Expect: 100-continue") {
    REQUIRE(client.Send(
        "POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
    const Reply interim = client.Read();
    REQUIRE(interim.status == 100);
    const Reply reply = client.Exchange("ping");
    REQUIRE(reply.status == 200);
    CHECK(Contains(reply.body, "body=ping\n"));
  }
}

TEST_CASE("requests over the limits get 413 or 431 or 414 and the server keeps serving") {
  TestServer server;  // max_target 256, max_header 1024, max_body 1024
  int expected = 0;
  std::string request;

  SECTION("body over max_body, announced by Content-Length") {
    request = "POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 2000\r\n\r\n" +
              std::string(2000, 'x');
    expected = 413;
  }
  SECTION("large body over max_body, refused before it is read") {
    // The server answers before reading most of this body.
    request = "POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 200000\r\n\r\n" +
              std::string(200000, 'x');
    expected = 413;
  }
  SECTION("chunked body over max_body") {
    request = "POST /b HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" +
              std::string(2000, 'x') + "\r\n0\r\n\r\n";
    expected = 413;
  }
  SECTION("header block just over max_header") {
    request = Get("/", "X-Pad: " + std::string(1100, 'p') + "\r\n");
    expected = 431;
  }
  SECTION("header block far over max_header") {
    request = Get("/", "X-Pad: " + std::string(20000, 'p') + "\r\n");
    expected = 431;
  }
  SECTION("target just over max_target") {
    request = Get("/" + std::string(300, 't'));
    expected = 414;
  }
  SECTION("target far over max_target") {
    request = Get("/?q=" + std::string(20000, 't'));
    expected = 414;
  }

  Client client(server.port());
  const Reply reply = client.Exchange(request);
  CHECK(reply.status == expected);
  CHECK(reply.Header("content-type") == "text/plain;charset=utf-8");
  CHECK_FALSE(reply.body.empty());
  CHECK(reply.Header("connection") == "close");
  CHECK(client.ClosedByServer());
  CHECK(ServesNewConnection(server.port()));
}

TEST_CASE("malformed requests get 400 and the server keeps serving") {
  TestServer server;
  std::string request;

  SECTION("garbage") { request = "HELLO\r\n\r\n"; }
  SECTION("bad percent-escape in the path") { request = Get("/a%ZZ"); }
  SECTION("invalid UTF-8 in the path") { request = Get("/%C3%28"); }
  SECTION("target not in origin-form") { request = Get("*"); }
  SECTION("bad chunk size") {
    request = "POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
  }

  Client client(server.port());
  const Reply reply = client.Exchange(request);
  CHECK(reply.status == 400);
  CHECK_FALSE(reply.body.empty());
  CHECK(client.ClosedByServer());
  CHECK(ServesNewConnection(server.port()));
}

TEST_CASE("a handler that throws gets a 500 and the connection keeps serving") {
  TestServer server;
  Client client(server.port());
  const Reply failed = client.Exchange(Get("/throw"));
  REQUIRE(failed.status == 500);
  CHECK(failed.body == "internal error\n");
  CHECK(failed.Header("x-request-id").has_value());

  const Reply next = client.Exchange(Get("/fine"));
  REQUIRE(next.status == 200);
  CHECK(Contains(next.body, "path=/fine\n"));
  CHECK(ServesNewConnection(server.port()));
}

TEST_CASE("X-Request-Id is echoed when valid and replaced when not") {
  TestServer server;
  Client client(server.port());

  const Reply kept = client.Exchange(Get("/", "X-Request-Id: abc-123.x_y\r\n"));
  REQUIRE(kept.status == 200);
  CHECK(kept.Header("x-request-id") == "abc-123.x_y");
  CHECK(Contains(kept.body, "request_id=abc-123.x_y\n"));

  const Reply replaced = client.Exchange(Get("/", "X-Request-Id: bad id!\r\n"));
  REQUIRE(replaced.status == 200);
  const auto id = replaced.Header("x-request-id");
  REQUIRE(id.has_value());
  CHECK(*id != "bad id!");
  CHECK(idp::log::IsValidRequestId(*id));
  CHECK(Contains(replaced.body, "request_id=" + *id + "\n"));

  const Reply generated = client.Exchange(Get("/"));
  REQUIRE(generated.Header("x-request-id").has_value());
  CHECK(generated.Header("x-request-id") != id);
}

TEST_CASE("a connection that sends nothing is closed after read_timeout") {
  ServerOptions options = TestOptions();
  options.read_timeout = 1s;
  TestServer server(options);
  Client client(server.port());
  REQUIRE(client.connected());
  const auto start = std::chrono::steady_clock::now();
  CHECK(client.ClosedByServer());
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
}

TEST_CASE("Stop() closes idle connections and lets the io_context finish") {
  ServerOptions options = TestOptions();
  options.idle_timeout = 60s;  // longer than the client's receive timeout: only Stop() closes
  TestServer server(options);
  const std::uint16_t port = server.port();
  Client idle(port);
  REQUIRE(idle.Exchange(Get("/")).status == 200);  // now waiting in keep-alive

  server.Stop();
  CHECK(idle.ClosedByServer());
  CHECK(server.StoppedWithin(5s));
  Client late(port);
  CHECK_FALSE(late.connected());
}

TEST_CASE("Stop() lets a request in flight finish and then closes its connection") {
  TestServer server;
  Client client(server.port());
  REQUIRE(client.Send(Get("/wait")));
  std::this_thread::sleep_for(100ms);  // the handler is now waiting on its timer
  server.Stop();

  const Reply reply = client.Read();
  CHECK(reply.status == 200);
  CHECK(Contains(reply.body, "path=/wait\n"));
  CHECK(reply.Header("connection") == "close");
  CHECK(client.ClosedByServer());
  CHECK(server.StoppedWithin(5s));
}

TEST_CASE("a Server can be destroyed after its io_context stopped with open connections") {
  auto ioc = std::make_unique<boost::asio::io_context>();
  auto server = std::make_unique<Server>(*ioc, TestOptions(), Echo);
  server->Start();
  std::thread runner([&ioc] { ioc->run(); });
  Client idle(server->port());
  REQUIRE(idle.Exchange(Get("/")).status == 200);
  Client busy(server->port());
  REQUIRE(busy.Send(Get("/wait")));
  std::this_thread::sleep_for(100ms);  // the handler is suspended on its timer

  ioc->stop();
  runner.join();
  server.reset();
  ioc.reset();  // destroys the suspended sessions, which close their sockets
  CHECK(idle.ClosedByServer());
  CHECK(busy.ClosedByServer());
}
