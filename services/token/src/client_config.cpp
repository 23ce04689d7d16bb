#include "client_config.hpp"

#include "token_service.hpp"

#include "idp/common/config.hpp"

#include <cstdlib>
#include <set>

namespace idp::token {
namespace {

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<ConfiguredClient>> ClientsFromConfig(const Config& config) {
  std::vector<ConfiguredClient> out;
  for (int i = 0;; ++i) {
    const std::string prefix = "clients." + std::to_string(i) + ".";
    auto id = config.Find(prefix + "client_id");
    if (!id) break;
    auto get = [&](const char* key) { return config.GetString(prefix + key, ""); };
    auto fail = [&](const std::string& why) {
      return InvalidArgument("[[clients]] entry " + std::to_string(i + 1) + " (" + *id + "): " + why);
    };
    static const std::set<std::string> kKeys{
        "client_id", "type", "name", "redirect_uris", "post_logout_redirect_uris",
        "token_endpoint_auth_method", "id_token_signed_response_alg", "show_in_portal",
        "home_url", "logo_url", "grant_types", "scopes", "access_token_ttl", "id_token_ttl",
        "refresh_token_ttl", "backchannel_logout_uri", "jwks", "mfa_policy", "require_consent",
        "secret_env"};
    for (const auto& key : config.KeysWithPrefix(prefix)) {
      if (!kKeys.count(key.substr(prefix.size()))) return fail("unknown key " + key.substr(prefix.size()));
    }
    ConfiguredClient cc;
    ClientRecord& c = cc.client;
    c.client_id = *id;
    const std::string type = config.GetString(prefix + "type", "confidential");
    if (type != "confidential" && type != "public") {
      return fail("type must be confidential or public");
    }
    c.confidential = type == "confidential";
    c.name = get("name");
    c.redirect_uris = SplitList(get("redirect_uris"));
    c.post_logout_redirect_uris = SplitList(get("post_logout_redirect_uris"));
    c.token_endpoint_auth_method = get("token_endpoint_auth_method");
    c.id_token_signed_response_alg = config.GetString(prefix + "id_token_signed_response_alg", "RS256");
    c.show_in_portal = config.GetBool(prefix + "show_in_portal", false);
    c.home_url = get("home_url");
    c.logo_url = get("logo_url");
    if (auto grants = get("grant_types"); !grants.empty()) c.grant_types = SplitList(grants);
    c.allowed_scopes = config.GetString(prefix + "scopes", "openid profile email phone offline_access");
    for (const char* ttl : {"access_token_ttl", "id_token_ttl", "refresh_token_ttl"}) {
      std::int64_t v = config.GetInt(prefix + ttl, 0);
      if (v == 0) continue;
      if (std::string_view(ttl) == "access_token_ttl") c.access_token_ttl = v;
      if (std::string_view(ttl) == "id_token_ttl") c.id_token_ttl = v;
      if (std::string_view(ttl) == "refresh_token_ttl") c.refresh_token_ttl = v;
    }
    c.backchannel_logout_uri = get("backchannel_logout_uri");
    c.jwks = get("jwks");
    c.mfa_policy = config.GetString(prefix + "mfa_policy", "default");
    c.require_consent = config.GetBool(prefix + "require_consent", false);
    // The secret never sits in the file: `secret_env` names the variable that holds it.
    const std::string secret_env = get("secret_env");
    const bool uses_secret = c.confidential && c.token_endpoint_auth_method != "private_key_jwt";
    if (uses_secret) {
      if (secret_env.empty()) return fail("a confidential client needs secret_env");
      const char* secret = std::getenv(secret_env.c_str());
      if (!secret || !*secret) return fail("the environment variable " + secret_env + " is not set");
      cc.secret = secret;
    } else if (!secret_env.empty()) {
      return fail("only clients that authenticate with a secret take secret_env");
    }
    out.push_back(std::move(cc));
  }
  std::set<std::string> seen;
  for (const auto& cc : out) {
    if (!seen.insert(cc.client.client_id).second) {
      return InvalidArgument("[[clients]] names " + cc.client.client_id + " twice");
    }
  }
  return out;
}

Result<int> ApplyConfiguredClients(TokenService& service,
                                   const std::vector<ConfiguredClient>& clients) {
  int applied = 0;
  for (const auto& cc : clients) {
    auto saved = service.SaveClient(cc.client, true, cc.secret);
    if (!saved) {
      return Error{saved.error().code, "client " + cc.client.client_id + ": " + saved.error().message};
    }
    ++applied;
  }
  return applied;
}

}  // namespace idp::token
