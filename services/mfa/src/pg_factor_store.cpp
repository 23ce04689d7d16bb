#include "factor_store.hpp"

#include "idp/store/pg.hpp"

namespace idp::mfa {

Result<std::vector<FactorRecord>> PgFactorStore::List(const std::string& subject) {
  return pool_.Run<std::vector<FactorRecord>>([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    // A malformed subject matches nothing instead of raising a cast error.
    auto res = tx.exec_params(
        "SELECT id::text, type, label, active, extract(epoch from created_at)::bigint "
        "FROM mfa.factors WHERE subject::text = $1 ORDER BY created_at, id",
        subject);
    std::vector<FactorRecord> out;
    for (const auto& r : res) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     r[3].as<bool>(), r[4].as<std::int64_t>()});
    }
    return out;
  });
}

}  // namespace idp::mfa
