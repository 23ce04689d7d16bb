#pragma once
/// @file The token service's rules: client registration and authentication, the authorization
/// code grant (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1.3), ID and access tokens (RFC 9068).
/// Knows nothing of gRPC.

#include "idp/audit/audit.hpp"
#include "client_store.hpp"
#include "code_store.hpp"
#include "grant_store.hpp"
#include "key_ring.hpp"
#include "logout_notifier.hpp"

#include "idp/common/clock.hpp"
#include "idp/oauth/oauth.hpp"

#include <chrono>
#include <string>
#include <variant>

#include <boost/json/object.hpp>

namespace idp::token {

struct TokenConfig {
  std::string issuer;
  std::chrono::seconds code_ttl{60};
  std::chrono::seconds access_token_ttl{600};
  std::chrono::seconds id_token_ttl{600};
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};  ///< absolute life of a grant's RTs
  /// Signs every access token (RFC 9068 §2.1 allows any asymmetric alg; resource servers find
  /// the key by kid in the JWKS). ES256: an eighth of RS256's signing cost.
  jose::Alg access_token_alg = jose::Alg::kES256;
};

enum class AuthMethod {
  kUnspecified,
  kClientSecretBasic,
  kClientSecretPost,
  kNone,
  kPrivateKeyJwt,
};

struct ClientAuth {
  std::string client_id;
  std::string client_secret;
  AuthMethod method = AuthMethod::kUnspecified;
  std::string client_assertion;    ///< private_key_jwt
  std::string assertion_audience;  ///< the token endpoint URL the assertion must name
};

struct CodeExchange {
  ClientAuth client;
  std::string code;
  std::string redirect_uri;
  bool redirect_uri_present = false;
  std::string code_verifier;
  std::string attempt_id;  ///< a retry of the same attempt is not a reuse
};

struct Tokens {
  std::string access_token;
  std::string id_token;       ///< empty for client_credentials
  std::string refresh_token;  ///< empty unless offline_access was granted
  std::int64_t expires_in = 0;
  std::string scope;
};

struct RefreshRequest {
  ClientAuth client;
  std::string refresh_token;
  std::string scope;       ///< optional narrowing (RFC 6749 §6)
  std::string attempt_id;  ///< a retry of the same attempt is not a reuse
};

struct AccessTokenInfo {
  std::string subject;
  std::string scope;
  std::string client_id;
  std::int64_t expires_at = 0;
  std::string userinfo_claims;  ///< asked for with the claims parameter, space-separated
};

template <class T>
using Outcome = std::variant<T, oauth::OAuthError>;

class TokenService {
 public:
  TokenService(ClientStore& clients, CodeStore& codes, GrantStore& grants, KeyRing& keys,
               const Clock& clock, TokenConfig config);

  /// Records refresh-token and code reuse there from now on (null: not recorded). The log must
  /// outlive this service. Not thread-safe: call before serving.
  void SetAuditLog(audit::AuditLog* log) { audit_ = log; }
  /// Sends back-channel logout through `notifier` when a session ends (null: none sent). It
  /// must outlive this service. Not thread-safe: call before serving.
  void SetLogoutNotifier(LogoutNotifier* notifier) { notifier_ = notifier; }
  /// Records `event` when an audit log is set; a failure is logged and ignored (AuditLog).
  void Audit(audit::Event event);

  /// kNotFound for an unknown client.
  [[nodiscard]] Result<ClientRecord> GetClient(const std::string& client_id);
  [[nodiscard]] Result<std::vector<ClientRecord>> ListClients(bool portal_only);
  /// Validates and stores a registration. Confidential clients get a generated secret (256
  /// bits) unless `secret` is given (at least 32 characters); returns the record and the
  /// plain secret (empty for public clients, and on an upsert that keeps the old secret).
  [[nodiscard]] Result<std::pair<ClientRecord, std::string>> SaveClient(ClientRecord client,
                                                                       bool upsert,
                                                                       std::string secret);
  /// Issues a code for an authorization the gateway has validated; checks again that the
  /// client exists, the redirect URI is registered and the challenge is S256.
  [[nodiscard]] Result<std::string> IssueCode(const CodeGrant& grant,
                                              const std::string& code_challenge_method);
  /// The authorization code grant. OAuth errors are outcomes, not Errors. A reused code
  /// revokes the grant of its first redemption.
  [[nodiscard]] Result<Outcome<Tokens>> ExchangeCode(const CodeExchange& request);
  /// The refresh grant with rotation; a reused refresh token revokes its grant.
  [[nodiscard]] Result<Outcome<Tokens>> Refresh(const RefreshRequest& request);
  /// The client credentials grant (RFC 6749 §4.4): an access token whose sub is the client.
  [[nodiscard]] Result<Outcome<Tokens>> ClientCredentials(const ClientAuth& client,
                                                          const std::string& scope);
  /// RFC 7009: revokes the grant of a refresh or access token of this client. Unknown or
  /// foreign tokens are ignored (the answer is the same).
  [[nodiscard]] Result<std::optional<oauth::OAuthError>> Revoke(const ClientAuth& client,
                                                                const std::string& token);
  /// RFC 7662: the introspection JSON; {"active":false} for anything not live and not this
  /// client's.
  [[nodiscard]] Result<Outcome<std::string>> Introspect(const ClientAuth& client,
                                                        const std::string& token);
  /// What `subject` approved for `client_id` (scope, when); an empty scope when never.
  [[nodiscard]] Result<std::pair<std::string, std::int64_t>> GetConsent(
      const std::string& subject, const std::string& client_id);
  /// Records approval of `scope` (a union with earlier approvals); returns all approved.
  [[nodiscard]] Result<std::string> GrantConsent(const std::string& subject,
                                                 const std::string& client_id,
                                                 const std::string& scope);
  /// Forgets approvals of one client, or all when `client_id` is empty; returns how many.
  [[nodiscard]] Result<int> RevokeConsent(const std::string& subject, const std::string& client_id);
  /// Revokes every grant of SSO session `sid` (sign-out); returns the clients involved.
  [[nodiscard]] Result<std::vector<ClientRecord>> RevokeSession(const std::string& sid);
  struct SessionEnded {
    int revoked = 0;   ///< grants revoked
    int notified = 0;  ///< clients sent a back-channel logout token
  };
  /// Ends SSO session `sid` of `subject`: its grants revoked, a logout token queued for each
  /// of its clients with a back-channel logout URI, and, when an administrator ended it
  /// (`by_admin`), an audit row. kInvalidArgument without `sid`.
  [[nodiscard]] Result<SessionEnded> EndSession(const std::string& sid, const std::string& subject,
                                                bool by_admin);
  /// A new signing key for `alg`, the old one retired (still published): the new and the
  /// retired kid. Audited.
  [[nodiscard]] Result<std::pair<std::string, std::string>> RotateKeys(jose::Alg alg);
  struct IdTokenHint {
    std::string subject;
    std::string client_id;
    std::string sid;
  };
  /// Verifies an ID token this issuer signed (signature and iss; an expired one is accepted, as
  /// OIDC Core §3.1.2.1 allows for id_token_hint). nullopt when it does not verify.
  std::optional<IdTokenHint> VerifyIdTokenHint(const std::string& id_token);
  /// Verifies an access token we issued (signature, typ, iss, exp, grant not revoked).
  [[nodiscard]] Result<Outcome<AccessTokenInfo>> ValidateAccessToken(const std::string& token);
  std::string Jwks() { return keys_.JwksJson(); }

  /// "sha256$" + base64url(SHA-256(secret)): client secrets are high-entropy, so a fast hash
  /// suffices and keeps the token endpoint fast; seeded secrets must be >= 32 characters.
  static std::string HashSecret(std::string_view secret);

 private:
  /// Authenticates the client per RFC 6749 §2.3.1 and its registered method.
  Result<Outcome<ClientRecord>> Authenticate(const ClientAuth& auth);
  /// RFC 7523 §3 checks of a private_key_jwt assertion, jti replay included.
  Result<bool> CheckClientAssertion(const ClientRecord& client, const ClientAuth& auth);
  /// Signs an access token (and an ID token when `id_token`, and returns `refresh_token`
  /// as given) for `grant`. `id_token_claims`: a JSON object of claims the ID token adds.
  Result<Tokens> Mint(const ClientRecord& client, const Grant& grant, const std::string& nonce,
                      bool id_token, std::string refresh_token,
                      const std::string& id_token_claims = {});
  /// Verifies an access token's signature and claims, without the revocation check.
  std::optional<boost::json::object> VerifyAccessToken(const std::string& token);

  ClientStore& clients_;
  CodeStore& codes_;
  GrantStore& grants_;
  KeyRing& keys_;
  const Clock& clock_;
  TokenConfig config_;
  audit::AuditLog* audit_ = nullptr;
  LogoutNotifier* notifier_ = nullptr;
};

}  // namespace idp::token
