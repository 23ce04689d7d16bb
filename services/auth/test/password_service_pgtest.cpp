// Password self-service against a real PostgreSQL: reset tokens are single use, only the newest
// works, they expire, unknown accounts get the same answer in the same time, and a reset lifts
// a lockout.
#include "auth_migrations.hpp"
#include "auth_service.hpp"
#include "password_service.hpp"
#include "password_token_store.hpp"
#include "pg_account_store.hpp"

#include "../../../tests/support/pg_test_db.hpp"
#include "idp/store/pg.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using idp::auth::Mail;
using idp::auth::MailKind;
using idp::auth::PasswordRejection;
using idp::auth::TokenPurpose;

class RecordingMailer final : public idp::auth::Mailer {
 public:
  void Send(Mail mail) override {
    std::lock_guard lock(mu_);
    sent_.push_back(std::move(mail));
  }
  std::vector<Mail> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::vector<Mail> sent_;
};

struct Fixture {
  Fixture() : pool({idp::testing::CreateTestDatabase("auth_password_test"), 4}), store(pool), tokens(pool) {
    idp::crypto::Init();
    REQUIRE(idp::store::Migrate(pool, idp::auth::Migrations()).value() >= 1);
  }
  idp::auth::PasswordServiceSettings Settings() {
    idp::auth::PasswordServiceSettings s;
    s.issuer = "https://idp.example.com/";
    s.reset_min_duration = std::chrono::milliseconds(150);
    return s;
  }
  idp::store::PgPool pool;
  idp::auth::PgAccountStore store;
  idp::auth::PgPasswordTokenStore tokens;
  idp::auth::AuthService auth{store, {}};
  RecordingMailer mailer;
  idp::auth::PasswordService passwords{
      auth, store, tokens, mailer, {}, Settings(),
      [](const idp::auth::Account&, const std::string& p) {
        return idp::auth::PasswordProblemOf(p);
      }};

  std::string Alice() {
    return auth.Create({"alice", "alice@example.com", true, "Alice", "", "", "old password 1", ""})
        .value()
        .subject;
  }
  /// The token in the newest reset email.
  std::string TokenFromMail() {
    auto sent = mailer.Sent();
    REQUIRE_FALSE(sent.empty());
    const std::string& link = sent.back().link;
    const std::string prefix = "https://idp.example.com/password/reset?token=";
    REQUIRE(link.rfind(prefix, 0) == 0);
    return link.substr(prefix.size());
  }
};

double Ms(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("a reset link is emailed and sets the password once", "[password]") {
  Fixture f;
  auto subject = f.Alice();
  REQUIRE(f.passwords.StartReset("ALICE"));
  auto sent = f.mailer.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].kind == MailKind::kPasswordReset);
  CHECK(sent[0].to_address == "alice@example.com");
  CHECK(sent[0].valid_for == std::chrono::seconds(1800));
  const auto token = f.TokenFromMail();
  CHECK(token.size() == 43);

  // Only the hash is stored.
  auto stored = f.pool.Run<std::string>([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT token_hash FROM auth.password_tokens")[0].as<std::string>();
  });
  CHECK(stored.value() == idp::auth::TokenHash(token));

  auto check = f.passwords.CheckToken(token).value();
  REQUIRE(check.has_value());
  CHECK(check->username == "alice");
  CHECK(check->purpose == TokenPurpose::kReset);

  auto weak = f.passwords.CompleteReset(token, "short").value();
  CHECK(weak.rejection == PasswordRejection::kWeakPassword);
  CHECK(weak.problem == idp::auth::PasswordProblem::kTooShort);
  CHECK(f.passwords.CheckToken(token).value().has_value());  // a weak try does not spend it

  auto done = f.passwords.CompleteReset(token, "brand new password").value();
  CHECK(done.rejection == PasswordRejection::kNone);
  CHECK(done.subject == subject);
  CHECK(f.auth.VerifyPassword("alice", "brand new password").value().ok);
  CHECK_FALSE(f.auth.VerifyPassword("alice", "old password 1").value().ok);
  CHECK(f.mailer.Sent().back().kind == MailKind::kPasswordChanged);
  CHECK(f.mailer.Sent().back().link.empty());

  // Single use.
  CHECK_FALSE(f.passwords.CheckToken(token).value().has_value());
  CHECK(f.passwords.CompleteReset(token, "another new password").value().rejection ==
        PasswordRejection::kInvalidToken);
  CHECK(f.auth.VerifyPassword("alice", "brand new password").value().ok);
}

TEST_CASE("of two concurrent uses of one link exactly one wins", "[password]") {
  Fixture f;
  f.Alice();
  auto token = f.passwords.IssueForTest(f.auth.GetByUsername("alice").value().subject,
                                        TokenPurpose::kReset)
                   .value();
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto out = f.passwords.CompleteReset(token, "concurrent password " + std::to_string(i));
      if (out && out->rejection == PasswordRejection::kNone) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wins == 1);
}

TEST_CASE("only the newest link of a person works", "[password]") {
  Fixture f;
  f.Alice();
  REQUIRE(f.passwords.StartReset("alice"));
  const auto first = f.TokenFromMail();
  REQUIRE(f.passwords.StartReset("alice@EXAMPLE.com"));  // by email, case-insensitively
  const auto second = f.TokenFromMail();
  CHECK(first != second);
  CHECK_FALSE(f.passwords.CheckToken(first).value().has_value());
  CHECK(f.passwords.CompleteReset(first, "first new password").value().rejection ==
        PasswordRejection::kInvalidToken);
  CHECK(f.passwords.CompleteReset(second, "second new password").value().rejection ==
        PasswordRejection::kNone);
}

TEST_CASE("an expired link does not work", "[password]") {
  Fixture f;
  auto subject = f.Alice();
  auto token = f.passwords.IssueForTest(subject, TokenPurpose::kReset).value();
  REQUIRE(f.pool.Transact<void>([](pqxx::work& tx) {
    tx.exec("UPDATE auth.password_tokens SET expires_at = now() - interval '1 second'");
  }));
  CHECK_FALSE(f.passwords.CheckToken(token).value().has_value());
  CHECK(f.passwords.CompleteReset(token, "too late password").value().rejection ==
        PasswordRejection::kInvalidToken);
  CHECK(f.auth.VerifyPassword("alice", "old password 1").value().ok);
  CHECK_FALSE(f.passwords.CheckToken("not a token").value().has_value());
  CHECK_FALSE(f.passwords.CheckToken(std::string(43, 'A')).value().has_value());
}

TEST_CASE("unknown accounts get the same answer in the same time and no email", "[password]") {
  Fixture f;
  f.Alice();
  REQUIRE(f.auth.Create({"nomail", "", false, "", "", "", "some password 1", ""}).has_value());
  std::vector<double> known, unknown;
  for (int i = 0; i < 3; ++i) {
    known.push_back(Ms([&] { REQUIRE(f.passwords.StartReset("alice")); }));
    unknown.push_back(Ms([&] { REQUIRE(f.passwords.StartReset("nobody-" + std::to_string(i))); }));
    unknown.push_back(Ms([&] { REQUIRE(f.passwords.StartReset("nobody@example.com")); }));
    unknown.push_back(Ms([&] { REQUIRE(f.passwords.StartReset("nomail")); }));
    unknown.push_back(Ms([&] { REQUIRE(f.passwords.StartReset("bad name!")); }));
  }
  CHECK(f.mailer.Sent().size() == 3);  // alice's only
  for (double ms : known) CHECK(ms >= 150);
  for (double ms : unknown) CHECK(ms >= 150);
  auto max_known = *std::max_element(known.begin(), known.end());
  auto max_unknown = *std::max_element(unknown.begin(), unknown.end());
  CHECK(std::abs(max_known - max_unknown) < 60);
}

TEST_CASE("a reset lifts the lockout of the account", "[password]") {
  Fixture f;
  f.Alice();
  REQUIRE(f.store.RecordFailure("alice", "203.0.113.9", 1, std::chrono::hours(24),
                                std::chrono::minutes(15)).value());
  CHECK_FALSE(f.auth.VerifyPassword("alice", "old password 1", "203.0.113.9").value().ok);
  REQUIRE(f.passwords.StartReset("alice"));
  REQUIRE(f.passwords.CompleteReset(f.TokenFromMail(), "unlocked password").value().rejection ==
          PasswordRejection::kNone);
  CHECK(f.auth.VerifyPassword("alice", "unlocked password", "203.0.113.9").value().ok);
}

TEST_CASE("change password needs the current one", "[password]") {
  Fixture f;
  auto subject = f.Alice();
  auto wrong = f.passwords.ChangePassword(subject, "not my password", "changed password 1").value();
  CHECK(wrong.rejection == PasswordRejection::kWrongPassword);
  CHECK(f.passwords.ChangePassword(subject, "old password 1", "short").value().rejection ==
        PasswordRejection::kWeakPassword);
  CHECK(f.mailer.Sent().empty());
  auto ok = f.passwords.ChangePassword(subject, "old password 1", "changed password 1").value();
  CHECK(ok.rejection == PasswordRejection::kNone);
  CHECK(f.auth.VerifyPassword("alice", "changed password 1").value().ok);
  REQUIRE(f.mailer.Sent().size() == 1);
  CHECK(f.mailer.Sent()[0].kind == MailKind::kPasswordChanged);
}

TEST_CASE("an invitation creates an account that signs in only after the link", "[password]") {
  Fixture f;
  auto invited = f.passwords.Invite("Carol", "carol@example.com", "Carol C").value();
  CHECK(invited.username == "carol");
  CHECK(invited.password_hash.empty());
  auto sent = f.mailer.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].kind == MailKind::kInvitation);
  CHECK(sent[0].valid_for == std::chrono::seconds(7 * 86400));
  const auto token = f.TokenFromMail();
  CHECK(f.passwords.CheckToken(token).value()->purpose == TokenPurpose::kInvite);
  REQUIRE(f.passwords.CompleteReset(token, "carol's first password").value().rejection ==
          PasswordRejection::kNone);
  CHECK(f.auth.VerifyPassword("carol", "carol's first password").value().ok);
  CHECK(f.passwords.Invite("carol", "c2@example.com", "").error().code ==
        idp::ErrorCode::kAlreadyExists);
  CHECK(f.passwords.Invite("dave", "", "").error().code == idp::ErrorCode::kInvalidArgument);
}
