#pragma once
/// @file In-memory stand-ins for the gateway's ports to auth, mfa and token, for tests of the
/// routes at unit speed. Each records the calls it got by name; anything a test did not set up
/// answers kUnavailable, so a route that calls more than the test expects fails loudly.

#include "clients/auth_client.hpp"
#include "clients/mfa_client.hpp"
#include "clients/readiness.hpp"
#include "clients/token_client.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace idp::gateway::testing {

/// The calls a fake got, in order.
struct Calls {
  std::vector<std::string> names;
  bool Saw(std::string_view name) const {
    for (const auto& n : names) {
      if (n == name) return true;
    }
    return false;
  }
};

class FakeAuthClient final : public AuthClient {
 public:
  /// username -> (password, subject)
  std::map<std::string, std::pair<std::string, std::string>> users;
  /// When set, VerifyPassword fails with it (a busy or unreachable auth).
  std::optional<Error> verify_fails;
  Calls calls;

  Awaitable<Result<auth::v1::VerifyPasswordResponse>> VerifyPassword(
      const rpc::Caller&, const auth::v1::VerifyPasswordRequest& req) override {
    calls.names.emplace_back("VerifyPassword");
    if (verify_fails) co_return *verify_fails;
    auth::v1::VerifyPasswordResponse r;
    auto it = users.find(req.username());
    if (it != users.end() && it->second.first == req.password()) {
      r.mutable_verified()->set_subject(it->second.second);
    } else {
      r.set_rejected(auth::v1::VerifyPasswordResponse::REJECT_REASON_INVALID_CREDENTIALS);
    }
    co_return r;
  }
  Awaitable<Result<auth::v1::GetUserResponse>> GetUser(const rpc::Caller&,
                                                       const std::string& subject) override {
    calls.names.emplace_back("GetUser");
    auth::v1::GetUserResponse r;
    r.mutable_user()->set_subject(subject);
    r.mutable_user()->set_username(subject);
    co_return r;
  }
  Awaitable<Result<auth::v1::StartPasswordResetResponse>> StartPasswordReset(
      const rpc::Caller&, const auth::v1::StartPasswordResetRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<auth::v1::CheckPasswordTokenResponse>> CheckPasswordToken(
      const rpc::Caller&, const auth::v1::CheckPasswordTokenRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<auth::v1::CompletePasswordResetResponse>> CompletePasswordReset(
      const rpc::Caller&, const auth::v1::CompletePasswordResetRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<auth::v1::ChangePasswordResponse>> ChangePassword(
      const rpc::Caller&, const auth::v1::ChangePasswordRequest&) override {
    co_return Unavailable("fake");
  }
};

class FakeMfaClient final : public MfaClient {
 public:
  /// subject -> factors
  std::map<std::string, std::vector<mfa::v1::Factor>> factors;
  /// The code VerifyCode accepts (anything else is wrong).
  std::string good_code = "123456";
  Calls calls;

  Awaitable<Result<mfa::v1::ListFactorsResponse>> ListFactors(const rpc::Caller&,
                                                              const std::string& subject) override {
    calls.names.emplace_back("ListFactors");
    mfa::v1::ListFactorsResponse r;
    for (const auto& f : factors[subject]) *r.add_factors() = f;
    co_return r;
  }
  Awaitable<Result<mfa::v1::StartTotpEnrolmentResponse>> StartTotpEnrolment(
      const rpc::Caller&, const mfa::v1::StartTotpEnrolmentRequest&) override {
    calls.names.emplace_back("StartTotpEnrolment");
    mfa::v1::StartTotpEnrolmentResponse r;
    r.set_factor_id("pending-totp");
    r.set_secret_base32("JBSWY3DPEHPK3PXP");
    r.set_qr_svg("<svg/>");
    co_return r;
  }
  Awaitable<Result<mfa::v1::ConfirmTotpEnrolmentResponse>> ConfirmTotpEnrolment(
      const rpc::Caller&, const mfa::v1::ConfirmTotpEnrolmentRequest& req) override {
    calls.names.emplace_back("ConfirmTotpEnrolment");
    mfa::v1::ConfirmTotpEnrolmentResponse r;
    r.set_outcome(req.code() == good_code
                      ? mfa::v1::ConfirmTotpEnrolmentResponse::OUTCOME_CONFIRMED
                      : mfa::v1::ConfirmTotpEnrolmentResponse::OUTCOME_WRONG_CODE);
    co_return r;
  }
  Awaitable<Result<mfa::v1::RemoveFactorResponse>> RemoveFactor(
      const rpc::Caller&, const mfa::v1::RemoveFactorRequest&) override {
    calls.names.emplace_back("RemoveFactor");
    co_return Unavailable("fake");
  }
  Awaitable<Result<mfa::v1::StartChallengeResponse>> StartChallenge(
      const rpc::Caller&, const std::string&) override {
    calls.names.emplace_back("StartChallenge");
    mfa::v1::StartChallengeResponse r;
    r.set_challenge_id("challenge-" + std::to_string(calls.names.size()));
    co_return r;
  }
  Awaitable<Result<mfa::v1::VerifyCodeResponse>> VerifyCode(
      const rpc::Caller&, const mfa::v1::VerifyCodeRequest& req) override {
    calls.names.emplace_back("VerifyCode");
    mfa::v1::VerifyCodeResponse r;
    if (req.code() == good_code) {
      r.set_outcome(mfa::v1::VerifyCodeResponse::OUTCOME_VERIFIED);
      r.set_amr("otp");
    } else {
      r.set_outcome(mfa::v1::VerifyCodeResponse::OUTCOME_WRONG_CODE);
      r.set_tries_left(3);
    }
    co_return r;
  }
  Awaitable<Result<mfa::v1::GenerateRecoveryCodesResponse>> GenerateRecoveryCodes(
      const rpc::Caller&, const std::string&) override {
    calls.names.emplace_back("GenerateRecoveryCodes");
    mfa::v1::GenerateRecoveryCodesResponse r;
    r.add_codes("abcde-fghij");
    co_return r;
  }
  Awaitable<Result<mfa::v1::StartDeliveryEnrolmentResponse>> StartDeliveryEnrolment(
      const rpc::Caller&, const mfa::v1::StartDeliveryEnrolmentRequest&) override {
    calls.names.emplace_back("StartDeliveryEnrolment");
    co_return Unavailable("fake");
  }
  Awaitable<Result<mfa::v1::ConfirmDeliveryEnrolmentResponse>> ConfirmDeliveryEnrolment(
      const rpc::Caller&, const mfa::v1::ConfirmDeliveryEnrolmentRequest&) override {
    calls.names.emplace_back("ConfirmDeliveryEnrolment");
    co_return Unavailable("fake");
  }
  Awaitable<Result<mfa::v1::SendCodeResponse>> SendCode(const rpc::Caller&,
                                                        const mfa::v1::SendCodeRequest&) override {
    calls.names.emplace_back("SendCode");
    co_return Unavailable("fake");
  }
  Awaitable<Result<mfa::v1::CodeStatusResponse>> CodeStatus(
      const rpc::Caller&, const mfa::v1::CodeStatusRequest&) override {
    co_return mfa::v1::CodeStatusResponse();
  }
  Awaitable<Result<mfa::v1::RememberBrowserResponse>> RememberBrowser(
      const rpc::Caller&, const mfa::v1::RememberBrowserRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<mfa::v1::CheckBrowserResponse>> CheckBrowser(
      const rpc::Caller&, const mfa::v1::CheckBrowserRequest&) override {
    co_return mfa::v1::CheckBrowserResponse();
  }
  Awaitable<Result<mfa::v1::ListBrowsersResponse>> ListBrowsers(const rpc::Caller&,
                                                                const std::string&) override {
    co_return mfa::v1::ListBrowsersResponse();
  }
  Awaitable<Result<mfa::v1::ForgetBrowsersResponse>> ForgetBrowsers(
      const rpc::Caller&, const mfa::v1::ForgetBrowsersRequest&) override {
    co_return Unavailable("fake");
  }
};

class FakeTokenClient final : public TokenClient {
 public:
  /// client_id -> record
  std::map<std::string, token::v1::Client> clients;
  Calls calls;

  Awaitable<Result<token::v1::GetClientResponse>> GetClient(const rpc::Caller&,
                                                            const std::string& client_id) override {
    calls.names.emplace_back("GetClient");
    auto it = clients.find(client_id);
    if (it == clients.end()) co_return NotFound("client");
    token::v1::GetClientResponse r;
    *r.mutable_client() = it->second;
    co_return r;
  }
  Awaitable<Result<token::v1::ListClientsResponse>> ListPortalClients(const rpc::Caller&) override {
    co_return token::v1::ListClientsResponse();
  }
  Awaitable<Result<token::v1::IssueAuthorizationCodeResponse>> IssueCode(
      const rpc::Caller&, const token::v1::IssueAuthorizationCodeRequest& req) override {
    calls.names.emplace_back("IssueCode");
    issued.push_back(req);
    token::v1::IssueAuthorizationCodeResponse r;
    r.set_code("code-" + std::to_string(issued.size()));
    co_return r;
  }
  Awaitable<Result<token::v1::ExchangeAuthorizationCodeResponse>> ExchangeCode(
      const rpc::Caller&, const token::v1::ExchangeAuthorizationCodeRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::ValidateAccessTokenResponse>> ValidateAccessToken(
      const rpc::Caller&, const std::string&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::GetJwksResponse>> GetJwks(const rpc::Caller&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::RefreshTokenResponse>> RefreshToken(
      const rpc::Caller&, const token::v1::RefreshTokenRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::ClientCredentialsResponse>> ClientCredentials(
      const rpc::Caller&, const token::v1::ClientCredentialsRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::RevokeTokenResponse>> RevokeToken(
      const rpc::Caller&, const token::v1::RevokeTokenRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::IntrospectTokenResponse>> IntrospectToken(
      const rpc::Caller&, const token::v1::IntrospectTokenRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::RevokeSessionResponse>> RevokeSession(
      const rpc::Caller&, const token::v1::RevokeSessionRequest&) override {
    calls.names.emplace_back("RevokeSession");
    co_return token::v1::RevokeSessionResponse();
  }
  Awaitable<Result<token::v1::GetConsentResponse>> GetConsent(
      const rpc::Caller&, const token::v1::GetConsentRequest&) override {
    co_return token::v1::GetConsentResponse();
  }
  Awaitable<Result<token::v1::GrantConsentResponse>> GrantConsent(
      const rpc::Caller&, const token::v1::GrantConsentRequest&) override {
    co_return Unavailable("fake");
  }
  Awaitable<Result<token::v1::VerifyIdTokenHintResponse>> VerifyIdTokenHint(
      const rpc::Caller&, const std::string&) override {
    co_return token::v1::VerifyIdTokenHintResponse();
  }

  std::vector<token::v1::IssueAuthorizationCodeRequest> issued;
};

class FakeReadiness final : public Readiness {
 public:
  Awaitable<bool> Healthy(const rpc::Caller&, std::string_view) override { co_return true; }
};

}  // namespace idp::gateway::testing
