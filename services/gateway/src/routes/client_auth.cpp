// Client authentication and form parsing shared by /token, /revoke and /introspect
// (RFC 6749 §2.3.1, §3.2, §5.2; RFC 7523 §2.2).
#include "../context.hpp"

#include "idp/crypto/crypto.hpp"
#include "idp/oauth/oauth.hpp"

#include <boost/json.hpp>

namespace idp::gateway {
namespace {

using Method = token::v1::ClientCredentials;

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
std::optional<std::pair<std::string, std::string>> ParseBasic(std::string_view header) {
  if (header.size() < 6 || (header.substr(0, 6) != "Basic " && header.substr(0, 6) != "basic ")) {
    return std::nullopt;
  }
  auto decoded = crypto::Base64Decode(header.substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = http::PercentDecode(decoded->substr(0, colon), true);
  auto secret = http::PercentDecode(decoded->substr(colon + 1), true);
  if (!id || !secret) return std::nullopt;
  return std::make_pair(*id, *secret);
}

/// The unverified `sub` of a client assertion, to find the client whose keys verify it.
std::string AssertionSubject(std::string_view assertion) {
  auto first = assertion.find('.');
  auto second = assertion.find('.', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return {};
  auto payload = crypto::Base64UrlDecode(assertion.substr(first + 1, second - first - 1));
  if (!payload) return {};
  std::error_code ec;
  auto v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return {};
  const auto* sub = v.as_object().if_contains("sub");
  return sub && sub->is_string() ? std::string(sub->as_string()) : std::string();
}

}  // namespace

Response TokenError(const std::string& error, const std::string& description, bool basic) {
  int status = oauth::TokenErrorStatus(error);
  auto r = NoStoreJson(status, boost::json::serialize(boost::json::object{
                                   {"error", error},
                                   {"error_description", oauth::SanitizeErrorText(description)}}));
  if (status == 401 && basic) r.SetHeader("WWW-Authenticate", "Basic realm=\"token\"");
  return r;
}

std::variant<http::Params, Response> ParseTokenForm(const Request& req) {
  auto type = req.Header("content-type").value_or("");
  if (type.substr(0, 33) != "application/x-www-form-urlencoded") {
    return TokenError("invalid_request", "content type must be application/x-www-form-urlencoded");
  }
  auto form = http::Params::Parse(req.body);
  if (!form) return TokenError("invalid_request", "the request body is malformed");
  if (auto repeated = form->FirstRepeated()) {
    return TokenError("invalid_request", *repeated + " is repeated");
  }
  return std::move(*form);
}

ClientAuthParse ParseClientAuth(const Context& ctx, const Request& req, const http::Params& form,
                                const std::string& endpoint) {
  ClientAuthParse out;
  auto& creds = out.credentials;
  auto authorization = req.Header("authorization");
  auto assertion_type = form.Get("client_assertion_type");
  auto assertion = form.Get("client_assertion");
  int methods = (authorization ? 1 : 0) + (form.Get("client_secret") ? 1 : 0) +
                (assertion_type || assertion ? 1 : 0);
  if (methods > 1) {
    out.error = TokenError("invalid_request", "more than one client authentication method");
    return out;
  }
  if (authorization) {
    out.basic = true;
    auto pair = ParseBasic(*authorization);
    if (!pair) {
      out.error = TokenError("invalid_client", "malformed Basic credentials", true);
      return out;
    }
    if (auto id = form.Get("client_id"); id && *id != pair->first) {
      out.error = TokenError("invalid_request", "client_id does not match the credentials");
      return out;
    }
    creds.set_client_id(pair->first);
    creds.set_client_secret(pair->second);
    creds.set_method(Method::METHOD_CLIENT_SECRET_BASIC);
  } else if (auto secret = form.Get("client_secret")) {
    creds.set_client_id(form.Get("client_id").value_or(""));
    creds.set_client_secret(*secret);
    creds.set_method(Method::METHOD_CLIENT_SECRET_POST);
  } else if (assertion_type || assertion) {
    if (assertion_type != kJwtBearer || !assertion) {
      out.error = TokenError("invalid_client", "unsupported client assertion");
      return out;
    }
    std::string client_id = form.Get("client_id").value_or(AssertionSubject(*assertion));
    creds.set_client_id(client_id);
    creds.set_client_assertion(*assertion);
    creds.set_assertion_audience(ctx.config.issuer + endpoint);
    creds.set_method(Method::METHOD_PRIVATE_KEY_JWT);
  } else if (auto id = form.Get("client_id")) {
    creds.set_client_id(*id);
    creds.set_method(Method::METHOD_NONE);
  } else {
    out.error = TokenError("invalid_client", "client authentication is required");
  }
  return out;
}

}  // namespace idp::gateway
