#include "commands.hpp"

#include "audit_command.hpp"
#include "sessions_command.hpp"

#include "idp/auth/v1/auth.grpc.pb.h"
#include "idp/common/config.hpp"
#include "idp/mfa/v1/mfa.grpc.pb.h"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/status.hpp"
#include "idp/rpc/tls.hpp"
#include "idp/token/v1/token.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

namespace idp::idpctl {
namespace {

namespace json = boost::json;

struct Globals {
  std::string config_path;
  std::string auth_target;
  std::string token_target;
  bool json_output = false;
};

std::string Target(const Globals& g, const std::string& explicit_target, const char* key,
                   const char* fallback) {
  if (!explicit_target.empty()) return explicit_target;
  return Config::Load(g.config_path).GetString(key, fallback);
}

/// Reports a failed call on stderr; returns the exit code.
int Fail(const grpc::Status& st, const std::string& what) {
  auto e = rpc::FromGrpcStatus(st);
  std::cerr << "idpctl: " << what << ": " << e.ToString() << "\n";
  return e.code == ErrorCode::kAlreadyExists ? 3 : 1;
}

std::string ReadPassword(bool from_stdin, const std::string& given) {
  if (!from_stdin) return given;
  std::string line;
  std::getline(std::cin, line);
  return line;
}

json::object UserJson(const auth::v1::User& u) {
  return {{"subject", u.subject()},   {"username", u.username()},
          {"email", u.email()},       {"email_verified", u.email_verified()},
          {"name", u.name()},         {"given_name", u.given_name()},
          {"family_name", u.family_name()}, {"disabled", u.disabled()}};
}

json::object ClientJson(const token::v1::Client& c) {
  json::array uris;
  for (const auto& u : c.redirect_uris()) uris.emplace_back(u);
  return {{"client_id", c.client_id()},
          {"name", c.name()},
          {"type", c.type() == token::v1::CLIENT_TYPE_PUBLIC ? "public" : "confidential"},
          {"redirect_uris", std::move(uris)},
          {"token_endpoint_auth_method", c.token_endpoint_auth_method()},
          {"id_token_signed_response_alg", c.id_token_signed_response_alg()},
          {"show_in_portal", c.show_in_portal()},
          {"home_url", c.home_url()},
          {"logo_url", c.logo_url()},
          {"mfa_policy", c.mfa_policy()},
          {"require_consent", c.require_consent()}};
}

void Print(const Globals& g, const json::value& v, const std::string& human) {
  if (g.json_output) {
    std::cout << json::serialize(v) << "\n";
  } else {
    std::cout << human << "\n";
  }
}

}  // namespace

int Run(int argc, char** argv) {
  CLI::App app{"idpctl: administer the identity provider"};
  app.require_subcommand(1);
  Globals g;
  if (const char* env = std::getenv("IDP_CONFIG")) g.config_path = env;
  app.add_option("--config", g.config_path, "stack configuration file (or IDP_CONFIG)");
  app.add_option("--auth", g.auth_target, "auth service address (default: auth.listen)");
  app.add_option("--token", g.token_target, "token service address (default: token.listen)");
  app.add_flag("--json", g.json_output, "print JSON");

  // users
  auto* users = app.add_subcommand("users", "people's accounts");
  users->require_subcommand(1);
  std::string username, email, name, given, family, password, phone;
  bool password_stdin = false, email_verified = false, if_absent = false;
  auto* create = users->add_subcommand("create", "create an account");
  create->add_option("--username", username, "login name")->required();
  create->add_option("--email", email, "email address");
  create->add_option("--name", name, "full name");
  create->add_option("--given-name", given, "given name");
  create->add_option("--family-name", family, "family name");
  create->add_option("--phone", phone, "contact number, E.164 (the phone scope's claim)");
  create->add_option("--password", password, "initial password (prefer --password-stdin)");
  create->add_flag("--password-stdin", password_stdin, "read the password from standard input");
  create->add_flag("--email-verified", email_verified, "mark the email address verified");
  create->add_flag("--if-absent", if_absent, "succeed without change when the username exists");
  auto* set_password = users->add_subcommand("set-password", "set an account's password");
  set_password->add_option("--username", username, "login name")->required();
  set_password->add_option("--password", password, "new password (prefer --password-stdin)");
  set_password->add_flag("--password-stdin", password_stdin, "read it from standard input");
  auto* invite = users->add_subcommand(
      "invite", "create an account without a password and email it a link to set one");
  invite->add_option("--username", username, "login name")->required();
  invite->add_option("--email", email, "where the link goes (also the login email)")->required();
  invite->add_option("--name", name, "full name");
  auto* list_users = users->add_subcommand("list", "list accounts");
  auto* unlock = users->add_subcommand("unlock", "lift a lockout after failed sign-ins");
  unlock->add_option("--username", username, "login name")->required();

  // clients
  auto* clients = app.add_subcommand("clients", "OAuth clients (applications)");
  clients->require_subcommand(1);
  std::string client_id, client_name, auth_method, alg, home_url, logo_url, secret;
  std::string allowed_scopes, backchannel_uri, jwks_file, mfa_policy;
  std::vector<std::string> redirect_uris, post_logout_uris, grant_types;
  std::int64_t access_ttl = 0, id_ttl = 0, refresh_ttl = 0;
  bool is_public = false, portal = false, upsert = false, require_consent = false;
  auto* add = clients->add_subcommand("add", "register a client (prints its secret once)");
  add->add_option("--id", client_id, "client_id (generated when absent)");
  add->add_option("--name", client_name, "display name");
  add->add_option("--redirect-uri", redirect_uris, "registered redirect URI (repeatable)")
      ->required();
  add->add_flag("--public", is_public, "public client (no secret, PKCE required)");
  add->add_option("--auth-method", auth_method, "client_secret_basic | client_secret_post");
  add->add_option("--alg", alg, "ID token alg: RS256 (default), ES256, EdDSA");
  add->add_flag("--portal", portal, "show as a tile on the portal");
  add->add_option("--home-url", home_url, "where the portal tile links to");
  add->add_option("--logo-url", logo_url, "tile logo");
  add->add_option("--secret", secret, "use this secret (>= 32 characters) instead of a new one");
  add->add_flag("--upsert", upsert, "replace an existing client with the same id");
  add->add_option("--post-logout-redirect-uri", post_logout_uris,
                  "registered post-logout redirect URI (repeatable)");
  add->add_option("--grant-type", grant_types,
                  "authorization_code, refresh_token, client_credentials (repeatable)");
  add->add_option("--scopes", allowed_scopes, "space-separated scopes the client may get");
  add->add_option("--backchannel-logout-uri", backchannel_uri, "Back-Channel Logout endpoint");
  add->add_option("--jwks-file", jwks_file, "the client's public JWK Set (private_key_jwt)");
  add->add_option("--mfa-policy", mfa_policy, "default | required | totp_only");
  add->add_flag("--consent", require_consent,
                "people approve what it receives on a consent page (third-party applications)");
  add->add_option("--access-token-ttl", access_ttl, "seconds (default: the stack's)");
  add->add_option("--id-token-ttl", id_ttl, "seconds");
  add->add_option("--refresh-token-ttl", refresh_ttl, "seconds");
  auto* list_clients = clients->add_subcommand("list", "list clients");

  // factors (the help-desk path)
  auto* factors = app.add_subcommand("factors", "a person's second factors");
  factors->require_subcommand(1);
  std::string mfa_target;
  factors->add_option("--mfa", mfa_target, "mfa service address (default: mfa.listen)");
  auto* list_factors = factors->add_subcommand("list", "list a person's factors");
  list_factors->add_option("--username", username, "login name")->required();
  auto* reset_factors = factors->add_subcommand("reset", "remove every factor and recovery code");
  reset_factors->add_option("--username", username, "login name")->required();

  // keys
  auto* keys = app.add_subcommand("keys", "signing keys");
  keys->require_subcommand(1);
  std::string rotate_alg = "RS256";
  auto* rotate = keys->add_subcommand("rotate", "publish a new signing key and retire the old");
  rotate->add_option("--alg", rotate_alg, "RS256 (default), ES256 or EdDSA");

  // audit
  auto* audit = app.add_subcommand("audit", "what happened: sign-ins, MFA, factors, admin actions");
  AuditOptions audit_options;
  std::string audit_mfa_target;
  audit->add_option("--username", audit_options.username, "one person, by login name");
  audit->add_option("--subject", audit_options.subject, "one person, by subject");
  audit->add_option("--event", audit_options.event,
                    "one event name, or a prefix ending in '.' (signin.)");
  audit->add_option("--since", audit_options.since, "how far back: 90s, 15m, 1h, 7d");
  audit->add_option("--limit", audit_options.limit, "newest N events (default 100, at most 1000)");
  audit->add_option("--mfa", audit_mfa_target, "mfa service address (default: mfa.listen)");

  // sessions
  auto* sessions = app.add_subcommand("sessions", "a person's single sign-on sessions");
  sessions->require_subcommand(1);
  SessionsOptions sessions_options;
  auto* list_sessions = sessions->add_subcommand("list", "where a person is signed in");
  auto* revoke_sessions = sessions->add_subcommand(
      "revoke", "sign a person out everywhere: end every session, revoke its tokens, tell the "
                "applications (back-channel logout)");
  for (auto* sub : {list_sessions, revoke_sessions}) {
    sub->add_option("--username", sessions_options.username, "the person, by login name");
    sub->add_option("--subject", sessions_options.subject, "the person, by subject");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    // Services that require mutual TLS take idpctl's certificate from [rpc] tls_* as well.
    rpc::SetDefaultTls(rpc::LoadTlsConfig(Config::Load(g.config_path)));
    if (audit->parsed()) {
      audit_options.auth_target = Target(g, g.auth_target, "auth.listen", "127.0.0.1:7001");
      audit_options.mfa_target = Target(g, audit_mfa_target, "mfa.listen", "127.0.0.1:7002");
      audit_options.token_target = Target(g, g.token_target, "token.listen", "127.0.0.1:7004");
      audit_options.json = g.json_output;
      return RunAudit(audit_options);
    }
    if (sessions->parsed()) {
      sessions_options.auth_target = Target(g, g.auth_target, "auth.listen", "127.0.0.1:7001");
      sessions_options.token_target = Target(g, g.token_target, "token.listen", "127.0.0.1:7004");
      sessions_options.revoke = revoke_sessions->parsed();
      sessions_options.json = g.json_output;
      return RunSessions(sessions_options, Config::Load(g.config_path));
    }
    if (users->parsed()) {
      auto stub = auth::v1::AuthService::NewStub(
          rpc::MakeChannel(Target(g, g.auth_target, "auth.listen", "127.0.0.1:7001")));
      grpc::ClientContext ctx;
      rpc::PrepareContext(ctx, "", std::chrono::seconds(10));
      rpc::AddCallOrigin(ctx, "", AdminAgent());
      if (create->parsed()) {
        auth::v1::CreateUserRequest req;
        req.set_username(username);
        req.set_email(email);
        req.set_name(name);
        req.set_given_name(given);
        req.set_family_name(family);
        req.set_password(ReadPassword(password_stdin, password));
        req.set_email_verified(email_verified);
        req.set_phone_number(phone);
        auth::v1::CreateUserResponse resp;
        auto st = stub->CreateUser(&ctx, req, &resp);
        if (!st.ok()) {
          if (if_absent && st.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
            Print(g, json::object{{"username", username}, {"created", false}},
                  "user " + username + " exists; unchanged");
            return 0;
          }
          return Fail(st, "users create");
        }
        Print(g, UserJson(resp.user()), "created user " + resp.user().username() + " (" +
                                            resp.user().subject() + ")");
        return 0;
      }
      if (set_password->parsed()) {
        auth::v1::FindUserRequest find;
        find.set_username(username);
        auth::v1::FindUserResponse found;
        auto st = stub->FindUser(&ctx, find, &found);
        if (!st.ok()) return Fail(st, "users set-password");
        grpc::ClientContext ctx2;
        rpc::PrepareContext(ctx2, "", std::chrono::seconds(10));
        rpc::AddCallOrigin(ctx2, "", AdminAgent());
        auth::v1::SetPasswordRequest req;
        req.set_subject(found.user().subject());
        req.set_password(ReadPassword(password_stdin, password));
        auth::v1::SetPasswordResponse resp;
        st = stub->SetPassword(&ctx2, req, &resp);
        if (!st.ok()) return Fail(st, "users set-password");
        Print(g, json::object{{"username", found.user().username()}, {"password_set", true}},
              "password set for " + found.user().username());
        return 0;
      }
      if (invite->parsed()) {
        auth::v1::InviteUserRequest req;
        req.set_username(username);
        req.set_email(email);
        req.set_name(name);
        auth::v1::InviteUserResponse resp;
        auto st = stub->InviteUser(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "users invite");
        json::object out = UserJson(resp.user());
        out["invited"] = true;
        Print(g, out, "invited " + resp.user().username() + " (" + resp.user().subject() +
                          "): a link to set the password was sent to " + resp.user().email());
        return 0;
      }
      if (unlock->parsed()) {
        auth::v1::UnlockUserRequest req;
        req.set_username(username);
        auth::v1::UnlockUserResponse resp;
        auto st = stub->UnlockUser(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "users unlock");
        Print(g, json::object{{"username", username}, {"unlocked", true}}, "unlocked " + username);
        return 0;
      }
      if (list_users->parsed()) {
        auth::v1::ListUsersRequest req;
        req.set_limit(1000);
        auth::v1::ListUsersResponse resp;
        auto st = stub->ListUsers(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "users list");
        json::array out;
        std::string human;
        for (const auto& u : resp.users()) {
          out.emplace_back(UserJson(u));
          human += u.username() + "\t" + u.email() + "\t" + u.subject() + "\n";
        }
        Print(g, out, human.empty() ? "(no users)" : human.substr(0, human.size() - 1));
        return 0;
      }
    }
    if (clients->parsed()) {
      auto stub = token::v1::TokenService::NewStub(
          rpc::MakeChannel(Target(g, g.token_target, "token.listen", "127.0.0.1:7004")));
      grpc::ClientContext ctx;
      rpc::PrepareContext(ctx, "", std::chrono::seconds(10));
      rpc::AddCallOrigin(ctx, "", AdminAgent());
      if (add->parsed()) {
        token::v1::CreateClientRequest req;
        auto* c = req.mutable_client();
        c->set_client_id(client_id);
        c->set_name(client_name);
        c->set_type(is_public ? token::v1::CLIENT_TYPE_PUBLIC : token::v1::CLIENT_TYPE_CONFIDENTIAL);
        for (const auto& u : redirect_uris) c->add_redirect_uris(u);
        c->set_token_endpoint_auth_method(auth_method);
        c->set_id_token_signed_response_alg(alg);
        c->set_show_in_portal(portal);
        c->set_home_url(home_url);
        c->set_logo_url(logo_url);
        for (const auto& u : post_logout_uris) c->add_post_logout_redirect_uris(u);
        for (const auto& g2 : grant_types) c->add_grant_types(g2);
        c->set_allowed_scopes(allowed_scopes);
        c->set_backchannel_logout_uri(backchannel_uri);
        c->set_mfa_policy(mfa_policy);
        c->set_require_consent(require_consent);
        c->set_access_token_ttl(access_ttl);
        c->set_id_token_ttl(id_ttl);
        c->set_refresh_token_ttl(refresh_ttl);
        if (!jwks_file.empty()) {
          std::ifstream in(jwks_file);
          if (!in) {
            std::cerr << "idpctl: cannot read " << jwks_file << "\n";
            return 1;
          }
          c->set_jwks(std::string(std::istreambuf_iterator<char>(in), {}));
          if (auth_method.empty()) c->set_token_endpoint_auth_method("private_key_jwt");
        }
        req.set_upsert(upsert);
        req.set_client_secret(secret);
        token::v1::CreateClientResponse resp;
        auto st = stub->CreateClient(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "clients add");
        auto out = ClientJson(resp.client());
        if (!resp.client_secret().empty()) out["client_secret"] = resp.client_secret();
        std::string human = "client " + resp.client().client_id() + " saved";
        if (!resp.client_secret().empty()) {
          human += "\nclient_secret: " + resp.client_secret() + "  (shown once; store it now)";
        }
        Print(g, out, human);
        return 0;
      }
      if (list_clients->parsed()) {
        token::v1::ListClientsRequest req;
        token::v1::ListClientsResponse resp;
        auto st = stub->ListClients(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "clients list");
        json::array out;
        std::string human;
        for (const auto& c : resp.clients()) {
          out.emplace_back(ClientJson(c));
          human += c.client_id() + "\t" + c.name() + "\t" +
                   (c.type() == token::v1::CLIENT_TYPE_PUBLIC ? "public" : "confidential") + "\n";
        }
        Print(g, out, human.empty() ? "(no clients)" : human.substr(0, human.size() - 1));
        return 0;
      }
    }
    if (factors->parsed()) {
      auto auth = auth::v1::AuthService::NewStub(
          rpc::MakeChannel(Target(g, g.auth_target, "auth.listen", "127.0.0.1:7001")));
      grpc::ClientContext fctx;
      rpc::PrepareContext(fctx, "", std::chrono::seconds(10));
      rpc::AddCallOrigin(fctx, "", AdminAgent());
      auth::v1::FindUserRequest find;
      find.set_username(username);
      auth::v1::FindUserResponse found;
      auto st = auth->FindUser(&fctx, find, &found);
      if (!st.ok()) return Fail(st, "factors");
      auto stub = mfa::v1::MfaService::NewStub(
          rpc::MakeChannel(Target(g, mfa_target, "mfa.listen", "127.0.0.1:7002")));
      grpc::ClientContext ctx;
      rpc::PrepareContext(ctx, "", std::chrono::seconds(10));
      rpc::AddCallOrigin(ctx, "", AdminAgent());
      if (list_factors->parsed()) {
        mfa::v1::ListFactorsRequest req;
        req.set_subject(found.user().subject());
        mfa::v1::ListFactorsResponse resp;
        st = stub->ListFactors(&ctx, req, &resp);
        if (!st.ok()) return Fail(st, "factors list");
        json::array out;
        std::string human;
        for (const auto& f : resp.factors()) {
          std::string type = mfa::v1::FactorType_Name(f.type());
          out.emplace_back(json::object{{"id", f.id()}, {"type", type}, {"label", f.label()},
                                        {"active", f.active()}});
          human += type + "\t" + f.label() + (f.active() ? "" : " (pending)") + "\n";
        }
        Print(g, out, human.empty() ? "(no factors)" : human.substr(0, human.size() - 1));
        return 0;
      }
      mfa::v1::ResetFactorsRequest req;
      req.set_subject(found.user().subject());
      mfa::v1::ResetFactorsResponse resp;
      st = stub->ResetFactors(&ctx, req, &resp);
      if (!st.ok()) return Fail(st, "factors reset");
      Print(g, json::object{{"username", username}, {"removed", resp.removed()}},
            "removed " + std::to_string(resp.removed()) + " factors of " + username);
      return 0;
    }
    if (keys->parsed() && rotate->parsed()) {
      auto stub = token::v1::TokenService::NewStub(
          rpc::MakeChannel(Target(g, g.token_target, "token.listen", "127.0.0.1:7004")));
      grpc::ClientContext ctx;
      rpc::PrepareContext(ctx, "", std::chrono::seconds(30));
      rpc::AddCallOrigin(ctx, "", AdminAgent());
      token::v1::RotateKeysRequest req;
      req.set_alg(rotate_alg);
      token::v1::RotateKeysResponse resp;
      auto st = stub->RotateKeys(&ctx, req, &resp);
      if (!st.ok()) return Fail(st, "keys rotate");
      Print(g, json::object{{"alg", rotate_alg}, {"new_kid", resp.new_kid()},
                            {"retired_kid", resp.retired_kid()}},
            "new " + rotate_alg + " key " + resp.new_kid() + " published; " +
                (resp.retired_kid().empty() ? std::string("no key retired")
                                            : "retiring " + resp.retired_kid()));
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "idpctl: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace idp::idpctl
