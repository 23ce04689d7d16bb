#include "pg_account_store.hpp"

#include "idp/store/pg.hpp"

namespace idp::auth {
namespace {

constexpr const char* kColumns =
    "subject::text, username, email, email_verified, name, given_name, family_name, "
    "coalesce(password_hash, ''), disabled, extract(epoch from updated_at)::bigint, "
    "phone_number, phone_number_verified";

Account FromRow(const pqxx::row& r) {
  Account a;
  a.subject = r[0].as<std::string>();
  a.username = r[1].as<std::string>();
  a.email = r[2].as<std::string>();
  a.email_verified = r[3].as<bool>();
  a.name = r[4].as<std::string>();
  a.given_name = r[5].as<std::string>();
  a.family_name = r[6].as<std::string>();
  a.password_hash = r[7].as<std::string>();
  a.disabled = r[8].as<bool>();
  a.updated_at = r[9].as<std::int64_t>();
  a.phone_number = r[10].as<std::string>();
  a.phone_number_verified = r[11].as<bool>();
  return a;
}

bool LooksLikeUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<std::optional<Account>> PgAccountStore::FindByUsername(const std::string& username) {
  return pool_.Run<std::optional<Account>>([&](pqxx::connection& c) -> std::optional<Account> {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(std::string("SELECT ") + kColumns +
                                  " FROM auth.accounts WHERE username = $1",
                              username);
    if (res.empty()) return std::nullopt;
    return FromRow(res[0]);
  });
}

Result<std::optional<Account>> PgAccountStore::FindBySubject(const std::string& subject) {
  if (!LooksLikeUuid(subject)) return std::optional<Account>{};
  return pool_.Run<std::optional<Account>>([&](pqxx::connection& c) -> std::optional<Account> {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(std::string("SELECT ") + kColumns +
                                  " FROM auth.accounts WHERE subject = $1::uuid",
                              subject);
    if (res.empty()) return std::nullopt;
    return FromRow(res[0]);
  });
}

Result<Account> PgAccountStore::Create(const Account& a) {
  return pool_.Transact<Account>([&](pqxx::work& tx) {
    auto r = tx.exec_params1(
        std::string("INSERT INTO auth.accounts (username, email, email_verified, name, "
                    "given_name, family_name, password_hash, phone_number) VALUES ($1, $2, $3, "
                    "$4, $5, $6, nullif($7, ''), $8) RETURNING ") +
            kColumns,
        a.username, a.email, a.email_verified, a.name, a.given_name, a.family_name,
        a.password_hash, a.phone_number);
    return FromRow(r);
  });
}

Status PgAccountStore::SetPasswordHash(const std::string& subject, const std::string& hash) {
  if (!LooksLikeUuid(subject)) return NotFound("account");
  auto updated = pool_.Transact<std::size_t>([&](pqxx::work& tx) {
    return tx
        .exec_params("UPDATE auth.accounts SET password_hash = $2, updated_at = now() "
                     "WHERE subject = $1::uuid",
                     subject, hash)
        .affected_rows();
  });
  if (!updated) return updated.error();
  if (*updated == 0) return NotFound("account");
  return {};
}

Result<std::vector<Account>> PgAccountStore::List(int limit) {
  return pool_.Run<std::vector<Account>>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(std::string("SELECT ") + kColumns +
                                  " FROM auth.accounts ORDER BY username LIMIT $1",
                              limit);
    std::vector<Account> out;
    for (const auto& r : res) out.push_back(FromRow(r));
    return out;
  });
}

namespace {

std::string Interval(std::chrono::seconds s) { return std::to_string(s.count()) + " seconds"; }

}  // namespace

Result<AccountStore::FailureState> PgAccountStore::Failures(const std::string& username,
                                                            const std::string& source,
                                                            std::chrono::seconds window) {
  return pool_.Run<FailureState>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params1(
        "SELECT (SELECT count(*) FROM auth.login_failures WHERE username = $1 AND source = $2 "
        "AND at > now() - $3::interval), EXISTS (SELECT 1 FROM auth.lockouts WHERE username = $1 "
        "AND until > now())",
        username, source, Interval(window));
    return FailureState{r[0].as<int>(), r[1].as<bool>()};
  });
}

Result<bool> PgAccountStore::RecordFailure(const std::string& username, const std::string& source,
                                           int account_limit, std::chrono::seconds account_window,
                                           std::chrono::seconds lock) {
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1 AND at < now() - $2::interval",
                   username, Interval(account_window));
    tx.exec_params("INSERT INTO auth.login_failures (username, source) VALUES ($1, $2)", username,
                   source);
    int n = tx.exec_params1("SELECT count(*) FROM auth.login_failures WHERE username = $1",
                            username)[0]
                .as<int>();
    if (n < account_limit) return false;
    tx.exec_params(
        "INSERT INTO auth.lockouts (username, until) VALUES ($1, now() + $2::interval) "
        "ON CONFLICT (username) DO UPDATE SET until = excluded.until",
        username, Interval(lock));
    // The lock starts a new count: failures during it are not recorded.
    tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1", username);
    return true;
  });
}

Status PgAccountStore::ClearFailures(const std::string& username, const std::string& source) {
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1 AND source = $2", username,
                   source);
  });
}

Status PgAccountStore::Unlock(const std::string& username) {
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM auth.lockouts WHERE username = $1", username);
    tx.exec_params("DELETE FROM auth.login_failures WHERE username = $1", username);
  });
}

}  // namespace idp::auth
