#include "code_store.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/store/redis.hpp"

#include <boost/json.hpp>

namespace idp::token {
namespace {

constexpr const char* kRedeemScript = R"lua(
local g = redis.call('HGET', KEYS[1], 'g')
if not g then return {'unknown'} end
if redis.call('HSETNX', KEYS[1], 'used', ARGV[1]) == 0 then
  return {'reused', redis.call('HGET', KEYS[1], 'used'), redis.call('HGET', KEYS[1], 'attempt') or '', g}
end
redis.call('HSET', KEYS[1], 'attempt', ARGV[3])
-- Keep the used record as long as the tokens it produced live, so reuse can revoke them.
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {'redeemed', g}
)lua";

/// How long a redeemed code is remembered: the longest access-token life we issue by default.
constexpr int kUsedCodeTtl = 3600;

std::string KeyFor(const std::string& code) {
  return "token:code:" + crypto::Base64UrlEncode(crypto::Sha256(code));
}

std::string ToJson(const CodeGrant& g) {
  boost::json::array amr;
  for (const auto& a : g.amr) amr.emplace_back(a);
  boost::json::object o{
      {"client_id", g.client_id}, {"redirect_uri", g.redirect_uri}, {"scope", g.scope},
      {"nonce", g.nonce}, {"code_challenge", g.code_challenge}, {"sub", g.subject},
      {"auth_time", g.auth_time}, {"amr", std::move(amr)}, {"acr", g.acr}, {"sid", g.sid}};
  // Only when the claims parameter asked for them (most codes carry no claims at all).
  if (!g.userinfo_claims.empty()) o["uc"] = g.userinfo_claims;
  if (!g.id_token_claims.empty()) o["ic"] = g.id_token_claims;
  return boost::json::serialize(o);
}

CodeGrant FromJson(const std::string& text) {
  auto o = boost::json::parse(text).as_object();
  CodeGrant g;
  g.client_id = o.at("client_id").as_string();
  g.redirect_uri = o.at("redirect_uri").as_string();
  g.scope = o.at("scope").as_string();
  g.nonce = o.at("nonce").as_string();
  g.code_challenge = o.at("code_challenge").as_string();
  g.subject = o.at("sub").as_string();
  g.auth_time = o.at("auth_time").as_int64();
  for (const auto& a : o.at("amr").as_array()) g.amr.emplace_back(a.as_string());
  g.acr = o.at("acr").as_string();
  g.sid = o.at("sid").as_string();
  if (const auto* uc = o.if_contains("uc")) g.userinfo_claims = uc->as_string();
  if (const auto* ic = o.if_contains("ic")) g.id_token_claims = ic->as_string();
  return g;
}

}  // namespace

Result<std::string> RedisCodeStore::Issue(const CodeGrant& grant, std::chrono::seconds ttl) {
  std::string code = crypto::RandomToken(32);
  std::string key = KeyFor(code);
  auto r = redis_.Eval(
      "redis.call('HSET', KEYS[1], 'g', ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[2]); "
      "return 1",
      {key}, {ToJson(grant), std::to_string(ttl.count())});
  if (!r) return r.error();
  if (r->type == store::RedisReply::Type::kError) return Internal("redis: " + r->str);
  return code;
}

Result<Redemption> RedisCodeStore::Redeem(const std::string& code, const std::string& grant_id,
                                          const std::string& attempt_id) {
  if (code.empty() || code.size() > 512) return Redemption{};
  auto r = redis_.Eval(kRedeemScript, {KeyFor(code)},
                       {grant_id, std::to_string(kUsedCodeTtl), attempt_id});
  if (!r) return r.error();
  if (r->type != store::RedisReply::Type::kArray || r->elements.empty()) {
    return Internal("redis: unexpected reply to code redemption");
  }
  const auto& what = r->elements[0].str;
  Redemption out;
  if (what == "redeemed" && r->elements.size() == 2) {
    out.outcome = RedeemOutcome::kRedeemed;
    out.grant = FromJson(r->elements[1].str);
  } else if (what == "reused") {
    out.outcome = RedeemOutcome::kReused;
    if (r->elements.size() == 4) {
      out.grant_id = r->elements[1].str;
      out.attempt_id = r->elements[2].str;
      out.grant = FromJson(r->elements[3].str);
    }
  }
  return out;
}

}  // namespace idp::token
