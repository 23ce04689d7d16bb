#include "pg_client_store.hpp"

#include "idp/store/pg.hpp"

#include <boost/json.hpp>

namespace idp::token {
namespace {

constexpr const char* kColumns =
    "client_id, client_type, coalesce(secret_hash, ''), name, redirect_uris::text, "
    "post_logout_redirect_uris::text, token_endpoint_auth_method, id_token_signed_response_alg, "
    "show_in_portal, home_url, logo_url, extract(epoch from created_at)::bigint, "
    "grant_types::text, allowed_scopes, access_token_ttl, id_token_ttl, refresh_token_ttl, "
    "backchannel_logout_uri, coalesce(jwks::text, ''), mfa_policy, require_consent";

std::vector<std::string> FromJsonArray(const std::string& text) {
  std::vector<std::string> out;
  const auto parsed = boost::json::parse(text);  // kept alive for the loop below
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

std::string ToJsonArray(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

ClientRecord FromRow(const pqxx::row& r) {
  ClientRecord c;
  c.client_id = r[0].as<std::string>();
  c.confidential = r[1].as<std::string>() == "confidential";
  c.secret_hash = r[2].as<std::string>();
  c.name = r[3].as<std::string>();
  c.redirect_uris = FromJsonArray(r[4].as<std::string>());
  c.post_logout_redirect_uris = FromJsonArray(r[5].as<std::string>());
  c.token_endpoint_auth_method = r[6].as<std::string>();
  c.id_token_signed_response_alg = r[7].as<std::string>();
  c.show_in_portal = r[8].as<bool>();
  c.home_url = r[9].as<std::string>();
  c.logo_url = r[10].as<std::string>();
  c.created_at = r[11].as<std::int64_t>();
  c.grant_types = FromJsonArray(r[12].as<std::string>());
  c.allowed_scopes = r[13].as<std::string>();
  if (!r[14].is_null()) c.access_token_ttl = r[14].as<std::int64_t>();
  if (!r[15].is_null()) c.id_token_ttl = r[15].as<std::int64_t>();
  if (!r[16].is_null()) c.refresh_token_ttl = r[16].as<std::int64_t>();
  c.backchannel_logout_uri = r[17].as<std::string>();
  c.jwks = r[18].as<std::string>();
  c.mfa_policy = r[19].as<std::string>();
  c.require_consent = r[20].as<bool>();
  return c;
}

}  // namespace

Result<std::optional<ClientRecord>> PgClientStore::Find(const std::string& client_id) {
  return pool_.Run<std::optional<ClientRecord>>(
      [&](pqxx::connection& c) -> std::optional<ClientRecord> {
        pqxx::nontransaction tx(c);
        auto res = tx.exec_params(
            std::string("SELECT ") + kColumns + " FROM token.clients WHERE client_id = $1",
            client_id);
        if (res.empty()) return std::nullopt;
        return FromRow(res[0]);
      });
}

Result<std::vector<ClientRecord>> PgClientStore::List(bool portal_only) {
  return pool_.Run<std::vector<ClientRecord>>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(std::string("SELECT ") + kColumns +
                                  " FROM token.clients WHERE show_in_portal OR NOT $1 "
                                  "ORDER BY name, client_id",
                              portal_only);
    std::vector<ClientRecord> out;
    for (const auto& r : res) out.push_back(FromRow(r));
    return out;
  });
}

Result<ClientRecord> PgClientStore::Save(const ClientRecord& c, bool upsert) {
  std::string sql = std::string(
      "INSERT INTO token.clients (client_id, client_type, secret_hash, name, redirect_uris, "
      "post_logout_redirect_uris, token_endpoint_auth_method, id_token_signed_response_alg, "
      "show_in_portal, home_url, logo_url, grant_types, allowed_scopes, access_token_ttl, "
      "id_token_ttl, refresh_token_ttl, backchannel_logout_uri, jwks, mfa_policy, require_consent) "
      "VALUES ($1, $2, nullif($3, ''), $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12::jsonb, "
      "$13, $14::integer, $15::integer, $16::integer, $17, nullif($18, '')::jsonb, $19, $20) ");
  if (upsert) {
    sql +=
        "ON CONFLICT (client_id) DO UPDATE SET client_type = excluded.client_type, "
        "secret_hash = CASE WHEN excluded.client_type = 'public' THEN NULL "
        "ELSE coalesce(excluded.secret_hash, token.clients.secret_hash) END, "
        "name = excluded.name, redirect_uris = excluded.redirect_uris, "
        "post_logout_redirect_uris = excluded.post_logout_redirect_uris, "
        "token_endpoint_auth_method = excluded.token_endpoint_auth_method, "
        "id_token_signed_response_alg = excluded.id_token_signed_response_alg, "
        "show_in_portal = excluded.show_in_portal, home_url = excluded.home_url, "
        "logo_url = excluded.logo_url, grant_types = excluded.grant_types, "
        "allowed_scopes = excluded.allowed_scopes, access_token_ttl = excluded.access_token_ttl, "
        "id_token_ttl = excluded.id_token_ttl, refresh_token_ttl = excluded.refresh_token_ttl, "
        "backchannel_logout_uri = excluded.backchannel_logout_uri, jwks = excluded.jwks, "
        "mfa_policy = excluded.mfa_policy, require_consent = excluded.require_consent ";
  }
  sql += std::string("RETURNING ") + kColumns;
  return pool_.Transact<ClientRecord>([&](pqxx::work& tx) {
    return FromRow(tx.exec_params1(sql, c.client_id, c.confidential ? "confidential" : "public",
                                   c.secret_hash, c.name, ToJsonArray(c.redirect_uris),
                                   ToJsonArray(c.post_logout_redirect_uris),
                                   c.token_endpoint_auth_method, c.id_token_signed_response_alg,
                                   c.show_in_portal, c.home_url, c.logo_url,
                                   ToJsonArray(c.grant_types), c.allowed_scopes,
                                   c.access_token_ttl, c.id_token_ttl,
                                   c.refresh_token_ttl, c.backchannel_logout_uri,
                                   c.jwks, c.mfa_policy, c.require_consent));
  });
}

Result<std::optional<std::pair<std::string, std::int64_t>>> PgClientStore::FindConsent(
    const std::string& subject, const std::string& client_id) {
  using Found = std::optional<std::pair<std::string, std::int64_t>>;
  return pool_.Run<Found>([&](pqxx::connection& c) -> Found {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(
        "SELECT scope, extract(epoch from granted_at)::bigint FROM token.consents "
        "WHERE subject = $1 AND client_id = $2",
        subject, client_id);
    if (res.empty()) return std::nullopt;
    return std::pair{res[0][0].as<std::string>(), res[0][1].as<std::int64_t>()};
  });
}

Result<std::string> PgClientStore::AddConsent(const std::string& subject,
                                              const std::string& client_id,
                                              const std::string& scope) {
  auto merged = pool_.Transact<std::optional<std::string>>(
      [&](pqxx::work& tx) -> std::optional<std::string> {
        // The union of the old and new scopes, in one statement (two tabs approving at once
        // both count).
        auto res = tx.exec_params(
            "INSERT INTO token.consents (subject, client_id, scope) "
            "SELECT $1, client_id, $3 FROM token.clients WHERE client_id = $2 "
            "ON CONFLICT (subject, client_id) DO UPDATE SET granted_at = now(), scope = ("
            "SELECT string_agg(s, ' ' ORDER BY s) FROM (SELECT DISTINCT unnest(string_to_array("
            "token.consents.scope || ' ' || excluded.scope, ' ')) AS s) u WHERE s <> '') "
            "RETURNING scope",
            subject, client_id, scope);
        if (res.empty()) return std::nullopt;
        return res[0][0].as<std::string>();
      });
  if (!merged) return merged.error();
  if (!*merged) return NotFound("no such client");
  return std::move(**merged);
}

Result<int> PgClientStore::DeleteConsents(const std::string& subject,
                                          const std::string& client_id) {
  return pool_.Transact<int>([&](pqxx::work& tx) {
    auto res = tx.exec_params(
        "DELETE FROM token.consents WHERE subject = $1 AND (client_id = $2 OR $2 = '')", subject,
        client_id);
    return static_cast<int>(res.affected_rows());
  });
}

}  // namespace idp::token
