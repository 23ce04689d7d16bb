#include "token_service.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>

#include <set>

namespace idp::token {
namespace {

oauth::OAuthError OAuth(std::string error, std::string description) {
  return {std::move(error), std::move(description)};
}

std::string_view MethodName(AuthMethod m) {
  switch (m) {
    case AuthMethod::kClientSecretBasic: return "client_secret_basic";
    case AuthMethod::kClientSecretPost: return "client_secret_post";
    case AuthMethod::kNone: return "none";
    case AuthMethod::kPrivateKeyJwt: return "private_key_jwt";
    default: return "";
  }
}

/// at_hash (OIDC Core §3.1.3.6): the left half of the hash of the access token, with the hash
/// of the ID token's alg (SHA-256 for RS256/ES256, SHA-512 for EdDSA/Ed25519).
std::string AtHash(jose::Alg alg, std::string_view access_token) {
  std::string digest = alg == jose::Alg::kEdDSA ? crypto::Sha512(access_token)
                                                : crypto::Sha256(access_token);
  return crypto::Base64UrlEncode(std::string_view(digest).substr(0, digest.size() / 2));
}

}  // namespace

TokenService::TokenService(ClientStore& clients, CodeStore& codes, GrantStore& grants,
                           KeyRing& keys, const Clock& clock, TokenConfig config)
    : clients_(clients),
      codes_(codes),
      grants_(grants),
      keys_(keys),
      clock_(clock),
      config_(std::move(config)) {}

std::string TokenService::HashSecret(std::string_view secret) {
  return "sha256$" + crypto::Base64UrlEncode(crypto::Sha256(secret));
}

void TokenService::Audit(audit::Event event) {
  if (audit_ != nullptr) (void)audit_->Record(event);
}

Result<ClientRecord> TokenService::GetClient(const std::string& client_id) {
  auto found = clients_.Find(client_id);
  if (!found) return found.error();
  if (!*found) return NotFound("client");
  return std::move(**found);
}

Result<std::vector<ClientRecord>> TokenService::ListClients(bool portal_only) {
  return clients_.List(portal_only);
}

Result<std::pair<ClientRecord, std::string>> TokenService::SaveClient(ClientRecord c, bool upsert,
                                                                     std::string secret) {
  if (c.client_id.empty()) c.client_id = crypto::RandomToken(16);
  for (char ch : c.client_id) {
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7E) {
      return InvalidArgument("client_id must be printable ASCII without spaces");
    }
  }
  if (c.client_id.size() > 128) return InvalidArgument("client_id is too long");
  if (c.redirect_uris.empty()) return InvalidArgument("at least one redirect URI is required");
  for (const auto& uri : c.redirect_uris) {
    if (auto why = oauth::CheckRedirectUriRegistration(uri)) {
      return InvalidArgument("redirect URI " + uri + ": " + *why);
    }
  }
  for (const auto& uri : c.post_logout_redirect_uris) {
    if (auto why = oauth::CheckRedirectUriRegistration(uri)) {
      return InvalidArgument("post-logout redirect URI " + uri + ": " + *why);
    }
  }
  if (c.id_token_signed_response_alg.empty()) c.id_token_signed_response_alg = "RS256";
  if (!jose::ParseAlg(c.id_token_signed_response_alg)) {
    return InvalidArgument("id_token_signed_response_alg must be RS256, ES256 or EdDSA");
  }
  static const std::set<std::string> kGrants{"authorization_code", "refresh_token",
                                             "client_credentials"};
  if (c.grant_types.empty()) c.grant_types = {"authorization_code", "refresh_token"};
  for (const auto& g : c.grant_types) {
    if (!kGrants.count(g)) return InvalidArgument("unsupported grant type " + g);
  }
  if (c.allowed_scopes.empty()) c.allowed_scopes = "openid profile email phone offline_access";
  if (c.mfa_policy.empty()) c.mfa_policy = "default";
  if (c.mfa_policy != "default" && c.mfa_policy != "required" && c.mfa_policy != "totp_only") {
    return InvalidArgument("mfa_policy must be default, required or totp_only");
  }
  for (const auto* ttl : {&c.access_token_ttl, &c.id_token_ttl, &c.refresh_token_ttl}) {
    if (*ttl && (**ttl <= 0 || **ttl > 365 * 24 * 3600)) {
      return InvalidArgument("token lifetimes must be between 1 s and a year");
    }
  }
  if (!c.backchannel_logout_uri.empty()) {
    if (auto why = oauth::CheckRedirectUriRegistration(c.backchannel_logout_uri)) {
      return InvalidArgument("backchannel_logout_uri: " + *why);
    }
  }
  if (c.token_endpoint_auth_method == "private_key_jwt") {
    std::error_code ec;
    auto jwks = boost::json::parse(c.jwks, ec);
    if (ec || !jwks.is_object() || !jwks.as_object().contains("keys") ||
        !jwks.as_object().at("keys").is_array()) {
      return InvalidArgument("private_key_jwt needs the client's public keys as a JWK Set");
    }
    for (const auto& k : jwks.as_object().at("keys").as_array()) {
      auto key = k.is_object() ? jose::Key::FromJwk(k.as_object()) : Result<jose::Key>(InvalidArgument("x"));
      if (!key || key->has_private()) {
        return InvalidArgument("jwks must hold valid public keys only");
      }
    }
    if (!c.confidential) return InvalidArgument("private_key_jwt clients are confidential");
    c.secret_hash.clear();
    auto saved = clients_.Save(c, upsert);
    if (!saved) return saved.error();
    return std::make_pair(std::move(*saved), std::string());
  }
  if (c.confidential) {
    if (c.token_endpoint_auth_method.empty()) c.token_endpoint_auth_method = "client_secret_basic";
    if (c.token_endpoint_auth_method != "client_secret_basic" &&
        c.token_endpoint_auth_method != "client_secret_post") {
      return InvalidArgument("confidential clients use client_secret_basic or client_secret_post");
    }
    if (!secret.empty() && secret.size() < 32) {
      return InvalidArgument("a client secret must be at least 32 characters");
    }
    if (secret.empty() && upsert) {
      // An upsert keeps the stored secret of an existing confidential client (as stored now:
      // not a cached copy another instance may have changed since).
      auto existing = clients_.FindStored(c.client_id);
      if (!existing) return existing.error();
      if (!*existing || !(*existing)->confidential || (*existing)->secret_hash.empty()) {
        secret = crypto::RandomToken(32);
      } else {
        c.secret_hash = (*existing)->secret_hash;
      }
    } else if (secret.empty()) {
      secret = crypto::RandomToken(32);
    }
    if (!secret.empty()) c.secret_hash = HashSecret(secret);
  } else {
    if (c.token_endpoint_auth_method.empty()) c.token_endpoint_auth_method = "none";
    if (c.token_endpoint_auth_method != "none") {
      return InvalidArgument("public clients use token_endpoint_auth_method none");
    }
    if (!secret.empty()) return InvalidArgument("public clients have no secret");
    c.secret_hash.clear();
  }
  auto saved = clients_.Save(c, upsert);
  if (!saved) return saved.error();
  log::Info("client saved", {{"client_id", saved->client_id}});
  audit::Event e;
  e.event = "admin.client_saved";
  e.client_id = saved->client_id;
  e.detail = {{"upsert", upsert ? "true" : "false"}};
  Audit(std::move(e));
  return std::make_pair(std::move(*saved), std::move(secret));
}

Result<std::string> TokenService::IssueCode(const CodeGrant& grant,
                                            const std::string& code_challenge_method) {
  auto client = GetClient(grant.client_id);
  if (!client) return client.error();
  if (!oauth::RedirectUriRegistered(grant.redirect_uri, client->redirect_uris)) {
    return InvalidArgument("redirect_uri is not registered for the client");
  }
  if (!grant.code_challenge.empty() &&
      (code_challenge_method != "S256" || !oauth::IsValidS256Challenge(grant.code_challenge))) {
    return InvalidArgument("only S256 code challenges are accepted");
  }
  if (!client->confidential && grant.code_challenge.empty()) {
    return InvalidArgument("public clients must use PKCE");
  }
  if (grant.subject.empty()) return InvalidArgument("subject is required");
  if (client->require_consent) {
    // The gateway asks for consent before it asks for a code; this holds it to that.
    auto consent = clients_.FindConsent(grant.subject, grant.client_id);
    if (!consent) return consent.error();
    auto approved = oauth::ParseScope(*consent ? (*consent)->first : std::string());
    for (const auto& s : oauth::ParseScope(grant.scope)) {
      if (!approved.count(s)) return FailedPrecondition("the person has not approved " + s);
    }
  }
  return codes_.Issue(grant, config_.code_ttl);
}

Result<std::pair<std::string, std::int64_t>> TokenService::GetConsent(
    const std::string& subject, const std::string& client_id) {
  if (subject.empty() || client_id.empty()) {
    return InvalidArgument("subject and client_id are required");
  }
  auto found = clients_.FindConsent(subject, client_id);
  if (!found) return found.error();
  if (!*found) return std::pair<std::string, std::int64_t>{};
  return std::move(**found);
}

Result<std::string> TokenService::GrantConsent(const std::string& subject,
                                               const std::string& client_id,
                                               const std::string& scope) {
  if (subject.empty() || client_id.empty()) {
    return InvalidArgument("subject and client_id are required");
  }
  auto normalised = oauth::JoinScope(oauth::ParseScope(scope));
  if (normalised.empty()) return InvalidArgument("scope is required");
  auto approved = clients_.AddConsent(subject, client_id, normalised);
  if (!approved) return approved;
  log::Info("consent granted", {{"client_id", client_id}, {"subject", subject}});
  audit::Event e;
  e.event = "consent.granted";
  e.subject = subject;
  e.client_id = client_id;
  e.detail = {{"scope", *approved}};
  Audit(std::move(e));
  return approved;
}

Result<int> TokenService::RevokeConsent(const std::string& subject, const std::string& client_id) {
  if (subject.empty()) return InvalidArgument("subject is required");
  return clients_.DeleteConsents(subject, client_id);
}

Result<Outcome<ClientRecord>> TokenService::Authenticate(const ClientAuth& auth) {
  using R = Outcome<ClientRecord>;
  if (auth.client_id.empty()) return R{OAuth("invalid_client", "client authentication failed")};
  auto found = clients_.Find(auth.client_id);
  if (!found) return found.error();
  // One answer for every failure, so that client ids cannot be probed (RFC 6749 §5.2).
  const R failed{OAuth("invalid_client", "client authentication failed")};
  if (!*found) return failed;
  const ClientRecord& c = **found;
  if (MethodName(auth.method) != c.token_endpoint_auth_method) return failed;
  if (auth.method == AuthMethod::kPrivateKeyJwt) {
    auto ok = CheckClientAssertion(c, auth);
    if (!ok) return ok.error();
    if (!*ok) return failed;
    return R{c};
  }
  if (c.confidential) {
    if (auth.client_secret.empty() ||
        !crypto::ConstantTimeEqual(HashSecret(auth.client_secret), c.secret_hash)) {
      return failed;
    }
  } else if (!auth.client_secret.empty()) {
    return failed;
  }
  return R{c};
}

Result<bool> TokenService::CheckClientAssertion(const ClientRecord& client,
                                                const ClientAuth& auth) {
  if (client.jwks.empty() || auth.client_assertion.empty()) return false;
  std::error_code ec;
  auto jwks = boost::json::parse(client.jwks, ec);
  if (ec || !jwks.is_object() || !jwks.as_object().contains("keys")) return false;
  // RFC 7523 §3: signed by one of the client's registered keys.
  auto claims = jose::VerifyJwt(auth.client_assertion,
                                [&jwks](const boost::json::object& header) -> std::optional<jose::Key> {
    const auto* kid = header.if_contains("kid");
    for (const auto& k : jwks.as_object().at("keys").as_array()) {
      if (!k.is_object()) continue;
      const auto* kkid = k.as_object().if_contains("kid");
      if (kid && (!kkid || *kkid != *kid)) continue;
      auto key = jose::Key::FromJwk(k.as_object());
      if (key && !key->has_private()) return *key;
    }
    return std::nullopt;
  });
  if (!claims) return false;
  const auto& c = *claims;
  auto str = [&c](const char* n) {
    const auto* v = c.if_contains(n);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  // iss and sub are the client; aud names the token endpoint (or the issuer); exp is
  // required and near; jti is required and used once.
  if (str("iss") != client.client_id || str("sub") != client.client_id) return false;
  bool aud_ok = false;
  if (const auto* aud = c.if_contains("aud")) {
    auto match = [&](const boost::json::value& v) {
      return v.is_string() && (v.as_string() == auth.assertion_audience ||
                               v.as_string() == config_.issuer);
    };
    if (aud->is_array()) {
      for (const auto& v : aud->as_array()) aud_ok = aud_ok || match(v);
    } else {
      aud_ok = match(*aud);
    }
  }
  const auto* exp = c.if_contains("exp");
  const std::int64_t now = clock_.NowUnix();
  if (!aud_ok || !exp || !exp->is_int64() || exp->as_int64() <= now ||
      exp->as_int64() > now + 3600 || str("jti").empty()) {
    return false;
  }
  auto fresh = grants_.RememberAssertion(client.client_id, str("jti"), exp->as_int64());
  if (!fresh) return fresh.error();
  if (!*fresh) log::Warn("client assertion replayed", {{"client_id", client.client_id}});
  return *fresh;
}

Result<Outcome<Tokens>> TokenService::ExchangeCode(const CodeExchange& req) {
  using R = Outcome<Tokens>;
  auto authed = Authenticate(req.client);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);
  if (!client.AllowsGrant("authorization_code")) {
    return R{OAuth("unauthorized_client", "the client may not use the authorization code grant")};
  }

  if (req.code.empty()) return R{OAuth("invalid_request", "code is required")};
  std::string grant_id = crypto::RandomToken(16);
  auto redemption = codes_.Redeem(req.code, grant_id, req.attempt_id);
  if (!redemption) return redemption.error();
  if (redemption->outcome == RedeemOutcome::kReused && !req.attempt_id.empty() &&
      crypto::ConstantTimeEqual(redemption->attempt_id, req.attempt_id)) {
    // The same attempt again (the gateway's gRPC retry after an instance died mid-call): it
    // continues the first redemption, with the same grant.
    log::Info("code exchange retried", {{"client_id", client.client_id}});
    grant_id = redemption->grant_id;
    redemption->outcome = RedeemOutcome::kRedeemed;
  }
  if (redemption->outcome == RedeemOutcome::kReused) {
    // RFC 6749 §4.1.2: revoke every token already issued from this code.
    log::Warn("authorization code reused; its grant is revoked", {{"client_id", client.client_id}});
    Audit({"authorization_code.reuse_detected", redemption->grant.subject, client.client_id, "",
           "", "", {{"grant_id", redemption->grant_id}, {"action", "grant_revoked"}}});
    if (!redemption->grant_id.empty()) {
      auto st = grants_.Revoke(redemption->grant_id, "code_reuse");
      if (!st) return st.error();
    }
    return R{OAuth("invalid_grant", "the authorization code was already used")};
  }
  if (redemption->outcome == RedeemOutcome::kUnknown) {
    return R{OAuth("invalid_grant", "the authorization code is invalid or expired")};
  }
  const CodeGrant& code = redemption->grant;
  // RFC 6749 §4.1.3: bound to the client and to the exact redirect URI.
  if (code.client_id != client.client_id) {
    return R{OAuth("invalid_grant", "the authorization code was issued to another client")};
  }
  if (!req.redirect_uri_present || req.redirect_uri != code.redirect_uri) {
    return R{OAuth("invalid_grant", "redirect_uri does not match the authorization request")};
  }
  // RFC 7636 §4.6, and the downgrade check of RFC 9700 §2.1.1.
  if (!code.code_challenge.empty()) {
    if (req.code_verifier.empty()) return R{OAuth("invalid_grant", "code_verifier is required")};
    if (!oauth::VerifyS256(req.code_verifier, code.code_challenge)) {
      return R{OAuth("invalid_grant", "code_verifier does not match the code challenge")};
    }
  } else if (!req.code_verifier.empty()) {
    return R{OAuth("invalid_grant", "code_verifier sent but no code challenge was")};
  }

  Grant grant;
  grant.id = grant_id;
  grant.client_id = client.client_id;
  grant.subject = code.subject;
  grant.scope = code.scope;
  grant.sid = code.sid;
  grant.auth_time = code.auth_time;
  grant.amr = code.amr;
  grant.acr = code.acr;
  grant.claims = code.userinfo_claims;
  const auto rt_ttl = client.refresh_token_ttl.value_or(config_.refresh_token_ttl.count());
  grant.expires_at = clock_.NowUnix() + rt_ttl;
  // A refresh token only for offline_access (OIDC Core §11) and clients allowed the grant.
  std::string refresh_token;
  if (oauth::ParseScope(code.scope).count("offline_access") && client.AllowsGrant("refresh_token")) {
    refresh_token = crypto::RandomToken(32);
  }
  auto live = grants_.Create(grant, refresh_token.empty() ? "" : HashSecret(refresh_token),
                             grant.expires_at);
  if (!live) return live.error();
  // When a racing reuse revoked the grant before it was written (*live is false), this, the
  // one redemption that won, still answers with tokens: exactly one success, and its tokens
  // are revoked because of the reuse (SECURITY §86).
  if (!*live) log::Warn("tokens issued for a grant already revoked by code reuse");
  auto tokens = Mint(client, grant, code.nonce, true, std::move(refresh_token),
                     code.id_token_claims);
  if (!tokens) return tokens.error();
  return R{std::move(*tokens)};
}

Result<Outcome<Tokens>> TokenService::Refresh(const RefreshRequest& req) {
  using R = Outcome<Tokens>;
  auto authed = Authenticate(req.client);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);
  if (!client.AllowsGrant("refresh_token")) {
    return R{OAuth("unauthorized_client", "the client may not use the refresh token grant")};
  }
  if (req.refresh_token.empty()) return R{OAuth("invalid_request", "refresh_token is required")};
  if (!req.scope.empty()) {
    // RFC 6749 §6: the new scope must not exceed the original grant. Checked before the
    // rotation, so that a refused request does not use the token up.
    auto current = grants_.FindByRefresh(HashSecret(req.refresh_token));
    if (!current) return current.error();
    if (*current && (*current)->client_id == client.client_id) {
      auto granted = oauth::ParseScope((*current)->scope);
      for (const auto& s : oauth::ParseScope(req.scope)) {
        if (!granted.count(s)) return R{OAuth("invalid_scope", "scope exceeds the original grant")};
      }
    }
  }
  std::string next = crypto::RandomToken(32);
  auto rotation = grants_.Rotate(HashSecret(req.refresh_token), HashSecret(next), client.client_id,
                                 req.attempt_id);
  if (!rotation) return rotation.error();
  if (rotation->outcome == RotateOutcome::kReused) {
    log::Warn("refresh token reused; its grant is revoked", {{"client_id", client.client_id}});
    Audit({"refresh_token.reuse_detected", rotation->grant.subject, client.client_id, "", "", "",
           {{"grant_id", rotation->grant.id}, {"action", "grant_revoked"}}});
    return R{OAuth("invalid_grant", "the refresh token was already used")};
  }
  if (rotation->outcome == RotateOutcome::kInvalid) {
    return R{OAuth("invalid_grant", "the refresh token is invalid, expired or revoked")};
  }
  Grant grant = rotation->grant;
  if (!req.scope.empty()) {
    // RFC 6749 §6: the new scope must not exceed the original grant.
    auto granted = oauth::ParseScope(grant.scope);
    auto asked = oauth::ParseScope(req.scope);
    for (const auto& s : asked) {
      if (!granted.count(s)) return R{OAuth("invalid_scope", "scope exceeds the original grant")};
    }
    grant.scope = oauth::JoinScope(asked);
  }
  auto tokens = Mint(client, grant, "", oauth::ParseScope(grant.scope).count("openid") > 0,
                     std::move(next));
  if (!tokens) return tokens.error();
  return R{std::move(*tokens)};
}

Result<Outcome<Tokens>> TokenService::ClientCredentials(const ClientAuth& auth,
                                                        const std::string& scope) {
  using R = Outcome<Tokens>;
  auto authed = Authenticate(auth);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);
  if (!client.confidential || !client.AllowsGrant("client_credentials")) {
    return R{OAuth("unauthorized_client", "the client may not use the client credentials grant")};
  }
  // No person is involved: OpenID scopes make no sense here.
  static const std::set<std::string> kPersonal{"openid", "profile", "email", "phone",
                                               "address", "offline_access"};
  auto allowed = oauth::ParseScope(client.allowed_scopes);
  std::set<std::string> granted;
  if (scope.empty()) {
    for (const auto& s : allowed) {
      if (!kPersonal.count(s)) granted.insert(s);
    }
  } else {
    for (const auto& s : oauth::ParseScope(scope)) {
      if (kPersonal.count(s) || !allowed.count(s)) {
        return R{OAuth("invalid_scope", "scope " + s + " is not allowed for this client")};
      }
      granted.insert(s);
    }
  }
  // A grant of its own (gid), but no row: nothing outlives the one access token, whose claims
  // say everything. Revoking it records the gid in token.grant_revocations like any grant, and
  // validation and introspection look there.
  Grant grant;
  grant.id = crypto::RandomToken(16);
  grant.client_id = client.client_id;
  grant.subject = client.client_id;  // RFC 9068 §2.2: sub is the client for its own grants
  grant.scope = oauth::JoinScope(granted);
  grant.expires_at =
      clock_.NowUnix() + client.access_token_ttl.value_or(config_.access_token_ttl.count());
  auto tokens = Mint(client, grant, "", false, "");
  if (!tokens) return tokens.error();
  return R{std::move(*tokens)};
}

std::optional<boost::json::object> TokenService::VerifyAccessToken(const std::string& token) {
  auto claims = jose::VerifyJwt(token, [this](const boost::json::object& header)
                                           -> std::optional<jose::Key> {
    const auto* kid = header.if_contains("kid");
    const auto* typ = header.if_contains("typ");
    // RFC 9068 §4: typ must be at+jwt, so an ID token is never accepted as an access token.
    if (!kid || !kid->is_string() || !typ || !typ->is_string() || typ->as_string() != "at+jwt") {
      return std::nullopt;
    }
    auto k = keys_.Find(std::string(kid->as_string()));
    if (!k) return std::nullopt;
    return k->key;
  });
  if (!claims) return std::nullopt;
  const auto& c = *claims;
  const auto* iss = c.if_contains("iss");
  const auto* exp = c.if_contains("exp");
  const auto* sub = c.if_contains("sub");
  const auto* gid = c.if_contains("gid");
  if (!iss || !iss->is_string() || iss->as_string() != config_.issuer || !exp ||
      !exp->is_int64() || exp->as_int64() <= clock_.NowUnix() || !sub || !sub->is_string() ||
      !gid || !gid->is_string()) {
    return std::nullopt;
  }
  return std::move(*claims);
}

std::optional<TokenService::IdTokenHint> TokenService::VerifyIdTokenHint(
    const std::string& id_token) {
  auto claims = jose::VerifyJwt(id_token, [this](const boost::json::object& header)
                                              -> std::optional<jose::Key> {
    const auto* kid = header.if_contains("kid");
    const auto* typ = header.if_contains("typ");
    // Only ID tokens: not access tokens or logout tokens, whose typ differs.
    if (!kid || !kid->is_string() || (typ && (!typ->is_string() || typ->as_string() != "JWT"))) {
      return std::nullopt;
    }
    auto k = keys_.Find(std::string(kid->as_string()));
    if (!k) return std::nullopt;
    return k->key;
  });
  if (!claims) return std::nullopt;
  auto str = [&claims](const char* n) {
    const auto* v = claims->if_contains(n);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (str("iss") != config_.issuer || str("sub").empty() || str("aud").empty()) return std::nullopt;
  return IdTokenHint{str("sub"), str("aud"), str("sid")};
}

Result<Outcome<AccessTokenInfo>> TokenService::ValidateAccessToken(const std::string& token) {
  using R = Outcome<AccessTokenInfo>;
  const R invalid{OAuth("invalid_token", "the access token is invalid or expired")};
  auto claims = VerifyAccessToken(token);
  if (!claims) return invalid;
  auto revoked = grants_.IsRevoked(std::string(claims->at("gid").as_string()));
  if (!revoked) return revoked.error();
  if (*revoked) return invalid;
  auto str = [&claims](const char* name) -> std::string {
    const auto* v = claims->if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  return R{AccessTokenInfo{str("sub"), str("scope"), str("client_id"),
                           claims->at("exp").as_int64(), str("userinfo_claims")}};
}

Result<std::optional<oauth::OAuthError>> TokenService::Revoke(const ClientAuth& auth,
                                                              const std::string& token) {
  using R = std::optional<oauth::OAuthError>;
  auto authed = Authenticate(auth);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);
  // A refresh token first (the common case), then an access token. Revoking either ends the
  // grant: its refresh tokens and access tokens (RFC 7009 §2.1 allows it).
  auto grant = grants_.FindByRefresh(HashSecret(token));
  if (!grant) return grant.error();
  std::string grant_id;
  if (*grant && (*grant)->client_id == client.client_id) grant_id = (*grant)->id;
  if (grant_id.empty()) {
    if (auto claims = VerifyAccessToken(token)) {
      const auto* cid = claims->if_contains("client_id");
      if (cid && cid->is_string() && cid->as_string() == client.client_id) {
        grant_id = std::string(claims->at("gid").as_string());
      }
    }
  }
  if (!grant_id.empty()) {
    auto st = grants_.Revoke(grant_id, "revoked_by_client");
    if (!st) return st.error();
    log::Info("grant revoked", {{"client_id", client.client_id}});
  }
  return R{};
}

Result<Outcome<std::string>> TokenService::Introspect(const ClientAuth& auth,
                                                      const std::string& token) {
  using R = Outcome<std::string>;
  auto authed = Authenticate(auth);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);
  const std::string inactive = R"({"active":false})";

  if (auto claims = VerifyAccessToken(token)) {
    const auto* cid = claims->if_contains("client_id");
    if (!cid || !cid->is_string() || cid->as_string() != client.client_id) return R{inactive};
    auto revoked = grants_.IsRevoked(std::string(claims->at("gid").as_string()));
    if (!revoked) return revoked.error();
    if (*revoked) return R{inactive};
    boost::json::object out{{"active", true}, {"token_type", "Bearer"}};
    for (const char* k : {"scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti"}) {
      if (const auto* v = claims->if_contains(k)) out[k] = *v;
    }
    return R{boost::json::serialize(out)};
  }
  auto grant = grants_.FindByRefresh(HashSecret(token));
  if (!grant) return grant.error();
  if (!*grant || (*grant)->client_id != client.client_id) return R{inactive};
  const auto& g = **grant;
  return R{boost::json::serialize(boost::json::object{{"active", true},
                                                      {"token_type", "refresh_token"},
                                                      {"scope", g.scope},
                                                      {"client_id", g.client_id},
                                                      {"sub", g.subject},
                                                      {"exp", g.expires_at},
                                                      {"iss", config_.issuer}})};
}

Result<std::vector<ClientRecord>> TokenService::RevokeSession(const std::string& sid) {
  auto client_ids = grants_.RevokeBySid(sid);
  if (!client_ids) return client_ids.error();
  std::vector<ClientRecord> out;
  for (const auto& id : *client_ids) {
    auto c = clients_.Find(id);
    if (c && *c) out.push_back(std::move(**c));
  }
  return out;
}

Result<TokenService::SessionEnded> TokenService::EndSession(const std::string& sid,
                                                            const std::string& subject,
                                                            bool by_admin) {
  if (sid.empty()) return InvalidArgument("sid is required");
  auto clients = RevokeSession(sid);
  if (!clients) return clients.error();
  SessionEnded ended;
  ended.revoked = static_cast<int>(clients->size());
  for (const auto& c : *clients) {
    if (c.backchannel_logout_uri.empty() || notifier_ == nullptr) continue;
    notifier_->Notify(c, subject, sid);
    ++ended.notified;
  }
  if (by_admin) {
    audit::Event e;
    e.event = "admin.session_revoked";
    e.subject = subject;
    e.detail = {{"sid", sid},
                {"grants_revoked", std::to_string(ended.revoked)},
                {"clients_notified", std::to_string(ended.notified)}};
    Audit(std::move(e));
  }
  return ended;
}

Result<std::pair<std::string, std::string>> TokenService::RotateKeys(jose::Alg alg) {
  auto rotated = keys_.Rotate(alg);
  if (!rotated) return rotated;
  audit::Event e;
  e.event = "admin.key_rotated";
  e.detail = {{"alg", std::string(jose::AlgName(alg))},
              {"new_kid", rotated->first},
              {"retired_kid", rotated->second}};
  Audit(std::move(e));
  return rotated;
}

Result<Tokens> TokenService::Mint(const ClientRecord& client, const Grant& grant,
                                  const std::string& nonce, bool with_id_token,
                                  std::string refresh_token,
                                  const std::string& id_token_claims) {
  const std::int64_t now = clock_.NowUnix();
  const std::int64_t at_ttl = client.access_token_ttl.value_or(config_.access_token_ttl.count());
  // Access token: RFC 9068 JWT, signed with token.access_token_alg (ES256 by default).
  auto at_key = keys_.Active(config_.access_token_alg);
  if (!at_key) return at_key.error();
  boost::json::object at{
      {"iss", config_.issuer},
      {"sub", grant.subject},
      {"aud", config_.issuer},
      {"client_id", client.client_id},
      {"scope", grant.scope},
      {"iat", now},
      {"exp", now + at_ttl},
      {"jti", crypto::RandomToken(16)},
      {"gid", grant.id},
  };
  if (grant.auth_time) at["auth_time"] = grant.auth_time;
  if (!grant.sid.empty()) at["sid"] = grant.sid;
  // Which claims userinfo adds for this token (the claims parameter, OIDC Core §5.5).
  if (!grant.claims.empty()) at["userinfo_claims"] = grant.claims;
  auto access_token = jose::Sign(at_key->key, at_key->kid, "at+jwt", boost::json::serialize(at));
  if (!access_token) return access_token.error();

  Tokens out;
  out.expires_in = at_ttl;
  out.scope = grant.scope;
  out.refresh_token = std::move(refresh_token);
  if (with_id_token) {
    // ID token: OIDC Core §2, signed with the client's registered alg (RS256 by default).
    auto alg = jose::ParseAlg(client.id_token_signed_response_alg).value_or(jose::Alg::kRS256);
    auto id_key = keys_.Active(alg);
    if (!id_key) return id_key.error();
    boost::json::array amr;
    for (const auto& a : grant.amr) amr.emplace_back(a);
    boost::json::object id{
        {"iss", config_.issuer},
        {"sub", grant.subject},
        {"aud", client.client_id},
        {"iat", now},
        {"exp", now + client.id_token_ttl.value_or(config_.id_token_ttl.count())},
        {"auth_time", grant.auth_time},
        {"amr", std::move(amr)},
        {"at_hash", AtHash(alg, *access_token)},
    };
    if (!nonce.empty()) id["nonce"] = nonce;
    if (!grant.acr.empty()) id["acr"] = grant.acr;
    if (!grant.sid.empty()) id["sid"] = grant.sid;
    // Claims asked for in the ID token (OIDC Core §5.5): the gateway resolved their values;
    // they never replace a claim this service sets.
    if (!id_token_claims.empty()) {
      std::error_code ec;
      auto extra = boost::json::parse(id_token_claims, ec);
      if (!ec && extra.is_object()) {
        for (const auto& [name, value] : extra.as_object()) {
          if (!id.contains(name)) id[name] = value;
        }
      }
    }
    auto id_token = jose::Sign(id_key->key, id_key->kid, "JWT", boost::json::serialize(id));
    if (!id_token) return id_token.error();
    out.id_token = std::move(*id_token);
  }
  out.access_token = std::move(*access_token);
  log::Info("tokens issued", {{"client_id", client.client_id}, {"subject", grant.subject}});
  return out;
}

}  // namespace idp::token
