#include "idp/http/server.hpp"

#include "idp/common/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace idp::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Lingering close after an error answer: how long and how much we read and drop.
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr std::size_t kDrainMax = 256 * 1024;
// Method, spaces, "HTTP/1.1" and CRLF around the target in the request line.
constexpr std::size_t kRequestLineSlack = 64;
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);

auto Awaitable(error_code& ec) { return net::redirect_error(net::use_awaitable, ec); }

// How a connection ends after Serve() returns.
enum class After {
  kClose,            // answered and done (no keep-alive, stopping, peer closed between requests)
  kCloseAfterError,  // answered an error before reading the whole request: drain, then close
  kAbort,            // I/O error or timeout: close without ceremony
};

// The part of a connection that Stop() reaches; touched only on the connection's strand.
struct Connection {
  bool idle = false;              // waiting for the next request
  std::function<void()> cancel;   // cancels the pending read
};

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

std::string RemoteAddress(const tcp::socket& socket) {
  error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

// RFC 9110 §5.6.7 IMF-fixdate, without depending on the process locale.
std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

bool IsTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsSafeHeader(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) return false;
  // No CR, LF or NUL: a handler must never be able to split the response.
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Headers that the server owns; a handler's copy is dropped.
bool IsServerOwnedHeader(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection") || beast::iequals(name, "date") ||
         beast::iequals(name, "x-request-id");
}

std::size_t FieldBytes(const bhttp::fields& fields) {
  std::size_t n = 0;
  for (const auto& f : fields) n += f.name_string().size() + f.value().size() + 4;  // ": " CRLF
  return n;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string RequestIdFrom(const bhttp::fields& fields) {
  const auto it = fields.find("x-request-id");
  if (it != fields.end() && log::IsValidRequestId(it->value())) return std::string(it->value());
  return log::NewRequestId();
}

void LogAccess(const std::string& request_id, std::string_view method, std::string_view path,
               int status, Clock::time_point start) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  // Never the query string or the body: they carry codes and passwords.
  log::Info("http", {{"request_id", request_id},
                     {"method", method.empty() ? std::string_view("-") : method},
                     {"path", path},
                     {"status", status},
                     {"ms", static_cast<std::int64_t>(ms)}});
}

// Builds the Beast response for `response`; `head` drops the body but keeps its length.
bhttp::response<bhttp::string_body> ToBeast(Response response, unsigned version, bool keep_alive,
                                            bool head, const std::string& request_id) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    if (IsServerOwnedHeader(name)) continue;
    if (!IsSafeHeader(name, value)) {
      log::Warn("http dropped an unsafe response header",
                {{"request_id", request_id}, {"header", name}});
      continue;
    }
    res.insert(name, value);
  }
  res.set(bhttp::field::date, HttpDate());
  res.set("X-Request-Id", request_id);
  res.keep_alive(keep_alive);
  const int status = response.status;
  if (status == 204 || status == 304) {
    // RFC 9110 §6.4.1: these never carry content.
    return res;
  }
  res.content_length(response.body.size());
  if (!head) res.body() = std::move(response.body);
  return res;
}

bhttp::response<bhttp::string_body> ErrorResponse(int status, std::string_view text,
                                                  unsigned version,
                                                  const std::string& request_id) {
  Response r = Response::Text(status, std::string(text) + "\n");
  return ToBeast(std::move(r), version, /*keep_alive=*/false, /*head=*/false, request_id);
}

// Reads and drops what the peer still sends (a body we refused), bounded in time and bytes.
// Closing a socket with unread input makes the kernel send RST, which can destroy our answer
// before the client has read it.
template <class Stream>
net::awaitable<void> Drain(Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(kDrainTimeout);
  std::array<char, 4096> scratch{};
  std::size_t total = 0;
  while (total < kDrainMax) {
    error_code ec;
    total += co_await stream.async_read_some(net::buffer(scratch), Awaitable(ec));
    if (ec) break;
  }
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(net::io_context& ioc_in, ServerOptions options_in, Handler handler_in)
      : ioc(ioc_in),
        options(std::move(options_in)),
        handler(std::move(handler_in)),
        acceptor(net::make_strand(ioc_in)) {}

  struct Registered {
    net::any_io_executor executor;
    std::weak_ptr<Connection> connection;
  };

  // Removes a connection from the registry when its session ends.
  struct Registration {
    Impl& impl;
    std::uint64_t id;
    ~Registration() {
      std::lock_guard lock(impl.mu);
      impl.connections.erase(id);
    }
  };

  net::io_context& ioc;
  const ServerOptions options;
  const Handler handler;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;  // on its own strand; Stop() closes it there
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> port{0};

  std::mutex mu;  // guards the two below
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, Registered> connections;

  void LoadTls();
  void Listen();
  void Stop();

  static net::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  static net::awaitable<void> RunPlain(std::shared_ptr<Impl> self, tcp::socket socket);
  static net::awaitable<void> RunTls(std::shared_ptr<Impl> self, tcp::socket socket);

  template <class Stream>
  net::awaitable<After> Serve(Stream& stream, const std::string& remote, bool is_tls);

  template <class Stream>
  net::awaitable<After> Reject(Stream& stream, int status, std::string_view text, unsigned version,
                               const std::string& request_id, std::string_view method,
                               Clock::time_point start);
};

namespace {

void LogSessionEnd(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::Error("http session failed", {{"error", ex.what()}});
  } catch (...) {
    log::Error("http session failed", {{"error", "unknown exception"}});
  }
}

[[noreturn]] void ThrowSystemError(const error_code& ec, const std::string& what) {
  throw std::system_error(std::error_code(ec), what);
}

}  // namespace

void Server::Impl::LoadTls() {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return;
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "http: set both tls_cert_file and tls_key_file, or neither");
  }
  tls.emplace(ssl::context::tls_server);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  error_code ec;
  tls->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) ThrowSystemError(ec, "http: cannot load " + options.tls_cert_file);
  tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) ThrowSystemError(ec, "http: cannot load " + options.tls_key_file);
}

void Server::Impl::Listen() {
  error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) ThrowSystemError(ec, "http: bad listen address " + options.address);
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.address + ":" + std::to_string(options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) ThrowSystemError(ec, "http: cannot open " + where);
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) ThrowSystemError(ec, "http: cannot set SO_REUSEADDR on " + where);
  acceptor.bind(endpoint, ec);
  if (ec) ThrowSystemError(ec, "http: cannot bind " + where);
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) ThrowSystemError(ec, "http: cannot listen on " + where);
  port = acceptor.local_endpoint().port();
}

void Server::Impl::Stop() {
  // Set the flag first: a session that has not started its next read yet sees it and closes.
  if (stopping.exchange(true)) return;
  // Close the acceptor on its strand; the pending accept completes with operation_aborted.
  net::post(acceptor.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->acceptor.close(ec);
  });
  // Idle keep-alive connections have nothing to finish: cancel their read on their own strand.
  // Busy ones finish the current request, answer with "Connection: close" and end.
  std::lock_guard lock(mu);
  for (const auto& [id, entry] : connections) {
    net::post(entry.executor, [weak = entry.connection] {
      if (auto c = weak.lock(); c && c->idle && c->cancel) c->cancel();
    });
  }
}

net::awaitable<void> Server::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  for (;;) {
    error_code ec;
    // Each connection gets its own strand, so the io_context may run on many threads.
    tcp::socket socket =
        co_await self->acceptor.async_accept(net::make_strand(self->ioc), Awaitable(ec));
    if (ec) {
      if (self->stopping || ec == net::error::operation_aborted) break;
      // EMFILE and friends: back off instead of spinning on a failing accept.
      log::Warn("http accept failed", {{"error", ec.message()}});
      net::steady_timer timer(co_await net::this_coro::executor, kAcceptBackoff);
      co_await timer.async_wait(Awaitable(ec));
      continue;
    }
    auto executor = socket.get_executor();
    if (self->tls) {
      net::co_spawn(executor, RunTls(self, std::move(socket)), LogSessionEnd);
    } else {
      net::co_spawn(executor, RunPlain(self, std::move(socket)), LogSessionEnd);
    }
  }
  log::Info("http stopped accepting", {{"port", static_cast<int>(self->port.load())}});
}

net::awaitable<void> Server::Impl::RunPlain(std::shared_ptr<Impl> self, tcp::socket socket) {
  const std::string remote = RemoteAddress(socket);
  beast::tcp_stream stream(std::move(socket));
  const After after = co_await self->Serve(stream, remote, /*is_tls=*/false);
  error_code ec;
  // Send our FIN first so that the client sees the end of the last answer.
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (after == After::kCloseAfterError) co_await Drain(stream);
  stream.socket().close(ec);
}

net::awaitable<void> Server::Impl::RunTls(std::shared_ptr<Impl> self, tcp::socket socket) {
  const std::string remote = RemoteAddress(socket);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *self->tls);
  error_code ec;
  // The handshake gets read_timeout, so a silent client cannot hold the socket.
  beast::get_lowest_layer(stream).expires_after(self->options.read_timeout);
  co_await stream.async_handshake(ssl::stream_base::server, Awaitable(ec));
  if (ec) {
    log::Debug("http tls handshake failed", {{"remote", remote}, {"error", ec.message()}});
    co_return;
  }
  const After after = co_await self->Serve(stream, remote, /*is_tls=*/true);
  if (after != After::kAbort) {
    // close_notify, bounded: a peer that never answers it must not hold the socket.
    beast::get_lowest_layer(stream).expires_after(kTlsShutdownTimeout);
    co_await stream.async_shutdown(Awaitable(ec));
  }
  beast::get_lowest_layer(stream).socket().close(ec);
}

template <class Stream>
net::awaitable<After> Server::Impl::Reject(Stream& stream, int status, std::string_view text,
                                           unsigned version, const std::string& request_id,
                                           std::string_view method, Clock::time_point start) {
  auto res = ErrorResponse(status, text, version, request_id);
  beast::get_lowest_layer(stream).expires_after(options.read_timeout);
  error_code ec;
  co_await bhttp::async_write(stream, res, Awaitable(ec));
  LogAccess(request_id, method, "-", status, start);
  co_return ec ? After::kAbort : After::kCloseAfterError;
}

template <class Stream>
net::awaitable<After> Server::Impl::Serve(Stream& stream, const std::string& remote,
                                          bool is_tls) {
  // Register with Stop() before the first check of `stopping` (see Stop()).
  auto connection = std::make_shared<Connection>();
  connection->cancel = [&stream] { beast::get_lowest_layer(stream).cancel(); };
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu);
    id = next_id++;
    connections.emplace(id, Registered{stream.get_executor(), connection});
  }
  const Registration registration{*this, id};

  beast::flat_buffer buffer;
  const auto header_limit = static_cast<std::uint32_t>(
      std::min<std::size_t>(options.max_header + options.max_target + kRequestLineSlack,
                            std::numeric_limits<std::uint32_t>::max()));
  for (bool first = true;; first = false) {
    error_code ec;
    // Shutdown: checked before every read; Stop() cancels the read if we are already waiting.
    if (stopping) co_return After::kClose;

    // Wait for the first byte of the next request: read_timeout on a new connection,
    // idle_timeout between keep-alive requests. Pipelined bytes skip the wait.
    if (buffer.size() == 0) {
      beast::get_lowest_layer(stream).expires_after(first ? options.read_timeout
                                                          : options.idle_timeout);
      connection->idle = true;
      const std::size_t n = co_await stream.async_read_some(buffer.prepare(4096), Awaitable(ec));
      connection->idle = false;
      if (ec) co_return After::kAbort;  // EOF, timeout, reset or Stop()
      buffer.commit(n);
    }
    const auto start = Clock::now();

    // From the first byte on, header and body share one read_timeout deadline.
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    bhttp::request_parser<bhttp::string_body> parser;
    // The limit covers the request line too; the target and the fields are checked apart below.
    parser.header_limit(header_limit);
    parser.body_limit(options.max_body);
    co_await bhttp::async_read_header(stream, buffer, parser, Awaitable(ec));
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      // The parser fills in the target once the request line is complete. Without one, the
      // request line alone overflowed the limit, and only the target can be that long.
      const std::size_t target_size = parser.get().target().size();
      const bool uri = target_size == 0 || target_size > options.max_target;
      co_return co_await Reject(stream, uri ? 414 : 431,
                                uri ? "uri too long" : "request header fields too large", 11,
                                log::NewRequestId(), parser.get().method_string(), start);
    }
    if (ec == bhttp::error::body_limit) {
      co_return co_await Reject(stream, 413, "payload too large", 11,
                                RequestIdFrom(parser.get()), parser.get().method_string(), start);
    }
    if (ec && IsHttpParseError(ec) && ec != bhttp::error::partial_message &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::short_read) {
      co_return co_await Reject(stream, 400, "bad request", 11, log::NewRequestId(), "-", start);
    }
    if (ec) co_return After::kAbort;

    const auto& header = parser.get();
    const unsigned version = header.version();
    std::string request_id = RequestIdFrom(header);
    const std::string method(header.method_string());
    if (header.target().size() > options.max_target) {
      co_return co_await Reject(stream, 414, "uri too long", version, request_id, method, start);
    }
    if (FieldBytes(header) > options.max_header) {
      co_return co_await Reject(stream, 431, "request header fields too large", version,
                                request_id, method, start);
    }

    if (!parser.is_done()) {
      // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for this.
      if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, version};
        co_await bhttp::async_write(stream, go_on, Awaitable(ec));
        if (ec) co_return After::kAbort;
      }
      co_await bhttp::async_read(stream, buffer, parser, Awaitable(ec));
      if (ec == bhttp::error::body_limit) {
        co_return co_await Reject(stream, 413, "payload too large", version, request_id, method,
                                  start);
      }
      if (ec && IsHttpParseError(ec) && ec != bhttp::error::partial_message &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::short_read) {
        co_return co_await Reject(stream, 400, "bad request", version, request_id, method, start);
      }
      if (ec) co_return After::kAbort;
    }

    // Build the handler's view of the request.
    auto message = parser.release();
    Request req;
    req.method = method;
    req.target = std::string(message.target());
    const std::size_t question = req.target.find('?');
    const std::string_view raw_path = std::string_view(req.target).substr(0, question);
    auto path = raw_path.starts_with('/') ? PercentDecode(raw_path)
                                          : Result<std::string>(InvalidArgument("not origin-form"));
    if (!path) {
      co_return co_await Reject(stream, 400, "bad request target", version, request_id, method,
                                start);
    }
    req.path = std::move(*path);
    if (question != std::string::npos) req.query = req.target.substr(question + 1);
    req.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
    for (const auto& field : message) {
      req.headers.emplace_back(ToLower(field.name_string()), std::string(field.value()));
    }
    req.body = std::move(message.body());
    req.remote_addr = remote;
    req.tls = is_tls;
    if (!options.trusted_proxies.empty() && options.trusted_proxies.Contains(remote)) {
      // Behind our own proxy: the client's address and scheme are the ones it saw.
      req.remote_addr =
          options.trusted_proxies.ClientAddress(remote, req.Header("x-forwarded-for").value_or(""));
      auto proto = req.Header("x-forwarded-proto").value_or("");
      if (proto == "https") req.tls = true;
    }
    req.request_id = std::move(request_id);
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == bhttp::verb::head;

    // Run the handler; nothing it throws may escape the session.
    Response response;
    bool failed = false;
    try {
      response = co_await handler(req);
    } catch (const std::exception& e) {
      log::Error("http handler threw", {{"request_id", req.request_id},
                                        {"path", req.path},
                                        {"error", e.what()}});
      failed = true;
    } catch (...) {
      log::Error("http handler threw", {{"request_id", req.request_id}, {"path", req.path}});
      failed = true;
    }
    if (!failed && (response.status < 200 || response.status > 599)) {
      log::Error("http handler returned an invalid status",
                 {{"request_id", req.request_id}, {"status", response.status}});
      failed = true;
    }
    if (failed) response = Response::Text(500, "internal error\n");
    const int status = response.status;

    // Once stopping, the answer says "Connection: close" and the loop ends.
    const bool again = keep_alive && !stopping;
    auto res = ToBeast(std::move(response), version, again, head, req.request_id);
    // Writes get read_timeout too, so a client that never reads cannot pin the connection.
    beast::get_lowest_layer(stream).expires_after(options.read_timeout);
    co_await bhttp::async_write(stream, res, Awaitable(ec));
    LogAccess(req.request_id, req.method, req.path, status, start);
    if (ec) co_return After::kAbort;
    if (!again) co_return After::kClose;
  }
}

Server::Server(net::io_context& ioc, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(handler))) {}

Server::~Server() {
  // Posts only; safe when the io_context has stopped (the posted work is then destroyed with it).
  impl_->Stop();
}

void Server::Start() {
  impl_->LoadTls();
  impl_->Listen();
  net::co_spawn(impl_->acceptor.get_executor(), Impl::AcceptLoop(impl_), LogSessionEnd);
  log::Info("http listening", {{"address", impl_->options.address},
                               {"port", static_cast<int>(impl_->port.load())},
                               {"tls", impl_->tls.has_value()}});
}

void Server::Stop() { impl_->Stop(); }

std::uint16_t Server::port() const { return impl_->port.load(); }

}  // namespace idp::http
