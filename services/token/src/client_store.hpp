#pragma once
/// @file Storage of OAuth clients (schema `token`).

#include "idp/common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  /// authorization_code, refresh_token, client_credentials.
  std::vector<std::string> grant_types{"authorization_code", "refresh_token"};
  /// Space-separated scopes the client may be granted.
  std::string allowed_scopes = "openid profile email phone offline_access";
  std::optional<std::int64_t> access_token_ttl;   ///< seconds; unset = the stack default
  std::optional<std::int64_t> id_token_ttl;
  std::optional<std::int64_t> refresh_token_ttl;
  std::string backchannel_logout_uri;             ///< OIDC Back-Channel Logout 1.0 §2.2
  std::string jwks;                               ///< JWK Set JSON for private_key_jwt, or empty
  std::string mfa_policy = "default";             ///< default | required | totp_only
  bool require_consent = false;                   ///< people approve it on a consent page

  bool AllowsGrant(std::string_view grant) const {
    for (const auto& g : grant_types) {
      if (g == grant) return true;
    }
    return false;
  }
};

/// Thread-safe. kUnavailable when the database cannot be reached.
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  [[nodiscard]] virtual Result<std::optional<ClientRecord>> Find(const std::string& client_id) = 0;
  /// Find, never from a cache (what an update builds on).
  [[nodiscard]] virtual Result<std::optional<ClientRecord>> FindStored(const std::string& client_id) {
    return Find(client_id);
  }
  [[nodiscard]] virtual Result<std::vector<ClientRecord>> List(bool portal_only) = 0;
  /// Inserts, or replaces when `upsert`; an empty secret_hash on upsert keeps the stored one.
  /// kAlreadyExists for a taken id without upsert.
  [[nodiscard]] virtual Result<ClientRecord> Save(const ClientRecord& client, bool upsert) = 0;

  /// What `subject` approved for `client_id` (OIDC Core §3.1.2.4): the scope and when, or
  /// nullopt when never.
  [[nodiscard]] virtual Result<std::optional<std::pair<std::string, std::int64_t>>> FindConsent(
      const std::string& subject, const std::string& client_id) = 0;
  /// Adds `scope` to what `subject` approved for `client_id`; returns everything approved.
  /// kNotFound for an unknown client.
  [[nodiscard]] virtual Result<std::string> AddConsent(const std::string& subject,
                                                       const std::string& client_id,
                                                       const std::string& scope) = 0;
  /// Forgets approvals of one client, or of all when `client_id` is empty; returns how many.
  [[nodiscard]] virtual Result<int> DeleteConsents(const std::string& subject,
                                                   const std::string& client_id) = 0;
};

}  // namespace idp::token
