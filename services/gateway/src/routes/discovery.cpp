// GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0 §3, §4).
#include "../context.hpp"

#include <boost/json.hpp>

namespace idp::gateway {

std::string BuildDiscovery(const std::string& issuer) {
  namespace json = boost::json;
  auto arr = [](std::initializer_list<const char*> items) {
    json::array a;
    for (const auto* s : items) a.emplace_back(s);
    return a;
  };
  // Only what is implemented is advertised; the document grows with the OIDC issue.
  json::object d{
      {"issuer", issuer},
      {"authorization_endpoint", issuer + "/authorize"},
      {"token_endpoint", issuer + "/token"},
      {"userinfo_endpoint", issuer + "/userinfo"},
      {"jwks_uri", issuer + "/jwks"},
      {"revocation_endpoint", issuer + "/revoke"},
      {"introspection_endpoint", issuer + "/introspect"},
      {"end_session_endpoint", issuer + "/end_session"},
      {"scopes_supported", arr({"openid", "profile", "email", "phone", "offline_access"})},
      {"response_types_supported", arr({"code"})},
      {"response_modes_supported", arr({"query", "form_post"})},
      {"grant_types_supported", arr({"authorization_code", "refresh_token", "client_credentials"})},
      {"subject_types_supported", arr({"public"})},
      {"id_token_signing_alg_values_supported", arr({"RS256", "ES256", "EdDSA"})},
      {"token_endpoint_auth_methods_supported",
       arr({"client_secret_basic", "client_secret_post", "private_key_jwt", "none"})},
      {"token_endpoint_auth_signing_alg_values_supported", arr({"RS256", "ES256", "EdDSA"})},
      {"revocation_endpoint_auth_methods_supported",
       arr({"client_secret_basic", "client_secret_post", "private_key_jwt", "none"})},
      {"introspection_endpoint_auth_methods_supported",
       arr({"client_secret_basic", "client_secret_post", "private_key_jwt"})},
      {"code_challenge_methods_supported", arr({"S256"})},
      {"prompt_values_supported", arr({"none", "login", "consent", "select_account"})},
      {"claims_supported",
       arr({"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "name", "given_name", "family_name", "preferred_username", "updated_at", "email",
            "email_verified", "phone_number", "phone_number_verified"})},
      {"claims_parameter_supported", true},
      {"ui_locales_supported", arr({"en", "nl"})},
      {"acr_values_supported", arr({"aal1", "aal2"})},
      {"request_parameter_supported", false},
      {"request_uri_parameter_supported", false},
      {"authorization_response_iss_parameter_supported", true},
      {"backchannel_logout_supported", true},
      {"backchannel_logout_session_supported", true},
  };
  return json::serialize(d);
}

Awaitable<Response> HandleDiscovery(Context& ctx, Request&) {
  auto r = Response::Json(200, ctx.discovery_json);
  r.SetHeader("Cache-Control", "public, max-age=300");
  r.SetHeader("Access-Control-Allow-Origin", "*");
  co_return r;
}

}  // namespace idp::gateway
