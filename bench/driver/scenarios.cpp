#include "scenarios.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace bench {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

enum class Phase : int { kSetup = 0, kWarmup = 1, kMeasure = 2, kDone = 3 };

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// Steps of an operation, timed separately (e.g. the token exchange inside a code flow).
enum Step : int { kAuthorize, kLoginSubmit, kToken, kStepCount };
constexpr const char* kStepNames[] = {"authorize", "login_submit", "token"};

struct OpResult {
  std::string error;  // empty on success
  std::int64_t step_ns[kStepCount] = {0, 0, 0};
  int hops = 0;  // browser requests of the authorize step
};

/// What one thread measured; merged at the end.
struct Stats {
  std::vector<std::uint32_t> latency_us;
  std::vector<std::uint32_t> steps_us[kStepCount];
  std::uint64_t errors = 0;
  std::map<std::string, std::uint64_t> error_kinds;
  std::uint64_t sso_misses = 0;
  std::uint64_t setup_errors = 0;
  std::string setup_error;
  json::object observed;
};

struct Endpoints {
  std::string issuer, authorize, token, jwks;  // targets (paths) on the origin
};

struct Vu {
  Vu(asio::io_context& io, const Origin& origin, int id) : browser(io, origin), rp(io, origin), id(id) {}
  Connection browser;
  Connection rp;
  CookieJar jar;
  int id;
  std::string username;
  std::string refresh_token;
  bool ready = false;
};

std::uint32_t ToUs(std::int64_t ns) {
  return static_cast<std::uint32_t>(std::min<std::int64_t>(ns / 1000, 0xffffffffLL));
}

std::string Shorten(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s.size() > 120 ? s.substr(0, 120) : s;
}

/// The token endpoint's answer as a JSON object, or nullopt with why not in `error`.
std::optional<json::object> TokenBody(const Reply& r, std::string& error) {
  if (!r.ok()) {
    error = "token: " + r.error;
    return std::nullopt;
  }
  if (r.status != 200) {
    error = "token: " + std::to_string(r.status) + " " + Shorten(r.body);
    return std::nullopt;
  }
  std::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    error = "token: not JSON";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= '2' && c <= '7') v = c - '2' + 26;
    else if (c == '=') break;
    else return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(buffer >> bits) & 0x1f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
  return out;
}

/// RFC 4226 HOTP with SHA-1, 6 digits (RFC 6238 TOTP at time step `counter`).
std::string Hotp(const std::string& key, std::int64_t counter) {
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), msg, sizeof msg, mac, &len);
  const int off = mac[len - 1] & 0x0f;
  const std::uint32_t bin = ((mac[off] & 0x7fu) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  std::string code = std::to_string(bin % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

/// The people's authenticator apps (Options::totp_file); thread-safe.
class TotpApps {
 public:
  static std::unique_ptr<TotpApps> Load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    auto apps = std::make_unique<TotpApps>();
    const json::value parsed = json::parse(text.str());
    for (const auto& [user, list] : parsed.as_object()) {
      auto& mine = apps->apps_[std::string(user)];
      for (const auto& app : list.as_array()) {
        auto key = Base32Decode(app.at("secret").as_string());
        if (!key) throw std::runtime_error("bad TOTP secret for " + std::string(user));
        mine.push_back({*key, app.at("step").to_number<std::int64_t>()});
      }
    }
    return apps;
  }

  /// Writes the apps back with their last steps, for the next run (a new driver process) to
  /// take up where this one left off: the server refuses a step an app already used.
  void Save(const std::string& path) {
    json::object out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [user, list] : apps_) {
        json::array apps;
        for (const auto& app : list) {
          apps.emplace_back(json::object{{"secret", Base32Encode(app.key)}, {"step", app.last_step}});
        }
        out[user] = std::move(apps);
      }
    }
    std::ofstream file(path, std::ios::trunc);
    file << json::serialize(out);
    if (!file) throw std::runtime_error("cannot write " + path);
  }

  /// A code of one of `user`'s apps whose last step is behind the current one (marked used
  /// now), or nullopt when every app was used in this step.
  std::optional<std::string> Code(const std::string& user) {
    const std::int64_t step = static_cast<std::int64_t>(std::time(nullptr)) / 30;
    std::lock_guard lock(mu_);
    auto it = apps_.find(user);
    if (it == apps_.end()) return std::nullopt;
    for (auto& app : it->second) {
      if (app.last_step >= step) continue;
      app.last_step = step;
      return Hotp(app.key, step);
    }
    return std::nullopt;
  }

 private:
  struct App {
    std::string key;
    std::int64_t last_step;
  };
  std::mutex mu_;
  std::map<std::string, std::vector<App>> apps_;
};

std::string TargetOf(const Origin& origin, const std::string& url) {
  if (url.rfind(origin.text, 0) == 0) {
    std::string t = url.substr(origin.text.size());
    return t.empty() ? "/" : t;
  }
  if (!url.empty() && url[0] == '/') return url;
  throw std::runtime_error("endpoint " + url + " is not on " + origin.text);
}

class Runner {
 public:
  explicit Runner(const Options& o) : o_(o), origin_(Origin::Parse(o.url)) {}

  json::object Run();

 private:
  // Setup, outside any measurement.
  void Discover();
  asio::awaitable<void> RunVu(Vu& vu, Stats& stats);
  asio::awaitable<std::string> Setup(Vu& vu);
  asio::awaitable<void> Sleep(std::int64_t until_ns);

  // Operations.
  asio::awaitable<OpResult> Op(Vu& vu, Stats& stats);
  asio::awaitable<OpResult> ClientCredentials(Vu& vu, Stats& stats);
  asio::awaitable<OpResult> CodeFlow(Vu& vu, Stats& stats, bool allow_login, bool want_refresh);
  asio::awaitable<OpResult> Refresh(Vu& vu, Stats& stats);
  asio::awaitable<OpResult> Get(Vu& vu, Stats& stats);
  /// Follows the browser's redirects from an authorization request to the client's redirect
  /// URI, signing in on our login page when one is shown and allowed. Returns the callback URL.
  asio::awaitable<std::string> Browse(Vu& vu, const std::string& start, bool allow_login,
                                      OpResult& result);

  std::string Basic() const {
    return "Basic " + Base64(PercentEncode(o_.client_id) + ":" + PercentEncode(o_.client_secret));
  }

  const Options& o_;
  Origin origin_;
  Endpoints ep_;
  std::unique_ptr<Jwks> jwks_;
  std::unique_ptr<TotpApps> totp_;
  std::atomic<std::uint64_t> next_user_{0};
  std::atomic<int> phase_{static_cast<int>(Phase::kSetup)};
  std::atomic<std::int64_t> measure_start_ns_{0};
  std::atomic<std::int64_t> rate_start_ns_{0};
  std::atomic<std::uint64_t> next_slot_{0};
  std::atomic<std::uint64_t> measured_ops_{0};
  std::atomic<int> vus_ready_{0};
  std::atomic<int> vus_running_{0};
  std::atomic<int> setup_slots_{0};
};

asio::awaitable<void> Runner::Sleep(std::int64_t until_ns) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  timer.expires_at(Clock::time_point(std::chrono::nanoseconds(until_ns)));
  co_await timer.async_wait(asio::use_awaitable);
}

void Runner::Discover() {
  // Synchronous set-up on a private io_context: discovery, then the JWK Set.
  asio::io_context io;
  std::string error;
  json::object discovery;
  std::string jwks_body;
  auto fetch = [&](const std::string& target, std::string& out) -> asio::awaitable<void> {
    Connection c(io, origin_);
    Call call;
    call.target = target;
    Reply r = co_await c.Send(call);
    if (!r.ok() || r.status != 200) {
      error = "GET " + target + " answered " + (r.ok() ? std::to_string(r.status) : r.error);
      co_return;
    }
    out = std::move(r.body);
  };
  std::string disc_body;
  const std::string disc_target = "/.well-known/openid-configuration";
  asio::co_spawn(io, fetch(disc_target, disc_body), asio::detached);
  io.run();
  if (!error.empty()) throw std::runtime_error(error);
  discovery = json::parse(disc_body).as_object();
  auto str = [&](const char* n) {
    const auto* v = discovery.if_contains(n);
    if (!v || !v->is_string()) throw std::runtime_error(std::string("discovery has no ") + n);
    return std::string(v->as_string());
  };
  ep_.issuer = str("issuer");
  ep_.authorize = TargetOf(origin_, str("authorization_endpoint"));
  ep_.token = TargetOf(origin_, str("token_endpoint"));
  ep_.jwks = TargetOf(origin_, str("jwks_uri"));
  io.restart();
  asio::co_spawn(io, fetch(ep_.jwks, jwks_body), asio::detached);
  io.run();
  if (!error.empty()) throw std::runtime_error(error);
  jwks_ = std::make_unique<Jwks>(Jwks::Parse(jwks_body));
}

asio::awaitable<std::string> Runner::Browse(Vu& vu, const std::string& start, bool allow_login,
                                            OpResult& result) {
  std::string target = start;
  for (int hop = 0; hop < 10; ++hop) {
    Call get;
    get.target = target;
    get.cookie = vu.jar.HeaderFor(target);
    Reply r = co_await vu.browser.Send(get);
    ++result.hops;
    if (!r.ok()) {
      result.error = "browser: " + r.error;
      co_return std::string();
    }
    vu.jar.Store(r.set_cookies, target);
    if (r.status == 200 && allow_login && totp_ && PathOf(target) == "/mfa" &&
        HiddenInput(r.body, "flow") && HiddenInput(r.body, "csrf")) {
      // Our second step: a code of one of the person's authenticator apps.
      auto code = totp_->Code(vu.username);
      if (!code) {
        result.error = "mfa: every authenticator app of the user was used in this time step";
        co_return std::string();
      }
      Call post;
      post.method = http::verb::post;
      post.target = "/mfa";
      post.cookie = vu.jar.HeaderFor(post.target);
      post.form = Form({{"flow", *HiddenInput(r.body, "flow")},
                        {"csrf", *HiddenInput(r.body, "csrf")},
                        {"method", "totp"},
                        {"code", *code}});
      const std::int64_t t0 = NowNs();
      r = co_await vu.browser.Send(post);
      result.step_ns[kLoginSubmit] += NowNs() - t0;
      ++result.hops;
      if (!r.ok()) {
        result.error = "mfa: " + r.error;
        co_return std::string();
      }
      vu.jar.Store(r.set_cookies, post.target);
    } else if (r.status == 200 && r.body.find("action=\"/consent\"") != std::string::npos &&
               HiddenInput(r.body, "flow") && HiddenInput(r.body, "csrf")) {
      // Our consent page (prompt=consent, which offline_access needs): allow, as the
      // reference's configuration does without asking.
      Call post;
      post.method = http::verb::post;
      post.target = "/consent";
      post.cookie = vu.jar.HeaderFor(post.target);
      post.form = Form({{"flow", *HiddenInput(r.body, "flow")},
                        {"csrf", *HiddenInput(r.body, "csrf")},
                        {"decision", "allow"}});
      r = co_await vu.browser.Send(post);
      ++result.hops;
      if (!r.ok()) {
        result.error = "consent: " + r.error;
        co_return std::string();
      }
      vu.jar.Store(r.set_cookies, post.target);
    } else if (r.status == 200 && allow_login && HiddenInput(r.body, "flow") &&
               HiddenInput(r.body, "csrf")) {
      // Our hosted sign-in page: submit the password form (the page contract of tests/e2e).
      Call post;
      post.method = http::verb::post;
      post.target = "/login";
      post.cookie = vu.jar.HeaderFor(post.target);
      post.form = Form({{"flow", *HiddenInput(r.body, "flow")},
                        {"csrf", *HiddenInput(r.body, "csrf")},
                        {"username", vu.username},
                        {"password", o_.password}});
      const std::int64_t t0 = NowNs();
      r = co_await vu.browser.Send(post);
      result.step_ns[kLoginSubmit] += NowNs() - t0;
      ++result.hops;
      if (!r.ok()) {
        result.error = "login: " + r.error;
        co_return std::string();
      }
      vu.jar.Store(r.set_cookies, post.target);
    }
    if (r.status != 302 && r.status != 303 && r.status != 307) {
      result.error = "browser: " + std::to_string(r.status) + " at " + std::string(PathOf(target));
      co_return std::string();
    }
    if (r.location.rfind(o_.redirect_uri, 0) == 0) co_return r.location;
    if (r.location.rfind(origin_.text + "/", 0) == 0) {
      target = r.location.substr(origin_.text.size());
    } else if (!r.location.empty() && r.location[0] == '/') {
      target = r.location;
    } else {
      result.error = "browser: redirect off the server and not to the client";
      co_return std::string();
    }
  }
  result.error = "browser: too many redirects";
  co_return std::string();
}

asio::awaitable<OpResult> Runner::ClientCredentials(Vu& vu, Stats& stats) {
  OpResult result;
  Call call;
  call.method = http::verb::post;
  call.target = ep_.token;
  call.authorization = Basic();
  call.form = Form({{"grant_type", "client_credentials"}, {"scope", o_.scope}});
  Reply r = co_await vu.rp.Send(call);
  auto body = TokenBody(r, result.error);
  if (!body) co_return result;
  const json::value* at = body->if_contains("access_token");
  if (!at || !at->is_string() || at->as_string().empty()) {
    result.error = "token: no access_token";
    co_return result;
  }
  if (!stats.observed.contains("access_token_header")) {
    stats.observed["access_token_header"] = JwtHeader(at->as_string());
  }
  co_return result;
}

asio::awaitable<OpResult> Runner::CodeFlow(Vu& vu, Stats& stats, bool allow_login, bool want_refresh) {
  OpResult result;
  const std::string verifier = RandomToken(32);
  const std::string state = RandomToken(12);
  const std::string nonce = RandomToken(12);
  std::vector<std::pair<std::string, std::string>> params{
      {"response_type", "code"},
      {"client_id", o_.client_id},
      {"redirect_uri", o_.redirect_uri},
      {"scope", o_.scope},
      {"state", state},
      {"nonce", nonce},
      {"code_challenge", Base64Url(Sha256(verifier))},
      {"code_challenge_method", "S256"}};
  // A refresh token needs offline_access, which OIDC Core §11 grants on prompt=consent.
  if (want_refresh) params.emplace_back("prompt", "consent");
  if (o_.login_hint && allow_login) params.emplace_back("login_hint", vu.username);
  const std::string start = ep_.authorize + "?" + Form(params);

  const std::int64_t t0 = NowNs();
  std::string callback = co_await Browse(vu, start, allow_login, result);
  result.step_ns[kAuthorize] = NowNs() - t0 - result.step_ns[kLoginSubmit];
  if (!result.error.empty()) co_return result;
  if (QueryParam(callback, "state") != state) {
    result.error = "callback: state mismatch";
    co_return result;
  }
  if (auto iss = QueryParam(callback, "iss"); iss && *iss != ep_.issuer) {
    result.error = "callback: iss mismatch";
    co_return result;
  }
  auto code = QueryParam(callback, "code");
  if (!code || code->empty()) {
    result.error = "callback: " + QueryParam(callback, "error").value_or("no code");
    co_return result;
  }

  Call call;
  call.method = http::verb::post;
  call.target = ep_.token;
  call.authorization = Basic();
  call.form = Form({{"grant_type", "authorization_code"},
                    {"code", *code},
                    {"redirect_uri", o_.redirect_uri},
                    {"code_verifier", verifier}});
  const std::int64_t t1 = NowNs();
  Reply r = co_await vu.rp.Send(call);
  result.step_ns[kToken] = NowNs() - t1;
  auto parsed = TokenBody(r, result.error);
  if (!parsed) co_return result;
  const auto& body = *parsed;
  const auto* id_token = body.if_contains("id_token");
  const auto* access_token = body.if_contains("access_token");
  if (!id_token || !id_token->is_string() || !access_token || !access_token->is_string()) {
    result.error = "token: no id_token or access_token";
    co_return result;
  }
  std::string why = jwks_->CheckIdToken(id_token->as_string(), o_.alg, ep_.issuer, o_.client_id, nonce);
  if (!why.empty()) {
    result.error = why;
    co_return result;
  }
  if (!stats.observed.contains("access_token_header")) {
    stats.observed["access_token_header"] = JwtHeader(access_token->as_string());
    stats.observed["id_token_header"] = JwtHeader(id_token->as_string());
  }
  if (want_refresh) {
    const auto* rt = body.if_contains("refresh_token");
    if (!rt || !rt->is_string() || rt->as_string().empty()) {
      result.error = "token: no refresh_token for offline_access";
      co_return result;
    }
    vu.refresh_token = std::string(rt->as_string());
  }
  co_return result;
}

asio::awaitable<OpResult> Runner::Refresh(Vu& vu, Stats& stats) {
  OpResult result;
  Call call;
  call.method = http::verb::post;
  call.target = ep_.token;
  call.authorization = Basic();
  call.form = Form({{"grant_type", "refresh_token"}, {"refresh_token", vu.refresh_token}});
  const std::int64_t t0 = NowNs();
  Reply r = co_await vu.rp.Send(call);
  result.step_ns[kToken] = NowNs() - t0;
  auto body = TokenBody(r, result.error);
  if (!body) co_return result;
  const auto* rt = body->if_contains("refresh_token");
  const auto* at = body->if_contains("access_token");
  if (!rt || !rt->is_string() || !at || !at->is_string()) {
    result.error = "token: no refresh_token or access_token";
    co_return result;
  }
  if (rt->as_string() == vu.refresh_token) {
    result.error = "token: refresh token not rotated";
    co_return result;
  }
  vu.refresh_token = std::string(rt->as_string());
  if (const auto* id_token = body->if_contains("id_token"); id_token && id_token->is_string()) {
    std::string why = jwks_->CheckIdToken(id_token->as_string(), o_.alg, ep_.issuer, o_.client_id, "");
    if (!why.empty()) {
      result.error = why;
      co_return result;
    }
    if (!stats.observed.contains("id_token_header")) {
      stats.observed["id_token_header"] = JwtHeader(id_token->as_string());
    }
  }
  if (!stats.observed.contains("access_token_header")) {
    stats.observed["access_token_header"] = JwtHeader(at->as_string());
  }
  co_return result;
}

asio::awaitable<OpResult> Runner::Get(Vu& vu, Stats& stats) {
  OpResult result;
  Call call;
  call.target = o_.path;
  Reply r = co_await vu.rp.Send(call);
  if (!r.ok()) {
    result.error = "get: " + r.error;
    co_return result;
  }
  if (r.status != 200 || r.body.empty()) {
    result.error = "get: " + std::to_string(r.status);
    co_return result;
  }
  if (!stats.observed.contains("cache_control")) {
    stats.observed["cache_control"] = r.cache_control;
    stats.observed["etag"] = !r.etag.empty();
    stats.observed["body_bytes"] = r.body.size();
  }
  co_return result;
}

asio::awaitable<OpResult> Runner::Op(Vu& vu, Stats& stats) {
  if (o_.scenario == "cc") co_return co_await ClientCredentials(vu, stats);
  if (o_.scenario == "code") {
    OpResult r = co_await CodeFlow(vu, stats, false, false);
    if (r.hops > 1) ++stats.sso_misses;
    co_return r;
  }
  if (o_.scenario == "refresh") {
    OpResult r = co_await Refresh(vu, stats);
    if (!r.error.empty()) {
      // The chain is broken: get a new refresh token (not timed) before the next operation.
      OpResult again = co_await CodeFlow(vu, stats, true, true);
      (void)again;
    }
    co_return r;
  }
  if (o_.scenario == "login") {
    vu.jar.Clear();
    // Each sign-in is the next person's, so that their apps' time steps spread over the VUs.
    if (totp_) vu.username = o_.user_prefix + std::to_string(next_user_.fetch_add(1) % std::max(1, o_.users));
    co_return co_await CodeFlow(vu, stats, true, false);
  }
  co_return co_await Get(vu, stats);
}

asio::awaitable<std::string> Runner::Setup(Vu& vu) {
  if (o_.scenario != "code" && o_.scenario != "refresh") co_return std::string();
  // A few VUs at a time: each signs in once (an Argon2id hash on our side).
  while (setup_slots_.fetch_add(1) >= o_.setup_parallel) {
    setup_slots_.fetch_sub(1);
    co_await Sleep(NowNs() + 2'000'000);
  }
  Stats scratch;
  OpResult r = co_await CodeFlow(vu, scratch, true, o_.scenario == "refresh");
  setup_slots_.fetch_sub(1);
  co_return r.error;
}

asio::awaitable<void> Runner::RunVu(Vu& vu, Stats& stats) {
  std::string error = co_await Setup(vu);
  if (!error.empty()) {
    ++stats.setup_errors;
    stats.setup_error = error;
  }
  vus_ready_.fetch_add(1);
  while (phase_.load() == static_cast<int>(Phase::kSetup)) co_await Sleep(NowNs() + 2'000'000);
  const bool paced = o_.rate > 0;
  const std::int64_t interval_ns = paced ? static_cast<std::int64_t>(1e9 / o_.rate) : 0;
  while (error.empty() && phase_.load() != static_cast<int>(Phase::kDone)) {
    std::int64_t t0;
    if (paced) {
      const std::uint64_t slot = next_slot_.fetch_add(1);
      t0 = rate_start_ns_.load() + static_cast<std::int64_t>(slot) * interval_ns;
      if (t0 > NowNs()) co_await Sleep(t0);
      if (phase_.load() == static_cast<int>(Phase::kDone)) break;
    } else {
      t0 = NowNs();
    }
    OpResult r = co_await Op(vu, stats);
    const std::int64_t t1 = NowNs();
    const std::int64_t ms = measure_start_ns_.load();
    if (phase_.load() != static_cast<int>(Phase::kMeasure) || ms == 0 || t0 < ms) continue;
    if (r.error.empty()) {
      stats.latency_us.push_back(ToUs(t1 - t0));
      for (int s = 0; s < kStepCount; ++s) {
        if (r.step_ns[s]) stats.steps_us[s].push_back(ToUs(r.step_ns[s]));
      }
      measured_ops_.fetch_add(1);
    } else {
      ++stats.errors;
      if (stats.error_kinds.size() < 20 || stats.error_kinds.count(r.error)) ++stats.error_kinds[r.error];
    }
  }
  vus_running_.fetch_sub(1);
}

json::object Percentiles(std::vector<std::uint32_t>& v) {
  json::object o;
  o["count"] = v.size();
  if (v.empty()) return o;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]) / 1000.0;
  };
  double sum = 0;
  for (auto x : v) sum += x;
  o["mean"] = sum / static_cast<double>(v.size()) / 1000.0;
  o["p50"] = at(0.50);
  o["p90"] = at(0.90);
  o["p99"] = at(0.99);
  o["p999"] = at(0.999);
  o["max"] = static_cast<double>(v.back()) / 1000.0;
  return o;
}

json::object Runner::Run() {
  Discover();
  if (!o_.totp_file.empty()) totp_ = TotpApps::Load(o_.totp_file);
  const int threads = std::max(1, std::min(o_.threads, o_.concurrency));
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<Stats> stats(static_cast<std::size_t>(threads));
  std::vector<std::unique_ptr<Vu>> vus;
  for (int t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  for (int i = 0; i < o_.concurrency; ++i) {
    auto& io = *ios[static_cast<std::size_t>(i % threads)];
    auto vu = std::make_unique<Vu>(io, origin_, i);
    vu->username = o_.user_prefix + std::to_string(i % std::max(1, o_.users));
    vus.push_back(std::move(vu));
  }
  vus_running_ = o_.concurrency;
  for (int i = 0; i < o_.concurrency; ++i) {
    const std::size_t t = static_cast<std::size_t>(i % threads);
    asio::co_spawn(*ios[t], RunVu(*vus[static_cast<std::size_t>(i)], stats[t]), asio::detached);
  }
  std::vector<std::thread> workers;
  for (auto& io : ios) workers.emplace_back([&io] { io->run(); });

  ProcWatch watch(o_.watched);
  const std::int64_t setup_start = NowNs();
  const std::int64_t setup_deadline = setup_start + 120'000'000'000LL;
  while (vus_ready_.load() < o_.concurrency && NowNs() < setup_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double setup_s = static_cast<double>(NowNs() - setup_start) / 1e9;

  watch.ResetPeaks();
  rate_start_ns_ = NowNs();
  phase_ = static_cast<int>(Phase::kWarmup);
  std::this_thread::sleep_for(std::chrono::duration<double>(o_.warmup_s));

  watch.Start();
  const double self_cpu0 = SelfCpuSeconds();
  const std::int64_t m0 = NowNs();
  measure_start_ns_ = m0;
  phase_ = static_cast<int>(Phase::kMeasure);
  const std::int64_t m_end = m0 + static_cast<std::int64_t>(o_.duration_s * 1e9);
  while (NowNs() < m_end && measured_ops_.load() < o_.max_ops && vus_running_.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  phase_ = static_cast<int>(Phase::kDone);
  const std::int64_t m1 = NowNs();
  watch.Stop();
  const double self_cpu1 = SelfCpuSeconds();

  // Let every VU finish its operation; a stuck one is cut off after the request timeout.
  const std::int64_t drain_deadline = NowNs() + 15'000'000'000LL;
  while (vus_running_.load() > 0 && NowNs() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& io : ios) io->stop();
  for (auto& w : workers) w.join();

  Stats all;
  for (auto& s : stats) {
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    for (int k = 0; k < kStepCount; ++k) {
      all.steps_us[k].insert(all.steps_us[k].end(), s.steps_us[k].begin(), s.steps_us[k].end());
    }
    all.errors += s.errors;
    for (const auto& [k, n] : s.error_kinds) all.error_kinds[k] += n;
    all.sso_misses += s.sso_misses;
    all.setup_errors += s.setup_errors;
    if (!s.setup_error.empty()) all.setup_error = s.setup_error;
    for (const auto& [k, v] : s.observed) {
      if (!all.observed.contains(k)) all.observed[k] = v;
    }
  }
  const double window = static_cast<double>(m1 - m0) / 1e9;
  json::object out;
  out["scenario"] = o_.scenario;
  if (!o_.path.empty()) out["path"] = o_.path;
  out["server"] = o_.label;
  out["client_id"] = o_.client_id;
  out["alg"] = o_.alg;
  out["concurrency"] = o_.concurrency;
  out["rate"] = o_.rate;
  out["window_s"] = window;
  out["setup_s"] = setup_s;
  out["ops"] = all.latency_us.size();
  out["errors"] = all.errors;
  json::object kinds;
  for (const auto& [k, n] : all.error_kinds) kinds[k] = n;
  out["error_kinds"] = std::move(kinds);
  out["setup_errors"] = all.setup_errors;
  if (!all.setup_error.empty()) out["setup_error"] = all.setup_error;
  out["sso_misses"] = all.sso_misses;
  out["throughput"] = window > 0 ? static_cast<double>(all.latency_us.size()) / window : 0.0;
  out["latency_ms"] = Percentiles(all.latency_us);
  json::object steps;
  for (int k = 0; k < kStepCount; ++k) {
    if (!all.steps_us[k].empty()) steps[kStepNames[k]] = Percentiles(all.steps_us[k]);
  }
  out["steps_ms"] = std::move(steps);
  json::object driver;
  driver["cpu_s"] = self_cpu1 - self_cpu0;
  driver["threads"] = threads;
  driver["util"] = window > 0 ? (self_cpu1 - self_cpu0) / window / threads : 0.0;
  std::uint64_t connects = 0;
  for (const auto& vu : vus) connects += vu->browser.connects() + vu->rp.connects();
  driver["connections"] = connects;
  out["driver"] = std::move(driver);
  out["procs"] = watch.Report();
  out["observed"] = std::move(all.observed);
  if (totp_) totp_->Save(o_.totp_file);
  return out;
}

}  // namespace

json::object RunScenario(const Options& options) {
  static const std::vector<std::string> kScenarios{"cc", "code", "refresh", "login", "get"};
  if (std::find(kScenarios.begin(), kScenarios.end(), options.scenario) == kScenarios.end()) {
    throw std::runtime_error("unknown scenario " + options.scenario);
  }
  if (options.concurrency < 1 || options.concurrency > 4096) throw std::runtime_error("bad concurrency");
  if (options.duration_s <= 0 || options.duration_s > 600 || options.warmup_s < 0 || options.warmup_s > 120) {
    throw std::runtime_error("duration must be in (0, 600] s and warmup in [0, 120] s");
  }
  Runner runner(options);
  return runner.Run();
}

json::object CalibrateArgon2(int n, unsigned t_cost, unsigned m_kib) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium did not initialise");
  char hash[crypto_pwhash_STRBYTES];
  const std::string password = "bench-calibration-password";
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), t_cost,
                            static_cast<std::size_t>(m_kib) * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hash failed");
  }
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  std::vector<double> cpu, wall;
  for (int i = 0; i < n; ++i) {
    const double c0 = thread_cpu();
    const auto w0 = Clock::now();
    if (crypto_pwhash_str_verify(hash, password.data(), password.size()) != 0) {
      throw std::runtime_error("argon2id verify failed");
    }
    wall.push_back(std::chrono::duration<double>(Clock::now() - w0).count());
    cpu.push_back(thread_cpu() - c0);
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  std::vector<double> sorted = cpu;
  std::sort(sorted.begin(), sorted.end());
  json::object out;
  out["n"] = n;
  out["t_cost"] = t_cost;
  out["m_kib"] = m_kib;
  out["cpu_ms_mean"] = mean(cpu) * 1000;
  out["cpu_ms_median"] = sorted.empty() ? 0.0 : sorted[sorted.size() / 2] * 1000;
  out["cpu_ms_min"] = sorted.empty() ? 0.0 : sorted.front() * 1000;
  out["wall_ms_mean"] = mean(wall) * 1000;
  out["cores"] = std::thread::hardware_concurrency();
  return out;
}

}  // namespace bench
