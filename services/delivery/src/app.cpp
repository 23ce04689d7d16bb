#include "app.hpp"

#include "curl_util.hpp"
#include "delivery_service.hpp"
#include "dispatcher.hpp"
#include "file_sender.hpp"
#include "grpc_handler.hpp"
#include "mime.hpp"
#include "metrics.hpp"
#include "outbox_cipher.hpp"
#include "phone.hpp"
#include "redis_outbox.hpp"
#include "smtp_sender.hpp"
#include "twilio_sender.hpp"

#include "idp/common/config.hpp"
#include "idp/common/log.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/metrics/exporter.hpp"
#include "idp/metrics/registry.hpp"
#include "idp/phone/phone.hpp"
#include "idp/rpc/server.hpp"
#include "idp/store/pool_metrics.hpp"
#include "idp/store/redis.hpp"

#include <unistd.h>

#include <memory>
#include <stdexcept>

namespace idp::delivery {
namespace {

template <class T>
T OrThrow(Result<T> r, std::string_view what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

std::chrono::milliseconds Ms(const Config& c, std::string_view key, std::int64_t fallback) {
  return std::chrono::milliseconds(c.GetInt(key, fallback));
}

/// The providers built from configuration, owned here.
struct ProviderSet {
  std::unique_ptr<FileOutbox> files;
  std::unique_ptr<EmailSender> email;
  std::unique_ptr<SmsSender> sms;
  std::unique_ptr<SmsSender> sms_fallback;
  std::chrono::milliseconds longest_timeout{0};
};

FileOutbox& Files(ProviderSet& p, const Config& config) {
  if (!p.files) {
    p.files = std::make_unique<FileOutbox>(config.GetString("delivery.file_dir", "var/outbox"));
    log::Warn("the file provider writes messages, codes included, to disk: local runs only",
              {{"dir", config.GetString("delivery.file_dir", "var/outbox")}});
  }
  return *p.files;
}

std::unique_ptr<SmsSender> MakeSms(ProviderSet& p, const Config& config, std::string_view kind,
                                   const std::string& prefix, std::string name) {
  if (kind == "none") return nullptr;
  if (kind == "file") return std::make_unique<FileSmsSender>(Files(p, config));
  if (kind != "twilio") {
    throw std::runtime_error("delivery." + prefix + "provider must be none, twilio or file");
  }
  SmsApiOptions o;
  o.name = std::move(name);
  o.base_url = config.GetString("delivery." + prefix + "api_base", "https://api.twilio.com");
  o.account_sid = config.RequireString("delivery." + prefix + "account_sid");
  o.auth_token = config.RequireString("delivery." + prefix + "auth_token");
  o.from = config.RequireString("delivery." + prefix + "from");
  o.ca_file = config.GetString("delivery." + prefix + "ca_file", "");
  o.timeout = std::chrono::seconds(config.GetInt("delivery.sms_timeout", 10));
  o.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(5000));
  p.longest_timeout = std::max(p.longest_timeout, o.timeout);
  return OrThrow(TwilioSmsSender::Create(std::move(o)), "SMS provider");
}

ProviderSet MakeProviders(const Config& config, const DeliverySettings& settings) {
  ProviderSet p;
  const std::string email = config.GetString("delivery.email_provider", "none");
  if (email == "smtp") {
    SmtpOptions o;
    o.url = config.RequireString("delivery.smtp_url");
    o.starttls = OrThrow(ParseStartTls(config.GetString("delivery.smtp_starttls", "required")),
                         "delivery.smtp_starttls");
    o.username = config.GetString("delivery.smtp_username", "");
    o.password = config.GetString("delivery.smtp_password", "");
    o.ca_file = config.GetString("delivery.smtp_ca_file", "");
    o.envelope_from = settings.from_address;
    o.timeout = std::chrono::seconds(config.GetInt("delivery.smtp_timeout", 20));
    o.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(5000));
    if (!o.username.empty() && o.url.rfind("smtp://", 0) == 0 && o.starttls != StartTls::kRequired) {
      log::Warn("SMTP credentials may travel in clear: set delivery.smtp_starttls = \"required\" "
                "or use smtps://");
    }
    p.longest_timeout = std::max(p.longest_timeout, o.timeout);
    p.email = OrThrow(SmtpEmailSender::Create(std::move(o)), "SMTP provider");
  } else if (email == "file") {
    p.email = std::make_unique<FileEmailSender>(Files(p, config));
  } else if (email != "none") {
    throw std::runtime_error("delivery.email_provider must be none, smtp or file");
  }
  const std::string sms = config.GetString("delivery.sms_provider", "none");
  p.sms = MakeSms(p, config, sms, "sms_", sms);
  const std::string fallback = config.GetString("delivery.sms_fallback_provider", "none");
  if (fallback != "none" && !p.sms) {
    throw std::runtime_error("delivery.sms_fallback_provider needs delivery.sms_provider");
  }
  p.sms_fallback = MakeSms(p, config, fallback, "sms_fallback_", fallback + "_fallback");
  return p;
}

DeliverySettings MakeSettings(const Config& config) {
  DeliverySettings s;
  s.product_name = config.GetString("delivery.product_name", "Identity");
  s.email_enabled = config.GetString("delivery.email_provider", "none") != "none";
  s.sms_enabled = config.GetString("delivery.sms_provider", "none") != "none";
  s.from_address = config.GetString("delivery.email_from", "");
  s.from_name = config.GetString("delivery.email_from_name", s.product_name);
  if (s.email_enabled) {
    if (auto st = ValidateAddress(s.from_address, "delivery.email_from"); !st) {
      throw std::runtime_error("configuration: " + st.error().message);
    }
    if (auto st = ValidateDisplayName(s.from_name, "delivery.email_from_name"); !st) {
      throw std::runtime_error("configuration: " + st.error().message);
    }
  }
  s.sms_countries = OrThrow(
      ParseCountryList(config.GetString("delivery.sms_countries", phone::kDefaultSmsCountries)),
      "delivery.sms_countries");
  s.destination_limits = OrThrow(
      ParseRateSpec(config.GetString("delivery.limit_destination", "1/30s,3/5m,10/1d")),
      "delivery.limit_destination");
  s.country_limits = OrThrow(
      ParseRateSpec(config.GetString("delivery.limit_country", "60/1m,600/1h")),
      "delivery.limit_country");
  s.sms_daily_budget = config.GetInt("delivery.sms_daily_budget", 1000);
  return s;
}

std::string ConsumerPrefix() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "delivery") + "-" + std::to_string(getpid()) + "-" +
         crypto::RandomToken(4);
}

}  // namespace

int RunApp(const Config& config) {
  CurlGlobalInit();
  // Payloads are sealed: the key is required (there is no safe default).
  const std::string secret =
      config.GetString("delivery.outbox_key", config.GetString("master_key", ""));
  if (secret.empty()) {
    throw std::runtime_error(
        "missing configuration delivery.outbox_key (IDP_DELIVERY_OUTBOX_KEY) or master_key "
        "(IDP_MASTER_KEY): the outbox seals its payloads");
  }
  const OutboxCipher cipher = OrThrow(OutboxCipher::FromEncodedSecret(secret), "outbox key");

  const DeliverySettings settings = MakeSettings(config);
  ProviderSet providers = MakeProviders(config, settings);

  DispatcherOptions dopt;
  dopt.workers = static_cast<int>(std::clamp<std::int64_t>(config.GetInt("delivery.workers", 4), 1, 64));
  dopt.consumer_prefix = ConsumerPrefix();
  dopt.claim_after = std::chrono::seconds(config.GetInt("delivery.claim_after", 60));
  dopt.backoff.base = Ms(config, "delivery.retry_base_ms", 2000);
  dopt.backoff.cap = Ms(config, "delivery.retry_max_ms", 300000);
  dopt.backoff.max_attempts =
      static_cast<int>(std::clamp<std::int64_t>(config.GetInt("delivery.max_attempts", 8), 1, 100));
  dopt.breaker_threshold =
      static_cast<int>(std::max<std::int64_t>(1, config.GetInt("delivery.sms_breaker_failures", 3)));
  dopt.breaker_cooldown = config.GetSeconds("delivery.sms_breaker_cooldown", std::chrono::seconds(60));
  // A send still running when its entry is claimed would be sent twice.
  if (dopt.claim_after < providers.longest_timeout + std::chrono::seconds(1)) {
    throw std::runtime_error(
        "delivery.claim_after must exceed the longest provider timeout by at least 1 s");
  }

  auto redis_options = OrThrow(
      store::ParseRedisUrl(config.GetString("delivery.redis_url", config.RequireString("redis.url"))),
      "delivery.redis_url");
  // Workers hold a connection while they block on the stream; handlers need their own.
  redis_options.pool_size = static_cast<std::size_t>(
      config.GetInt("delivery.redis_pool_size", dopt.workers + 9));
  redis_options.command_timeout = dopt.block + std::chrono::milliseconds(2000);
  store::RedisClient redis(redis_options);

  RedisOutboxOptions oopt;
  oopt.prefix = config.GetString("delivery.key_prefix", "delivery:");
  oopt.idempotency_ttl = config.GetSeconds("delivery.idempotency_ttl", std::chrono::seconds(86400));
  oopt.status_ttl = config.GetSeconds("delivery.status_ttl", std::chrono::seconds(7 * 86400));
  RedisOutbox outbox(redis, oopt);

  SystemClock clock;
  Metrics metrics;
  DeliveryService service(outbox, cipher, clock, metrics, settings);
  Dispatcher dispatcher(outbox, cipher,
                        {providers.email.get(), providers.sms.get(), providers.sms_fallback.get()},
                        metrics, clock, dopt);
  DeliveryGrpcHandler handler(service, metrics, [&outbox] { return outbox.Depth(); });

  // /metrics: the calls and the pool, then this instance's delivery counters and the shared
  // outbox's depth (omitted while Redis is down), the text GetMetrics also returns.
  metrics::Registry registry;
  store::ExportPoolMetrics(registry, {{"redis", [&redis] { return redis.Stats(); }}});
  registry.AddTextSource([&metrics, &outbox] {
    auto depth = outbox.Depth();
    return metrics.Render(depth ? &*depth : nullptr);
  });
  rpc::ServerOptions options{config.GetString("delivery.listen", "127.0.0.1:7003")};
  options.metrics = &registry;
  rpc::GrpcServer server(options, {&handler});
  auto exporter = metrics::StartExporter(config, "delivery.metrics_listen", registry,
                                         [&server] { return server.serving(); });
  dispatcher.Start();
  log::Info("serving", {{"port", server.port()},
                        {"email", providers.email ? providers.email->Name() : "none"},
                        {"sms", providers.sms ? providers.sms->Name() : "none"},
                        {"sms_fallback",
                         providers.sms_fallback ? providers.sms_fallback->Name() : "none"}});
  int sig = rpc::WaitForShutdownSignal();
  log::Info("shutting down", {{"signal", sig}});
  server.Shutdown();
  if (exporter) exporter->Stop();
  dispatcher.Stop();
  return 0;
}

}  // namespace idp::delivery
