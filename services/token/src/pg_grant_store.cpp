#include "grant_store.hpp"

#include "idp/store/pg.hpp"

#include <boost/json.hpp>

namespace idp::token {
namespace {

constexpr const char* kGrantColumns =
    "g.id, g.client_id, g.subject, g.scope, g.sid, g.auth_time, g.amr::text, g.acr, "
    "extract(epoch from g.expires_at)::bigint, g.claims";

Grant FromRow(const pqxx::row& r) {
  Grant g;
  g.id = r[0].as<std::string>();
  g.client_id = r[1].as<std::string>();
  g.subject = r[2].as<std::string>();
  g.scope = r[3].as<std::string>();
  g.sid = r[4].as<std::string>();
  g.auth_time = r[5].as<std::int64_t>();
  const auto amr = boost::json::parse(r[6].as<std::string>());
  for (const auto& a : amr.as_array()) g.amr.emplace_back(a.as_string());
  g.acr = r[7].as<std::string>();
  g.expires_at = r[8].as<std::int64_t>();
  g.claims = r[9].as<std::string>();
  return g;
}

/// Runs one statement, prepared on this connection (PostgreSQL parses and plans it once per
/// connection), in autocommit: one round trip, atomic on its own. When the connection breaks
/// under it, whether it committed is unknown and the pool runs it again on a new connection:
/// each statement given here must be idempotent (the same call twice has the effect of once).
template <class... Args>
pqxx::result ExecPrepared(pqxx::connection& c, const char* name, const std::string& sql,
                          const Args&... args) {
  c.prepare(name, sql);
  pqxx::nontransaction tx(c);
  return tx.exec_prepared(name, args...);
}

}  // namespace

Result<bool> PgGrantStore::Create(const Grant& g, const std::string& refresh_hash,
                                  std::int64_t refresh_expires_at) {
  boost::json::array amr;
  for (const auto& a : g.amr) amr.emplace_back(a);
  const std::string amr_json = boost::json::serialize(amr);
  return pool_.Run<bool>([&](pqxx::connection& c) {
    // One statement: the grant, its refresh token, and whether a reused code revoked it before
    // it existed (then it never becomes live). Idempotent: both inserts skip what exists.
    auto res = ExecPrepared(
        c, "grant_create",
        "WITH g AS (INSERT INTO token.grants (id, client_id, subject, scope, sid, auth_time, amr, "
        "acr, expires_at, claims) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, "
        "to_timestamp($9), $10) ON CONFLICT (id) DO NOTHING), "
        "rt AS (INSERT INTO token.refresh_tokens (token_hash, grant_id, expires_at) "
        "SELECT $11::text, $1::text, to_timestamp($12::bigint) WHERE $11::text <> '' "
        "ON CONFLICT (token_hash) DO NOTHING) "
        "SELECT NOT EXISTS (SELECT 1 FROM token.grant_revocations WHERE grant_id = $1::text)",
        g.id, g.client_id, g.subject, g.scope, g.sid, g.auth_time, amr_json, g.acr, g.expires_at,
        g.claims, refresh_hash, refresh_expires_at);
    return res[0][0].as<bool>();
  });
}

Status PgGrantStore::Revoke(const std::string& grant_id, const std::string& reason) {
  // One statement in autocommit; running it again is harmless, so the pool may retry it.
  return pool_.Run<void>([&](pqxx::connection& c) {
    c.prepare("grant_revoke",
              "INSERT INTO token.grant_revocations (grant_id, reason) VALUES ($1, $2) "
              "ON CONFLICT (grant_id) DO NOTHING");
    pqxx::nontransaction tx(c);
    tx.exec_prepared("grant_revoke", grant_id, reason);
  });
}

Result<std::vector<std::string>> PgGrantStore::RevokeBySid(const std::string& sid) {
  if (sid.empty()) return std::vector<std::string>{};
  return pool_.Transact<std::vector<std::string>>([&](pqxx::work& tx) {
    auto res = tx.exec_params(
        "WITH live AS (SELECT g.id, g.client_id FROM token.grants g WHERE g.sid = $1 AND NOT "
        "EXISTS (SELECT 1 FROM token.grant_revocations r WHERE r.grant_id = g.id)), "
        "ins AS (INSERT INTO token.grant_revocations (grant_id, reason) SELECT id, 'logout' "
        "FROM live ON CONFLICT DO NOTHING) SELECT DISTINCT client_id FROM live",
        sid);
    std::vector<std::string> clients;
    for (const auto& r : res) clients.push_back(r[0].as<std::string>());
    return clients;
  });
}

Result<bool> PgGrantStore::IsRevoked(const std::string& grant_id) {
  return pool_.Run<bool>([&](pqxx::connection& c) {
    c.prepare("grant_is_revoked", "SELECT 1 FROM token.grant_revocations WHERE grant_id = $1");
    pqxx::nontransaction tx(c);
    return !tx.exec_prepared("grant_is_revoked", grant_id).empty();
  });
}

Result<Rotation> PgGrantStore::Rotate(const std::string& old_hash, const std::string& new_hash,
                                      const std::string& client_id,
                                      const std::string& attempt_id) {
  const std::string& marker = attempt_id.empty() ? new_hash : attempt_id;
  return pool_.Run<Rotation>([&](pqxx::connection& c) {
    // One statement. FOR UPDATE serialises racing uses of one token: the first rotates it;
    // the others wait for its row, see it used (PostgreSQL re-reads a locked row once it is
    // free) and revoke the grant. A retry of the same attempt is not a use: its new token
    // joins the grant. The other CTEs act only on what `ok` (the token is this client's, live,
    // and its grant not revoked) let through; the row of `cur` tells C++ what happened.
    // Without an attempt id the new token's hash marks the use, so that the pool's run again
    // after a broken connection is the same attempt too, not a reuse.
    auto res = ExecPrepared(
        c, "refresh_rotate",
        std::string("WITH cur AS (SELECT ") + kGrantColumns +
            ", rt.used_at IS NOT NULL AS used, rt.expires_at < now() AS expired, "
            "EXISTS (SELECT 1 FROM token.grant_revocations r WHERE r.grant_id = g.id) AS revoked, "
            "coalesce(rt.used_by_attempt, '') AS attempt, g.expires_at AS grant_expires "
            "FROM token.refresh_tokens rt JOIN token.grants g ON g.id = rt.grant_id "
            "WHERE rt.token_hash = $1 FOR UPDATE OF rt), "
            "ok AS (SELECT id, grant_expires, used, "
            "(used AND attempt = $4::text) AS retried FROM cur "
            "WHERE client_id = $3::text AND NOT expired AND NOT revoked), "
            "reuse AS (INSERT INTO token.grant_revocations (grant_id, reason) "
            "SELECT id, 'refresh_reuse' FROM ok WHERE used AND NOT retried "
            "ON CONFLICT (grant_id) DO NOTHING), "
            "mark AS (UPDATE token.refresh_tokens SET used_at = now(), used_by_attempt = $4::text "
            "WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM ok WHERE NOT used)), "
            "fresh AS (INSERT INTO token.refresh_tokens (token_hash, grant_id, expires_at) "
            "SELECT $2::text, id, grant_expires FROM ok WHERE NOT used OR retried "
            "ON CONFLICT (token_hash) DO NOTHING) "
            "SELECT * FROM cur",
        old_hash, new_hash, client_id, marker);
    Rotation out;
    if (res.empty()) return out;
    Grant g = FromRow(res[0]);
    bool used = res[0][10].as<bool>();
    bool expired = res[0][11].as<bool>();
    bool revoked = res[0][12].as<bool>();
    // RFC 6749 §6: bound to the client it was issued to.
    if (g.client_id != client_id || expired || revoked) return out;
    bool retried = used && res[0][13].as<std::string>() == marker;
    out.outcome = used && !retried ? RotateOutcome::kReused : RotateOutcome::kRotated;
    out.grant = std::move(g);  // for kReused, the audit log: whose grant was revoked
    return out;
  });
}

Result<std::optional<Grant>> PgGrantStore::FindByRefresh(const std::string& hash) {
  return pool_.Run<std::optional<Grant>>([&](pqxx::connection& c) -> std::optional<Grant> {
    c.prepare("refresh_find",
              std::string("SELECT ") + kGrantColumns +
                  " FROM token.refresh_tokens rt JOIN token.grants g ON g.id = rt.grant_id "
                  "WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.expires_at > now() AND "
                  "NOT EXISTS (SELECT 1 FROM token.grant_revocations r WHERE r.grant_id = g.id)");
    pqxx::nontransaction tx(c);
    auto res = tx.exec_prepared("refresh_find", hash);
    if (res.empty()) return std::nullopt;
    return FromRow(res[0]);
  });
}

Result<bool> PgGrantStore::RememberAssertion(const std::string& client_id, const std::string& jti,
                                             std::int64_t expires_at) {
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    // Forget what has expired; an expired assertion is refused before it gets here.
    tx.exec("DELETE FROM token.assertion_jtis WHERE expires_at < now() - interval '1 minute'");
    auto res = tx.exec_params(
        "INSERT INTO token.assertion_jtis (client_id, jti, expires_at) "
        "VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING 1",
        client_id, jti, expires_at);
    return !res.empty();
  });
}

}  // namespace idp::token
