#include "challenge_store.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

#include <cstdlib>

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

Status ChallengeStore::SetCode(const std::string& id, const std::string& subject,
                               const SentCode& code) {
  auto r = redis_.Eval(
      "if redis.call('HGET', KEYS[1], 'subject') ~= ARGV[1] then return 0 end "
      "redis.call('HSET', KEYS[1], 'code_hash', ARGV[2], 'code_factor', ARGV[3], "
      "'code_expires', ARGV[4], 'message_id', ARGV[5]) return 1",
      {Key(id)}, {subject, code.hash, code.factor_id, std::to_string(code.expires_at), code.message_id});
  if (!r) return r.error();
  if (r->type != store::RedisReply::Type::kInteger || r->integer != 1) {
    return NotFound("challenge");
  }
  return {};
}

Result<std::optional<ChallengeStore::SentCode>> ChallengeStore::GetCode(
    const std::string& id, const std::string& subject) {
  using R = std::optional<SentCode>;
  if (id.empty() || id.size() > 64) return R{};
  auto r = redis_.Command({"HMGET", Key(id), "subject", "code_hash", "code_factor",
                           "code_expires", "message_id"});
  if (!r) return r.error();
  if (r->type != store::RedisReply::Type::kArray || r->elements.size() != 5 ||
      r->elements[0].str != subject || r->elements[1].is_nil()) {
    return R{};
  }
  SentCode c{r->elements[1].str, r->elements[2].str, std::atoll(r->elements[3].str.c_str()),
             r->elements[4].str};
  return R{std::move(c)};
}

Status ChallengeStore::SetEnrolCode(const std::string& factor_id, const std::string& hash) {
  auto r = redis_.Eval(
      "redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'tries', 0) "
      "redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1",
      {"mfa:enrol:" + factor_id}, {hash, std::to_string(ttl_.count())});
  if (!r) return r.error();
  return {};
}

Result<std::optional<std::pair<std::string, int>>> ChallengeStore::EnrolCode(
    const std::string& factor_id) {
  using R = std::optional<std::pair<std::string, int>>;
  auto r = redis_.Command({"HMGET", "mfa:enrol:" + factor_id, "hash", "tries"});
  if (!r) return r.error();
  if (r->type != store::RedisReply::Type::kArray || r->elements.size() != 2 ||
      r->elements[0].is_nil()) {
    return R{};
  }
  return R{std::make_pair(r->elements[0].str, std::atoi(r->elements[1].str.c_str()))};
}

Result<int> ChallengeStore::CountEnrolTry(const std::string& factor_id) {
  auto r = redis_.Command({"HINCRBY", "mfa:enrol:" + factor_id, "tries", "1"});
  if (!r) return r.error();
  return static_cast<int>(r->integer);
}

}  // namespace idp::mfa
