#include "redis_outbox.hpp"

#include "idp/store/redis.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace idp::delivery {
namespace {

using store::RedisReply;

// KEYS: idem, msg, outbox, dest zset, country zset, budget counter.
// ARGV: 1 fingerprint, 2 id, 3 now ms, 4 idem ttl s, 5 status ttl s, 6 channel, 7 country,
// 8 template, 9 payload, 10 expires at ms, 11 budget (0 none), 12 budget reset ms,
// 13 n destination windows, then (limit, window ms) pairs, then n country windows and pairs.
constexpr const char* kEnqueueScript = R"lua(
local prev = redis.call('GET', KEYS[1])
if prev then
  local sep = string.find(prev, '|', 1, true)
  if (not sep) or string.sub(prev, sep + 1) ~= ARGV[1] then return {'conflict', ''} end
  return {'replayed', string.sub(prev, 1, sep - 1)}
end
local now = tonumber(ARGV[3])
local function windows(at)
  local n = tonumber(ARGV[at])
  local w = {}
  for i = 1, n do w[i] = {tonumber(ARGV[at + 2 * i - 1]), tonumber(ARGV[at + 2 * i])} end
  return w, at + 2 * n + 1
end
local dest, after = windows(13)
local country = windows(after)
local function longest(ws)
  local l = 0
  for _, w in ipairs(ws) do if w[2] > l then l = w[2] end end
  return l
end
-- Sliding windows over one sorted set per bucket: how long until every window has room.
local function wait_for(key, ws)
  if #ws == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest(ws))
  local wait = 0
  for _, w in ipairs(ws) do
    local from = '(' .. string.format('%d', now - w[2])
    local c = redis.call('ZCOUNT', key, from, '+inf')
    if c >= w[1] then
      local e = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', c - w[1], 1)
      local t = tonumber(e[2]) + w[2] - now
      if t > wait then wait = t end
    end
  end
  return wait
end
local wd = wait_for(KEYS[4], dest)
if wd > 0 then return {'refused', 'destination', string.format('%d', wd)} end
local wc = wait_for(KEYS[5], country)
if wc > 0 then return {'refused', 'country', string.format('%d', wc)} end
local budget = tonumber(ARGV[11])
local reset = tonumber(ARGV[12])
if budget > 0 then
  local used = tonumber(redis.call('GET', KEYS[6]) or '0')
  if used >= budget then return {'refused', 'budget', string.format('%d', reset - now)} end
end
local function record(key, ws)
  if #ws == 0 then return end
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, longest(ws))
end
record(KEYS[4], dest)
record(KEYS[5], country)
if budget > 0 then
  redis.call('INCR', KEYS[6])
  redis.call('PEXPIRE', KEYS[6], reset - now + 3600000)
end
redis.call('HSET', KEYS[2], 'state', 'queued', 'channel', ARGV[6], 'country', ARGV[7],
  'template', ARGV[8], 'payload', ARGV[9], 'attempts', 0, 'queued_at', ARGV[3],
  'updated_at', ARGV[3], 'expires_at', ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('XADD', KEYS[3], '*', 'm', ARGV[2])
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[1], 'EX', ARGV[4])
return {'queued', ARGV[2]}
)lua";

// KEYS: msg, outbox. ARGV: entry id, group.
constexpr const char* kBeginScript = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'channel', 'country', 'payload', 'queued_at',
  'expires_at', 'last_provider', 'last_error')
local st = f[1]
if (not st) or st == 'sent' or st == 'failed' or (not f[4]) then
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
  redis.call('XDEL', KEYS[2], ARGV[1])
  return {'skip', st or 'gone'}
end
local a = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return {'go', tostring(a), f[2] or '', f[3] or '', f[4], f[5] or '0', f[6] or '0', f[7] or '',
  f[8] or ''}
)lua";

// The ownership check every Mark* script starts with: the entry must still be pending for this
// consumer (a slower worker whose entry was claimed by another must not record anything).
// KEYS[2] outbox; ARGV[1] entry id, ARGV[2] group, ARGV[3] consumer.
#define IDP_DELIVERY_OWNS_ENTRY                                                      \
  "local p = redis.call('XPENDING', KEYS[2], ARGV[2], ARGV[1], ARGV[1], 1)\n"        \
  "if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end\n"

// KEYS: msg, outbox. ARGV: entry, group, consumer, now, provider.
constexpr const char* kSentScript = IDP_DELIVERY_OWNS_ENTRY R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'sent', 'updated_at', ARGV[4], 'sent_at', ARGV[4],
    'last_provider', ARGV[5])
  redis.call('HDEL', KEYS[1], 'payload', 'next_at')
end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return 1
)lua";

// KEYS: msg, outbox, retry. ARGV: entry, group, consumer, now, next, error, provider, id.
constexpr const char* kRetryScript = IDP_DELIVERY_OWNS_ENTRY R"lua(
local st = redis.call('HGET', KEYS[1], 'state')
if st then
  if st ~= 'retrying' then redis.call('HSET', KEYS[1], 'state', 'retrying', 'updated_at', ARGV[4]) end
  redis.call('HSET', KEYS[1], 'next_at', ARGV[5], 'last_error', ARGV[6], 'last_provider', ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[8])
end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return 1
)lua";

// KEYS: msg, outbox, dead. ARGV: entry, group, consumer, now, error, provider, id, dead max.
constexpr const char* kFailedScript = IDP_DELIVERY_OWNS_ENTRY R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'channel', 'attempts', 'country', 'template')
if f[1] then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'updated_at', ARGV[4], 'last_error', ARGV[5],
    'last_provider', ARGV[6])
  redis.call('HDEL', KEYS[1], 'payload', 'next_at')
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'm', ARGV[7], 'channel', f[2] or '',
  'country', f[4] or '', 'template', f[5] or '', 'attempts', f[3] or '0', 'error', ARGV[5],
  'provider', ARGV[6], 'at', ARGV[4])
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return 1
)lua";

#undef IDP_DELIVERY_OWNS_ENTRY

// KEYS: retry, outbox. ARGV: now, max.
constexpr const char* kPromoteScript = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'm', id)
end
return #ids
)lua";

// KEYS: counter, open flag. ARGV: ok (1/0), threshold, cooldown s.
constexpr const char* kBreakerScript = R"lua(
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  return 0
end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

std::int64_t ToInt(const std::string& s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Status CheckReply(const Result<RedisReply>& r, std::string_view what) {
  if (!r) return r.error();
  if (r->type == RedisReply::Type::kError) {
    return Internal("redis " + std::string(what) + ": " + r->str);
  }
  return {};
}

/// Entries of an XREADGROUP/XAUTOCLAIM reply: [[id, [field, value, ...]], ...]. Entries
/// without an "m" field (deleted ones come back with nil fields) are skipped.
void AppendLeases(const RedisReply& entries, const std::string& consumer,
                  std::vector<Lease>& out) {
  for (const auto& e : entries.elements) {
    if (e.type != RedisReply::Type::kArray || e.elements.size() < 2) continue;
    const auto& fields = e.elements[1];
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].str == "m") {
        out.push_back({e.elements[0].str, fields.elements[i + 1].str, consumer});
        break;
      }
    }
  }
}

void WindowArgs(const std::vector<RateWindow>& ws, std::vector<std::string>& args) {
  args.push_back(std::to_string(ws.size()));
  for (const auto& w : ws) {
    args.push_back(std::to_string(w.limit));
    args.push_back(std::to_string(w.window.count()));
  }
}

MessageState StateFrom(const std::string& s) {
  if (s == "sent") return MessageState::kSent;
  if (s == "retrying") return MessageState::kRetrying;
  if (s == "failed") return MessageState::kFailed;
  return MessageState::kQueued;
}

}  // namespace

std::string_view ChannelName(Channel c) { return c == Channel::kSms ? "sms" : "email"; }

std::string_view RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone: return "none";
    case Refusal::kDestinationRateLimited: return "destination_rate_limited";
    case Refusal::kCountryRateLimited: return "country_rate_limited";
    case Refusal::kDailyBudgetExhausted: return "daily_budget_exhausted";
    case Refusal::kUnsupportedCountry: return "unsupported_country";
    case Refusal::kChannelDisabled: return "channel_disabled";
  }
  return "none";
}

RedisOutbox::RedisOutbox(store::RedisClient& redis, RedisOutboxOptions options)
    : redis_(redis), options_(std::move(options)) {
  if (options_.prefix.rfind("delivery:", 0) != 0) {
    throw std::invalid_argument("the delivery key prefix must start with \"delivery:\"");
  }
}

Result<EnqueueResult> RedisOutbox::Enqueue(const NewMessage& m, const EnqueueLimits& limits) {
  constexpr std::int64_t kDayMs = 86400000;
  const std::int64_t day = m.queued_at_ms / kDayMs;
  const std::int64_t reset_ms = (day + 1) * kDayMs;
  const bool has_country = !m.country.empty();
  std::vector<std::string> keys{
      Key("idem:" + m.idempotency_hash), Key("msg:" + m.message_id), Key("outbox"),
      Key("rate:dest:" + m.destination_hash),
      Key("rate:cc:" + (has_country ? m.country : std::string("none"))),
      Key("budget:" + std::string(ChannelName(m.channel)) + ":" + std::to_string(day))};
  std::vector<std::string> args{m.fingerprint,
                                m.message_id,
                                std::to_string(m.queued_at_ms),
                                std::to_string(options_.idempotency_ttl.count()),
                                std::to_string(options_.status_ttl.count()),
                                std::string(ChannelName(m.channel)),
                                m.country,
                                m.template_name,
                                m.payload,
                                std::to_string(m.expires_at_ms),
                                std::to_string(limits.daily_budget),
                                std::to_string(reset_ms)};
  WindowArgs(limits.destination, args);
  WindowArgs(has_country ? limits.country : std::vector<RateWindow>{}, args);

  auto r = redis_.Eval(kEnqueueScript, keys, args);
  if (auto st = CheckReply(r, "enqueue"); !st) return st.error();
  if (r->type != RedisReply::Type::kArray || r->elements.size() < 2) {
    return Internal("redis enqueue: unexpected reply");
  }
  const std::string& what = r->elements[0].str;
  EnqueueResult out;
  if (what == "queued") {
    out.outcome = EnqueueResult::Outcome::kQueued;
    out.message_id = r->elements[1].str;
  } else if (what == "replayed") {
    out.outcome = EnqueueResult::Outcome::kReplayed;
    out.message_id = r->elements[1].str;
  } else if (what == "conflict") {
    out.outcome = EnqueueResult::Outcome::kConflict;
  } else if (what == "refused" && r->elements.size() == 3) {
    out.outcome = EnqueueResult::Outcome::kRefused;
    const std::string& why = r->elements[1].str;
    out.refusal = why == "destination" ? Refusal::kDestinationRateLimited
                  : why == "country"   ? Refusal::kCountryRateLimited
                                       : Refusal::kDailyBudgetExhausted;
    out.retry_after = std::chrono::milliseconds(ToInt(r->elements[2].str));
  } else {
    return Internal("redis enqueue: unexpected reply");
  }
  return out;
}

Result<std::optional<MessageStatus>> RedisOutbox::GetStatus(const std::string& message_id) {
  auto r = redis_.Command({"HMGET", Key("msg:" + message_id), "state", "channel", "attempts",
                           "queued_at", "updated_at", "sent_at", "next_at", "last_error"});
  if (auto st = CheckReply(r, "status"); !st) return st.error();
  if (r->type != RedisReply::Type::kArray || r->elements.size() != 8) {
    return Internal("redis status: unexpected reply");
  }
  const auto& e = r->elements;
  if (e[0].is_nil()) return std::optional<MessageStatus>{};
  MessageStatus s;
  s.state = StateFrom(e[0].str);
  s.channel = e[1].str == "sms" ? Channel::kSms : Channel::kEmail;
  s.attempts = static_cast<int>(ToInt(e[2].str));
  s.queued_at_ms = ToInt(e[3].str);
  s.updated_at_ms = ToInt(e[4].str);
  s.sent_at_ms = ToInt(e[5].str);
  s.next_attempt_at_ms = s.state == MessageState::kRetrying ? ToInt(e[6].str) : 0;
  s.last_error = e[7].str;
  return std::optional<MessageStatus>{std::move(s)};
}

Status RedisOutbox::EnsureGroup() {
  auto r = redis_.Command({"XGROUP", "CREATE", Key("outbox"), kGroup, "0", "MKSTREAM"});
  if (!r) return r.error();
  if (r->type == RedisReply::Type::kError && r->str.rfind("BUSYGROUP", 0) != 0) {
    return Internal("redis XGROUP CREATE: " + r->str);
  }
  return {};
}

Result<std::vector<Lease>> RedisOutbox::ReadNew(const std::string& consumer, int count,
                                                std::chrono::milliseconds block) {
  auto r = redis_.Command({"XREADGROUP", "GROUP", kGroup, consumer, "COUNT",
                           std::to_string(count), "BLOCK", std::to_string(block.count()),
                           "STREAMS", Key("outbox"), ">"});
  if (!r) return r.error();
  if (r->type == RedisReply::Type::kError) {
    // The stream or group vanished (a Redis that lost its data): make them again.
    if (r->str.rfind("NOGROUP", 0) == 0) {
      if (auto st = EnsureGroup(); !st) return st.error();
      return std::vector<Lease>{};
    }
    return Internal("redis XREADGROUP: " + r->str);
  }
  std::vector<Lease> out;
  if (r->type != RedisReply::Type::kArray) return out;  // nil: nothing within `block`
  for (const auto& stream : r->elements) {
    if (stream.elements.size() == 2) AppendLeases(stream.elements[1], consumer, out);
  }
  return out;
}

Result<std::vector<Lease>> RedisOutbox::ClaimStale(const std::string& consumer,
                                                   std::chrono::milliseconds min_idle,
                                                   int count) {
  std::vector<Lease> out;
  std::string cursor = "0-0";
  // Bounded: at most a few pages per call; the next call starts over.
  for (int page = 0; page < 8 && static_cast<int>(out.size()) < count; ++page) {
    auto r = redis_.Command({"XAUTOCLAIM", Key("outbox"), kGroup, consumer,
                             std::to_string(min_idle.count()), cursor, "COUNT",
                             std::to_string(count - static_cast<int>(out.size()))});
    if (!r) return r.error();
    if (r->type == RedisReply::Type::kError) {
      if (r->str.rfind("NOGROUP", 0) == 0) {
        if (auto st = EnsureGroup(); !st) return st.error();
        return out;
      }
      return Internal("redis XAUTOCLAIM: " + r->str);
    }
    if (r->type != RedisReply::Type::kArray || r->elements.size() < 2) break;
    AppendLeases(r->elements[1], consumer, out);
    cursor = r->elements[0].str;
    if (cursor == "0-0") break;
  }
  return out;
}

Result<int> RedisOutbox::PromoteDue(std::int64_t now_ms, int max) {
  auto r = redis_.Eval(kPromoteScript, {Key("retry"), Key("outbox")},
                       {std::to_string(now_ms), std::to_string(max)});
  if (auto st = CheckReply(r, "promote"); !st) return st.error();
  return static_cast<int>(r->integer);
}

Result<std::optional<Work>> RedisOutbox::Begin(const Lease& lease, std::int64_t /*now_ms*/) {
  auto r = redis_.Eval(kBeginScript, {Key("msg:" + lease.message_id), Key("outbox")},
                       {lease.entry_id, kGroup});
  if (auto st = CheckReply(r, "begin"); !st) return st.error();
  if (r->type != RedisReply::Type::kArray || r->elements.empty()) {
    return Internal("redis begin: unexpected reply");
  }
  const auto& e = r->elements;
  if (e[0].str != "go" || e.size() != 9) return std::optional<Work>{};
  Work w;
  w.attempt = static_cast<int>(ToInt(e[1].str));
  w.channel = e[2].str == "sms" ? Channel::kSms : Channel::kEmail;
  w.country = e[3].str;
  w.payload = e[4].str;
  w.queued_at_ms = ToInt(e[5].str);
  w.expires_at_ms = ToInt(e[6].str);
  w.last_provider = e[7].str;
  w.last_error = e[8].str;
  return std::optional<Work>{std::move(w)};
}

Result<bool> RedisOutbox::MarkSent(const Lease& lease, std::int64_t now_ms,
                                   std::string_view provider) {
  auto r = redis_.Eval(kSentScript, {Key("msg:" + lease.message_id), Key("outbox")},
                       {lease.entry_id, kGroup, lease.consumer, std::to_string(now_ms),
                        std::string(provider)});
  if (auto st = CheckReply(r, "mark sent"); !st) return st.error();
  return r->integer == 1;
}

Result<bool> RedisOutbox::MarkRetry(const Lease& lease, std::int64_t now_ms, std::int64_t next_ms,
                                    std::string_view error, std::string_view provider) {
  auto r = redis_.Eval(kRetryScript,
                       {Key("msg:" + lease.message_id), Key("outbox"), Key("retry")},
                       {lease.entry_id, kGroup, lease.consumer, std::to_string(now_ms),
                        std::to_string(next_ms), std::string(error), std::string(provider),
                        lease.message_id});
  if (auto st = CheckReply(r, "mark retry"); !st) return st.error();
  return r->integer == 1;
}

Result<bool> RedisOutbox::MarkFailed(const Lease& lease, std::int64_t now_ms,
                                     std::string_view error, std::string_view provider) {
  auto r = redis_.Eval(kFailedScript,
                       {Key("msg:" + lease.message_id), Key("outbox"), Key("dead")},
                       {lease.entry_id, kGroup, lease.consumer, std::to_string(now_ms),
                        std::string(error), std::string(provider), lease.message_id,
                        std::to_string(options_.dead_letter_max)});
  if (auto st = CheckReply(r, "mark failed"); !st) return st.error();
  return r->integer == 1;
}

Result<QueueDepth> RedisOutbox::Depth() {
  QueueDepth d;
  auto len = redis_.Command({"XLEN", Key("outbox")});
  if (auto st = CheckReply(len, "XLEN"); !st) return st.error();
  auto pending = redis_.Command({"XPENDING", Key("outbox"), kGroup});
  if (!pending) return pending.error();
  auto retry = redis_.Command({"ZCARD", Key("retry")});
  if (auto st = CheckReply(retry, "ZCARD"); !st) return st.error();
  auto dead = redis_.Command({"XLEN", Key("dead")});
  if (auto st = CheckReply(dead, "XLEN"); !st) return st.error();
  if (pending->type == RedisReply::Type::kArray && !pending->elements.empty()) {
    d.in_flight = pending->elements[0].integer;
  }
  d.ready = std::max<std::int64_t>(0, len->integer - d.in_flight);
  d.retry = retry->integer;
  d.dead = dead->integer;
  return d;
}

Result<int> RedisOutbox::ReapConsumers(std::chrono::milliseconds idle,
                                       const std::set<std::string>& keep) {
  auto r = redis_.Command({"XINFO", "CONSUMERS", Key("outbox"), kGroup});
  if (!r) return r.error();
  if (r->type != RedisReply::Type::kArray) return 0;  // no stream or group yet
  int reaped = 0;
  for (const auto& c : r->elements) {
    std::string name;
    std::int64_t pending = -1;
    std::int64_t idle_ms = 0;
    for (std::size_t i = 0; i + 1 < c.elements.size(); i += 2) {
      const std::string& k = c.elements[i].str;
      if (k == "name") name = c.elements[i + 1].str;
      if (k == "pending") pending = c.elements[i + 1].integer;
      if (k == "idle") idle_ms = c.elements[i + 1].integer;
    }
    if (name.empty() || pending != 0 || idle_ms < idle.count() || keep.count(name) != 0) {
      continue;
    }
    auto d = redis_.Command({"XGROUP", "DELCONSUMER", Key("outbox"), kGroup, name});
    if (d && d->type == RedisReply::Type::kInteger) ++reaped;
  }
  return reaped;
}

Result<bool> RedisOutbox::ProviderTripped(std::string_view provider) {
  auto r = redis_.Command({"EXISTS", Key("breaker:" + std::string(provider) + ":open")});
  if (auto st = CheckReply(r, "EXISTS"); !st) return st.error();
  return r->integer == 1;
}

Status RedisOutbox::RecordProviderResult(std::string_view provider, bool ok, int threshold,
                                         std::chrono::seconds cooldown) {
  const std::string base = Key("breaker:" + std::string(provider));
  auto r = redis_.Eval(kBreakerScript, {base, base + ":open"},
                       {ok ? "1" : "0", std::to_string(threshold),
                        std::to_string(std::max<std::int64_t>(1, cooldown.count()))});
  return CheckReply(r, "breaker");
}

}  // namespace idp::delivery
