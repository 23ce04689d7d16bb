// The sign-in routes at unit speed: the real Dispatch, sessions and flows in a real Redis
// (IDP_TEST_REDIS_URL), auth, mfa and token as in-memory fakes (test/fakes). What the routes
// may and may not do from each state of a flow, seen from the browser's side.
#include "context.hpp"
#include "fakes/fake_clients.hpp"
#include "signin/authentication.hpp"
#include "signin/sign_in_flow.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdlib>
#include <map>
#include <regex>

using namespace idp::gateway;
namespace fakes = idp::gateway::testing;
namespace signin = idp::gateway::signin;
namespace asio = boost::asio;

namespace {

constexpr const char* kIssuer = "http://127.0.0.1:8080";
const std::string kAlice = "0b7f6c1e-5d6a-4f55-9a1d-2f7f6f9e1a01";

idp::store::RedisOptions RedisFromEnv() {
  const char* url = std::getenv("IDP_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    throw std::runtime_error("IDP_TEST_REDIS_URL is not set: run the tests through `make test`");
  }
  return idp::store::ParseRedisUrl(url).value();
}

GatewayConfig Config() {
  GatewayConfig c;
  c.issuer = kIssuer;
  c.origin = OriginOf(kIssuer);
  c.secure_cookies = false;
  c.remember_days = 0;
  return c;
}

/// The stack around the routes: fakes for the services, Redis for the browser state.
struct Harness {
  Harness() : redis(RedisFromEnv()), sessions(redis, pool, SessionPolicy{}), limiter(redis, pool) {
    idp::crypto::Init();
    auth.users["alice"] = {"alice's password", kAlice};
    idp::token::v1::Client app;
    app.set_client_id("app");
    app.set_name("App");
    app.set_type(idp::token::v1::CLIENT_TYPE_PUBLIC);
    app.add_redirect_uris("http://127.0.0.1:9/cb");
    token.clients["app"] = app;
    app.set_client_id("strict");
    app.set_mfa_policy("required");
    token.clients["strict"] = app;
  }
  ~Harness() { pool.join(); }

  void GiveAliceAnApp() {
    idp::mfa::v1::Factor f;
    f.set_id("totp-1");
    f.set_type(idp::mfa::v1::FACTOR_TYPE_TOTP);
    f.set_active(true);
    mfa.factors[kAlice] = {f};
  }

  /// Runs `fn` (a coroutine) to its end.
  template <class T, class Fn>
  T Run(Fn fn) {
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    std::optional<T> out;
    std::exception_ptr error;
    asio::co_spawn(ioc, fn(), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) out = std::move(value);
      guard.reset();
    });
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
  }

  asio::thread_pool pool{2};
  idp::store::RedisClient redis;
  SessionStore sessions;
  RateLimiter limiter;
  fakes::FakeAuthClient auth;
  fakes::FakeMfaClient mfa;
  fakes::FakeTokenClient token;
  fakes::FakeReadiness readiness;
  Context ctx{Config(), {"idp_session", "idp_browser", "idp_remember", "idp_lang"},
              auth, mfa, token, readiness, sessions, limiter, Pages("Identity"), "", {}, {}, 0,
              nullptr};
};

/// A browser: keeps cookies, sends requests through Dispatch.
struct Browser {
  explicit Browser(Harness& h) : h(h) {}

  Response Send(const std::string& method, const std::string& target,
                const std::string& body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = method;
    req.target = target;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = body;
    req.remote_addr = "192.0.2.10";
    req.request_id = "test";
    if (!body.empty()) req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    std::string cookie;
    for (const auto& [k, v] : cookies) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
    if (!cookie.empty()) req.headers.emplace_back("cookie", cookie);
    for (auto& h2 : headers) req.headers.push_back(std::move(h2));
    Response r = h.Run<Response>([&]() -> Awaitable<Response> { co_return co_await Dispatch(h.ctx, req); });
    for (const auto& [name, value] : r.headers) {
      if (name != "Set-Cookie") continue;
      const auto eq = value.find('=');
      const auto semi = value.find(';');
      const std::string k = value.substr(0, eq);
      const std::string v = value.substr(eq + 1, semi - eq - 1);
      if (v.empty() || value.find("Max-Age=0") != std::string::npos) {
        cookies.erase(k);
      } else {
        cookies[k] = v;
      }
    }
    return r;
  }
  Response Post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& form,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Send("POST", path, idp::http::EncodeQuery(form), std::move(headers));
  }

  Harness& h;
  std::map<std::string, std::string> cookies;
};

std::string Hidden(const std::string& html, const std::string& name) {
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex("name=\"" + name + "\" value=\"([^\"]*)\"")));
  return m[1];
}

std::string Location(const Response& r) { return std::string(r.Header("location").value_or("")); }

bool MadeSession(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Set-Cookie" && value.rfind("idp_session=", 0) == 0 && value.find("Max-Age=0") == std::string::npos) {
      return true;
    }
  }
  return false;
}

/// A live session of alice, `age` seconds old, in browser `b`.
void SignedIn(Harness& h, Browser& b, std::int64_t age, bool second_factor) {
  const std::int64_t then = NowUnix() - age;
  Session s = second_factor ? signin::WithSecondFactor(kAlice, then, signin::SecondFactor::kTotp)
                            : signin::PasswordOnly(kAlice, then);
  auto cookie = h.Run<idp::Result<std::string>>(
      [&]() -> Awaitable<idp::Result<std::string>> { co_return co_await h.sessions.CreateSession(s); });
  b.cookies["idp_session"] = cookie.value();
}

/// The portal's sign-in form of browser `b`, filled in with alice's right password.
std::vector<std::pair<std::string, std::string>> AlicesLoginForm(Browser& b) {
  auto start = b.Send("GET", "/login");
  auto login = b.Send("GET", Location(start));
  return {{"flow", Hidden(login.body, "flow")}, {"csrf", Hidden(login.body, "csrf")},
          {"username", "alice"}, {"password", "alice's password"}};
}

const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";  // RFC 7636 App. B

std::string AuthorizeTarget(const std::string& client, const std::string& extra = "") {
  return "/authorize?client_id=" + client +
         "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&response_type=code&scope=openid&state=s"
         "&code_challenge=" + kChallenge + "&code_challenge_method=S256" + extra;
}

}  // namespace

TEST_CASE("a question flow of a signed-in person can neither enrol a factor nor make a session", "[gateway][db]") {
  Harness h;
  h.GiveAliceAnApp();
  Browser b(h);
  SignedIn(h, b, 2 * 3600, true);
  auto asked = b.Send("GET", AuthorizeTarget("app", "&prompt=select_account"));
  REQUIRE(asked.status == 303);
  REQUIRE(Location(asked).rfind("/select-account?flow=", 0) == 0);
  const std::string flow_id = Location(asked).substr(std::string("/select-account?flow=").size());
  auto page = b.Send("GET", Location(asked));
  REQUIRE(page.status == 200);
  const std::string csrf = Hidden(page.body, "csrf");

  for (const char* path : {"/mfa/enrol", "/mfa/enrol/done", "/mfa/enrol/verify"}) {
    INFO(path);
    auto r = b.Post(path, {{"flow", flow_id}, {"csrf", csrf}, {"factor_id", "x"}, {"code", "123456"}});
    CHECK(r.status == 303);
    CHECK(Location(r).rfind("/login?flow=", 0) == 0);  // sign in again first
    CHECK_FALSE(MadeSession(r));
  }
  auto code = b.Post("/mfa", {{"flow", flow_id}, {"csrf", csrf}, {"method", "totp"}, {"code", "123456"}});
  CHECK(code.status == 400);
  CHECK_FALSE(MadeSession(code));
  for (const char* call : {"StartTotpEnrolment", "ConfirmTotpEnrolment", "GenerateRecoveryCodes",
                           "VerifyCode", "StartDeliveryEnrolment", "ConfirmDeliveryEnrolment"}) {
    INFO(call);
    CHECK_FALSE(h.mfa.calls.Saw(call));
  }
  // The question itself is as it was.
  auto flow = h.Run<idp::Result<std::optional<Flow>>>(
      [&]() -> Awaitable<idp::Result<std::optional<Flow>>> { co_return co_await h.sessions.GetFlow(flow_id); });
  REQUIRE(flow.value());
  CHECK(flow.value()->state == FlowState::kAwaitingAccountChoice);
  CHECK(flow.value()->password_at == 0);
}

TEST_CASE("password then the second factor: one session under a new id and a double submit leads on", "[gateway][db]") {
  Harness h;
  h.GiveAliceAnApp();
  Browser b(h);
  b.cookies["idp_session"] = "planted-by-someone-else";
  auto start = b.Send("GET", "/login");
  REQUIRE(start.status == 303);
  auto login = b.Send("GET", Location(start));
  REQUIRE(login.status == 200);
  const std::string flow = Hidden(login.body, "flow");
  const std::string csrf = Hidden(login.body, "csrf");

  auto wrong = b.Post("/login", {{"flow", flow}, {"csrf", csrf}, {"username", "alice"}, {"password", "nope"}});
  CHECK(wrong.status == 401);
  auto password = b.Post("/login", {{"flow", flow}, {"csrf", csrf}, {"username", "alice"}, {"password", "alice's password"}});
  REQUIRE(password.status == 303);
  CHECK(Location(password) == "/mfa?flow=" + flow);
  CHECK_FALSE(MadeSession(password));  // the pre-MFA state is never a session

  auto bad = b.Post("/mfa", {{"flow", flow}, {"csrf", csrf}, {"method", "totp"}, {"code", "000000"}});
  CHECK(bad.status == 401);
  CHECK_FALSE(MadeSession(bad));
  auto good = b.Post("/mfa", {{"flow", flow}, {"csrf", csrf}, {"method", "totp"}, {"code", "123456"}});
  REQUIRE(good.status == 303);
  CHECK(Location(good) == "/");
  REQUIRE(MadeSession(good));
  const std::string cookie = b.cookies["idp_session"];
  CHECK(cookie != "planted-by-someone-else");
  auto session = h.Run<idp::Result<std::optional<Session>>>(
      [&]() -> Awaitable<idp::Result<std::optional<Session>>> { co_return co_await h.sessions.GetSession(cookie); });
  REQUIRE(session.value());
  CHECK(session.value()->acr == "aal2");
  CHECK(session.value()->amr == std::vector<std::string>{"pwd", "otp", "mfa"});

  // Posted again: on to the portal, no second verification, no second session.
  const std::size_t verified = h.mfa.calls.names.size();
  auto again = b.Post("/mfa", {{"flow", flow}, {"csrf", csrf}, {"method", "totp"}, {"code", "123456"}});
  CHECK(again.status == 303);
  CHECK(Location(again) == "/");
  CHECK_FALSE(MadeSession(again));
  CHECK(h.mfa.calls.names.size() == verified);
}

TEST_CASE("a hosted-page POST from a foreign origin is refused before any handler runs", "[gateway][db]") {
  Harness h;
  Browser b(h);
  const auto form = AlicesLoginForm(b);
  CHECK(b.Post("/login", form, {{"origin", "https://evil.example"}}).status == 403);
  CHECK(b.Post("/login", form, {{"sec-fetch-site", "cross-site"}}).status == 403);
  CHECK(b.Post("/account/mfa/totp", {{"csrf", "x"}}, {{"origin", "http://127.0.0.1:8081"}}).status == 403);
  CHECK_FALSE(h.auth.calls.Saw("VerifyPassword"));
  auto ok = b.Post("/login", form, {{"origin", "null"}});
  CHECK(ok.status == 303);
  CHECK(h.auth.calls.Saw("VerifyPassword"));
}

TEST_CASE("a step-up to enrol a first factor needs a password within the window", "[gateway][db]") {
  Harness h;  // alice has no factor; "strict" requires one
  SECTION("an old session signs in again, password first") {
    Browser b(h);
    SignedIn(h, b, 2 * 3600, false);
    auto r = b.Send("GET", AuthorizeTarget("strict"));
    REQUIRE(r.status == 303);
    CHECK(Location(r).rfind("/login?flow=", 0) == 0);
    CHECK_FALSE(h.mfa.calls.Saw("StartTotpEnrolment"));
  }
  SECTION("a fresh one goes straight to the enrolment, then keeps its sid") {
    Browser b(h);
    SignedIn(h, b, 10, false);
    auto r = b.Send("GET", AuthorizeTarget("strict"));
    REQUIRE(r.status == 303);
    REQUIRE(Location(r).rfind("/mfa/enrol?flow=", 0) == 0);
    auto page = b.Send("GET", Location(r));
    REQUIRE(page.status == 200);
    CHECK(h.mfa.calls.Saw("StartTotpEnrolment"));
  }
}

TEST_CASE("100 concurrent reservations against a limit of 30 count exactly 30, all keys or none", "[gateway][db]") {
  Harness h;
  const std::string run = idp::crypto::RandomToken(8);
  const std::vector<std::pair<std::string, int>> one{{"test:" + run + ":a", 30}};
  const std::vector<std::pair<std::string, int>> two{{"test:" + run + ":b", 30},
                                                     {"test:" + run + ":net", 10}};
  for (const auto* limits : {&one, &two}) {
    asio::io_context ioc;
    int granted = 0, refused = 0, failed = 0;
    for (int i = 0; i < 100; ++i) {
      asio::co_spawn(ioc, [&]() -> Awaitable<void> {
        auto a = co_await h.limiter.Reserve(*limits, std::chrono::seconds(60));
        if (!a) ++failed; else if (a->retry_after == 0) ++granted; else ++refused;
      }, asio::detached);
    }
    ioc.run();
    INFO("granted " << granted << ", refused " << refused);
    CHECK(failed == 0);
    CHECK(granted == (limits == &one ? 30 : 10));
    CHECK(refused == 100 - granted);
  }
  // The network key of `two` is full; its first key counted only the 10 that went through.
  const std::vector<std::pair<std::string, int>> first_key{{"test:" + run + ":b", 30}};
  auto more = h.Run<idp::Result<RateLimiter::Attempt>>([&]() -> Awaitable<idp::Result<RateLimiter::Attempt>> {
    co_return co_await h.limiter.Reserve(first_key, std::chrono::seconds(60));
  });
  REQUIRE(more.has_value());
  CHECK(more->retry_after == 0);
  // A released attempt (a right password) frees its slot.
  const std::vector<std::pair<std::string, int>> single{{"test:" + run + ":one", 1}};
  auto reserve = [&] {
    return h.Run<idp::Result<RateLimiter::Attempt>>([&]() -> Awaitable<idp::Result<RateLimiter::Attempt>> {
      co_return co_await h.limiter.Reserve(single, std::chrono::seconds(60));
    });
  };
  auto first = reserve();
  REQUIRE(first.has_value());
  CHECK(first->retry_after == 0);
  CHECK(reserve()->retry_after > 0);
  auto released = h.Run<idp::Status>([&]() -> Awaitable<idp::Status> {
    co_return co_await h.limiter.Release(*first);
  });
  CHECK(released.has_value());
  CHECK(reserve()->retry_after == 0);
}

TEST_CASE("a busy auth is a 429 with Retry-After and the attempt is not counted; an unreachable one a 503", "[gateway][db]") {
  Harness h;
  Browser b(h);
  const auto form = AlicesLoginForm(b);
  h.auth.verify_fails = idp::ResourceExhausted("auth is busy");
  for (int i = 0; i < 40; ++i) {  // more than the 30 a minute that failures may use
    auto busy = b.Post("/login", form);
    REQUIRE(busy.status == 429);
    CHECK(busy.Header("retry-after") == std::optional<std::string_view>("1"));
  }
  h.auth.verify_fails = idp::Unavailable("auth is down");
  auto down = b.Post("/login", form);
  CHECK(down.status == 503);
  CHECK(down.Header("retry-after").has_value());
  h.auth.verify_fails.reset();
  CHECK(b.Post("/login", form).status == 303);  // none of those attempts was counted
}
