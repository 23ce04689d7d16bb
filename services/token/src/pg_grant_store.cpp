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

}  // namespace

Result<bool> PgGrantStore::Create(const Grant& g, const std::string& refresh_hash,
                                  std::int64_t refresh_expires_at) {
  boost::json::array amr;
  for (const auto& a : g.amr) amr.emplace_back(a);
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO token.grants (id, client_id, subject, scope, sid, auth_time, amr, acr, "
        "expires_at, claims) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, to_timestamp($9), "
        "$10) ON CONFLICT (id) DO NOTHING",
        g.id, g.client_id, g.subject, g.scope, g.sid, g.auth_time, boost::json::serialize(amr),
        g.acr, g.expires_at, g.claims);
    if (!refresh_hash.empty()) {
      tx.exec_params(
          "INSERT INTO token.refresh_tokens (token_hash, grant_id, expires_at) "
          "VALUES ($1, $2, to_timestamp($3))",
          refresh_hash, g.id, refresh_expires_at);
    }
    // A reused code may have revoked this grant before it existed: then it never becomes live.
    auto revoked = tx.exec_params("SELECT 1 FROM token.grant_revocations WHERE grant_id = $1", g.id);
    return revoked.empty();
  });
}

Status PgGrantStore::Revoke(const std::string& grant_id, const std::string& reason) {
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO token.grant_revocations (grant_id, reason) VALUES ($1, $2) "
        "ON CONFLICT (grant_id) DO NOTHING",
        grant_id, reason);
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
    pqxx::nontransaction tx(c);
    return !tx.exec_params("SELECT 1 FROM token.grant_revocations WHERE grant_id = $1", grant_id)
                .empty();
  });
}

Result<Rotation> PgGrantStore::Rotate(const std::string& old_hash, const std::string& new_hash,
                                      const std::string& client_id,
                                      const std::string& attempt_id) {
  return pool_.Transact<Rotation>([&](pqxx::work& tx) {
    // FOR UPDATE serialises racing uses of one token: the first rotates it, the others see it
    // used and revoke the grant.
    auto res = tx.exec_params(
        std::string("SELECT ") + kGrantColumns +
            ", rt.used_at IS NOT NULL, rt.expires_at < now(), EXISTS (SELECT 1 FROM "
            "token.grant_revocations r WHERE r.grant_id = g.id), coalesce(rt.used_by_attempt, '') "
            "FROM token.refresh_tokens rt "
            "JOIN token.grants g ON g.id = rt.grant_id WHERE rt.token_hash = $1 FOR UPDATE OF rt",
        old_hash);
    Rotation out;
    if (res.empty()) return out;
    Grant g = FromRow(res[0]);
    bool used = res[0][10].as<bool>();
    bool expired = res[0][11].as<bool>();
    bool revoked = res[0][12].as<bool>();
    // RFC 6749 §6: bound to the client it was issued to.
    if (g.client_id != client_id || expired || revoked) return out;
    bool retried = used && !attempt_id.empty() && res[0][13].as<std::string>() == attempt_id;
    if (used && !retried) {
      tx.exec_params(
          "INSERT INTO token.grant_revocations (grant_id, reason) VALUES ($1, 'refresh_reuse') "
          "ON CONFLICT (grant_id) DO NOTHING",
          g.id);
      out.outcome = RotateOutcome::kReused;
      out.grant = std::move(g);  // for the audit log: whose grant was revoked
      return out;
    }
    if (!retried) {
      tx.exec_params(
          "UPDATE token.refresh_tokens SET used_at = now(), used_by_attempt = $2 "
          "WHERE token_hash = $1",
          old_hash, attempt_id);
    }
    tx.exec_params(
        "INSERT INTO token.refresh_tokens (token_hash, grant_id, expires_at) "
        "VALUES ($1, $2, to_timestamp($3))",
        new_hash, g.id, g.expires_at);
    out.outcome = RotateOutcome::kRotated;
    out.grant = std::move(g);
    return out;
  });
}

Result<std::optional<Grant>> PgGrantStore::FindByRefresh(const std::string& hash) {
  return pool_.Run<std::optional<Grant>>([&](pqxx::connection& c) -> std::optional<Grant> {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(
        std::string("SELECT ") + kGrantColumns +
            " FROM token.refresh_tokens rt JOIN token.grants g ON g.id = rt.grant_id "
            "WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.expires_at > now() AND NOT "
            "EXISTS (SELECT 1 FROM token.grant_revocations r WHERE r.grant_id = g.id)",
        hash);
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
