#include "idp/oauth/oauth.hpp"

#include "idp/crypto/crypto.hpp"

#include <boost/url/parse.hpp>

namespace idp::oauth {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool IsErrorChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u <= 0x21) || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

}  // namespace

bool IsValidCodeVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  for (char c : verifier) {
    if (!IsUnreserved(c)) return false;
  }
  return true;
}

bool IsValidS256Challenge(std::string_view challenge) {
  if (challenge.size() != 43) return false;
  for (char c : challenge) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string S256Challenge(std::string_view verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(verifier));
}

bool VerifyS256(std::string_view verifier, std::string_view challenge) {
  if (!IsValidCodeVerifier(verifier)) return false;
  return crypto::ConstantTimeEqual(S256Challenge(verifier), challenge);
}

std::optional<std::string> CheckRedirectUriRegistration(std::string_view uri) {
  auto parsed = boost::urls::parse_absolute_uri(uri);
  if (!parsed) return "not an absolute URI";
  const auto& u = *parsed;
  if (u.has_fragment()) return "must not contain a fragment";
  if (u.has_userinfo()) return "must not contain user information";
  auto scheme = u.scheme();
  auto host = u.encoded_host();
  if (scheme == "https") {
    if (host.empty()) return "has no host";
    return std::nullopt;
  }
  if (scheme == "http") {
    if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return std::nullopt;
    return "http is allowed only on a loopback host";
  }
  // Private-use schemes of native apps (RFC 8252 §7.1) need a dot in the scheme name.
  if (scheme == "javascript" || scheme == "data" || scheme == "file" || scheme == "vbscript") {
    return "scheme not allowed";
  }
  if (scheme.find('.') != std::string_view::npos) return std::nullopt;
  return "scheme not allowed";
}

bool RedirectUriRegistered(std::string_view uri, const std::vector<std::string>& registered) {
  for (const auto& r : registered) {
    if (r == uri) return true;
  }
  return false;
}

std::string AppendQuery(std::string_view redirect_uri, std::string_view query) {
  std::string out(redirect_uri);
  out += (redirect_uri.find('?') == std::string_view::npos) ? '?' : '&';
  out += query;
  return out;
}

std::set<std::string> ParseScope(std::string_view scope) {
  std::set<std::string> out;
  std::size_t i = 0;
  while (i < scope.size()) {
    auto j = scope.find(' ', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j > i) out.emplace(scope.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string JoinScope(const std::set<std::string>& scopes) {
  std::string out;
  // "openid" first reads better and is what clients expect to see.
  if (scopes.count("openid")) out = "openid";
  for (const auto& s : scopes) {
    if (s == "openid") continue;
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

int TokenErrorStatus(std::string_view error) {
  if (error == "invalid_client") return 401;
  if (error == "server_error") return 500;
  if (error == "temporarily_unavailable") return 503;
  return 400;
}

bool IsValidErrorText(std::string_view text) {
  for (char c : text) {
    if (!IsErrorChar(c)) return false;
  }
  return true;
}

std::string SanitizeErrorText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!IsErrorChar(c)) c = ' ';
  }
  return out;
}

}  // namespace idp::oauth
