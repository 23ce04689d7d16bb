#pragma once
/// @file OAuth 2.0 / OpenID Connect protocol rules with no I/O: PKCE, redirect URIs, scopes and
/// the error catalog. Pure functions, thread-safe.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace idp::oauth {

// --- PKCE (RFC 7636) ---
/// True when `verifier` matches RFC 7636 §4.1: 43-128 characters of [A-Za-z0-9-._~].
bool IsValidCodeVerifier(std::string_view verifier);
/// True when `challenge` could be an S256 challenge: 43 base64url characters (RFC 7636 §4.2).
bool IsValidS256Challenge(std::string_view challenge);
/// BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
std::string S256Challenge(std::string_view verifier);
/// Constant-time check of `verifier` against an S256 `challenge` (RFC 7636 §4.6).
bool VerifyS256(std::string_view verifier, std::string_view challenge);

// --- redirect URIs ---
/// Registration rule (RFC 6749 §3.1.2, RFC 9700 §2.1, §4.1.3): an absolute https URI, or http
/// on a loopback host (localhost, 127.0.0.1, [::1]); no fragment; no userinfo. Returns the
/// reason it is refused, or nullopt when acceptable.
std::optional<std::string> CheckRedirectUriRegistration(std::string_view uri);
/// Exact string comparison against the registered list (RFC 9700 §4.1.3): no normalisation.
bool RedirectUriRegistered(std::string_view uri, const std::vector<std::string>& registered);
/// `redirect_uri` + ('?' or '&') + `query`: appends parameters keeping the URI's own query.
std::string AppendQuery(std::string_view redirect_uri, std::string_view query);

// --- scopes ---
/// Splits a space-delimited scope string (RFC 6749 §3.3); empty tokens are dropped.
std::set<std::string> ParseScope(std::string_view scope);
/// Joins scopes with single spaces in a stable order.
std::string JoinScope(const std::set<std::string>& scopes);

// --- errors ---
/// An OAuth error as the gateway sends it (RFC 6749 §4.1.2.1, §5.2).
struct OAuthError {
  std::string error;
  std::string description;
};

/// The HTTP status for a token-endpoint error code (RFC 6749 §5.2): invalid_client 401,
/// server_error 500, temporarily_unavailable 503, everything else 400.
int TokenErrorStatus(std::string_view error);
/// True when `text` has only the characters RFC 6749 allows in error and error_description
/// (%x20-21 / %x23-5B / %x5D-7E).
bool IsValidErrorText(std::string_view text);
/// Replaces characters outside that set with a space.
std::string SanitizeErrorText(std::string_view text);

}  // namespace idp::oauth
