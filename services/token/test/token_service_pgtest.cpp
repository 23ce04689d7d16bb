#include "caching_client_store.hpp"
#include "client_config.hpp"
#include "code_store.hpp"
#include "grant_store.hpp"
#include "key_ring.hpp"
#include "pg_client_store.hpp"
#include "token_migrations.hpp"
#include "token_service.hpp"

#include "../../../tests/support/pg_test_db.hpp"
#include "idp/common/config.hpp"
#include "idp/oauth/oauth.hpp"
#include "idp/store/pg.hpp"
#include "idp/store/redis.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace idp;
using namespace idp::token;

namespace {

store::RedisOptions RedisFromEnv() {
  const char* url = std::getenv("IDP_TEST_REDIS_URL");
  REQUIRE(url != nullptr);
  auto o = store::ParseRedisUrl(url).value();
  o.pool_size = 24;
  return o;
}

crypto::Aead MasterKey() { return crypto::Aead::FromKey(std::string(32, 'k')).value(); }

struct Fixture {
  Fixture()
      : pool({testing::CreateTestDatabase("token_test"), 8}),
        redis(RedisFromEnv()),
        clients(pool),
        codes(redis),
        grants(pool),
        keys(pool, MasterKey()),
        service(clients, codes, grants, keys, clock,
                {"https://idp.test", std::chrono::seconds(60)}) {
    crypto::Init();
    REQUIRE(store::Migrate(pool, Migrations()).value() >= 1);
    REQUIRE(keys.EnsureKeys({jose::Alg::kRS256, jose::Alg::kES256, jose::Alg::kEdDSA}));
  }

  std::pair<ClientRecord, std::string> Confidential(const std::string& id,
                                                    const std::string& alg = "RS256") {
    ClientRecord c;
    c.client_id = id;
    c.redirect_uris = {"https://app.test/cb"};
    c.id_token_signed_response_alg = alg;
    return service.SaveClient(c, false, "").value();
  }

  CodeGrant Grant(const std::string& client_id, const std::string& verifier = "") {
    CodeGrant g;
    g.client_id = client_id;
    g.redirect_uri = "https://app.test/cb";
    g.scope = "openid profile";
    g.nonce = "n-0S6_WzA2Mj";
    g.code_challenge = verifier.empty() ? "" : oauth::S256Challenge(verifier);
    g.subject = "248289761001";
    g.auth_time = clock.NowUnix() - 5;
    g.amr = {"pwd"};
    g.sid = "sid-1";
    return g;
  }

  CodeExchange Exchange(const std::string& id, const std::string& secret, const std::string& code) {
    CodeExchange x;
    x.client = {id, secret, AuthMethod::kClientSecretBasic, "", ""};
    x.code = code;
    x.redirect_uri = "https://app.test/cb";
    x.redirect_uri_present = true;
    return x;
  }

  FakeClock clock{1'900'000'000};
  store::PgPool pool;
  store::RedisClient redis;
  PgClientStore clients;
  RedisCodeStore codes;
  PgGrantStore grants;
  KeyRing keys;
  TokenService service;
};

std::string ErrorOf(const Outcome<Tokens>& o) {
  auto* e = std::get_if<oauth::OAuthError>(&o);
  return e ? e->error : "";
}

boost::json::object VerifyWith(KeyRing& keys, const std::string& jwt) {
  return jose::VerifyJwt(jwt, [&](const boost::json::object& h) -> std::optional<jose::Key> {
           auto k = keys.Find(std::string(h.at("kid").as_string()));
           return k ? std::optional<jose::Key>(k->key) : std::nullopt;
         }).value();
}

}  // namespace

TEST_CASE("code exchange issues a signed ID token and an RFC 9068 access token", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  CHECK(secret.size() >= 43);
  CHECK(client.secret_hash != secret);
  auto code = f.service.IssueCode(f.Grant("app1"), "").value();
  auto out = f.service.ExchangeCode(f.Exchange("app1", secret, code)).value();
  REQUIRE(ErrorOf(out).empty());
  const auto& t = std::get<Tokens>(out);

  auto id = VerifyWith(f.keys, t.id_token);
  CHECK(id.at("iss") == "https://idp.test");
  CHECK(id.at("aud") == "app1");
  CHECK(id.at("sub") == "248289761001");
  CHECK(id.at("nonce") == "n-0S6_WzA2Mj");
  CHECK(id.at("exp").as_int64() == f.clock.NowUnix() + 600);
  CHECK(id.at("auth_time").as_int64() == f.clock.NowUnix() - 5);
  CHECK(id.at("sid") == "sid-1");
  auto digest = crypto::Sha256(t.access_token);
  CHECK(id.at("at_hash").as_string() == crypto::Base64UrlEncode(digest.substr(0, 16)));
  CHECK(jose::Parse(t.id_token).value().header.at("alg") == "RS256");

  auto at_header = jose::Parse(t.access_token).value().header;
  CHECK(at_header.at("typ") == "at+jwt");
  // ES256 by default (token.access_token_alg), with a key the JWKS publishes.
  CHECK(at_header.at("alg") == "ES256");
  CHECK(f.service.Jwks().find(std::string(at_header.at("kid").as_string())) != std::string::npos);
  CHECK(VerifyWith(f.keys, t.access_token).at("sub") == "248289761001");
  auto info = f.service.ValidateAccessToken(t.access_token).value();
  REQUIRE(std::holds_alternative<AccessTokenInfo>(info));
  CHECK(std::get<AccessTokenInfo>(info).subject == "248289761001");
  // An ID token is not an access token (typ differs).
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t.id_token).value()));
  f.clock.Advance(std::chrono::seconds(601));
  CHECK(std::holds_alternative<oauth::OAuthError>(
      f.service.ValidateAccessToken(t.access_token).value()));
}

TEST_CASE("the access token alg is configurable and ID tokens keep theirs", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  for (auto alg : {jose::Alg::kRS256, jose::Alg::kEdDSA}) {
    TokenConfig config{"https://idp.test", std::chrono::seconds(60)};
    config.access_token_alg = alg;
    TokenService service(f.clients, f.codes, f.grants, f.keys, f.clock, config);
    auto code = service.IssueCode(f.Grant("app1"), "").value();
    auto out = service.ExchangeCode(f.Exchange("app1", secret, code)).value();
    REQUIRE(ErrorOf(out).empty());
    const auto& t = std::get<Tokens>(out);
    CHECK(jose::Parse(t.access_token).value().header.at("alg").as_string() == jose::AlgName(alg));
    CHECK(jose::Parse(t.id_token).value().header.at("alg") == "RS256");
    CHECK(std::holds_alternative<AccessTokenInfo>(service.ValidateAccessToken(t.access_token).value()));
    // Another instance configured differently still accepts it (found by kid).
    CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(t.access_token).value()));
  }
}

TEST_CASE("ID tokens use the client's registered alg", "[token]") {
  Fixture f;
  for (std::string alg : {"ES256", "EdDSA"}) {
    auto [client, secret] = f.Confidential("app-" + alg, alg);
    auto code = f.service.IssueCode(f.Grant(client.client_id), "").value();
    auto out = f.service.ExchangeCode(f.Exchange(client.client_id, secret, code)).value();
    REQUIRE(ErrorOf(out).empty());
    auto jws = jose::Parse(std::get<Tokens>(out).id_token).value();
    CHECK(jws.header.at("alg").as_string() == alg);
    CHECK(VerifyWith(f.keys, std::get<Tokens>(out).id_token).at("aud").as_string() == client.client_id);
  }
}

TEST_CASE("the code grant refuses what RFC 6749 and RFC 7636 refuse", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  f.Confidential("app2");
  const std::string verifier(50, 'v');

  SECTION("a reused code is invalid_grant") {
    auto code = f.service.IssueCode(f.Grant("app1"), "").value();
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()).empty());
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()) == "invalid_grant");
  }
  SECTION("a wrong secret is invalid_client, and does not consume the code") {
    auto code = f.service.IssueCode(f.Grant("app1"), "").value();
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret + "x", code)).value()) == "invalid_client");
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("nope", secret, code)).value()) == "invalid_client");
    auto post = f.Exchange("app1", secret, code);
    post.client.method = AuthMethod::kClientSecretPost;  // not the registered method
    CHECK(ErrorOf(f.service.ExchangeCode(post).value()) == "invalid_client");
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()).empty());
  }
  SECTION("a code is bound to its client and redirect URI") {
    auto code = f.service.IssueCode(f.Grant("app2"), "").value();
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()) == "invalid_grant");
    auto code2 = f.service.IssueCode(f.Grant("app1"), "").value();
    auto x = f.Exchange("app1", secret, code2);
    x.redirect_uri = "https://app.test/cb/";
    CHECK(ErrorOf(f.service.ExchangeCode(x).value()) == "invalid_grant");
  }
  SECTION("PKCE: missing or wrong verifier, and downgrade") {
    auto code = f.service.IssueCode(f.Grant("app1", verifier), "S256").value();
    CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()) == "invalid_grant");
    auto code2 = f.service.IssueCode(f.Grant("app1", verifier), "S256").value();
    auto x = f.Exchange("app1", secret, code2);
    x.code_verifier = std::string(50, 'w');
    CHECK(ErrorOf(f.service.ExchangeCode(x).value()) == "invalid_grant");
    auto code3 = f.service.IssueCode(f.Grant("app1"), "").value();
    auto y = f.Exchange("app1", secret, code3);
    y.code_verifier = verifier;
    CHECK(ErrorOf(f.service.ExchangeCode(y).value()) == "invalid_grant");
    auto code4 = f.service.IssueCode(f.Grant("app1", verifier), "S256").value();
    auto z = f.Exchange("app1", secret, code4);
    z.code_verifier = verifier;
    CHECK(ErrorOf(f.service.ExchangeCode(z).value()).empty());
  }
  SECTION("plain PKCE and unregistered redirect URIs are refused at issue") {
    CHECK(f.service.IssueCode(f.Grant("app1", verifier), "plain").error().code == ErrorCode::kInvalidArgument);
    auto g = f.Grant("app1");
    g.redirect_uri = "https://evil.test/cb";
    CHECK(f.service.IssueCode(g, "").error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("20 racing redemptions of one code give exactly one success", "[token][race]") {
  Fixture f;
  auto [client, secret] = f.Confidential("racer");
  auto code = f.service.IssueCode(f.Grant("racer"), "").value();
  std::atomic<int> ok{0}, reused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, s = secret] {
      auto out = f.service.ExchangeCode(f.Exchange("racer", s, code));
      if (!out) {
        ++other;
      } else if (ErrorOf(*out).empty()) {
        ++ok;
      } else if (ErrorOf(*out) == "invalid_grant") {
        ++reused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 1);
  CHECK(reused == 19);
  CHECK(other == 0);
}

TEST_CASE("a retried attempt continues its redemption while another attempt is a reuse", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto code = f.service.IssueCode(f.Grant("app1"), "").value();
  auto x = f.Exchange("app1", secret, code);
  x.attempt_id = "attempt-1";
  auto first = f.service.ExchangeCode(x).value();
  REQUIRE(ErrorOf(first).empty());
  // The gateway's retry of the same call (the answer was lost): tokens for the same grant.
  auto retried = f.service.ExchangeCode(x).value();
  REQUIRE(ErrorOf(retried).empty());
  auto gid = [&](const Tokens& t) { return VerifyWith(f.keys, t.access_token).at("gid").as_string(); };
  CHECK(gid(std::get<Tokens>(retried)) == gid(std::get<Tokens>(first)));
  // Another attempt with the same code is a reuse: refused, and the grant revoked.
  x.attempt_id = "attempt-2";
  CHECK(ErrorOf(f.service.ExchangeCode(x).value()) == "invalid_grant");
  CHECK(std::holds_alternative<oauth::OAuthError>(
      f.service.ValidateAccessToken(std::get<Tokens>(first).access_token).value()));
}

TEST_CASE("a reused code revokes the tokens of its first redemption", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto code = f.service.IssueCode(f.Grant("app1"), "").value();
  auto first = f.service.ExchangeCode(f.Exchange("app1", secret, code)).value();
  REQUIRE(ErrorOf(first).empty());
  const auto& at = std::get<Tokens>(first).access_token;
  CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(at).value()));
  CHECK(ErrorOf(f.service.ExchangeCode(f.Exchange("app1", secret, code)).value()) == "invalid_grant");
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(at).value()));
}

namespace {

Outcome<Tokens> RefreshWith(Fixture& f, const std::string& id, const std::string& secret,
                            const std::string& rt, const std::string& scope = "") {
  return f.service.Refresh({{id, secret, AuthMethod::kClientSecretBasic, "", ""}, rt, scope, ""})
      .value();
}

Tokens OfflineTokens(Fixture& f, const std::string& id, const std::string& secret) {
  auto g = f.Grant(id);
  g.scope = "openid profile offline_access";
  auto code = f.service.IssueCode(g, "").value();
  auto out = f.service.ExchangeCode(f.Exchange(id, secret, code)).value();
  REQUIRE(ErrorOf(out).empty());
  return std::get<Tokens>(out);
}

}  // namespace

TEST_CASE("refresh tokens rotate on every use and a reuse revokes the family", "[token][refresh]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto [other, other_secret] = f.Confidential("app2");
  // Without offline_access there is no refresh token.
  auto plain = f.service.ExchangeCode(
      f.Exchange("app1", secret, f.service.IssueCode(f.Grant("app1"), "").value())).value();
  CHECK(std::get<Tokens>(plain).refresh_token.empty());

  auto t0 = OfflineTokens(f, "app1", secret);
  REQUIRE_FALSE(t0.refresh_token.empty());
  CHECK(ErrorOf(RefreshWith(f, "app2", other_secret, t0.refresh_token)) == "invalid_grant");
  CHECK(ErrorOf(RefreshWith(f, "app1", secret, t0.refresh_token, "openid email")) == "invalid_scope");

  auto r1 = RefreshWith(f, "app1", secret, t0.refresh_token, "openid");
  REQUIRE(ErrorOf(r1).empty());
  auto t1 = std::get<Tokens>(r1);
  CHECK(t1.refresh_token != t0.refresh_token);
  CHECK(t1.scope == "openid");
  CHECK_FALSE(t1.id_token.empty());
  CHECK(VerifyWith(f.keys, t1.id_token).at("auth_time").as_int64() == f.clock.NowUnix() - 5);

  // The old token again: refused, and everything of the grant dies with it.
  CHECK(ErrorOf(RefreshWith(f, "app1", secret, t0.refresh_token)) == "invalid_grant");
  CHECK(ErrorOf(RefreshWith(f, "app1", secret, t1.refresh_token)) == "invalid_grant");
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t1.access_token).value()));
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t0.access_token).value()));

  // A retried refresh (same attempt) is not a reuse; a different attempt is.
  auto t2 = OfflineTokens(f, "app1", secret);
  RefreshRequest r{{"app1", secret, AuthMethod::kClientSecretBasic, "", ""}, t2.refresh_token, "", "a-1"};
  auto once = f.service.Refresh(r).value();
  REQUIRE(ErrorOf(once).empty());
  auto twice = f.service.Refresh(r).value();
  REQUIRE(ErrorOf(twice).empty());
  CHECK(std::holds_alternative<AccessTokenInfo>(
      f.service.ValidateAccessToken(std::get<Tokens>(once).access_token).value()));
  r.attempt_id = "a-2";
  CHECK(ErrorOf(f.service.Refresh(r).value()) == "invalid_grant");
}

TEST_CASE("12 racing uses of one refresh token: one rotation and the family revoked", "[token][race]") {
  Fixture f;
  auto [client, secret] = f.Confidential("racer");
  auto t0 = OfflineTokens(f, "racer", secret);
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::mutex mu;
  std::string winner;
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, s = secret, i] {
      RefreshRequest r{{"racer", s, AuthMethod::kClientSecretBasic, "", ""}, t0.refresh_token, "",
                       "attempt-" + std::to_string(i)};
      auto out = f.service.Refresh(r);
      if (!out) {
        ++other;
      } else if (ErrorOf(*out).empty()) {
        ++ok;
        std::lock_guard lock(mu);
        winner = std::get<Tokens>(*out).refresh_token;
      } else if (ErrorOf(*out) == "invalid_grant") {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 1);
  CHECK(refused == 11);
  CHECK(other == 0);
  // The losers were reuses: the grant is revoked, the winner's new token with it.
  REQUIRE_FALSE(winner.empty());
  CHECK(ErrorOf(RefreshWith(f, "racer", secret, winner)) == "invalid_grant");
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t0.access_token).value()));
}

TEST_CASE("grant writes run again after a broken connection have the effect of once", "[token][refresh]") {
  // The pool runs a statement again on a new connection when the old one broke under it, not
  // knowing whether it committed: the same call twice must not look like a reuse.
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto t0 = OfflineTokens(f, "app1", secret);
  const auto old_hash = TokenService::HashSecret(t0.refresh_token);
  const auto next = TokenService::HashSecret("next-token");
  for (int i = 0; i < 2; ++i) {
    CHECK(f.grants.Rotate(old_hash, next, "app1", "").value().outcome == RotateOutcome::kRotated);
  }
  CHECK(f.grants.FindByRefresh(next).value().has_value());
  // Another call (another new token) is a reuse and revokes the grant.
  CHECK(f.grants.Rotate(old_hash, TokenService::HashSecret("other"), "app1", "").value().outcome ==
        RotateOutcome::kReused);
  CHECK_FALSE(f.grants.FindByRefresh(next).value().has_value());

  Grant g;
  g.id = "grant-twice";
  g.client_id = "app1";
  g.subject = "s";
  g.scope = "openid offline_access";
  g.expires_at = f.clock.NowUnix() + 3600;
  const auto rt = TokenService::HashSecret("rt-twice");
  CHECK(f.grants.Create(g, rt, g.expires_at).value());
  CHECK(f.grants.Create(g, rt, g.expires_at).value());
  CHECK(f.grants.FindByRefresh(rt).value().value().id == "grant-twice");
}

TEST_CASE("client credentials give the client its own access token", "[token][cc]") {
  Fixture f;
  ClientRecord c;
  c.client_id = "service";
  c.redirect_uris = {"https://svc.test/cb"};
  c.grant_types = {"client_credentials"};
  c.allowed_scopes = "api.read api.write";
  auto secret = f.service.SaveClient(c, false, "").value().second;
  auto cc = [&](const std::string& id, const std::string& sec, const std::string& scope) {
    return f.service.ClientCredentials({id, sec, AuthMethod::kClientSecretBasic, "", ""}, scope).value();
  };
  auto out = cc("service", secret, "api.read");
  REQUIRE(ErrorOf(out).empty());
  const auto& t = std::get<Tokens>(out);
  CHECK(t.id_token.empty());
  CHECK(t.refresh_token.empty());
  auto info = std::get<AccessTokenInfo>(f.service.ValidateAccessToken(t.access_token).value());
  CHECK(info.subject == "service");
  CHECK(info.scope == "api.read");
  CHECK(std::get<Tokens>(cc("service", secret, "")).scope == "api.read api.write");
  CHECK(ErrorOf(cc("service", secret, "openid")) == "invalid_scope");
  CHECK(ErrorOf(cc("service", secret, "admin")) == "invalid_scope");
  CHECK(ErrorOf(cc("service", "wrong", "")) == "invalid_client");
  auto [app, app_secret] = f.Confidential("app1");
  CHECK(ErrorOf(cc("app1", app_secret, "")) == "unauthorized_client");

  // No PostgreSQL row per token; revocation and introspection still work (RFC 7009, 7662).
  auto rows = [&f](const std::string& table) {
    return f.pool.Run<int>([&table](pqxx::connection& conn) {
      pqxx::nontransaction tx(conn);
      return tx.exec("SELECT count(*) FROM token." + table)[0][0].as<int>();
    }).value();
  };
  CHECK(rows("grants") == 0);
  ClientAuth service{"service", secret, AuthMethod::kClientSecretBasic, "", ""};
  ClientAuth other{"app1", app_secret, AuthMethod::kClientSecretBasic, "", ""};
  auto second = std::get<Tokens>(cc("service", secret, "api.read"));
  auto active = boost::json::parse(
      std::get<std::string>(f.service.Introspect(service, t.access_token).value())).as_object();
  CHECK(active.at("active") == true);
  CHECK(active.at("sub") == "service");
  CHECK_FALSE(f.service.Revoke(other, t.access_token).value().has_value());
  CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(t.access_token).value()));
  CHECK_FALSE(f.service.Revoke(service, t.access_token).value().has_value());
  CHECK(rows("grant_revocations") == 1);
  CHECK(std::get<std::string>(f.service.Introspect(service, t.access_token).value()) ==
        R"({"active":false})");
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t.access_token).value()));
  // Only that token: another of the same client lives on.
  CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(second.access_token).value()));
}

TEST_CASE("revocation and introspection see only the caller's own tokens", "[token][revoke]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto [other, other_secret] = f.Confidential("app2");
  ClientAuth me{"app1", secret, AuthMethod::kClientSecretBasic, "", ""};
  ClientAuth them{"app2", other_secret, AuthMethod::kClientSecretBasic, "", ""};
  auto t = OfflineTokens(f, "app1", secret);

  auto active = boost::json::parse(std::get<std::string>(f.service.Introspect(me, t.access_token).value())).as_object();
  CHECK(active.at("active") == true);
  CHECK(active.at("client_id") == "app1");
  auto rt = boost::json::parse(std::get<std::string>(f.service.Introspect(me, t.refresh_token).value())).as_object();
  CHECK(rt.at("active") == true);
  CHECK(rt.at("token_type") == "refresh_token");
  CHECK(std::get<std::string>(f.service.Introspect(them, t.access_token).value()) == R"({"active":false})");
  CHECK(std::get<std::string>(f.service.Introspect(me, "garbage").value()) == R"({"active":false})");
  ClientAuth bad{"app1", "nope", AuthMethod::kClientSecretBasic, "", ""};
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.Introspect(bad, t.access_token).value()));

  // Another client's revocation does nothing; the owner's ends the grant.
  CHECK_FALSE(f.service.Revoke(them, t.refresh_token).value().has_value());
  CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(t.access_token).value()));
  CHECK_FALSE(f.service.Revoke(me, t.refresh_token).value().has_value());
  CHECK(std::holds_alternative<oauth::OAuthError>(f.service.ValidateAccessToken(t.access_token).value()));
  CHECK(std::get<std::string>(f.service.Introspect(me, t.refresh_token).value()) == R"({"active":false})");
  CHECK_FALSE(f.service.Revoke(me, "unknown-token").value().has_value());
  CHECK(f.service.Revoke(bad, t.refresh_token).value().has_value());
}

TEST_CASE("private_key_jwt assertions are verified and never accepted twice", "[token][pkjwt]") {
  Fixture f;
  auto key = jose::Key::Generate(jose::Alg::kES256).value();
  ClientRecord c;
  c.client_id = "pk";
  c.redirect_uris = {"https://app.test/cb"};
  c.token_endpoint_auth_method = "private_key_jwt";
  c.jwks = boost::json::serialize(boost::json::object{
      {"keys", boost::json::array{key.PublicJwk("k1")}}});
  REQUIRE(f.service.SaveClient(c, false, "").has_value());
  auto assertion = [&](const std::string& aud, const std::string& jti) {
    boost::json::object claims{{"iss", "pk"}, {"sub", "pk"}, {"aud", aud}, {"jti", jti},
                               {"exp", f.clock.NowUnix() + 60}};
    return jose::Sign(key, "k1", "", boost::json::serialize(claims)).value();
  };
  auto exchange = [&](const std::string& a) {
    auto code = f.service.IssueCode(f.Grant("pk"), "").value();
    CodeExchange x = f.Exchange("pk", "", code);
    x.client = {"pk", "", AuthMethod::kPrivateKeyJwt, a, "https://idp.test/token"};
    return f.service.ExchangeCode(x).value();
  };
  auto a1 = assertion("https://idp.test/token", "jti-1");
  CHECK(ErrorOf(exchange(a1)).empty());
  CHECK(ErrorOf(exchange(a1)) == "invalid_client");  // replay
  CHECK(ErrorOf(exchange(assertion("https://elsewhere.test/token", "jti-2"))) == "invalid_client");
  auto stranger = jose::Key::Generate(jose::Alg::kES256).value();
  boost::json::object claims{{"iss", "pk"}, {"sub", "pk"}, {"aud", "https://idp.test/token"},
                             {"jti", "jti-3"}, {"exp", f.clock.NowUnix() + 60}};
  CHECK(ErrorOf(exchange(jose::Sign(stranger, "k1", "", boost::json::serialize(claims)).value())) ==
        "invalid_client");
}

TEST_CASE("key rotation publishes the new key and keeps the old one", "[token][keys]") {
  Fixture f;
  auto [client, secret] = f.Confidential("app1");
  auto before = std::get<Tokens>(f.service.ExchangeCode(
      f.Exchange("app1", secret, f.service.IssueCode(f.Grant("app1"), "").value())).value());
  auto old_kid = jose::Parse(before.id_token).value().header.at("kid").as_string();
  auto rotated = f.keys.Rotate(jose::Alg::kRS256).value();
  CHECK(rotated.second == old_kid);
  auto jwks = f.service.Jwks();
  CHECK(jwks.find(rotated.first) != std::string::npos);
  CHECK(jwks.find(std::string(old_kid)) != std::string::npos);
  auto after = std::get<Tokens>(f.service.ExchangeCode(
      f.Exchange("app1", secret, f.service.IssueCode(f.Grant("app1"), "").value())).value());
  CHECK(jose::Parse(after.id_token).value().header.at("kid").as_string() == rotated.first);
  // Tokens of both keys verify against the ring.
  CHECK(VerifyWith(f.keys, before.id_token).at("aud") == "app1");
  CHECK(VerifyWith(f.keys, after.id_token).at("aud") == "app1");
  CHECK(std::holds_alternative<AccessTokenInfo>(f.service.ValidateAccessToken(before.access_token).value()));
}

TEST_CASE("client registration rules", "[token]") {
  Fixture f;
  ClientRecord c;
  c.client_id = "bad";
  c.redirect_uris = {"http://evil.example.com/cb"};
  CHECK(f.service.SaveClient(c, false, "").error().code == ErrorCode::kInvalidArgument);
  c.redirect_uris = {"https://ok.example.com/cb#frag"};
  CHECK(f.service.SaveClient(c, false, "").error().code == ErrorCode::kInvalidArgument);
  c.redirect_uris = {"https://ok.example.com/cb"};
  CHECK(f.service.SaveClient(c, false, "short").error().code == ErrorCode::kInvalidArgument);
  c.id_token_signed_response_alg = "none";
  CHECK(f.service.SaveClient(c, false, "").error().code == ErrorCode::kInvalidArgument);
  c.id_token_signed_response_alg = "RS256";
  REQUIRE(f.service.SaveClient(c, false, "").has_value());
  CHECK(f.service.SaveClient(c, false, "").error().code == ErrorCode::kAlreadyExists);
  auto up = f.service.SaveClient(c, true, "").value();
  CHECK(up.second.empty());  // upsert without a secret keeps the old one
  ClientRecord pub;
  pub.client_id = "spa";
  pub.confidential = false;
  pub.redirect_uris = {"http://localhost:3000/cb"};
  auto saved = f.service.SaveClient(pub, false, "").value();
  CHECK(saved.first.token_endpoint_auth_method == "none");
  CHECK(saved.second.empty());
  // A public client must use PKCE.
  CodeGrant g = f.Grant("spa");
  g.redirect_uri = "http://localhost:3000/cb";
  CHECK(f.service.IssueCode(g, "").error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("signing keys persist sealed and a wrong master key refuses to start", "[token]") {
  Fixture f;
  auto jwks = boost::json::parse(f.service.Jwks()).as_object();
  REQUIRE(jwks.at("keys").as_array().size() == 3);
  for (const auto& k : jwks.at("keys").as_array()) {
    CHECK_FALSE(k.as_object().contains("d"));
    CHECK(k.as_object().contains("kid"));
  }
  // A second ring on the same database finds the same keys and creates none.
  KeyRing again(f.pool, MasterKey());
  REQUIRE(again.EnsureKeys({jose::Alg::kRS256, jose::Alg::kES256, jose::Alg::kEdDSA}));
  CHECK(again.JwksJson() == f.keys.JwksJson());
  KeyRing wrong(f.pool, crypto::Aead::FromKey(std::string(32, 'x')).value());
  auto st = wrong.EnsureKeys({jose::Alg::kRS256});
  REQUIRE_FALSE(st);
  CHECK(st.error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("claims asked for with the claims parameter reach the ID token and userinfo", "[token]") {
  Fixture f;
  auto [client, secret] = f.Confidential("claims-app");
  auto g = f.Grant("claims-app");
  g.scope = "openid offline_access";
  g.userinfo_claims = "email phone_number";
  // The service adds claims; it never lets them replace its own (sub, iss, nonce).
  g.id_token_claims = R"({"email":"ann@example.com","sub":"someone-else","iss":"https://evil"})";
  f.clients.Save([&] { auto c = client; c.grant_types = {"authorization_code", "refresh_token"}; return c; }(), true).value();
  auto code = f.service.IssueCode(g, "").value();
  auto out = f.service.ExchangeCode(f.Exchange("claims-app", secret, code)).value();
  REQUIRE(ErrorOf(out).empty());
  const auto& t = std::get<Tokens>(out);
  auto id = VerifyWith(f.keys, t.id_token);
  CHECK(id.at("email") == "ann@example.com");
  CHECK(id.at("sub") == "248289761001");
  CHECK(id.at("iss") == "https://idp.test");
  auto info = f.service.ValidateAccessToken(t.access_token).value();
  REQUIRE(std::holds_alternative<AccessTokenInfo>(info));
  CHECK(std::get<AccessTokenInfo>(info).userinfo_claims == "email phone_number");

  // A refreshed access token keeps them (they live in the grant).
  REQUIRE_FALSE(t.refresh_token.empty());
  auto refreshed = f.service.Refresh({{"claims-app", secret, AuthMethod::kClientSecretBasic, "", ""},
                                      t.refresh_token, "", "attempt-1"}).value();
  REQUIRE(ErrorOf(refreshed).empty());
  auto info2 = f.service.ValidateAccessToken(std::get<Tokens>(refreshed).access_token).value();
  REQUIRE(std::holds_alternative<AccessTokenInfo>(info2));
  CHECK(std::get<AccessTokenInfo>(info2).userinfo_claims == "email phone_number");
}

TEST_CASE("consent is remembered per person and client and enforced at code issue", "[token]") {
  Fixture f;
  ClientRecord c;
  c.client_id = "third-party";
  c.redirect_uris = {"https://app.test/cb"};
  c.require_consent = true;
  auto saved = f.service.SaveClient(c, false, "").value();
  CHECK(saved.first.require_consent);
  CHECK(f.service.GetClient("third-party").value().require_consent);

  auto g = f.Grant("third-party");
  g.scope = "openid profile";
  // No approval yet: no code, whatever the gateway asks.
  auto refused = f.service.IssueCode(g, "");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
  CHECK(f.service.GetConsent(g.subject, "third-party").value().first.empty());

  CHECK(f.service.GrantConsent(g.subject, "third-party", "openid").value() == "openid");
  CHECK_FALSE(f.service.IssueCode(g, "").has_value());  // profile not approved yet
  CHECK(f.service.GrantConsent(g.subject, "third-party", "  profile openid ").value() ==
        "openid profile");
  CHECK(f.service.IssueCode(g, "").has_value());
  auto consent = f.service.GetConsent(g.subject, "third-party").value();
  CHECK(consent.first == "openid profile");
  CHECK(consent.second > 0);
  // Someone else's approval does not count.
  g.subject = "another-person";
  CHECK_FALSE(f.service.IssueCode(g, "").has_value());

  CHECK(f.service.RevokeConsent("248289761001", "").value() == 1);
  CHECK(f.service.GetConsent("248289761001", "third-party").value().first.empty());
  auto unknown = f.service.GrantConsent("248289761001", "no-such-client", "openid");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

TEST_CASE("clients declared in the configuration file are applied at start", "[token]") {
  Fixture f;
  ::setenv("IDP_TEST_MODELER_SECRET", "0123456789abcdef0123456789abcdef-secret", 1);
  auto cfg = Config::FromMap({
      {"clients.0.client_id", "modeler"},
      {"clients.0.name", "Modeler"},
      {"clients.0.redirect_uris", "https://modeler.test/cb,https://modeler.test/cb2"},
      {"clients.0.show_in_portal", "true"},
      {"clients.0.secret_env", "IDP_TEST_MODELER_SECRET"},
      {"clients.0.require_consent", "true"},
      {"clients.1.client_id", "spa"},
      {"clients.1.type", "public"},
      {"clients.1.redirect_uris", "https://spa.test/cb"},
  });
  auto parsed = ClientsFromConfig(cfg);
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->size() == 2);
  CHECK(ApplyConfiguredClients(f.service, *parsed).value() == 2);
  auto modeler = f.service.GetClient("modeler").value();
  CHECK(modeler.name == "Modeler");
  CHECK(modeler.redirect_uris.size() == 2);
  CHECK(modeler.show_in_portal);
  CHECK(modeler.require_consent);
  CHECK(modeler.secret_hash == TokenService::HashSecret("0123456789abcdef0123456789abcdef-secret"));
  CHECK_FALSE(f.service.GetClient("spa").value().confidential);
  // Applying again (a restart, a second instance) changes nothing and keeps working.
  CHECK(ApplyConfiguredClients(f.service, *parsed).value() == 2);

  auto typo = Config::FromMap({{"clients.0.client_id", "x"}, {"clients.0.redirect_uri", "https://x/cb"},
                               {"clients.0.type", "public"}});
  auto bad = ClientsFromConfig(typo);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("unknown key redirect_uri") != std::string::npos);
  auto no_secret = Config::FromMap({{"clients.0.client_id", "x"}, {"clients.0.redirect_uris", "https://x/cb"},
                                    {"clients.0.secret_env", "IDP_TEST_UNSET_SECRET"}});
  auto missing = ClientsFromConfig(no_secret);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("IDP_TEST_UNSET_SECRET is not set") != std::string::npos);
  ::unsetenv("IDP_TEST_MODELER_SECRET");
}

namespace {

/// Counts the reads that reach PostgreSQL.
class CountingClientStore final : public ClientStore {
 public:
  explicit CountingClientStore(ClientStore& inner) : inner_(inner) {}
  Result<std::optional<ClientRecord>> Find(const std::string& id) override {
    ++finds;
    return inner_.Find(id);
  }
  Result<std::vector<ClientRecord>> List(bool portal_only) override { return inner_.List(portal_only); }
  Result<ClientRecord> Save(const ClientRecord& c, bool upsert) override { return inner_.Save(c, upsert); }
  Result<std::optional<std::pair<std::string, std::int64_t>>> FindConsent(
      const std::string& subject, const std::string& client_id) override {
    return inner_.FindConsent(subject, client_id);
  }
  Result<std::string> AddConsent(const std::string& subject, const std::string& client_id,
                                 const std::string& scope) override {
    return inner_.AddConsent(subject, client_id, scope);
  }
  Result<int> DeleteConsents(const std::string& subject, const std::string& client_id) override {
    return inner_.DeleteConsents(subject, client_id);
  }
  std::atomic<int> finds{0};

 private:
  ClientStore& inner_;
};

}  // namespace

TEST_CASE("client records are cached for a few seconds and forgotten when saved", "[token][cache]") {
  Fixture f;
  CountingClientStore counting(f.clients);
  CachingClientStore cache(counting, std::chrono::milliseconds(300));
  TokenService service(cache, f.codes, f.grants, f.keys, f.clock, {"https://idp.test"});
  ClientRecord c;
  c.client_id = "svc";
  c.redirect_uris = {"https://svc.test/cb"};
  c.grant_types = {"client_credentials"};
  c.allowed_scopes = "api.read";
  auto secret = service.SaveClient(c, false, "").value().second;
  ClientAuth auth{"svc", secret, AuthMethod::kClientSecretBasic, "", ""};
  for (int i = 0; i < 5; ++i) {
    REQUIRE(ErrorOf(service.ClientCredentials(auth, "").value()).empty());
  }
  CHECK(counting.finds == 1);
  // Unknown clients are not cached (a client created elsewhere is seen at once).
  CHECK_FALSE(cache.Find("nobody").value().has_value());
  CHECK_FALSE(cache.Find("nobody").value().has_value());
  CHECK(counting.finds == 3);

  // A save here is seen at once: the next grant reads the new record.
  c.allowed_scopes = "api.read api.write";
  auto saved = service.SaveClient(c, true, "").value().first;
  REQUIRE(saved.allowed_scopes == "api.read api.write");
  auto out = service.ClientCredentials(auth, "").value();
  REQUIRE(ErrorOf(out).empty());
  CHECK(std::get<Tokens>(out).scope == "api.read api.write");

  // A change made elsewhere (another instance) is seen once the TTL has passed.
  saved.allowed_scopes = "api.write";
  REQUIRE(f.clients.Save(saved, true).has_value());
  CHECK(std::get<Tokens>(service.ClientCredentials(auth, "").value()).scope == "api.read api.write");
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  CHECK(std::get<Tokens>(service.ClientCredentials(auth, "").value()).scope == "api.write");
}
