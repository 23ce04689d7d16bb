#pragma once
/// @file The gateway's HTTP/1.1 server (Boost.Beast, C++20 coroutines). Only server.cpp includes
/// Beast; handlers see idp::http::Request/Response.

#include "idp/http/message.hpp"
#include "idp/http/proxies.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace idp::http {

/// Serves one request. Runs on the connection's strand; may co_await. Exceptions that escape
/// are logged and answered with a plain 500 page.
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;              ///< 0 picks a free port (see Server::port())
  std::size_t max_target = 8 * 1024 + 512;  ///< request line target (8 KiB query + path)
  std::size_t max_header = 16 * 1024;     ///< all header bytes
  std::size_t max_body = 64 * 1024;
  std::chrono::seconds read_timeout{30};  ///< per request, headers and body
  std::chrono::seconds idle_timeout{60};  ///< keep-alive wait for the next request
  std::string tls_cert_file;              ///< PEM chain; TLS is on when both files are set
  std::string tls_key_file;
  /// Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (proxies.hpp);
  /// from anyone else those headers are ignored.
  TrustedProxies trusted_proxies;
};

/// Accepts connections on one endpoint and serves them until Stop().
/// Thread-safe: run the io_context on any number of threads.
class Server {
 public:
  Server(boost::asio::io_context& ioc, ServerOptions options, Handler handler);
  /// Calls Stop(). Destroy before the io_context; fine once it has stopped running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts accepting. Throws std::system_error when the address cannot be bound.
  void Start();
  /// Stops accepting; open connections finish their current request and close.
  void Stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace idp::http
