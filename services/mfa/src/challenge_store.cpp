#include "challenge_store.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

namespace idp::mfa {
namespace {

std::string Key(const std::string& id) { return "mfa:challenge:" + id; }

constexpr const char* kTries = R"lua(
if redis.call('HGET', KEYS[1], 'subject') ~= ARGV[1] then return -1 end
if ARGV[2] == '1' then return redis.call('HINCRBY', KEYS[1], 'tries', 1) end
return tonumber(redis.call('HGET', KEYS[1], 'tries'))
)lua";

Result<int> RunTries(store::RedisClient& redis, const std::string& id, const std::string& subject,
                     bool count) {
  if (id.empty() || id.size() > 64) return -1;
  auto r = redis.Eval(kTries, {Key(id)}, {subject, count ? "1" : "0"});
  if (!r) return r.error();
  if (r->type != store::RedisReply::Type::kInteger) return Internal("redis: unexpected reply");
  return static_cast<int>(r->integer);
}

}  // namespace

Result<std::string> ChallengeStore::Create(const std::string& subject) {
  std::string id = crypto::RandomToken(24);
  auto r = redis_.Eval(
      "redis.call('HSET', KEYS[1], 'subject', ARGV[1], 'tries', 0); "
      "redis.call('EXPIRE', KEYS[1], ARGV[2]); return 1",
      {Key(id)}, {subject, std::to_string(ttl_.count())});
  if (!r) return r.error();
  if (r->type == store::RedisReply::Type::kError) return Unavailable("redis: " + r->str);
  return id;
}

Result<int> ChallengeStore::Tries(const std::string& id, const std::string& subject) {
  return RunTries(redis_, id, subject, false);
}

Result<int> ChallengeStore::CountTry(const std::string& id, const std::string& subject) {
  return RunTries(redis_, id, subject, true);
}

Status ChallengeStore::End(const std::string& id) {
  auto r = redis_.Command({"DEL", Key(id)});
  if (!r) return r.error();
  return {};
}

}  // namespace idp::mfa
