#include "factor_store.hpp"

#include "idp/store/pg.hpp"

#include <cctype>

namespace idp::mfa {
namespace {

std::string Interval(std::chrono::seconds s) { return std::to_string(s.count()) + " seconds"; }

}  // namespace

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

Result<std::vector<FactorRecord>> PgFactorStore::List(const std::string& subject) {
  if (!IsUuid(subject)) return std::vector<FactorRecord>{};
  return pool_.Run<std::vector<FactorRecord>>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto res = tx.exec_params(
        "SELECT id::text, type, label, active, extract(epoch from created_at)::bigint, "
        "secret, last_step FROM mfa.factors WHERE subject = $1::uuid ORDER BY created_at, id",
        subject);
    std::vector<FactorRecord> out;
    for (const auto& r : res) {
      FactorRecord f{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     r[3].as<bool>(), r[4].as<std::int64_t>(), "", r[6].as<std::int64_t>()};
      if (!r[5].is_null()) f.sealed_secret = pqxx::binarystring(r[5]).str();
      out.push_back(std::move(f));
    }
    return out;
  });
}

Status PgFactorStore::Insert(const std::string& subject, const FactorRecord& f) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO mfa.factors (id, subject, type, label, secret, active) "
        "VALUES ($1::uuid, $2::uuid, $3, $4, $5, false)",
        f.id, subject, f.type, f.label,
        pqxx::binarystring(f.sealed_secret.data(), f.sealed_secret.size()));
  });
}

Result<bool> PgFactorStore::Activate(const std::string& subject, const std::string& id,
                                     std::int64_t step) {
  if (!IsUuid(subject) || !IsUuid(id)) return false;
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    return tx
               .exec_params(
                   "UPDATE mfa.factors SET active = true, last_step = $3 WHERE id = $1::uuid AND "
                   "subject = $2::uuid AND NOT active",
                   id, subject, step)
               .affected_rows() == 1;
  });
}

Result<bool> PgFactorStore::AcceptStep(const std::string& id, std::int64_t step) {
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    return tx
               .exec_params(
                   "UPDATE mfa.factors SET last_step = $2 WHERE id = $1::uuid AND active AND "
                   "last_step < $2",
                   id, step)
               .affected_rows() == 1;
  });
}

Result<bool> PgFactorStore::Remove(const std::string& subject, const std::string& id) {
  if (!IsUuid(subject) || !IsUuid(id)) return false;
  return pool_.Transact<bool>([&](pqxx::work& tx) {
    return tx.exec_params("DELETE FROM mfa.factors WHERE id = $1::uuid AND subject = $2::uuid",
                          id, subject)
               .affected_rows() == 1;
  });
}

Result<int> PgFactorStore::RemoveAll(const std::string& subject) {
  if (!IsUuid(subject)) return 0;
  return pool_.Transact<int>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM mfa.recovery_codes WHERE subject = $1::uuid", subject);
    return static_cast<int>(
        tx.exec_params("DELETE FROM mfa.factors WHERE subject = $1::uuid", subject)
            .affected_rows());
  });
}

Status PgFactorStore::ReplaceRecoveryCodes(const std::string& subject,
                                           const std::vector<std::string>& hashes) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM mfa.recovery_codes WHERE subject = $1::uuid", subject);
    for (const auto& h : hashes) {
      tx.exec_params("INSERT INTO mfa.recovery_codes (subject, code_hash) VALUES ($1::uuid, $2)",
                     subject, h);
    }
  });
}

Result<std::optional<int>> PgFactorStore::UseRecoveryCode(const std::string& subject,
                                                          const std::string& hash) {
  if (!IsUuid(subject)) return std::optional<int>{};
  return pool_.Transact<std::optional<int>>([&](pqxx::work& tx) -> std::optional<int> {
    auto used = tx.exec_params(
        "UPDATE mfa.recovery_codes SET used_at = now() WHERE subject = $1::uuid AND "
        "code_hash = $2 AND used_at IS NULL",
        subject, hash);
    if (used.affected_rows() != 1) return std::nullopt;
    return tx
        .exec_params1("SELECT count(*) FROM mfa.recovery_codes WHERE subject = $1::uuid AND "
                      "used_at IS NULL",
                      subject)[0]
        .as<int>();
  });
}

Result<int> PgFactorStore::CountRecoveryCodes(const std::string& subject) {
  if (!IsUuid(subject)) return 0;
  return pool_.Run<int>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT count(*) FROM mfa.recovery_codes WHERE subject = $1::uuid AND "
                      "used_at IS NULL",
                      subject)[0]
        .as<int>();
  });
}

Result<int> PgFactorStore::RecordFailure(const std::string& subject, std::chrono::seconds window) {
  if (!IsUuid(subject)) return 0;
  return pool_.Transact<int>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM mfa.failures WHERE subject = $1::uuid AND at < now() - $2::interval",
                   subject, Interval(window));
    tx.exec_params("INSERT INTO mfa.failures (subject) VALUES ($1::uuid)", subject);
    return tx
        .exec_params1("SELECT count(*) FROM mfa.failures WHERE subject = $1::uuid AND "
                      "at >= now() - $2::interval",
                      subject, Interval(window))[0]
        .as<int>();
  });
}

Result<int> PgFactorStore::CountFailures(const std::string& subject, std::chrono::seconds window) {
  if (!IsUuid(subject)) return 0;
  return pool_.Run<int>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT count(*) FROM mfa.failures WHERE subject = $1::uuid AND "
                      "at >= now() - $2::interval",
                      subject, Interval(window))[0]
        .as<int>();
  });
}

Status BrowserStore::Add(const std::string& subject, const std::string& token_hash,
                         const std::string& label, std::chrono::seconds life) {
  if (!IsUuid(subject)) return InvalidArgument("subject");
  return pool_.Transact<void>([&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM mfa.remembered_browsers WHERE expires_at < now()");
    tx.exec_params(
        "INSERT INTO mfa.remembered_browsers (subject, token_hash, label, expires_at) "
        "VALUES ($1::uuid, $2, $3, now() + $4::interval)",
        subject, token_hash, label.substr(0, 120), Interval(life));
  });
}

Result<bool> BrowserStore::Check(const std::string& subject, const std::string& token_hash) {
  if (!IsUuid(subject)) return false;
  return pool_.Run<bool>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return !tx.exec_params("SELECT 1 FROM mfa.remembered_browsers WHERE subject = $1::uuid AND "
                           "token_hash = $2 AND expires_at > now()",
                           subject, token_hash)
                .empty();
  });
}

Result<std::vector<BrowserRecord>> BrowserStore::List(const std::string& subject) {
  if (!IsUuid(subject)) return std::vector<BrowserRecord>{};
  return pool_.Run<std::vector<BrowserRecord>>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<BrowserRecord> out;
    for (const auto& r : tx.exec_params(
             "SELECT id::text, label, extract(epoch from created_at)::bigint, "
             "extract(epoch from expires_at)::bigint FROM mfa.remembered_browsers "
             "WHERE subject = $1::uuid AND expires_at > now() ORDER BY created_at",
             subject)) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
                     r[3].as<std::int64_t>()});
    }
    return out;
  });
}

Result<int> BrowserStore::Forget(const std::string& subject, const std::string& id) {
  if (!IsUuid(subject) || (!id.empty() && !IsUuid(id))) return 0;
  return pool_.Transact<int>([&](pqxx::work& tx) {
    auto r = id.empty()
                 ? tx.exec_params("DELETE FROM mfa.remembered_browsers WHERE subject = $1::uuid",
                                  subject)
                 : tx.exec_params("DELETE FROM mfa.remembered_browsers WHERE subject = $1::uuid "
                                  "AND id = $2::uuid",
                                  subject, id);
    return static_cast<int>(r.affected_rows());
  });
}

}  // namespace idp::mfa
