#include "token_service.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>

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

TokenService::TokenService(ClientStore& clients, CodeStore& codes, KeyRing& keys,
                           const Clock& clock, TokenConfig config)
    : clients_(clients), codes_(codes), keys_(keys), clock_(clock), config_(std::move(config)) {}

std::string TokenService::HashSecret(std::string_view secret) {
  return "sha256$" + crypto::Base64UrlEncode(crypto::Sha256(secret));
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
      // An upsert keeps the stored secret of an existing confidential client.
      auto existing = clients_.Find(c.client_id);
      if (!existing) return existing.error();
      if (!*existing || !(*existing)->confidential) {
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
  return codes_.Issue(grant, config_.code_ttl);
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

Result<Outcome<Tokens>> TokenService::ExchangeCode(const CodeExchange& req) {
  using R = Outcome<Tokens>;
  auto authed = Authenticate(req.client);
  if (!authed) return authed.error();
  if (auto* err = std::get_if<oauth::OAuthError>(&*authed)) return R{*err};
  const auto& client = std::get<ClientRecord>(*authed);

  if (req.code.empty()) return R{OAuth("invalid_request", "code is required")};
  auto redemption = codes_.Redeem(req.code);
  if (!redemption) return redemption.error();
  if (redemption->outcome == RedeemOutcome::kReused) {
    log::Warn("authorization code reused", {{"client_id", client.client_id}});
    return R{OAuth("invalid_grant", "the authorization code was already used")};
  }
  if (redemption->outcome == RedeemOutcome::kUnknown) {
    return R{OAuth("invalid_grant", "the authorization code is invalid or expired")};
  }
  const CodeGrant& grant = redemption->grant;
  // RFC 6749 §4.1.3: bound to the client and to the exact redirect URI.
  if (grant.client_id != client.client_id) {
    return R{OAuth("invalid_grant", "the authorization code was issued to another client")};
  }
  if (!req.redirect_uri_present || req.redirect_uri != grant.redirect_uri) {
    return R{OAuth("invalid_grant", "redirect_uri does not match the authorization request")};
  }
  // RFC 7636 §4.6, and the downgrade check of RFC 9700 §2.1.1.
  if (!grant.code_challenge.empty()) {
    if (req.code_verifier.empty()) return R{OAuth("invalid_grant", "code_verifier is required")};
    if (!oauth::VerifyS256(req.code_verifier, grant.code_challenge)) {
      return R{OAuth("invalid_grant", "code_verifier does not match the code challenge")};
    }
  } else if (!req.code_verifier.empty()) {
    return R{OAuth("invalid_grant", "code_verifier sent but no code challenge was")};
  }
  auto tokens = Mint(client, grant);
  if (!tokens) return tokens.error();
  return R{std::move(*tokens)};
}

Result<Tokens> TokenService::Mint(const ClientRecord& client, const CodeGrant& grant) {
  const std::int64_t now = clock_.NowUnix();
  // Access token: RFC 9068 JWT, always RS256 (what resource servers are sure to support).
  auto at_key = keys_.Active(jose::Alg::kRS256);
  if (!at_key) return at_key.error();
  boost::json::object at{
      {"iss", config_.issuer},
      {"sub", grant.subject},
      {"aud", config_.issuer},
      {"client_id", client.client_id},
      {"scope", grant.scope},
      {"iat", now},
      {"exp", now + config_.access_token_ttl.count()},
      {"jti", crypto::RandomToken(16)},
      {"auth_time", grant.auth_time},
  };
  if (!grant.sid.empty()) at["sid"] = grant.sid;
  auto access_token = jose::Sign(at_key->key, at_key->kid, "at+jwt", boost::json::serialize(at));
  if (!access_token) return access_token.error();

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
      {"exp", now + config_.id_token_ttl.count()},
      {"auth_time", grant.auth_time},
      {"amr", std::move(amr)},
      {"at_hash", AtHash(alg, *access_token)},
  };
  if (!grant.nonce.empty()) id["nonce"] = grant.nonce;
  if (!grant.acr.empty()) id["acr"] = grant.acr;
  if (!grant.sid.empty()) id["sid"] = grant.sid;
  auto id_token = jose::Sign(id_key->key, id_key->kid, "JWT", boost::json::serialize(id));
  if (!id_token) return id_token.error();

  log::Info("tokens issued", {{"client_id", client.client_id}, {"subject", grant.subject}});
  return Tokens{std::move(*access_token), std::move(*id_token), config_.access_token_ttl.count(),
                grant.scope};
}

Result<Outcome<AccessTokenInfo>> TokenService::ValidateAccessToken(const std::string& token) {
  using R = Outcome<AccessTokenInfo>;
  const R invalid{OAuth("invalid_token", "the access token is invalid or expired")};
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
  if (!claims) return invalid;
  const auto& c = *claims;
  auto str = [&c](const char* name) -> std::string {
    const auto* v = c.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const auto* exp = c.if_contains("exp");
  if (str("iss") != config_.issuer || !exp || !exp->is_int64() ||
      exp->as_int64() <= clock_.NowUnix() || str("sub").empty()) {
    return invalid;
  }
  return R{AccessTokenInfo{str("sub"), str("scope"), str("client_id"), exp->as_int64()}};
}

}  // namespace idp::token
