#pragma once
/// @file JSON-lines logging over spdlog. Each line carries ts, level, service, msg, the request
/// id of the call being served, and the caller's fields. Never pass a secret as a field.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace idp::log {

/// One key/value of a log line.
struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, bool, double> value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
};

using Fields = std::initializer_list<Field>;

/// Sets up the process-wide logger: JSON lines on stderr, `level` one of
/// trace/debug/info/warn/error. Call once at start.
void Init(std::string_view service, std::string_view level = "info");

void Debug(std::string_view msg, Fields fields = {});
void Info(std::string_view msg, Fields fields = {});
void Warn(std::string_view msg, Fields fields = {});
void Error(std::string_view msg, Fields fields = {});

/// Builds the JSON line without writing it (tests).
std::string FormatLine(std::string_view level, std::string_view msg, Fields fields);

/// Flushes pending output (before exit).
void Flush();

/// The request id attached to log lines written by this thread, set for the duration of a
/// synchronous call. Code running on an event loop passes "request_id" as a field instead.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

/// The current thread's request id, or empty.
const std::string& CurrentRequestId();

/// A new request id (16 random bytes, hex).
std::string NewRequestId();

/// True when `id` is acceptable as a request id from outside (1-64 chars of [A-Za-z0-9._-]).
bool IsValidRequestId(std::string_view id);

}  // namespace idp::log
