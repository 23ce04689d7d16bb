#include "http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>

namespace bench {
namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr std::size_t kBodyLimit = 1 << 20;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Origin Origin::Parse(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) throw std::runtime_error("only http:// origins");
  std::string_view rest = url.substr(kScheme.size());
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) throw std::runtime_error("origin needs a port");
  Origin o;
  o.host = std::string(rest.substr(0, colon));
  if (o.host.size() > 2 && o.host.front() == '[') o.host = o.host.substr(1, o.host.size() - 2);
  auto port = rest.substr(colon + 1);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
    throw std::runtime_error("bad port in " + std::string(url));
  }
  o.port = static_cast<std::uint16_t>(p);
  if (o.host == "localhost") o.host = "127.0.0.1";
  auto addr = asio::ip::make_address(o.host);
  if (!addr.is_loopback()) throw std::runtime_error("the driver only talks to loopback addresses");
  o.text = std::string(kScheme) + std::string(rest);
  return o;
}

tcp::endpoint Origin::Endpoint() const { return {asio::ip::make_address(host), port}; }

Connection::Connection(asio::io_context& io, const Origin& origin)
    : origin_(origin), stream_(io) {}

asio::awaitable<std::string> Connection::Connect() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
  buffer_.clear();
  stream_.expires_after(kRequestTimeout);
  const tcp::endpoint endpoint = origin_.Endpoint();
  auto [ec] = co_await stream_.async_connect(endpoint, kAwait);
  if (ec) co_return "connect: " + ec.message();
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  open_ = true;
  ++connects_;
  co_return std::string();
}

asio::awaitable<Reply> Connection::Send(const Call& call) {
  bool retryable = false;
  Reply r = co_await SendOnce(call, retryable);
  if (!r.ok() && retryable) {
    open_ = false;
    r = co_await SendOnce(call, retryable);
  }
  co_return r;
}

asio::awaitable<Reply> Connection::SendOnce(const Call& call, bool& retryable) {
  Reply out;
  const bool reused = open_;
  retryable = false;
  if (!open_) {
    out.error = co_await Connect();
    if (!out.ok()) co_return out;
  }
  http::request<http::string_body> req{call.method, call.target, 11};
  req.set(http::field::host, origin_.host + ":" + std::to_string(origin_.port));
  req.set(http::field::user_agent, "idp-bench");
  if (!call.authorization.empty()) req.set(http::field::authorization, call.authorization);
  if (!call.cookie.empty()) req.set(http::field::cookie, call.cookie);
  if (call.method == http::verb::post) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = call.form;
    req.prepare_payload();
  }
  req.keep_alive(true);

  stream_.expires_after(kRequestTimeout);
  auto [wec, written] = co_await http::async_write(stream_, req, kAwait);
  (void)written;
  if (wec) {
    open_ = false;
    retryable = reused;
    out.error = "write: " + wec.message();
    co_return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  auto [rec, read] = co_await http::async_read(stream_, buffer_, parser, kAwait);
  if (rec) {
    open_ = false;
    // The server closed an idle connection before reading the request: send it once more.
    retryable = reused && read == 0 && (rec == http::error::end_of_stream ||
                                        rec == asio::error::connection_reset);
    out.error = "read: " + rec.message();
    co_return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    switch (field.name()) {
      case http::field::location: out.location = std::string(field.value()); break;
      case http::field::content_type: out.content_type = std::string(field.value()); break;
      case http::field::cache_control: out.cache_control = std::string(field.value()); break;
      case http::field::etag: out.etag = std::string(field.value()); break;
      case http::field::set_cookie: out.set_cookies.emplace_back(field.value()); break;
      default: break;
    }
  }
  if (!res.keep_alive()) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    open_ = false;
  }
  out.body = std::move(res.body());
  co_return out;
}

void CookieJar::Store(const std::vector<std::string>& set_cookies, std::string_view request_path) {
  for (const auto& line : set_cookies) {
    std::string_view rest = line;
    auto semi = rest.find(';');
    std::string_view pair = Trim(rest.substr(0, semi));
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    Cookie c{std::string(Trim(pair.substr(0, eq))), std::string(Trim(pair.substr(eq + 1))), {}};
    bool expired = c.value.empty();
    while (semi != std::string_view::npos) {
      rest = rest.substr(semi + 1);
      semi = rest.find(';');
      std::string_view attr = Trim(rest.substr(0, semi));
      auto aeq = attr.find('=');
      std::string_view key = Trim(attr.substr(0, aeq));
      std::string_view value = aeq == std::string_view::npos ? "" : Trim(attr.substr(aeq + 1));
      if (IEquals(key, "path")) c.path = std::string(value);
      if (IEquals(key, "max-age") && (value == "0" || (!value.empty() && value[0] == '-'))) {
        expired = true;
      }
      if (IEquals(key, "expires") && value.find("1970") != std::string_view::npos) expired = true;
    }
    if (c.path.empty() || c.path[0] != '/') {
      // RFC 6265 §5.1.4: the default path is the request path up to its last slash.
      auto path = PathOf(request_path);
      auto slash = path.rfind('/');
      c.path = slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
    }
    std::erase_if(cookies_, [&](const Cookie& k) { return k.name == c.name && k.path == c.path; });
    if (!expired) cookies_.push_back(std::move(c));
  }
}

std::string CookieJar::HeaderFor(std::string_view target) const {
  std::string_view path = PathOf(target);
  std::string out;
  for (const auto& c : cookies_) {
    bool match = path == c.path || c.path == "/" ||
                 (path.substr(0, c.path.size()) == c.path &&
                  (c.path.back() == '/' || (path.size() > c.path.size() && path[c.path.size()] == '/')));
    if (!match) continue;
    if (!out.empty()) out += "; ";
    out += c.name;
    out += '=';
    out += c.value;
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k);
    out += '=';
    out += PercentEncode(v);
  }
  return out;
}

std::optional<std::string> QueryParam(std::string_view url, std::string_view name) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(q + 1);
  if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return std::nullopt;
}

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

std::optional<std::string> HiddenInput(std::string_view html, std::string_view name) {
  std::string needle = "name=\"" + std::string(name) + "\" value=\"";
  auto at = html.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  auto start = at + needle.size();
  auto end = html.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  std::string value(html.substr(start, end - start));
  // Tokens are base64url; only the entity a value could carry is unescaped.
  for (std::size_t p; (p = value.find("&amp;")) != std::string::npos;) value.replace(p, 5, "&");
  return value;
}

std::string Base64Url(std::string_view bytes) {
  std::string out = Base64(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  std::size_t pad = (4 - s.size() % 4) % 4;
  if (pad == 3) return std::nullopt;
  s.append(pad, '=');
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string RandomToken(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return Base64Url(raw);
}

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace bench
