#include "idp/store/redis.hpp"

#include "idp/common/log.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <pthread.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <ctime>
#include <utility>

namespace idp::store {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

/// hiredis writes with write(2), so a peer that reset the connection raises SIGPIPE, which
/// would kill the process. A library must not change the process-wide disposition: block
/// SIGPIPE in this thread for the duration of a command, and swallow one we caused.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_set_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_set_{};
  sigset_t old_mask_{};
  bool was_pending_ = false;
};

RedisReply Convert(const redisReply& r) {
  RedisReply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(Convert(*r.element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/// Sends one command on `ctx`; nullptr on an I/O or protocol error (see ctx->err).
ReplyPtr SendArgv(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), argvlen.data())));
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

/// Connects, sets the command timeout, authenticates and selects the database.
Result<ContextPtr> Connect(const RedisOptions& o) {
  ContextPtr ctx(redisConnectWithTimeout(o.host.c_str(), o.port, ToTimeval(o.connect_timeout)));
  if (!ctx) return Unavailable("redis: cannot allocate a connection");
  if (ctx->err != 0) {
    return Unavailable("redis: cannot connect to " + o.host + ":" + std::to_string(o.port) + ": " +
                       ctx->errstr);
  }
  if (redisSetTimeout(ctx.get(), ToTimeval(o.command_timeout)) != REDIS_OK) {
    return Unavailable(std::string("redis: cannot set the command timeout: ") + ctx->errstr);
  }
  redisEnableKeepAlive(ctx.get());
  if (!o.password.empty()) {
    auto reply = SendArgv(ctx.get(), {"AUTH", o.password});
    if (!reply) return Unavailable(std::string("redis: AUTH failed: ") + ctx->errstr);
    // The server's message never echoes the password, but keep it out anyway.
    if (reply->type == REDIS_REPLY_ERROR) return Unavailable("redis: AUTH rejected");
  }
  if (o.db != 0) {
    auto reply = SendArgv(ctx.get(), {"SELECT", std::to_string(o.db)});
    if (!reply) return Unavailable(std::string("redis: SELECT failed: ") + ctx->errstr);
    if (reply->type == REDIS_REPLY_ERROR) {
      return Unavailable("redis: SELECT " + std::to_string(o.db) + " rejected: " +
                         std::string(reply->str, reply->len));
    }
  }
  return ctx;
}

std::string Sha1Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string PercentDecode(std::string_view s, bool* ok) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  *ok = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
      *ok = false;
      return {};
    }
    out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

// The messages below never quote the URL: it may hold the password.
Result<RedisOptions> ParseRedisUrl(std::string_view url) {
  RedisOptions o;
  std::string_view rest = url;
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    if (rest.substr(0, scheme_end) != "redis") {
      return InvalidArgument("redis url: only the redis:// scheme is supported");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("redis url: query and fragment are not supported");
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!ParseInt(db, &o.db) || o.db < 0)) {
      return InvalidArgument("redis url: the database must be a non-negative integer");
    }
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    std::string_view user = userinfo.substr(0, colon);
    if (!user.empty() && user != "default") {
      return InvalidArgument("redis url: user names other than \"default\" are not supported");
    }
    if (colon != std::string_view::npos) {
      bool ok = false;
      o.password = PercentDecode(userinfo.substr(colon + 1), &ok);
      if (!ok) return InvalidArgument("redis url: bad percent-encoding in the password");
    }
  }
  std::string_view port;
  const bool ipv6 = !authority.empty() && authority.front() == '[';
  if (ipv6) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("redis url: unclosed '['");
    o.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return InvalidArgument("redis url: junk after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return InvalidArgument("redis url: empty port");
    }
  } else {
    const auto colon = authority.rfind(':');
    o.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return InvalidArgument("redis url: empty port");
    }
  }
  if (o.host.empty()) return InvalidArgument("redis url: missing host");
  if (o.host.find_first_of(ipv6 ? "@[] " : ":@[] ") != std::string::npos) {
    return InvalidArgument("redis url: bad host");
  }
  if (!port.empty() && (!ParseInt(port, &o.port) || o.port < 1 || o.port > 65535)) {
    return InvalidArgument("redis url: the port must be 1-65535");
  }
  return o;
}

/// One pooled connection; `ctx` is null until connected and after a failure.
struct RedisClient::Conn {
  ContextPtr ctx;
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  options_.pool_size = std::max<std::size_t>(options_.pool_size, 1);
}

RedisClient::~RedisClient() = default;

std::unique_ptr<RedisClient::Conn> RedisClient::Acquire() {
  std::unique_lock lock(mu_);
  const bool ready = cv_.wait_for(lock, options_.acquire_timeout, [this] {
    return !idle_.empty() || open_ < options_.pool_size;
  });
  if (!ready) {
    ++acquire_timeouts_;
    return nullptr;
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;  // the slot is counted now; the connection is made outside the lock
  return std::make_unique<Conn>();
}

PoolStats RedisClient::Stats() {
  std::lock_guard lock(mu_);
  return {open_ - idle_.size(), open_, options_.pool_size, acquire_timeouts_};
}

void RedisClient::Release(std::unique_ptr<Conn> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn->ctx) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  if (args.empty()) return InvalidArgument("redis: empty command");
  // Returns the connection (or its slot) to the pool on every path.
  struct Lease {
    RedisClient* client;
    std::unique_ptr<Conn> conn;
    ~Lease() {
      if (conn) client->Release(std::move(conn));
    }
  };
  Lease lease{this, Acquire()};
  if (!lease.conn) return Unavailable("redis: no free connection within acquire_timeout");
  SigpipeGuard sigpipe_guard;

  for (int attempt = 0;; ++attempt) {
    if (!lease.conn->ctx) {
      auto ctx = Connect(options_);
      if (!ctx) return ctx.error();
      lease.conn->ctx = std::move(*ctx);
    }
    errno = 0;
    ReplyPtr reply = SendArgv(lease.conn->ctx.get(), args);
    if (reply) return Convert(*reply);

    const int saved_errno = errno;
    const int err = lease.conn->ctx->err;
    const std::string errstr = lease.conn->ctx->errstr;
    lease.conn->ctx.reset();
    // SO_RCVTIMEO expired: the command may have run, so it must not be sent again.
    const bool timed_out = err == REDIS_ERR_IO && (saved_errno == EAGAIN ||
                                                   saved_errno == EWOULDBLOCK ||
                                                   saved_errno == ETIMEDOUT);
    if (timed_out) return Unavailable("redis: command timed out");
    if (attempt == 0) {
      log::Warn("redis connection failed; retrying on a new connection", {{"error", errstr}});
      continue;
    }
    return Unavailable("redis: " + errstr);
  }
}

std::string RedisClient::ScriptSha(const std::string& script) {
  std::lock_guard lock(scripts_mu_);
  auto it = script_shas_.find(script);
  if (it == script_shas_.end()) it = script_shas_.emplace(script, Sha1Hex(script)).first;
  return it->second;
}

Result<RedisReply> RedisClient::Eval(const std::string& script,
                                     const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(ScriptSha(script));
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());

  auto reply = Command(argv);
  if (!reply || reply->type != RedisReply::Type::kError || reply->str.rfind("NOSCRIPT", 0) != 0) {
    return reply;
  }
  // Unknown to this server (restarted, failed over or SCRIPT FLUSH): load it, then retry.
  auto loaded = Command({"SCRIPT", "LOAD", script});
  if (!loaded) return loaded;
  if (loaded->type == RedisReply::Type::kError) return loaded;
  if (loaded->str != argv[1]) return Internal("redis: SCRIPT LOAD returned an unexpected SHA-1");
  return Command(argv);
}

bool RedisClient::Ping() {
  auto reply = Command({"PING"});
  return reply && reply->type == RedisReply::Type::kStatus && reply->str == "PONG";
}

}  // namespace idp::store
