#include "idp/common/config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace idp {
namespace {

void Flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string, std::less<>>& out) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      Flatten(*sub, key, out);
    } else if (const auto* s = node.as_string()) {
      out[key] = s->get();
    } else if (const auto* i = node.as_integer()) {
      out[key] = std::to_string(i->get());
    } else if (const auto* b = node.as_boolean()) {
      out[key] = b->get() ? "true" : "false";
    } else if (const auto* f = node.as_floating_point()) {
      out[key] = std::to_string(f->get());
    } else if (const auto* a = node.as_array(); a && !a->empty() && a->front().is_table()) {
      // An array of tables ([[clients]]) becomes "clients.0.key", "clients.1.key", ...
      std::size_t i = 0;
      for (const auto& el : *a) {
        if (const auto* t = el.as_table()) Flatten(*t, key + "." + std::to_string(i++), out);
      }
    } else if (a) {
      // Arrays of strings become a comma-separated list.
      std::string joined;
      for (const auto& el : *a) {
        if (const auto* es = el.as_string()) {
          if (!joined.empty()) joined += ',';
          joined += es->get();
        }
      }
      out[key] = joined;
    }
  }
}

}  // namespace

std::string Config::EnvName(std::string_view key) {
  std::string env = "IDP_";
  for (char c : key) {
    env += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return env;
}

Config Config::Load(const std::string& path) {
  Config cfg;
  if (!path.empty()) {
    try {
      toml::table t = toml::parse_file(path);
      Flatten(t, "", cfg.values_);
    } catch (const toml::parse_error& e) {
      throw std::runtime_error("config " + path + ": " + std::string(e.description()));
    }
  }
  // Overrides for the keys the file names; Find() also consults the environment for keys the
  // file leaves out.
  for (auto& [key, value] : cfg.values_) {
    if (const char* v = std::getenv(EnvName(key).c_str())) value = v;
  }
  return cfg;
}

Config Config::FromMap(std::map<std::string, std::string> values) {
  Config cfg;
  for (auto& [k, v] : values) cfg.values_[k] = v;
  return cfg;
}

std::vector<std::string> Config::KeysWithPrefix(std::string_view prefix) const {
  std::vector<std::string> out;
  for (auto it = values_.lower_bound(prefix);
       it != values_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix; ++it) {
    out.push_back(it->first);
  }
  return out;
}

std::optional<std::string> Config::Find(std::string_view key) const {
  // The environment wins even for keys the file does not name.
  if (const char* v = std::getenv(EnvName(key).c_str())) return std::string(v);
  if (auto it = values_.find(key); it != values_.end()) return it->second;
  return std::nullopt;
}

std::string Config::GetString(std::string_view key, std::string_view fallback) const {
  auto v = Find(key);
  return v ? *v : std::string(fallback);
}

std::string Config::RequireString(std::string_view key) const {
  auto v = Find(key);
  if (!v || v->empty()) {
    throw std::runtime_error("missing configuration " + std::string(key) + " (environment " +
                             EnvName(key) + ")");
  }
  return *v;
}

std::int64_t Config::GetInt(std::string_view key, std::int64_t fallback) const {
  auto v = Find(key);
  if (!v || v->empty()) return fallback;
  std::size_t pos = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(*v, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos != v->size()) {
    throw std::runtime_error("configuration " + std::string(key) + " is not an integer");
  }
  return n;
}

bool Config::GetBool(std::string_view key, bool fallback) const {
  auto v = Find(key);
  if (!v || v->empty()) return fallback;
  if (*v == "true" || *v == "1" || *v == "yes") return true;
  if (*v == "false" || *v == "0" || *v == "no") return false;
  throw std::runtime_error("configuration " + std::string(key) + " is not a boolean");
}

std::chrono::seconds Config::GetSeconds(std::string_view key, std::chrono::seconds fallback) const {
  return std::chrono::seconds(GetInt(key, fallback.count()));
}

}  // namespace idp
