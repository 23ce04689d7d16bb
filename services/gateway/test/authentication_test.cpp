// The session levels (src/signin/authentication.hpp): amr and acr per level, a new sid at
// every sign-in, the sid kept by a step-up and by an upgrade.
#include "signin/authentication.hpp"

#include <catch2/catch.hpp>

using namespace idp::gateway;
namespace signin = idp::gateway::signin;

TEST_CASE("a password-only session is aal1 with amr pwd and a new sid") {
  Session a = signin::PasswordOnly("alice", 100);
  Session b = signin::PasswordOnly("alice", 100);
  CHECK(a.amr == std::vector<std::string>{"pwd"});
  CHECK(a.acr == "aal1");
  CHECK(a.auth_time == 100);
  CHECK(a.sid.size() >= 22);  // 128 bits, base64url
  CHECK(a.sid != b.sid);
  CHECK(a.csrf != b.csrf);
  CHECK_FALSE(signin::PassedSecondFactor(a));
}

TEST_CASE("a second factor makes aal2 with the factor's amr (RFC 8176)") {
  using F = signin::SecondFactor;
  CHECK(signin::WithSecondFactor("alice", 1, F::kTotp).amr == std::vector<std::string>{"pwd", "otp", "mfa"});
  CHECK(signin::WithSecondFactor("alice", 1, F::kRecoveryCode).amr[1] == "otp");
  CHECK(signin::WithSecondFactor("alice", 1, F::kEmail).amr[1] == "email");
  CHECK(signin::WithSecondFactor("alice", 1, F::kSms).amr[1] == "sms");
  Session s = signin::WithSecondFactor("alice", 1, F::kTotp);
  CHECK(s.acr == "aal2");
  CHECK(signin::PassedSecondFactor(s));
  CHECK(signin::SecondFactorFromAmr("email") == F::kEmail);
  CHECK(signin::SecondFactorFromAmr("sms") == F::kSms);
  CHECK(signin::SecondFactorFromAmr("otp") == F::kTotp);
}

TEST_CASE("a step-up keeps the sid of the session it upgrades; an upgrade keeps its lifetime") {
  Session up = signin::WithSecondFactor("alice", 5, signin::SecondFactor::kTotp, "old-sid");
  CHECK(up.sid == "old-sid");
  Session live = signin::PasswordOnly("alice", 1);
  live.created_at = 1;
  Session upgraded = signin::Upgraded(live, 50, signin::SecondFactor::kEmail);
  CHECK(upgraded.sid == live.sid);
  CHECK(upgraded.created_at == 1);
  CHECK(upgraded.auth_time == 50);
  CHECK(upgraded.acr == "aal2");
  CHECK(upgraded.amr == std::vector<std::string>{"pwd", "email", "mfa"});
}

TEST_CASE("changing factors needs a recent sign-in and the second factor when there is one") {
  const std::int64_t window = 15 * 60;
  Session strong = signin::WithSecondFactor("alice", 1000, signin::SecondFactor::kTotp);
  Session weak = signin::PasswordOnly("alice", 1000);
  CHECK(signin::MayChangeFactors(strong, true, 1000 + window, window));
  CHECK_FALSE(signin::MayChangeFactors(strong, true, 1000 + window + 1, window));  // too old
  CHECK_FALSE(signin::MayChangeFactors(weak, true, 1001, window));  // has a factor, did not prove it
  CHECK(signin::MayChangeFactors(weak, false, 1001, window));  // no factor yet: the password
  CHECK_FALSE(signin::MayChangeFactors(weak, false, 1000 + window + 1, window));
  CHECK_FALSE(signin::MayChangeFactors(strong, true, 999, window));  // from the future
}
