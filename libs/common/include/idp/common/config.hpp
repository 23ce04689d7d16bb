#pragma once
/// @file The stack's configuration: one TOML file for every service, overridden by IDP_*
/// environment variables. Key "section.name" is overridden by IDP_SECTION_NAME
/// (upper-cased, dots become underscores); a top-level key "master_key" by IDP_MASTER_KEY.
/// Arrays of strings read as comma-separated lists; arrays of tables ([[clients]]) as numbered
/// sections ("clients.0.client_id").

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idp {

class Config {
 public:
  /// Loads `path` (TOML) and applies the environment. An empty path means environment only.
  /// Throws std::runtime_error on a missing or malformed file (startup errors are fatal).
  static Config Load(const std::string& path);

  /// Builds a configuration from a flat map (tests), then applies no environment.
  static Config FromMap(std::map<std::string, std::string> values);

  /// The raw value of `key`, after environment overrides.
  std::optional<std::string> Find(std::string_view key) const;

  std::string GetString(std::string_view key, std::string_view fallback) const;
  /// Throws std::runtime_error naming the key and its environment variable when absent.
  std::string RequireString(std::string_view key) const;
  /// Throws std::runtime_error when the value is not an integer.
  std::int64_t GetInt(std::string_view key, std::int64_t fallback) const;
  bool GetBool(std::string_view key, bool fallback) const;
  std::chrono::seconds GetSeconds(std::string_view key, std::chrono::seconds fallback) const;

  /// The file's keys that start with `prefix` (environment-only keys are not listed).
  std::vector<std::string> KeysWithPrefix(std::string_view prefix) const;

  /// The environment variable that overrides `key`.
  static std::string EnvName(std::string_view key);

  void Set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace idp
