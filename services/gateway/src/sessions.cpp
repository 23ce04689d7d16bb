#include "sessions.hpp"

#include "blocking.hpp"
#include "signin/sign_in_flow.hpp"

#include "idp/common/config.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

#include <boost/json.hpp>

namespace idp::gateway {
namespace {

namespace json = boost::json;

std::string SessionId(const std::string& cookie) {
  return crypto::Base64UrlEncode(crypto::Sha256(cookie));
}
std::string SessionKey(const std::string& cookie) { return "gw:session:" + SessionId(cookie); }
std::string SessionKeyOfId(const std::string& id) { return "gw:session:" + id; }
/// The person's index of live sessions: a set of session ids.
std::string SubjectIndexKey(const std::string& subject) {
  return "gw:subject-sessions:" + crypto::Base64UrlEncode(crypto::Sha256(subject));
}

// Deletes a session and removes it from the index named in its record ("idx"), atomically.
constexpr const char* kDeleteScript = R"lua(
local v = redis.call('GET', KEYS[1])
if v then
  local ok, o = pcall(cjson.decode, v)
  if ok and type(o) == 'table' and type(o.idx) == 'string' then
    redis.call('SREM', o.idx, ARGV[1])
  end
end
return redis.call('DEL', KEYS[1])
)lua";

// Stores a session and adds it to its person's index, which lives as long as the longest
// session in it could.
constexpr const char* kCreateScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return 1
)lua";
std::string FlowKey(const std::string& id) {
  return "gw:flow:" + crypto::Base64UrlEncode(crypto::Sha256(id));
}

std::string FinishedFlowKey(const std::string& id) {
  return "gw:flow-done:" + crypto::Base64UrlEncode(crypto::Sha256(id));
}

std::string Str(const json::object& o, const char* k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::int64_t Int(const json::object& o, const char* k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : 0;
}

json::object ToJson(const Session& s) {
  json::array amr;
  for (const auto& a : s.amr) amr.emplace_back(a);
  return {{"sub", s.subject}, {"auth_time", s.auth_time}, {"amr", std::move(amr)},
          {"acr", s.acr},     {"sid", s.sid},             {"csrf", s.csrf},
          {"created_at", s.created_at}, {"idx", SubjectIndexKey(s.subject)},
          {"ua", s.user_agent}, {"ip", s.address}};
}

Session SessionFromJson(const json::object& o) {
  Session s;
  s.subject = Str(o, "sub");
  s.auth_time = Int(o, "auth_time");
  if (const auto* a = o.if_contains("amr"); a && a->is_array()) {
    for (const auto& v : a->as_array()) {
      if (v.is_string()) s.amr.emplace_back(v.as_string());
    }
  }
  s.acr = Str(o, "acr");
  s.sid = Str(o, "sid");
  s.csrf = Str(o, "csrf");
  s.created_at = Int(o, "created_at");
  s.user_agent = Str(o, "ua");
  s.address = Str(o, "ip");
  return s;
}

json::object ToJson(const Flow& f) {
  json::object o{{"browser", f.browser},         {"csrf", f.csrf},
                 {"created_at", f.created_at},    {"return_to", f.return_to},
                 {"subject", f.subject},          {"password_at", f.password_at},
                 {"challenge_id", f.challenge_id}, {"enrol_factor_id", f.enrol_factor_id},
                 {"step_up_sid", f.step_up_sid},  {"enrolled_at", f.enrolled_at},
                 {"state", signin::StateName(f.state)}};
  if (f.authorize) {
    const auto& a = *f.authorize;
    json::object az{{"client_id", a.client_id},
                    {"redirect_uri", a.redirect_uri},
                    {"scope", a.scope},
                    {"state", a.state},
                    {"nonce", a.nonce},
                    {"code_challenge", a.code_challenge},
                    {"code_challenge_method", a.code_challenge_method},
                    {"response_mode", a.response_mode},
                    {"login_hint", a.login_hint},
                    {"prompt_login", a.prompt_login},
                    {"require_mfa", a.require_mfa},
                    {"prefer_mfa", a.prefer_mfa},
                    {"totp_only", a.totp_only},
                    {"ui_locales", a.ui_locales},
                    {"prompt_none", a.prompt_none},
                    {"prompt_consent", a.prompt_consent},
                    {"select_account", a.select_account},
                    {"userinfo_claims", a.userinfo_claims},
                    {"id_token_claims", a.id_token_claims}};
    if (a.max_age) az["max_age"] = *a.max_age;
    o["authorize"] = std::move(az);
  }
  return o;
}

/// The flow's stored state; for a record written before states were stored (a flow lives 10
/// minutes, across an upgrade), the state its fields imply. An unknown name is a flow that
/// leads nowhere.
FlowState StateOf(const json::object& o, const Flow& f) {
  if (o.contains("state")) return signin::StateFromName(Str(o, "state")).value_or(FlowState::kFinished);
  const std::string pending = Str(o, "pending");
  if (pending == "consent") return FlowState::kAwaitingConsent;
  if (pending == "select_account") return FlowState::kAwaitingAccountChoice;
  if (!pending.empty()) return FlowState::kFinished;
  if (!f.challenge_id.empty()) return FlowState::kAwaitingSecondFactor;
  if (f.enrolled_at != 0) return FlowState::kOfferingSecondMethod;
  if (!f.subject.empty() && f.password_at != 0) return FlowState::kEnrollingFirstFactor;
  return FlowState::kAwaitingPassword;
}

Flow FlowFromJson(const json::object& o) {
  Flow f;
  f.browser = Str(o, "browser");
  f.csrf = Str(o, "csrf");
  f.created_at = Int(o, "created_at");
  f.return_to = Str(o, "return_to");
  f.subject = Str(o, "subject");
  f.password_at = Int(o, "password_at");
  f.challenge_id = Str(o, "challenge_id");
  f.enrol_factor_id = Str(o, "enrol_factor_id");
  f.step_up_sid = Str(o, "step_up_sid");
  f.enrolled_at = Int(o, "enrolled_at");
  f.state = StateOf(o, f);
  if (const auto* az = o.if_contains("authorize"); az && az->is_object()) {
    const auto& x = az->as_object();
    AuthorizeRequest a;
    a.client_id = Str(x, "client_id");
    a.redirect_uri = Str(x, "redirect_uri");
    a.scope = Str(x, "scope");
    a.state = Str(x, "state");
    a.nonce = Str(x, "nonce");
    a.code_challenge = Str(x, "code_challenge");
    a.code_challenge_method = Str(x, "code_challenge_method");
    a.response_mode = Str(x, "response_mode");
    a.login_hint = Str(x, "login_hint");
    const auto* pl = x.if_contains("prompt_login");
    a.prompt_login = pl && pl->is_bool() && pl->as_bool();
    const auto* rm = x.if_contains("require_mfa");
    a.require_mfa = rm && rm->is_bool() && rm->as_bool();
    const auto* pm = x.if_contains("prefer_mfa");
    a.prefer_mfa = pm && pm->is_bool() && pm->as_bool();
    const auto* to = x.if_contains("totp_only");
    a.totp_only = to && to->is_bool() && to->as_bool();
    auto flag = [&x](const char* name) {
      const auto* v = x.if_contains(name);
      return v && v->is_bool() && v->as_bool();
    };
    a.prompt_none = flag("prompt_none");
    a.prompt_consent = flag("prompt_consent");
    a.select_account = flag("select_account");
    a.ui_locales = Str(x, "ui_locales");
    a.userinfo_claims = Str(x, "userinfo_claims");
    a.id_token_claims = Str(x, "id_token_claims");
    if (x.contains("max_age")) a.max_age = Int(x, "max_age");
    f.authorize = std::move(a);
  }
  return f;
}

Status CheckReply(const Result<store::RedisReply>& r) {
  if (!r) return r.error();
  if (r->type == store::RedisReply::Type::kError) return Unavailable("redis: " + r->str);
  return {};
}

}  // namespace

SessionPolicy SessionPolicy::FromConfig(const Config& config) {
  SessionPolicy policy;
  policy.idle = config.GetSeconds("gateway.session_idle", policy.idle);
  policy.absolute = config.GetSeconds("gateway.session_absolute", policy.absolute);
  return policy;
}

std::string SessionRedisUrl(const Config& config) {
  return config.GetString("gateway.redis_url", config.RequireString("redis.url"));
}

std::int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SessionStore::SessionStore(store::RedisClient& redis, boost::asio::thread_pool& pool,
                           SessionPolicy policy)
    : redis_(redis), pool_(pool), policy_(policy) {}

// Each Redis call below is a named lambda awaited through RunBlocking (see blocking.hpp).

boost::asio::awaitable<Result<std::string>> SessionStore::CreateSession(const Session& session) {
  Session stored = session;
  // An upgraded session keeps its absolute lifetime (security review F14).
  if (stored.created_at == 0) stored.created_at = NowUnix();
  std::string cookie = crypto::RandomToken(32);
  std::string key = SessionKey(cookie);
  std::string index = SubjectIndexKey(stored.subject);
  std::string id = SessionId(cookie);
  std::string value = json::serialize(ToJson(stored));
  std::string ttl = std::to_string(policy_.idle.count());
  std::string index_ttl = std::to_string(policy_.absolute.count());
  auto op = [&] {
    return CheckReply(
        redis_.Command({"EVAL", kCreateScript, "2", key, index, value, ttl, id, index_ttl}));
  };
  Status st = co_await RunBlocking(pool_, op);
  if (!st) co_return Result<std::string>(st.error());
  co_return Result<std::string>(std::move(cookie));
}

boost::asio::awaitable<Result<std::string>> SessionStore::Rotate(const std::string& old_cookie,
                                                               const Session& session) {
  auto cookie = co_await CreateSession(session);
  if (!cookie) co_return cookie;
  if (!old_cookie.empty()) {
    Status ended = co_await DeleteSession(old_cookie);
    (void)ended;  // it idles out; the new id is what the browser holds now
  }
  co_return cookie;
}

boost::asio::awaitable<Result<std::optional<Session>>> SessionStore::GetSession(
    const std::string& cookie) {
  using R = Result<std::optional<Session>>;
  if (cookie.empty() || cookie.size() > 128) co_return R(std::optional<Session>{});
  std::string key = SessionKey(cookie);
  std::string ttl = std::to_string(policy_.idle.count());
  // GETEX refreshes the idle timer in the same round trip.
  auto op = [&] { return redis_.Command({"GETEX", key, "EX", ttl}); };
  Result<store::RedisReply> reply = co_await RunBlocking(pool_, op);
  if (!reply) co_return R(reply.error());
  if (reply->type != store::RedisReply::Type::kString) co_return R(std::optional<Session>{});
  std::error_code ec;
  auto parsed = json::parse(reply->str, ec);
  if (ec || !parsed.is_object()) co_return R(std::optional<Session>{});
  Session s = SessionFromJson(parsed.as_object());
  if (NowUnix() - s.created_at > policy_.absolute.count()) {
    Status deleted = co_await DeleteSession(cookie);
    (void)deleted;
    co_return R(std::optional<Session>{});
  }
  co_return R(std::optional<Session>(std::move(s)));
}

boost::asio::awaitable<Status> SessionStore::DeleteSession(const std::string& cookie) {
  std::string id = SessionId(cookie);
  Status st = co_await DeleteSessionById(id);
  co_return st;
}

std::string SessionStore::IdOf(const std::string& cookie) { return SessionId(cookie); }

boost::asio::awaitable<Status> SessionStore::DeleteSessionById(const std::string& id) {
  std::string key = SessionKeyOfId(id);
  auto op = [&] { return CheckReply(redis_.Command({"EVAL", kDeleteScript, "1", key, id})); };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

boost::asio::awaitable<Result<std::vector<SessionStore::Indexed>>> SessionStore::SessionsOf(
    const std::string& subject) {
  using R = Result<std::vector<Indexed>>;
  std::string index = SubjectIndexKey(subject);
  auto op = [&]() -> R {
    auto members = redis_.Command({"SMEMBERS", index});
    if (!members) return R(members.error());
    if (members->type == store::RedisReply::Type::kError) return R(Unavailable("redis: " + members->str));
    std::vector<Indexed> out;
    for (const auto& m : members->elements) {
      auto value = redis_.Command({"GET", SessionKeyOfId(m.str)});
      if (!value) return R(value.error());
      std::error_code ec;
      json::value parsed;
      if (value->type == store::RedisReply::Type::kString) parsed = json::parse(value->str, ec);
      if (value->type != store::RedisReply::Type::kString || ec || !parsed.is_object()) {
        // Ended or expired: forget it.
        auto removed = redis_.Command({"SREM", index, m.str});
        if (!removed) return R(removed.error());
        continue;
      }
      Session s = SessionFromJson(parsed.as_object());
      if (s.subject != subject) continue;
      if (NowUnix() - s.created_at > policy_.absolute.count()) continue;
      out.push_back({m.str, std::move(s)});
    }
    return R(std::move(out));
  };
  R result = co_await RunBlocking(pool_, op);
  co_return result;
}

boost::asio::awaitable<Result<std::string>> SessionStore::CreateFlow(const Flow& flow) {
  Flow stored = flow;
  stored.created_at = NowUnix();
  std::string id = crypto::RandomToken(24);
  std::string key = FlowKey(id);
  std::string value = json::serialize(ToJson(stored));
  std::string ttl = std::to_string(policy_.flow.count());
  auto op = [&] { return CheckReply(redis_.Command({"SET", key, value, "EX", ttl})); };
  Status st = co_await RunBlocking(pool_, op);
  if (!st) co_return Result<std::string>(st.error());
  co_return Result<std::string>(std::move(id));
}

boost::asio::awaitable<Result<std::optional<Flow>>> SessionStore::GetFlow(const std::string& id) {
  using R = Result<std::optional<Flow>>;
  if (id.empty() || id.size() > 128) co_return R(std::optional<Flow>{});
  std::string key = FlowKey(id);
  auto op = [&] { return redis_.Command({"GET", key}); };
  Result<store::RedisReply> reply = co_await RunBlocking(pool_, op);
  if (!reply) co_return R(reply.error());
  if (reply->type != store::RedisReply::Type::kString) co_return R(std::optional<Flow>{});
  std::error_code ec;
  auto parsed = json::parse(reply->str, ec);
  if (ec || !parsed.is_object()) co_return R(std::optional<Flow>{});
  co_return R(std::optional<Flow>(FlowFromJson(parsed.as_object())));
}

boost::asio::awaitable<Status> SessionStore::DeleteFlow(const std::string& id) {
  std::string key = FlowKey(id);
  auto op = [&] { return CheckReply(redis_.Command({"DEL", key})); };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

boost::asio::awaitable<Status> SessionStore::MarkFlowFinished(const std::string& id,
                                                              const FinishedFlow& done) {
  std::string key = FinishedFlowKey(id);
  std::string value = json::serialize(json::object{{"browser", done.browser},
                                                   {"subject", done.subject},
                                                   {"client_id", done.client_id},
                                                   {"return_to", done.return_to}});
  std::string ttl = std::to_string(policy_.flow.count());
  auto op = [&] { return CheckReply(redis_.Command({"SET", key, value, "EX", ttl})); };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

boost::asio::awaitable<Result<std::optional<FinishedFlow>>> SessionStore::GetFinishedFlow(
    const std::string& id) {
  using R = Result<std::optional<FinishedFlow>>;
  if (id.empty() || id.size() > 128) co_return R(std::optional<FinishedFlow>{});
  std::string key = FinishedFlowKey(id);
  auto op = [&] { return redis_.Command({"GET", key}); };
  Result<store::RedisReply> reply = co_await RunBlocking(pool_, op);
  if (!reply) co_return R(reply.error());
  if (reply->type != store::RedisReply::Type::kString) co_return R(std::optional<FinishedFlow>{});
  std::error_code ec;
  auto parsed = json::parse(reply->str, ec);
  if (ec || !parsed.is_object()) co_return R(std::optional<FinishedFlow>{});
  const auto& o = parsed.as_object();
  FinishedFlow done;
  done.browser = Str(o, "browser");
  done.subject = Str(o, "subject");
  done.client_id = Str(o, "client_id");
  done.return_to = Str(o, "return_to");
  co_return R(std::optional<FinishedFlow>(std::move(done)));
}

boost::asio::awaitable<Status> SessionStore::UpdateFlow(const std::string& id, const Flow& flow) {
  std::string key = FlowKey(id);
  std::string value = json::serialize(ToJson(flow));
  // XX: only an existing flow; KEEPTTL: its deadline stays.
  auto op = [&] {
    auto r = redis_.Command({"SET", key, value, "XX", "KEEPTTL"});
    if (!r) return Status(r.error());
    if (r->is_nil()) return Status(NotFound("flow expired"));
    return CheckReply(r);
  };
  Status st = co_await RunBlocking(pool_, op);
  co_return st;
}

boost::asio::awaitable<bool> SessionStore::Ping() {
  auto op = [&] { return redis_.Ping(); };
  bool ok = co_await RunBlocking(pool_, op);
  co_return ok;
}

}  // namespace idp::gateway
