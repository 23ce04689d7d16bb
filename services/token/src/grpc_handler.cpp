#include "grpc_handler.hpp"

#include "idp/audit/audit_rpc.hpp"

#include "idp/rpc/server.hpp"

namespace idp::token {
namespace {

void ToProto(const ClientRecord& c, v1::Client* p) {
  p->set_client_id(c.client_id);
  p->set_type(c.confidential ? v1::CLIENT_TYPE_CONFIDENTIAL : v1::CLIENT_TYPE_PUBLIC);
  p->set_name(c.name);
  for (const auto& u : c.redirect_uris) p->add_redirect_uris(u);
  for (const auto& u : c.post_logout_redirect_uris) p->add_post_logout_redirect_uris(u);
  p->set_token_endpoint_auth_method(c.token_endpoint_auth_method);
  p->set_id_token_signed_response_alg(c.id_token_signed_response_alg);
  p->set_show_in_portal(c.show_in_portal);
  p->set_home_url(c.home_url);
  p->set_logo_url(c.logo_url);
  p->set_created_at(c.created_at);
  for (const auto& g : c.grant_types) p->add_grant_types(g);
  p->set_allowed_scopes(c.allowed_scopes);
  p->set_access_token_ttl(c.access_token_ttl.value_or(0));
  p->set_id_token_ttl(c.id_token_ttl.value_or(0));
  p->set_refresh_token_ttl(c.refresh_token_ttl.value_or(0));
  p->set_backchannel_logout_uri(c.backchannel_logout_uri);
  p->set_jwks(c.jwks);
  p->set_mfa_policy(c.mfa_policy);
  p->set_require_consent(c.require_consent);
}

ClientRecord FromProto(const v1::Client& p) {
  ClientRecord c;
  c.client_id = p.client_id();
  c.confidential = p.type() != v1::CLIENT_TYPE_PUBLIC;
  c.name = p.name();
  c.redirect_uris.assign(p.redirect_uris().begin(), p.redirect_uris().end());
  c.post_logout_redirect_uris.assign(p.post_logout_redirect_uris().begin(),
                                     p.post_logout_redirect_uris().end());
  c.token_endpoint_auth_method = p.token_endpoint_auth_method();
  c.id_token_signed_response_alg = p.id_token_signed_response_alg();
  c.show_in_portal = p.show_in_portal();
  c.home_url = p.home_url();
  c.logo_url = p.logo_url();
  c.grant_types.assign(p.grant_types().begin(), p.grant_types().end());
  c.allowed_scopes = p.allowed_scopes();
  if (p.access_token_ttl()) c.access_token_ttl = p.access_token_ttl();
  if (p.id_token_ttl()) c.id_token_ttl = p.id_token_ttl();
  if (p.refresh_token_ttl()) c.refresh_token_ttl = p.refresh_token_ttl();
  c.backchannel_logout_uri = p.backchannel_logout_uri();
  c.jwks = p.jwks();
  c.mfa_policy = p.mfa_policy();
  c.require_consent = p.require_consent();
  return c;
}

ClientAuth FromProto(const v1::ClientCredentials& p);

AuthMethod FromProto(v1::ClientCredentials::Method m) {
  switch (m) {
    case v1::ClientCredentials::METHOD_CLIENT_SECRET_BASIC: return AuthMethod::kClientSecretBasic;
    case v1::ClientCredentials::METHOD_CLIENT_SECRET_POST: return AuthMethod::kClientSecretPost;
    case v1::ClientCredentials::METHOD_NONE: return AuthMethod::kNone;
    case v1::ClientCredentials::METHOD_PRIVATE_KEY_JWT: return AuthMethod::kPrivateKeyJwt;
    default: return AuthMethod::kUnspecified;
  }
}

ClientAuth FromProto(const v1::ClientCredentials& p) {
  return {p.client_id(), p.client_secret(), FromProto(p.method()), p.client_assertion(),
          p.assertion_audience()};
}

void ToProto(const Tokens& t, v1::TokenSet* p) {
  p->set_access_token(t.access_token);
  p->set_token_type("Bearer");
  p->set_expires_in(t.expires_in);
  p->set_id_token(t.id_token);
  p->set_refresh_token(t.refresh_token);
  p->set_scope(t.scope);
}

void ToProto(const oauth::OAuthError& e, common::v1::OAuthError* p) {
  p->set_error(e.error);
  p->set_description(e.description);
}

/// A grant's outcome into its response: the tokens, or the OAuth error.
template <class Resp>
void FillTokens(const Outcome<Tokens>& outcome, Resp* resp) {
  if (const auto* err = std::get_if<oauth::OAuthError>(&outcome)) {
    ToProto(*err, resp->mutable_error());
  } else {
    ToProto(std::get<Tokens>(outcome), resp->mutable_tokens());
  }
}

}  // namespace

grpc::ServerUnaryReactor* TokenGrpcHandler::GetClient(grpc::CallbackServerContext* ctx,
                                                      const v1::GetClientRequest* req,
                                                      v1::GetClientResponse* resp) {
  return rpc::ServeUnary(ctx, "GetClient", [&]() -> Status {
    auto c = service_.GetClient(req->client_id());
    if (!c) return c.error();
    ToProto(*c, resp->mutable_client());
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::ListClients(grpc::CallbackServerContext* ctx,
                                                        const v1::ListClientsRequest* req,
                                                        v1::ListClientsResponse* resp) {
  return rpc::ServeUnary(ctx, "ListClients", [&]() -> Status {
    auto list = service_.ListClients(req->portal_only());
    if (!list) return list.error();
    for (const auto& c : *list) ToProto(c, resp->add_clients());
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::CreateClient(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateClientRequest* req,
                                                         v1::CreateClientResponse* resp) {
  return rpc::ServeUnary(ctx, "CreateClient", [&]() -> Status {
    auto saved = service_.SaveClient(FromProto(req->client()), req->upsert(), req->client_secret());
    if (!saved) return saved.error();
    ToProto(saved->first, resp->mutable_client());
    resp->set_client_secret(saved->second);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::IssueAuthorizationCode(
    grpc::CallbackServerContext* ctx, const v1::IssueAuthorizationCodeRequest* req,
    v1::IssueAuthorizationCodeResponse* resp) {
  return rpc::ServeUnary(ctx, "IssueAuthorizationCode", [&]() -> Status {
    CodeGrant g;
    g.client_id = req->client_id();
    g.redirect_uri = req->redirect_uri();
    g.scope = req->scope();
    g.nonce = req->nonce();
    g.code_challenge = req->code_challenge();
    g.subject = req->subject();
    g.auth_time = req->auth_time();
    g.amr.assign(req->amr().begin(), req->amr().end());
    g.acr = req->acr();
    g.sid = req->sid();
    g.userinfo_claims = req->userinfo_claims();
    g.id_token_claims = req->id_token_claims_json();
    auto code = service_.IssueCode(g, req->code_challenge_method());
    if (!code) return code.error();
    resp->set_code(*code);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::ExchangeAuthorizationCode(
    grpc::CallbackServerContext* ctx, const v1::ExchangeAuthorizationCodeRequest* req,
    v1::ExchangeAuthorizationCodeResponse* resp) {
  return rpc::ServeUnary(ctx, "ExchangeAuthorizationCode", [&]() -> Status {
    CodeExchange x;
    x.client = FromProto(req->client());
    x.code = req->code();
    x.redirect_uri = req->redirect_uri();
    x.redirect_uri_present = req->redirect_uri_present();
    x.code_verifier = req->code_verifier();
    x.attempt_id = req->attempt_id();
    auto outcome = service_.ExchangeCode(x);
    if (!outcome) return outcome.error();
    FillTokens(*outcome, resp);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::ValidateAccessToken(
    grpc::CallbackServerContext* ctx, const v1::ValidateAccessTokenRequest* req,
    v1::ValidateAccessTokenResponse* resp) {
  return rpc::ServeUnary(ctx, "ValidateAccessToken", [&]() -> Status {
    auto outcome = service_.ValidateAccessToken(req->access_token());
    if (!outcome) return outcome.error();
    if (auto* err = std::get_if<oauth::OAuthError>(&*outcome)) {
      ToProto(*err, resp->mutable_error());
      return {};
    }
    const auto& info = std::get<AccessTokenInfo>(*outcome);
    auto* v = resp->mutable_valid();
    v->set_subject(info.subject);
    v->set_scope(info.scope);
    v->set_client_id(info.client_id);
    v->set_expires_at(info.expires_at);
    v->set_userinfo_claims(info.userinfo_claims);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::GetJwks(grpc::CallbackServerContext* ctx,
                                                    const v1::GetJwksRequest*,
                                                    v1::GetJwksResponse* resp) {
  return rpc::ServeUnary(ctx, "GetJwks", [&]() -> Status {
    resp->set_jwks_json(service_.Jwks());
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::RefreshToken(grpc::CallbackServerContext* ctx,
                                                         const v1::RefreshTokenRequest* req,
                                                         v1::RefreshTokenResponse* resp) {
  return rpc::ServeUnary(ctx, "RefreshToken", [&]() -> Status {
    auto outcome = service_.Refresh(
        {FromProto(req->client()), req->refresh_token(), req->scope(), req->attempt_id()});
    if (!outcome) return outcome.error();
    FillTokens(*outcome, resp);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::ClientCredentials(
    grpc::CallbackServerContext* ctx, const v1::ClientCredentialsRequest* req,
    v1::ClientCredentialsResponse* resp) {
  return rpc::ServeUnary(ctx, "ClientCredentials", [&]() -> Status {
    auto outcome = service_.ClientCredentials(FromProto(req->client()), req->scope());
    if (!outcome) return outcome.error();
    FillTokens(*outcome, resp);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::RevokeToken(grpc::CallbackServerContext* ctx,
                                                        const v1::RevokeTokenRequest* req,
                                                        v1::RevokeTokenResponse* resp) {
  return rpc::ServeUnary(ctx, "RevokeToken", [&]() -> Status {
    auto outcome = service_.Revoke(FromProto(req->client()), req->token());
    if (!outcome) return outcome.error();
    if (*outcome) ToProto(**outcome, resp->mutable_error());
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::IntrospectToken(grpc::CallbackServerContext* ctx,
                                                            const v1::IntrospectTokenRequest* req,
                                                            v1::IntrospectTokenResponse* resp) {
  return rpc::ServeUnary(ctx, "IntrospectToken", [&]() -> Status {
    auto outcome = service_.Introspect(FromProto(req->client()), req->token());
    if (!outcome) return outcome.error();
    if (auto* err = std::get_if<oauth::OAuthError>(&*outcome)) {
      ToProto(*err, resp->mutable_error());
    } else {
      resp->set_introspection_json(std::get<std::string>(*outcome));
    }
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::RevokeSession(grpc::CallbackServerContext* ctx,
                                                          const v1::RevokeSessionRequest* req,
                                                          v1::RevokeSessionResponse* resp) {
  return rpc::ServeUnary(ctx, "RevokeSession", [&]() -> Status {
    auto ended = service_.EndSession(req->sid(), req->subject(), req->by_admin());
    if (!ended) return ended.error();
    resp->set_revoked(ended->revoked);
    resp->set_notified(ended->notified);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::VerifyIdTokenHint(
    grpc::CallbackServerContext* ctx, const v1::VerifyIdTokenHintRequest* req,
    v1::VerifyIdTokenHintResponse* resp) {
  return rpc::ServeUnary(ctx, "VerifyIdTokenHint", [&]() -> Status {
    if (auto hint = service_.VerifyIdTokenHint(req->id_token())) {
      resp->set_valid(true);
      resp->set_subject(hint->subject);
      resp->set_client_id(hint->client_id);
      resp->set_sid(hint->sid);
    }
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::RotateKeys(grpc::CallbackServerContext* ctx,
                                                       const v1::RotateKeysRequest* req,
                                                       v1::RotateKeysResponse* resp) {
  return rpc::ServeUnary(ctx, "RotateKeys", [&]() -> Status {
    auto alg = jose::ParseAlg(req->alg());
    if (!alg) return InvalidArgument("alg must be RS256, ES256 or EdDSA");
    auto rotated = service_.RotateKeys(*alg);
    if (!rotated) return rotated.error();
    resp->set_new_kid(rotated->first);
    resp->set_retired_kid(rotated->second);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::GetConsent(grpc::CallbackServerContext* ctx,
                                                       const v1::GetConsentRequest* req,
                                                       v1::GetConsentResponse* resp) {
  return rpc::ServeUnary(ctx, "GetConsent", [&]() -> Status {
    auto consent = service_.GetConsent(req->subject(), req->client_id());
    if (!consent) return consent.error();
    resp->set_scope(consent->first);
    resp->set_granted_at(consent->second);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::GrantConsent(grpc::CallbackServerContext* ctx,
                                                         const v1::GrantConsentRequest* req,
                                                         v1::GrantConsentResponse* resp) {
  return rpc::ServeUnary(ctx, "GrantConsent", [&]() -> Status {
    auto scope = service_.GrantConsent(req->subject(), req->client_id(), req->scope());
    if (!scope) return scope.error();
    resp->set_scope(*scope);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::RevokeConsent(grpc::CallbackServerContext* ctx,
                                                          const v1::RevokeConsentRequest* req,
                                                          v1::RevokeConsentResponse* resp) {
  return rpc::ServeUnary(ctx, "RevokeConsent", [&]() -> Status {
    auto revoked = service_.RevokeConsent(req->subject(), req->client_id());
    if (!revoked) return revoked.error();
    resp->set_revoked(*revoked);
    return {};
  });
}

grpc::ServerUnaryReactor* TokenGrpcHandler::ListAuditEvents(grpc::CallbackServerContext* ctx,
                                                            const v1::ListAuditEventsRequest* req,
                                                            v1::ListAuditEventsResponse* resp) {
  return rpc::ServeUnary(ctx, "ListAuditEvents", [&]() -> Status {
    if (audit_ == nullptr) return Error{ErrorCode::kFailedPrecondition, "no audit log"};
    return audit::ListAuditEvents(*audit_, *req, resp);
  });
}

}  // namespace idp::token
