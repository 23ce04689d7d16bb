#include "grpc_handler.hpp"

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
  return c;
}

AuthMethod FromProto(v1::ClientCredentials::Method m) {
  switch (m) {
    case v1::ClientCredentials::METHOD_CLIENT_SECRET_BASIC: return AuthMethod::kClientSecretBasic;
    case v1::ClientCredentials::METHOD_CLIENT_SECRET_POST: return AuthMethod::kClientSecretPost;
    case v1::ClientCredentials::METHOD_NONE: return AuthMethod::kNone;
    default: return AuthMethod::kUnspecified;
  }
}

void ToProto(const oauth::OAuthError& e, common::v1::OAuthError* p) {
  p->set_error(e.error);
  p->set_description(e.description);
}

}  // namespace

grpc::Status TokenGrpcHandler::GetClient(grpc::ServerContext* ctx, const v1::GetClientRequest* req,
                                         v1::GetClientResponse* resp) {
  return rpc::Serve(ctx, "GetClient", [&]() -> Status {
    auto c = service_.GetClient(req->client_id());
    if (!c) return c.error();
    ToProto(*c, resp->mutable_client());
    return {};
  });
}

grpc::Status TokenGrpcHandler::ListClients(grpc::ServerContext* ctx,
                                           const v1::ListClientsRequest* req,
                                           v1::ListClientsResponse* resp) {
  return rpc::Serve(ctx, "ListClients", [&]() -> Status {
    auto list = service_.ListClients(req->portal_only());
    if (!list) return list.error();
    for (const auto& c : *list) ToProto(c, resp->add_clients());
    return {};
  });
}

grpc::Status TokenGrpcHandler::CreateClient(grpc::ServerContext* ctx,
                                            const v1::CreateClientRequest* req,
                                            v1::CreateClientResponse* resp) {
  return rpc::Serve(ctx, "CreateClient", [&]() -> Status {
    auto saved = service_.SaveClient(FromProto(req->client()), req->upsert(), req->client_secret());
    if (!saved) return saved.error();
    ToProto(saved->first, resp->mutable_client());
    resp->set_client_secret(saved->second);
    log::Info("client saved", {{"client_id", saved->first.client_id}});
    return {};
  });
}

grpc::Status TokenGrpcHandler::IssueAuthorizationCode(grpc::ServerContext* ctx,
                                                      const v1::IssueAuthorizationCodeRequest* req,
                                                      v1::IssueAuthorizationCodeResponse* resp) {
  return rpc::Serve(ctx, "IssueAuthorizationCode", [&]() -> Status {
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
    auto code = service_.IssueCode(g, req->code_challenge_method());
    if (!code) return code.error();
    resp->set_code(*code);
    return {};
  });
}

grpc::Status TokenGrpcHandler::ExchangeAuthorizationCode(
    grpc::ServerContext* ctx, const v1::ExchangeAuthorizationCodeRequest* req,
    v1::ExchangeAuthorizationCodeResponse* resp) {
  return rpc::Serve(ctx, "ExchangeAuthorizationCode", [&]() -> Status {
    CodeExchange x;
    x.client = {req->client().client_id(), req->client().client_secret(),
                FromProto(req->client().method())};
    x.code = req->code();
    x.redirect_uri = req->redirect_uri();
    x.redirect_uri_present = req->redirect_uri_present();
    x.code_verifier = req->code_verifier();
    auto outcome = service_.ExchangeCode(x);
    if (!outcome) return outcome.error();
    if (auto* err = std::get_if<oauth::OAuthError>(&*outcome)) {
      ToProto(*err, resp->mutable_error());
      return {};
    }
    const auto& t = std::get<Tokens>(*outcome);
    auto* p = resp->mutable_tokens();
    p->set_access_token(t.access_token);
    p->set_token_type("Bearer");
    p->set_expires_in(t.expires_in);
    p->set_id_token(t.id_token);
    p->set_scope(t.scope);
    return {};
  });
}

grpc::Status TokenGrpcHandler::ValidateAccessToken(grpc::ServerContext* ctx,
                                                   const v1::ValidateAccessTokenRequest* req,
                                                   v1::ValidateAccessTokenResponse* resp) {
  return rpc::Serve(ctx, "ValidateAccessToken", [&]() -> Status {
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
    return {};
  });
}

grpc::Status TokenGrpcHandler::GetJwks(grpc::ServerContext* ctx, const v1::GetJwksRequest*,
                                       v1::GetJwksResponse* resp) {
  return rpc::Serve(ctx, "GetJwks", [&]() -> Status {
    resp->set_jwks_json(service_.Jwks());
    return {};
  });
}

}  // namespace idp::token
