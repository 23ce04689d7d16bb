#pragma once
/// @file The gateway's port to the token service: what the routes may ask of it.
/// Implemented over gRPC by GrpcClients (grpc_clients.hpp); tests give fakes. Every call
/// carries `caller` (the request id, the browser's address and user agent, the client being
/// signed in to); a failure of the call itself comes back as Error (kUnavailable,
/// kDeadlineExceeded, ...), a business outcome in the response. Parameters are references (GCC
/// PR 99576, libs/rpc/async_call.hpp).

#include "awaitable.hpp"

#include "idp/common/error.hpp"
#include "idp/rpc/caller.hpp"
#include "idp/token/v1/token.pb.h"

#include <string>

namespace idp::gateway {

class TokenClient {
 public:
  virtual ~TokenClient() = default;

  /// The client record, from the cache of `client_cache_ttl` or from token (kNotFound when
  /// unknown; a miss is never cached).
  virtual Awaitable<Result<token::v1::GetClientResponse>> GetClient(
      const rpc::Caller& caller, const std::string& client_id) = 0;
  virtual Awaitable<Result<token::v1::ListClientsResponse>> ListPortalClients(
      const rpc::Caller& caller) = 0;
  virtual Awaitable<Result<token::v1::IssueAuthorizationCodeResponse>> IssueCode(
      const rpc::Caller& caller, const token::v1::IssueAuthorizationCodeRequest& req) = 0;
  virtual Awaitable<Result<token::v1::ExchangeAuthorizationCodeResponse>> ExchangeCode(
      const rpc::Caller& caller, const token::v1::ExchangeAuthorizationCodeRequest& req) = 0;
  virtual Awaitable<Result<token::v1::ValidateAccessTokenResponse>> ValidateAccessToken(
      const rpc::Caller& caller, const std::string& access_token) = 0;
  virtual Awaitable<Result<token::v1::GetJwksResponse>> GetJwks(const rpc::Caller& caller) = 0;
  virtual Awaitable<Result<token::v1::RefreshTokenResponse>> RefreshToken(
      const rpc::Caller& caller, const token::v1::RefreshTokenRequest& req) = 0;
  virtual Awaitable<Result<token::v1::ClientCredentialsResponse>> ClientCredentials(
      const rpc::Caller& caller, const token::v1::ClientCredentialsRequest& req) = 0;
  virtual Awaitable<Result<token::v1::RevokeTokenResponse>> RevokeToken(
      const rpc::Caller& caller, const token::v1::RevokeTokenRequest& req) = 0;
  virtual Awaitable<Result<token::v1::IntrospectTokenResponse>> IntrospectToken(
      const rpc::Caller& caller, const token::v1::IntrospectTokenRequest& req) = 0;
  virtual Awaitable<Result<token::v1::RevokeSessionResponse>> RevokeSession(
      const rpc::Caller& caller, const token::v1::RevokeSessionRequest& req) = 0;
  virtual Awaitable<Result<token::v1::GetConsentResponse>> GetConsent(
      const rpc::Caller& caller, const token::v1::GetConsentRequest& req) = 0;
  virtual Awaitable<Result<token::v1::GrantConsentResponse>> GrantConsent(
      const rpc::Caller& caller, const token::v1::GrantConsentRequest& req) = 0;
  virtual Awaitable<Result<token::v1::VerifyIdTokenHintResponse>> VerifyIdTokenHint(
      const rpc::Caller& caller, const std::string& id_token) = 0;
};

}  // namespace idp::gateway
