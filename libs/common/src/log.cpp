#include "idp/common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace idp::log {
namespace {

std::string g_service = "idp";  // NOLINT: set once in Init before threads start
thread_local std::string t_request_id;

void AppendQuoted(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string(s));
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void Write(spdlog::level::level_enum lvl, std::string_view level, std::string_view msg,
           Fields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(lvl)) return;
  logger->log(lvl, FormatLine(level, msg, fields));
}

}  // namespace

std::string FormatLine(std::string_view level, std::string_view msg, Fields fields) {
  std::string line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"";
  line += level;
  line += "\",\"service\":";
  AppendQuoted(line, g_service);
  bool has_rid = false;
  for (const auto& f : fields) has_rid = has_rid || f.key == "request_id";
  if (!has_rid && !t_request_id.empty()) {
    line += ",\"request_id\":";
    AppendQuoted(line, t_request_id);
  }
  line += ",\"msg\":";
  AppendQuoted(line, msg);
  for (const auto& f : fields) {
    line += ',';
    AppendQuoted(line, f.key);
    line += ':';
    std::visit(
        [&line](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            AppendQuoted(line, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else {
            line += std::to_string(v);
          }
        },
        f.value);
  }
  line += '}';
  return line;
}

void Init(std::string_view service, std::string_view level) {
  g_service = std::string(service);
  spdlog::drop(std::string(service) + "-json");  // Init may run twice (fatal path)
  auto logger = spdlog::stderr_logger_mt(std::string(service) + "-json");
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void Debug(std::string_view msg, Fields fields) { Write(spdlog::level::debug, "debug", msg, fields); }
void Info(std::string_view msg, Fields fields) { Write(spdlog::level::info, "info", msg, fields); }
void Warn(std::string_view msg, Fields fields) { Write(spdlog::level::warn, "warn", msg, fields); }
void Error(std::string_view msg, Fields fields) { Write(spdlog::level::err, "error", msg, fields); }

void Flush() { spdlog::default_logger_raw()->flush(); }

ScopedRequestId::ScopedRequestId(std::string id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(id);
}
ScopedRequestId::~ScopedRequestId() { t_request_id = std::move(previous_); }

const std::string& CurrentRequestId() { return t_request_id; }

std::string NewRequestId() {
  // Not a secret: a fast per-thread PRNG seeded from the OS is enough for correlation ids.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 2; ++i) {
    auto v = rng();
    for (int j = 0; j < 16; ++j) id[i * 16 + j] = kHex[(v >> (j * 4)) & 0xf];
  }
  return id;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace idp::log
