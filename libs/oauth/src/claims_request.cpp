#include "idp/oauth/claims_request.hpp"

#include <boost/json.hpp>

namespace idp::oauth {

const std::set<std::string>& SupportedUserClaims() {
  static const std::set<std::string> kClaims{
      "name", "given_name", "family_name", "preferred_username", "updated_at",
      "email", "email_verified", "phone_number", "phone_number_verified"};
  return kClaims;
}

Result<ClaimsRequest> ParseClaimsRequest(std::string_view text) {
  std::error_code ec;
  auto parsed = boost::json::parse(text, ec);
  if (ec || !parsed.is_object()) return InvalidArgument("claims must be a JSON object");
  ClaimsRequest out;
  for (const char* member : {"userinfo", "id_token"}) {
    const auto* m = parsed.as_object().if_contains(member);
    if (!m || m->is_null()) continue;
    if (!m->is_object()) return InvalidArgument(std::string("claims.") + member + " must be an object");
    auto& names = std::string_view(member) == "userinfo" ? out.userinfo : out.id_token;
    for (const auto& [name, request] : m->as_object()) {
      if (!request.is_null() && !request.is_object()) {
        return InvalidArgument("each requested claim must be null or an object");
      }
      if (name == "acr" && request.is_object()) {
        const auto& r = request.as_object();
        if (const auto* e = r.if_contains("essential"); e && e->is_bool() && e->as_bool()) {
          out.acr_essential = true;
        }
        if (const auto* v = r.if_contains("value"); v && v->is_string()) {
          out.acr_values.emplace(v->as_string());
        }
        if (const auto* vs = r.if_contains("values"); vs && vs->is_array()) {
          for (const auto& v : vs->as_array()) {
            if (v.is_string()) out.acr_values.emplace(v.as_string());
          }
        }
        continue;
      }
      std::string key(name);
      if (SupportedUserClaims().count(key)) names.insert(std::move(key));
    }
  }
  return out;
}

}  // namespace idp::oauth
