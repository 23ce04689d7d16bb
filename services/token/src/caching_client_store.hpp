#pragma once
/// @file A short-lived in-process cache of client records in front of another ClientStore.

#include "client_store.hpp"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace idp::token {

/// Keeps what Find read for `ttl`, so that a token request does not read its client from
/// PostgreSQL each time. Save through this store forgets the client at once (in this process);
/// other instances see a change within `ttl`. Unknown clients are not cached. Consents pass
/// through. Thread-safe.
class CachingClientStore final : public ClientStore {
 public:
  /// `ttl` of zero: no caching. `max_entries`: beyond it the cache starts over.
  CachingClientStore(ClientStore& inner, std::chrono::milliseconds ttl,
                     std::size_t max_entries = 10000)
      : inner_(inner), ttl_(ttl), max_entries_(max_entries) {}

  // ClientStore
  Result<std::optional<ClientRecord>> Find(const std::string& client_id) override;
  Result<std::optional<ClientRecord>> FindStored(const std::string& client_id) override {
    return inner_.FindStored(client_id);
  }
  Result<std::vector<ClientRecord>> List(bool portal_only) override {
    return inner_.List(portal_only);
  }
  Result<ClientRecord> Save(const ClientRecord& client, bool upsert) override;
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

 private:
  struct Entry {
    ClientRecord client;
    std::chrono::steady_clock::time_point expires;
  };

  ClientStore& inner_;
  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  /// Bumped by every Save: a Find that read before a Save must not cache what it read.
  std::uint64_t generation_ = 0;
};

}  // namespace idp::token
