#pragma once
/// @file Storage of OAuth clients (schema `token`).

#include "idp/common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace idp::token {

struct ClientRecord {
  std::string client_id;
  bool confidential = true;
  std::string secret_hash;  ///< "sha256$<base64url>" for confidential clients, else empty
  std::string name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> post_logout_redirect_uris;
  std::string token_endpoint_auth_method;  ///< client_secret_basic | client_secret_post | none
  std::string id_token_signed_response_alg = "RS256";
  bool show_in_portal = false;
  std::string home_url;
  std::string logo_url;
  std::int64_t created_at = 0;
};

/// Thread-safe. kUnavailable when the database cannot be reached.
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  [[nodiscard]] virtual Result<std::optional<ClientRecord>> Find(const std::string& client_id) = 0;
  [[nodiscard]] virtual Result<std::vector<ClientRecord>> List(bool portal_only) = 0;
  /// Inserts, or replaces when `upsert`; an empty secret_hash on upsert keeps the stored one.
  /// kAlreadyExists for a taken id without upsert.
  [[nodiscard]] virtual Result<ClientRecord> Save(const ClientRecord& client, bool upsert) = 0;
};

}  // namespace idp::token
