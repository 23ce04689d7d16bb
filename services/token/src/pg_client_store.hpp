#pragma once

#include "client_store.hpp"

namespace idp::store {
class PgPool;
}

namespace idp::token {

/// ClientStore over PostgreSQL table token.clients.
class PgClientStore final : public ClientStore {
 public:
  explicit PgClientStore(store::PgPool& pool) : pool_(pool) {}

  // ClientStore
  Result<std::optional<ClientRecord>> Find(const std::string& client_id) override;
  Result<std::vector<ClientRecord>> List(bool portal_only) override;
  Result<ClientRecord> Save(const ClientRecord& client, bool upsert) override;
  Result<std::optional<std::pair<std::string, std::int64_t>>> FindConsent(
      const std::string& subject, const std::string& client_id) override;
  Result<std::string> AddConsent(const std::string& subject, const std::string& client_id,
                                 const std::string& scope) override;
  Result<int> DeleteConsents(const std::string& subject, const std::string& client_id) override;

 private:
  store::PgPool& pool_;
};

}  // namespace idp::token
