#pragma once
/// @file Second-factor rules: authenticator-app enrolment and verification with replay
/// protection, recovery codes, and the limits on wrong codes. Knows nothing of gRPC.

#include "challenge_store.hpp"
#include "delivery_client.hpp"
#include "factor_store.hpp"
#include "refusal.hpp"

#include "idp/audit/audit.hpp"
#include "idp/common/clock.hpp"
#include "idp/crypto/crypto.hpp"

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace idp::mfa {

struct MfaPolicy {
  std::string issuer_name = "Identity";  ///< shown in authenticator apps
  int challenge_tries = 5;               ///< wrong codes per sign-in, then it ends
  int person_failures = 10;              ///< wrong codes per person within the window
  std::chrono::seconds failure_window{15 * 60};
  /// The country of a mobile number typed without + when the request names none ("NL");
  /// "" asks for the + and the country code.
  std::string default_phone_region;
  /// The countries SMS may go to (delivery.sms_countries, the key delivery enforces); a number
  /// from elsewhere is refused by name before anything is stored. Empty: any.
  std::set<std::string> sms_countries;
  /// Refuse removing a method that would leave the person fewer than two.
  bool keep_two_methods = false;
};

struct TotpEnrolment {
  std::string factor_id;
  std::string secret_base32;
  std::string otpauth_uri;
  std::string qr_svg;
};

enum class CodeOutcome { kVerified, kWrong, kMalformed, kChallengeEnded, kLocked };

struct Verification {
  CodeOutcome outcome = CodeOutcome::kWrong;
  int tries_left = 0;
  int recovery_codes_left = -1;  ///< after a recovery code
  std::string amr = "otp";       ///< RFC 8176 value (email codes: "email", SMS: "sms")
  std::chrono::seconds retry_after{0};  ///< kLocked: how long until the person may try again
};

enum class VerifyMethod { kTotp, kRecovery, kSent };

struct DeliveryEnrolment {
  Refusal refusal;  ///< the destination was refused, or delivery refused to send to it
  std::string factor_id;
  std::string label;
};

struct SentCodeResult {
  Refusal refusal;  ///< delivery refused to send; the earlier code stays valid
  std::string label;
};

/// The second-factor domain: every decision about factors, challenges and remembered browsers,
/// and the audit event each records (`audit`, when given; an audit failure never changes the
/// outcome). The gRPC handler only maps protos to these calls.
class MfaService {
 public:
  MfaService(FactorStore& factors, ChallengeStore& challenges, DeliveryClient& delivery,
             BrowserStore& browsers, crypto::Aead master, const Clock& clock, MfaPolicy policy,
             audit::AuditLog* audit = nullptr);

  [[nodiscard]] Result<std::vector<FactorRecord>> List(const std::string& subject);
  /// A pending authenticator-app factor with a new 160-bit seed (RFC 4226 §4 R6).
  [[nodiscard]] Result<TotpEnrolment> StartTotp(const std::string& subject,
                                                const std::string& label,
                                                const std::string& account_name);
  /// Activates the pending factor when `code` is right (its step becomes the last accepted).
  [[nodiscard]] Result<CodeOutcome> ConfirmTotp(const std::string& subject,
                                                const std::string& factor_id,
                                                const std::string& code);
  /// Removes a factor; with keep_two_methods, refuses (kKeepTwoMethods, nothing changed) when
  /// it is an active method and the person has no more than two. kNotFound: no such factor.
  [[nodiscard]] Result<Refusal> Remove(const std::string& subject, const std::string& factor_id);
  [[nodiscard]] Result<std::string> StartChallenge(const std::string& subject);
  /// Checks an authenticator-app code (`recovery` false) or a recovery code against the
  /// challenge; wrong codes count against the challenge and the person.
  [[nodiscard]] Result<Verification> Verify(const std::string& challenge_id,
                                            const std::string& subject, VerifyMethod method,
                                            const std::string& code);
  /// A pending email ("email") or SMS ("sms") factor, and a code sent to it. A mobile number
  /// may be typed in national format: `region` ("NL"; "" for the policy's default) says
  /// whose. A malformed destination, a number of a country outside the policy's list, or a
  /// refusal by delivery stores nothing.
  [[nodiscard]] Result<DeliveryEnrolment> StartDeliveryEnrolment(const std::string& subject,
                                                                 const std::string& type,
                                                                 const std::string& destination,
                                                                 const std::string& region = "");
  /// Activates the pending factor with the code sent to it (5 wrong tries, 10 minutes).
  [[nodiscard]] Result<Verification> ConfirmDeliveryEnrolment(const std::string& subject,
                                                              const std::string& factor_id,
                                                              const std::string& code);
  /// Sends a new sign-in code for the challenge to an active email or SMS factor; the
  /// previous code stops working (only the newest is valid).
  [[nodiscard]] Result<SentCodeResult> SendCode(const std::string& challenge_id,
                                                const std::string& subject,
                                                const std::string& factor_id);
  /// How the challenge's last code is doing at delivery (empty state when none was sent).
  [[nodiscard]] Result<std::pair<MessageStatus, std::string>> CodeStatus(
      const std::string& challenge_id, const std::string& subject);
  /// Ten new single-use codes ("xxxxx-xxxxx"); the old ones stop working.
  [[nodiscard]] Result<std::vector<std::string>> GenerateRecoveryCodes(const std::string& subject);
  [[nodiscard]] Result<int> RecoveryCodesLeft(const std::string& subject);
  /// The help desk's reset after a lost phone: every factor removed and every remembered
  /// browser forgotten, so the next sign-in starts from scratch; returns the factors removed.
  [[nodiscard]] Result<int> Reset(const std::string& subject);

  /// "Remember this browser" for `days` (1 to 365): the token for the browser's cookie (256
  /// bits); only its hash is stored.
  [[nodiscard]] Result<std::string> RememberBrowser(const std::string& subject,
                                                    const std::string& label, int days);
  /// True when `token` is a live remembered browser of `subject` (a malformed token: false).
  [[nodiscard]] Result<bool> CheckBrowser(const std::string& subject, const std::string& token);
  [[nodiscard]] Result<std::vector<BrowserRecord>> ListBrowsers(const std::string& subject);
  /// Forgets one remembered browser (`id`) or all (empty id); returns how many.
  [[nodiscard]] Result<int> ForgetBrowsers(const std::string& subject, const std::string& id);

  /// The stored hash of a sent code, bound to its challenge or pending factor.
  static std::string CodeHash(const std::string& context, const std::string& code);
  /// The stored hash of a recovery code (normalised: case, spaces and dashes ignored).
  static std::string RecoveryHash(const std::string& subject, const std::string& code);

 private:
  Result<Verification> Wrong(const std::string& challenge_id, const std::string& subject);
  Result<CodeOutcome> CheckTotpEnrolment(const std::string& subject, const std::string& factor_id,
                                         const std::string& code);
  Result<Verification> CheckCode(const std::string& challenge_id, const std::string& subject,
                                 VerifyMethod method, const std::string& code);
  Result<Verification> CheckDeliveryEnrolment(const std::string& subject,
                                              const std::string& factor_id,
                                              const std::string& code);
  /// Records `event` about `subject` in the audit log, when there is one.
  void Audit(std::string event, const std::string& subject,
             std::vector<std::pair<std::string, std::string>> detail = {});

  /// Tells every active email and SMS factor of the person, other than `except_id`, that
  /// `factor_name` was added or removed (SECURITY §48). Best effort: a failure is logged.
  void NotifyChannels(const std::string& subject, bool added, const std::string& factor_name,
                      const std::string& except_id);
  /// Sends `code` to the destination sealed in factor `f`.
  Result<SendResult> SendTo(const FactorRecord& f, const std::string& key, CodePurpose purpose,
                            const std::string& code);

  FactorStore& factors_;
  ChallengeStore& challenges_;
  DeliveryClient& delivery_;
  BrowserStore& browsers_;
  crypto::Aead master_;
  const Clock& clock_;
  MfaPolicy policy_;
  audit::AuditLog* audit_;
};

}  // namespace idp::mfa
