#include "caching_client_store.hpp"

namespace idp::token {

Result<std::optional<ClientRecord>> CachingClientStore::Find(const std::string& client_id) {
  if (ttl_.count() <= 0) return inner_.Find(client_id);
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(client_id);
    if (it != entries_.end()) {
      if (std::chrono::steady_clock::now() < it->second.expires) {
        return std::optional<ClientRecord>(it->second.client);
      }
      entries_.erase(it);
    }
    generation = generation_;
  }
  auto found = inner_.Find(client_id);
  if (found && *found) {
    std::lock_guard lock(mu_);
    if (generation == generation_) {
      if (entries_.size() >= max_entries_) entries_.clear();
      entries_[client_id] = Entry{**found, std::chrono::steady_clock::now() + ttl_};
    }
  }
  return found;
}

Result<ClientRecord> CachingClientStore::Save(const ClientRecord& client, bool upsert) {
  auto saved = inner_.Save(client, upsert);
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.erase(client.client_id);
  return saved;
}

}  // namespace idp::token
