#include "delivery_service.hpp"

#include "metrics.hpp"
#include "mime.hpp"
#include "phone.hpp"

#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace idp::delivery {
namespace {

Status ValidateIdempotencyKey(const std::string& key) {
  if (key.empty()) return InvalidArgument("idempotency_key is required");
  if (key.size() > kMaxIdempotencyKey) {
    return InvalidArgument("idempotency_key is longer than " + std::to_string(kMaxIdempotencyKey) +
                           " characters");
  }
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return InvalidArgument("idempotency_key may hold letters, digits and . _ : - only");
    }
  }
  return {};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The link of a reset or invitation email: an absolute https URL (http only for localhost or a
/// loopback address), at most kMaxLinkChars, printable ASCII without spaces.
Status ValidateLink(const std::string& link) {
  if (link.empty()) return InvalidArgument("link is required by this template");
  if (link.size() > kMaxLinkChars) {
    return InvalidArgument("link is longer than " + std::to_string(kMaxLinkChars) + " characters");
  }
  for (char c : link) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return InvalidArgument("link must not hold spaces, control or non-ASCII characters");
    }
  }
  std::string_view rest;
  bool https = false;
  if (link.rfind("https://", 0) == 0) {
    https = true;
    rest = std::string_view(link).substr(8);
  } else if (link.rfind("http://", 0) == 0) {
    rest = std::string_view(link).substr(7);
  } else {
    return InvalidArgument("link must be an absolute https URL");
  }
  const auto end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return InvalidArgument("link must name a host (and no user information)");
  }
  if (!https) {
    std::string_view host = authority;
    if (host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    const bool loopback = host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
    if (!loopback) return InvalidArgument("link must use https (http only for localhost)");
  }
  return {};
}

SendResult Refused(Refusal why, std::string country) {
  SendResult r;
  r.refusal = why;
  r.country = std::move(country);
  return r;
}

std::int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

DeliveryService::DeliveryService(Outbox& outbox, const OutboxCipher& cipher, const Clock& clock,
                                 Metrics& metrics, DeliverySettings settings)
    : outbox_(outbox),
      cipher_(cipher),
      clock_(clock),
      metrics_(metrics),
      settings_(std::move(settings)) {}

Result<TemplateValues> DeliveryService::CheckTemplate(
    TemplateId id, const std::string& code, const std::optional<std::chrono::seconds>& valid_for,
    const std::string& factor_name, const std::string& link) const {
  if (id == TemplateId::kUnspecified) return InvalidArgument("template is required");
  TemplateValues v;
  v.product_name = settings_.product_name;
  if (!CarriesLink(id) && !link.empty()) {
    return InvalidArgument("link is not used by this template");
  }
  if (CarriesLink(id)) {
    if (auto st = ValidateLink(link); !st) return st.error();
    if (!code.empty()) return InvalidArgument("code is not used by this template");
    if (!factor_name.empty()) return InvalidArgument("factor_name is not used by this template");
    v.link = link;
    v.code_valid_for = valid_for.value_or(std::chrono::seconds(1800));
    if (v.code_valid_for <= std::chrono::seconds(0) || v.code_valid_for > kMaxLinkValidity) {
      return InvalidArgument("code_valid_for must be more than 0 and at most " +
                             std::to_string(kMaxLinkValidity.count()) + " s for a link");
    }
  } else if (id == TemplateId::kPasswordChanged) {
    if (!code.empty()) return InvalidArgument("code is not used by this template");
    if (!factor_name.empty()) return InvalidArgument("factor_name is not used by this template");
  } else if (id == TemplateId::kAccountLocked) {
    if (!code.empty()) return InvalidArgument("code is not used by this template");
    if (!factor_name.empty()) return InvalidArgument("factor_name is not used by this template");
    if (!valid_for) return InvalidArgument("code_valid_for (how long the lock lasts) is required");
    v.code_valid_for = *valid_for;
    if (v.code_valid_for <= std::chrono::seconds(0) || v.code_valid_for > kMaxLinkValidity) {
      return InvalidArgument("code_valid_for must be more than 0 and at most " +
                             std::to_string(kMaxLinkValidity.count()) + " s");
    }
  } else if (CarriesCode(id)) {
    if (code.size() < 4 || code.size() > 12 ||
        !std::all_of(code.begin(), code.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
      return InvalidArgument("code must be 4-12 letters or digits");
    }
    if (!factor_name.empty()) return InvalidArgument("factor_name is not used by this template");
    v.code = code;
    v.code_valid_for = valid_for.value_or(settings_.default_code_validity);
    if (v.code_valid_for <= std::chrono::seconds(0) ||
        v.code_valid_for > settings_.max_code_validity) {
      return InvalidArgument("code_valid_for must be more than 0 and at most " +
                             std::to_string(settings_.max_code_validity.count()) + " s");
    }
  } else {
    if (!code.empty()) return InvalidArgument("code is not used by this template");
    if (factor_name.empty()) return InvalidArgument("factor_name is required by this template");
    if (auto st = ValidateDisplayName(factor_name, "factor_name"); !st) return st.error();
    if (Utf8Length(factor_name) > kMaxFactorNameChars) {
      return InvalidArgument("factor_name is longer than " + std::to_string(kMaxFactorNameChars) +
                             " characters");
    }
    v.factor_name = factor_name;
  }
  return v;
}

Result<SendResult> DeliveryService::Enqueue(NewMessage& m, const EnqueueLimits& limits,
                                            Channel channel) {
  auto r = outbox_.Enqueue(m, limits);
  if (!r) return r.error();
  SendResult out;
  switch (r->outcome) {
    case EnqueueResult::Outcome::kQueued:
      out.message_id = r->message_id;
      break;
    case EnqueueResult::Outcome::kReplayed:
      out.message_id = r->message_id;
      out.replayed = true;
      break;
    case EnqueueResult::Outcome::kConflict:
      return AlreadyExists("idempotency_key was used for a different message");
    case EnqueueResult::Outcome::kRefused:
      out.refusal = r->refusal;
      out.retry_after = r->retry_after;
      metrics_.Refused(channel, r->refusal);
      break;
  }
  return out;
}

Result<SendResult> DeliveryService::SendEmail(const EmailRequest& req) {
  if (auto st = ValidateIdempotencyKey(req.idempotency_key); !st) return st.error();
  if (auto st = ValidateAddress(req.to_address, "to_address"); !st) return st.error();
  if (auto st = ValidateDisplayName(req.to_name, "to_name"); !st) return st.error();
  auto values =
      CheckTemplate(req.template_id, req.code, req.code_valid_for, req.factor_name, req.link);
  if (!values) return values.error();
  if (!settings_.email_enabled) {
    metrics_.Refused(Channel::kEmail, Refusal::kChannelDisabled);
    return Refused(Refusal::kChannelDisabled, "");
  }

  const auto now = clock_.Now();
  NewMessage m;
  m.message_id = crypto::RandomToken(16);
  m.channel = Channel::kEmail;
  m.template_name = std::string(TemplateName(req.template_id));
  m.queued_at_ms = ToMs(now);
  // A code or a link is not worth sending once it stopped working.
  const bool expiring = CarriesCode(req.template_id) || CarriesLink(req.template_id);
  m.expires_at_ms = m.queued_at_ms + 1000 * (expiring ? values->code_valid_for.count()
                                                      : settings_.notice_max_age.count());

  const EmailContent content = RenderEmail(req.template_id, *values);
  MimeMessage mime;
  mime.from_name = settings_.from_name;
  mime.from_address = settings_.from_address;
  mime.to_name = req.to_name;
  mime.to_address = req.to_address;
  mime.subject = content.subject;
  mime.text = content.text;
  mime.html = content.html;
  // The id stays the same on every attempt, so a receiving system can drop a duplicate.
  mime.message_id = m.message_id + "@" +
                    settings_.from_address.substr(settings_.from_address.find('@') + 1);
  mime.date = now;
  mime.boundary = "=_idp_" + crypto::RandomToken(18);
  auto built = BuildMimeMessage(mime);
  if (!built) return built.error();

  m.payload = cipher_.Seal(boost::json::serialize(boost::json::object{
                               {"to", req.to_address}, {"mime", std::move(*built)}}),
                           m.message_id);
  const std::string destination = Lower(req.to_address);
  m.idempotency_hash = cipher_.Hash("idempotency", req.idempotency_key);
  m.destination_hash = cipher_.Hash("destination", "email:" + destination);
  m.fingerprint = cipher_.Hash(
      "fingerprint", boost::json::serialize(boost::json::array{
                         "email", destination, req.to_name, m.template_name, req.code,
                         values->code_valid_for.count(), req.factor_name, req.link}));

  EnqueueLimits limits;
  if (CarriesCode(req.template_id)) limits.destination = settings_.destination_limits;
  auto out = Enqueue(m, limits, Channel::kEmail);
  if (out && !out->message_id.empty() && !out->replayed) {
    log::Info("queued", {{"message_id", out->message_id},
                         {"channel", "email"},
                         {"template", m.template_name},
                         {"to", MaskAddress(req.to_address)}});
  }
  return out;
}

Result<SendResult> DeliveryService::SendSms(const SmsRequest& req) {
  if (auto st = ValidateIdempotencyKey(req.idempotency_key); !st) return st.error();
  auto number = ParseE164(req.to_number, "to_number");
  if (!number) return number.error();
  if (CarriesLink(req.template_id)) {
    return InvalidArgument("this template is sent by email only");
  }
  auto values = CheckTemplate(req.template_id, req.code, req.code_valid_for, req.factor_name, "");
  if (!values) return values.error();
  if (!settings_.sms_enabled) {
    metrics_.Refused(Channel::kSms, Refusal::kChannelDisabled);
    return Refused(Refusal::kChannelDisabled, number->country);
  }
  if (number->country.empty() || settings_.sms_countries.count(number->country) == 0) {
    metrics_.Refused(Channel::kSms, Refusal::kUnsupportedCountry);
    log::Info("sms refused: unsupported country",
              {{"to", MaskNumber(number->e164)}, {"country", number->country}});
    return Refused(Refusal::kUnsupportedCountry, number->country);
  }

  const auto now = clock_.Now();
  NewMessage m;
  m.message_id = crypto::RandomToken(16);
  m.channel = Channel::kSms;
  m.country = number->country;
  m.template_name = std::string(TemplateName(req.template_id));
  m.queued_at_ms = ToMs(now);
  m.expires_at_ms =
      m.queued_at_ms + 1000 * (CarriesCode(req.template_id) ? values->code_valid_for.count()
                                                            : settings_.notice_max_age.count());
  const std::string body = RenderSms(req.template_id, *values);
  m.payload = cipher_.Seal(
      boost::json::serialize(boost::json::object{{"to", number->e164}, {"body", body}}),
      m.message_id);
  m.idempotency_hash = cipher_.Hash("idempotency", req.idempotency_key);
  m.destination_hash = cipher_.Hash("destination", "sms:" + number->e164);
  m.fingerprint = cipher_.Hash(
      "fingerprint",
      boost::json::serialize(boost::json::array{"sms", number->e164, m.template_name, req.code,
                                                values->code_valid_for.count(),
                                                req.factor_name}));

  EnqueueLimits limits;
  if (CarriesCode(req.template_id)) limits.destination = settings_.destination_limits;
  limits.country = settings_.country_limits;
  limits.daily_budget = settings_.sms_daily_budget;
  auto out = Enqueue(m, limits, Channel::kSms);
  if (out) out->country = number->country;
  if (out && !out->message_id.empty() && !out->replayed) {
    log::Info("queued", {{"message_id", out->message_id},
                         {"channel", "sms"},
                         {"template", m.template_name},
                         {"country", number->country},
                         {"to", MaskNumber(number->e164)}});
  }
  return out;
}

Result<MessageStatus> DeliveryService::GetStatus(const std::string& message_id) {
  if (message_id.empty()) return InvalidArgument("message_id is required");
  if (message_id.size() > 64 ||
      !std::all_of(message_id.begin(), message_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
      })) {
    return InvalidArgument("message_id is malformed");
  }
  auto s = outbox_.GetStatus(message_id);
  if (!s) return s.error();
  if (!*s) return NotFound("no such message (unknown, or its status expired)");
  return std::move(**s);
}

}  // namespace idp::delivery
