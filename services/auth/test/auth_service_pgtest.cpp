#include "auth_migrations.hpp"
#include "auth_service.hpp"
#include "pg_account_store.hpp"

#include "../../../tests/support/pg_test_db.hpp"
#include "idp/common/call_origin.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/store/pg.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>

namespace {

class RecordingMailer final : public idp::auth::Mailer {
 public:
  void Send(idp::auth::Mail mail) override {
    std::lock_guard lock(mu_);
    sent_.push_back(std::move(mail));
  }
  std::vector<idp::auth::Mail> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::vector<idp::auth::Mail> sent_;
};

struct Fixture {
  Fixture() : pool({idp::testing::CreateTestDatabase("auth_test"), 4}), store(pool) {
    idp::crypto::Init();
    REQUIRE(idp::store::Migrate(pool, idp::auth::Migrations()).value() >= 1);
  }
  idp::store::PgPool pool;
  idp::auth::PgAccountStore store;
  idp::auth::AuthService service{store, {}};
};

}  // namespace

TEST_CASE("accounts: create then find case-insensitively then verify passwords", "[auth]") {
  Fixture f;
  auto created = f.service.Create({"Alice", "alice@example.com", true, "Alice Doe", "Alice", "Doe",
                                   "correct horse battery", ""});
  REQUIRE(created.has_value());
  CHECK(created->username == "alice");
  CHECK(created->subject.size() == 36);
  CHECK(created->password_hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);

  auto ok = f.service.VerifyPassword("ALICE", "correct horse battery").value();
  CHECK(ok.ok);
  CHECK(ok.subject == created->subject);
  CHECK_FALSE(f.service.VerifyPassword("alice", "correct horse batterY").value().ok);
  CHECK_FALSE(f.service.VerifyPassword("nobody", "correct horse battery").value().ok);
  CHECK_FALSE(f.service.VerifyPassword("bad name!", "correct horse battery").value().ok);

  auto again = f.service.Create({"alice", "", false, "", "", "", "", ""});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == idp::ErrorCode::kAlreadyExists);

  CHECK(f.service.GetBySubject(created->subject).value().email == "alice@example.com");
  CHECK(f.service.GetBySubject("00000000-0000-0000-0000-000000000000").error().code ==
        idp::ErrorCode::kNotFound);
  CHECK(f.service.GetBySubject("not-a-uuid").error().code == idp::ErrorCode::kNotFound);
}

TEST_CASE("password policy and password change", "[auth]") {
  Fixture f;
  CHECK(f.service.Create({"bob", "", false, "", "", "", "short", ""}).error().code ==
        idp::ErrorCode::kInvalidArgument);
  CHECK_FALSE(idp::auth::AuthService::CheckPasswordPolicy("ünïcödé pässwörd"));
  CHECK(idp::auth::AuthService::CheckPasswordPolicy("seven77"));
  CHECK(idp::auth::AuthService::CheckPasswordPolicy("tab\tinside"));
  CHECK(idp::auth::AuthService::CheckPasswordPolicy("bad \xC3\x28 utf8"));
  CHECK(idp::auth::AuthService::CheckPasswordPolicy("password123"));  // common
  auto bob = f.service.Create({"bob", "", false, "", "", "", "", ""}).value();
  // An account without a password cannot sign in.
  CHECK_FALSE(f.service.VerifyPassword("bob", "").value().ok);
  REQUIRE(f.service.SetPassword(bob.subject, "a new long password"));
  CHECK(f.service.VerifyPassword("bob", "a new long password").value().ok);
  CHECK(f.service.SetPassword(bob.subject, std::string(129, 'x')).error().code ==
        idp::ErrorCode::kInvalidArgument);
  CHECK(f.service.SetPassword("00000000-0000-0000-0000-000000000000", "long enough pw").error().code ==
        idp::ErrorCode::kNotFound);
}

TEST_CASE("an unknown user costs one Argon2id verification as a wrong password does",
          "[auth][enumeration]") {
  // Counted, not timed: a wall-clock comparison flakes on a shared machine, and what keeps the
  // two answers equally slow is that both run one full verification with the same parameters.
  Fixture f;
  REQUIRE(f.service.Create({"carol", "", false, "", "", "", "carol's password", ""}).has_value());
  auto verifications = [&](const std::string& username, const std::string& password) {
    const auto before = idp::crypto::CurrentPasswordHashLoad().done;
    auto check = f.service.VerifyPassword(username, password);
    REQUIRE(check.has_value());
    CHECK_FALSE(check->ok);
    return idp::crypto::CurrentPasswordHashLoad().done - before;
  };
  CHECK(verifications("carol", "not it at all") == 1);
  // Without the dummy hash these would cost no verification, and answer at once.
  CHECK(verifications("nobody-here", "whatever pw") == 1);
  CHECK(verifications("carol", std::string(1025, 'p')) == 1);
}

TEST_CASE("failed passwords lock the account and address pair and then the whole account", "[auth][lockout]") {
  Fixture f;
  idp::auth::LockoutPolicy policy;
  policy.pair_limit = 3;
  policy.account_limit = 6;
  idp::auth::AuthService service(f.store, {}, policy);
  REQUIRE(service.Create({"dora", "", false, "", "", "", "dora's long password", ""}).has_value());
  for (int i = 0; i < 3; ++i) CHECK_FALSE(service.VerifyPassword("dora", "wrong guess", "10.0.0.1").value().ok);
  // The pair waits: even the right password fails from there, and that does not count.
  CHECK_FALSE(service.VerifyPassword("dora", "dora's long password", "10.0.0.1").value().ok);
  // Another address is not held up, and a success forgets that pair's failures.
  CHECK(service.VerifyPassword("DORA", "dora's long password", "10.0.0.2").value().ok);
  // Failures from any address add up to an account lock.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(service.VerifyPassword("dora", "nope nope", "10.0.0.3").value().ok);
  CHECK_FALSE(service.VerifyPassword("dora", "dora's long password", "10.0.0.9").value().ok);
  // The help desk lifts it.
  REQUIRE(service.Unlock("dora"));
  CHECK(service.VerifyPassword("dora", "dora's long password", "10.0.0.1").value().ok);
  CHECK(service.Unlock("nobody").error().code == idp::ErrorCode::kNotFound);
  // Unknown usernames are counted too (no enumeration), and answer the same.
  for (int i = 0; i < 4; ++i) CHECK_FALSE(service.VerifyPassword("ghost", "whatever pw", "10.0.0.1").value().ok);
}

TEST_CASE("passwords are hashed and verified in NFKC form", "[auth][password]") {
  Fixture f;
  const std::string composed = "caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e";
  const std::string decomposed = "cafe\xCC\x81 cre\xCC\x80me bru\xCC\x82le\xCC\x81" "e";
  // Set decomposed, sign in composed (and the other way round).
  REQUIRE(f.service.Create({"eve", "", false, "", "", "", decomposed, ""}).has_value());
  CHECK(f.service.VerifyPassword("eve", composed).value().ok);
  CHECK(f.service.VerifyPassword("eve", decomposed).value().ok);
  CHECK(f.service.VerifyPassword("eve", "cafe cre\xCC\x80me bru\xCC\x82le\xCC\x81" "e").value().ok == false);
  // The stored hash is of the NFKC form.
  auto eve = f.service.GetByUsername("eve").value();
  CHECK(idp::crypto::VerifyPassword(eve.password_hash, composed));
  CHECK_FALSE(idp::crypto::VerifyPassword(eve.password_hash, decomposed));

  // Fullwidth and ASCII are one password.
  const std::string fullwidth =
      "\xEF\xBD\x90\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x93 \xEF\xBD\x97\xEF\xBD\x8F\xEF\xBD\x92"
      "\xEF\xBD\x84 \xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93";  // "ｐａｓｓ ｗｏｒｄ １２３"
  REQUIRE(f.service.SetPassword(eve.subject, fullwidth));
  CHECK(f.service.VerifyPassword("eve", "pass word 123").value().ok);
  CHECK(f.service.VerifyPassword("eve", fullwidth).value().ok);

  // The rules hold on every path that sets a password, with the reason.
  auto weak = f.service.SetPassword(eve.subject, "Password123");
  REQUIRE_FALSE(weak);
  CHECK(weak.error().code == idp::ErrorCode::kInvalidArgument);
  CHECK(weak.error().message.find("too common") != std::string::npos);
  auto created = f.service.Create({"frank", "", false, "", "", "", "iloveyou", ""});
  REQUIRE_FALSE(created.has_value());
  CHECK(created.error().message.find("too common") != std::string::npos);
  const std::string emoji128 = [] {
    std::string s;
    for (int i = 0; i < 128; ++i) s += "\xF0\x9F\x98\x80";
    return s;
  }();
  REQUIRE(f.service.SetPassword(eve.subject, emoji128));
  CHECK(f.service.VerifyPassword("eve", emoji128).value().ok);
}

TEST_CASE("a hash set before NFKC from a non-NFKC password still verifies and is upgraded", "[auth][password]") {
  Fixture f;
  auto gil = f.service.Create({"gil", "", false, "", "", "", "", ""}).value();
  // What the service stored before passwords were normalised: the hash of the bytes as typed.
  const std::string decomposed = "cafe\xCC\x81 au lait";
  const std::string composed = "caf\xC3\xA9 au lait";
  REQUIRE(f.store.SetPasswordHash(gil.subject, idp::crypto::HashPassword(decomposed)));
  CHECK_FALSE(f.service.VerifyPassword("gil", "cafe au lait").value().ok);
  CHECK(f.service.VerifyPassword("gil", decomposed).value().ok);
  // Re-hashed in NFKC form on that sign-in: now both spellings verify.
  auto after = f.service.GetByUsername("gil").value();
  CHECK(idp::crypto::VerifyPassword(after.password_hash, composed));
  CHECK(f.service.VerifyPassword("gil", composed).value().ok);
  CHECK(f.service.VerifyPassword("gil", decomposed).value().ok);
}

TEST_CASE("sign-ins lockouts and unlocks are audited without the typed secrets and the lock is emailed", "[auth][audit]") {
  Fixture f;
  idp::auth::LockoutPolicy policy;
  policy.pair_limit = 2;
  policy.account_limit = 3;
  policy.lock = std::chrono::minutes(20);
  idp::auth::AuthService service(f.store, {}, policy);
  idp::audit::AuditLog audit(f.pool, "auth");
  service.SetAuditLog(&audit);
  RecordingMailer mailer;
  service.SetMailer(&mailer);
  auto created = service.Create({"ada", "ada@example.test", true, "Ada", "", "", "ada's long password", ""});
  REQUIRE(created.has_value());
  const std::string subject = created->subject;
  idp::ScopedCallOrigin origin({"", "TestAgent/2", ""});
  CHECK(service.VerifyPassword("ada", "ada's long password", "10.1.0.1").value().ok);
  CHECK_FALSE(service.VerifyPassword("ada", "wrong secret one", "10.1.0.2").value().ok);
  CHECK_FALSE(service.VerifyPassword("ada", "wrong secret two", "10.1.0.3").value().ok);
  CHECK(mailer.Sent().empty());  // failures before the lock tell nobody
  CHECK_FALSE(service.VerifyPassword("ada", "wrong secret three", "10.1.0.4").value().ok);  // locks
  auto sent = mailer.Sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].kind == idp::auth::MailKind::kAccountLocked);
  CHECK(sent[0].to_address == "ada@example.test");
  CHECK(sent[0].to_name == "Ada");
  CHECK(sent[0].valid_for == std::chrono::minutes(20));
  CHECK(sent[0].link.empty());
  CHECK(sent[0].idempotency_key.rfind("auth-locked:", 0) == 0);
  CHECK(sent[0].idempotency_key.find(subject) == std::string::npos);
  CHECK_FALSE(service.VerifyPassword("ada", "ada's long password", "10.1.0.5").value().ok);
  CHECK_FALSE(service.VerifyPassword("typed-a-password-here", "whatever pw", "10.1.0.6").value().ok);
  CHECK(mailer.Sent().size() == 1);  // tries during the lock send nothing more
  REQUIRE(service.Unlock("ada"));

  auto rows = audit.List({subject, "", std::nullopt, 100}).value();
  std::vector<std::string> events;
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) events.push_back(it->event);
  CHECK(events == std::vector<std::string>{"signin.success", "signin.failure", "signin.failure",
                                           "signin.failure", "account.locked", "signin.failure",
                                           "admin.account_unlocked"});
  CHECK(rows.back().source_address == "10.1.0.1");
  CHECK(rows.back().user_agent == "TestAgent/2");
  CHECK(rows.at(1).detail_json.find("account_locked") != std::string::npos);
  CHECK(rows.at(3).detail_json.find("wrong_password") != std::string::npos);
  // The unknown username: a row without subject, and the typed name is nowhere.
  auto unknown = audit.List({"", "signin.failure", std::nullopt, 100}).value();
  bool found_unknown = false;
  for (const auto& r : unknown) {
    if (r.source_address == "10.1.0.6") {
      found_unknown = true;
      CHECK(r.subject.empty());
      CHECK(r.detail_json == R"({"reason":"unknown_account"})");
    }
  }
  CHECK(found_unknown);
  for (const auto& r : audit.List({"", "", std::nullopt, 1000}).value()) {
    CHECK(r.detail_json.find("wrong secret") == std::string::npos);
    CHECK(r.detail_json.find("typed-a-password") == std::string::npos);
  }
}
