#include "password_token_store.hpp"

#include "idp/store/pg.hpp"

namespace idp::auth {
namespace {

const char* PurposeName(TokenPurpose p) { return p == TokenPurpose::kInvite ? "invite" : "reset"; }

TokenGrant GrantFromRow(const pqxx::row& r) {
  TokenGrant g;
  g.subject = r[0].as<std::string>();
  g.username = r[1].as<std::string>();
  g.purpose = r[2].as<std::string>() == "invite" ? TokenPurpose::kInvite : TokenPurpose::kReset;
  return g;
}

// A token is valid when unused, unexpired and the newest of its person.
constexpr const char* kValid =
    "t.used_at IS NULL AND t.expires_at > now() AND NOT EXISTS (SELECT 1 FROM "
    "auth.password_tokens n WHERE n.subject = t.subject AND n.id > t.id)";

}  // namespace

Status PgPasswordTokenStore::Issue(const std::string& token_hash, const std::string& subject,
                                   TokenPurpose purpose, std::chrono::seconds ttl) {
  return pool_.Transact<void>([&](pqxx::work& tx) {
    // Forget what can never be used again, then store the new one.
    tx.exec_params(
        "DELETE FROM auth.password_tokens WHERE subject = $1::uuid AND (used_at IS NOT NULL OR "
        "expires_at < now() - interval '1 day')",
        subject);
    tx.exec_params(
        "INSERT INTO auth.password_tokens (token_hash, subject, purpose, expires_at) "
        "VALUES ($1, $2::uuid, $3, now() + $4::interval)",
        token_hash, subject, PurposeName(purpose), std::to_string(ttl.count()) + " seconds");
  });
}

Result<std::optional<TokenGrant>> PgPasswordTokenStore::Check(const std::string& token_hash) {
  return pool_.Run<std::optional<TokenGrant>>([&](pqxx::connection& c) -> std::optional<TokenGrant> {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(
        std::string("SELECT t.subject::text, a.username, t.purpose FROM auth.password_tokens t "
                    "JOIN auth.accounts a ON a.subject = t.subject WHERE t.token_hash = $1 AND "
                    "NOT a.disabled AND ") +
            kValid,
        token_hash);
    if (res.empty()) return std::nullopt;
    return GrantFromRow(res[0]);
  });
}

Result<std::optional<TokenGrant>> PgPasswordTokenStore::Redeem(const std::string& token_hash,
                                                               const std::string& password_hash) {
  return pool_.Transact<std::optional<TokenGrant>>(
      [&](pqxx::work& tx) -> std::optional<TokenGrant> {
        // The conditional UPDATE is the single-use guard: of two concurrent redemptions, the
        // second waits for the first's row lock, re-checks used_at and matches nothing.
        auto used = tx.exec_params(
            std::string("UPDATE auth.password_tokens t SET used_at = now() WHERE t.token_hash = "
                        "$1 AND ") +
                kValid + " RETURNING t.subject::text, t.purpose",
            token_hash);
        if (used.empty()) return std::nullopt;
        const std::string subject = used[0][0].as<std::string>();
        auto account = tx.exec_params(
            "UPDATE auth.accounts SET password_hash = $2, updated_at = now() WHERE subject = "
            "$1::uuid AND NOT disabled RETURNING username",
            subject, password_hash);
        if (account.empty()) return std::nullopt;  // disabled: the token is spent, nothing set
        const std::string username = account[0][0].as<std::string>();
        // A new password lifts the lockout and forgets the failed sign-ins.
        tx.exec_params("DELETE FROM auth.lockouts WHERE username = $1", username);
        tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1", username);
        TokenGrant g;
        g.subject = subject;
        g.username = username;
        g.purpose =
            used[0][1].as<std::string>() == "invite" ? TokenPurpose::kInvite : TokenPurpose::kReset;
        return g;
      });
}

Result<std::optional<std::string>> PgPasswordTokenStore::FindSubjectByEmail(
    const std::string& email) {
  return pool_.Run<std::optional<std::string>>(
      [&](pqxx::connection& c) -> std::optional<std::string> {
        pqxx::nontransaction tx(c);
        auto res = tx.exec_params(
            "SELECT subject::text FROM auth.accounts WHERE lower(email) = lower($1) LIMIT 2",
            email);
        if (res.size() != 1) return std::nullopt;
        return res[0][0].as<std::string>();
      });
}

}  // namespace idp::auth
