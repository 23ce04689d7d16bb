// A keep-alive HTTP/1.1 client connection for the load driver, a browser-like cookie jar, and
// the few URL and form helpers the OIDC flows need. Loopback only: the driver refuses any other
// host before it connects anywhere.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

/// An http://host:port origin on a loopback address.
struct Origin {
  std::string host;  // 127.0.0.1 (or ::1, localhost)
  std::uint16_t port = 0;
  std::string text;  // "http://127.0.0.1:8080"

  /// Parses "http://127.0.0.1:PORT"; throws unless the host is a loopback address.
  static Origin Parse(std::string_view url);
  tcp::endpoint Endpoint() const;
};

/// The answer to one request, reduced to what the flows look at.
struct Reply {
  int status = 0;
  std::string location;
  std::string content_type;
  std::string cache_control;
  std::string etag;
  std::vector<std::string> set_cookies;
  std::string body;
  std::string error;  // transport error, empty when a response arrived
  bool ok() const { return error.empty(); }
};

/// One request: method, target (path and query), optional headers and form body.
struct Call {
  http::verb method = http::verb::get;
  std::string target;
  std::string authorization;
  std::string cookie;
  std::string form;  // application/x-www-form-urlencoded when not empty (or when POST)
};

/// One keep-alive connection. Reconnects when the server closed it; a request that failed on a
/// reused connection before any answer arrived is sent once more on a new one.
class Connection {
 public:
  Connection(asio::io_context& io, const Origin& origin);
  asio::awaitable<Reply> Send(const Call& call);
  std::uint64_t connects() const { return connects_; }

 private:
  asio::awaitable<std::string> Connect();
  asio::awaitable<Reply> SendOnce(const Call& call, bool& retryable);

  const Origin& origin_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  std::uint64_t connects_ = 0;
};

/// Cookies as a browser keeps them for one origin: by name and path, deleted by Max-Age=0 or a
/// past Expires, sent to requests whose path lies under theirs.
class CookieJar {
 public:
  void Store(const std::vector<std::string>& set_cookies, std::string_view request_path);
  std::string HeaderFor(std::string_view path) const;
  void Clear() { cookies_.clear(); }
  std::size_t size() const { return cookies_.size(); }

 private:
  struct Cookie {
    std::string name, value, path;
  };
  std::vector<Cookie> cookies_;
};

std::string PercentEncode(std::string_view s);
std::optional<std::string> PercentDecode(std::string_view s);
std::string Form(const std::vector<std::pair<std::string, std::string>>& fields);
/// The value of query parameter `name` in a URL or target (decoded), if present.
std::optional<std::string> QueryParam(std::string_view url, std::string_view name);
/// The path of a target ("/a/b?x" -> "/a/b").
std::string_view PathOf(std::string_view target);
/// The value of `<input type="hidden" name="NAME" value="...">` in a page.
std::optional<std::string> HiddenInput(std::string_view html, std::string_view name);

std::string Base64Url(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string Base64(std::string_view bytes);
std::string RandomToken(std::size_t bytes);
std::string Sha256(std::string_view data);

}  // namespace bench
