#include "i18n.hpp"

#include "gateway_locales.hpp"


#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>
#include <unordered_map>

namespace idp::gateway {
namespace {

using Catalog = std::unordered_map<std::string, std::string>;

/// Every catalog, parsed once (the files are embedded; a broken one is a build-time bug that
/// the unit test catches).
const std::map<std::string, Catalog, std::less<>>& Catalogs() {
  static const auto* catalogs = [] {
    auto* out = new std::map<std::string, Catalog, std::less<>>;
    for (const char* lang : {"nl"}) {
      auto text = embedded::gateway_locales(std::string(lang) + ".json");
      if (!text) throw std::logic_error(std::string("missing catalog ") + lang);
      Catalog c;
      const auto parsed = boost::json::parse(*text);  // kept alive for the loop below
      for (const auto& [k, v] : parsed.as_object()) {
        if (k.starts_with("//")) continue;  // comments for translators
        c.emplace(std::string(k), std::string(v.as_string()));
      }
      out->emplace(lang, std::move(c));
    }
    return out;
  }();
  return *catalogs;
}

/// "nl-BE" → "nl"; lower case; "" for anything that is not a language tag.
std::string PrimaryTag(std::string_view tag) {
  std::string out;
  for (char c : tag) {
    if (c == '-' || c == '_') break;
    if (!std::isalpha(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out.size() >= 2 && out.size() <= 3 ? out : std::string();
}

bool Supported(const std::string& lang) {
  const auto& all = SupportedLanguages();
  return std::find(all.begin(), all.end(), lang) != all.end();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<std::string>& SupportedLanguages() {
  static const std::vector<std::string> kLanguages = [] {
    std::vector<std::string> out{"en"};
    for (const auto& [lang, catalog] : Catalogs()) out.push_back(lang);
    return out;
  }();
  return kLanguages;
}

std::string PickLanguage(std::string_view preferred, std::string_view ui_locales,
                         std::string_view accept_language, std::string_view fallback) {
  if (auto p = PrimaryTag(preferred); Supported(p)) return p;
  // ui_locales: space-separated, in order of preference.
  while (!ui_locales.empty()) {
    auto space = ui_locales.find(' ');
    auto tag = PrimaryTag(ui_locales.substr(0, space));
    if (Supported(tag)) return tag;
    if (space == std::string_view::npos) break;
    ui_locales.remove_prefix(space + 1);
  }
  // Accept-Language: "nl-NL,nl;q=0.9,en;q=0.8"; the highest q wins, ties by order.
  std::string best;
  double best_q = 0;
  while (!accept_language.empty()) {
    auto comma = accept_language.find(',');
    auto item = Trim(accept_language.substr(0, comma));
    double q = 1;
    if (auto semi = item.find(';'); semi != std::string_view::npos) {
      auto param = Trim(item.substr(semi + 1));
      item = Trim(item.substr(0, semi));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        try {
          q = std::stod(std::string(param.substr(2)));
        } catch (const std::exception&) {
          q = 0;
        }
      }
    }
    auto tag = PrimaryTag(item);
    if (q > best_q && Supported(tag)) {
      best = tag;
      best_q = q;
    }
    if (comma == std::string_view::npos) break;
    accept_language.remove_prefix(comma + 1);
  }
  if (!best.empty()) return best;
  if (fallback.empty()) return {};
  auto f = PrimaryTag(fallback);
  return Supported(f) ? f : "en";
}

std::string Translate(std::string_view lang, std::string_view english) {
  const auto& catalogs = Catalogs();
  auto c = catalogs.find(lang);
  if (c == catalogs.end()) return std::string(english);
  auto it = c->second.find(std::string(english));
  return it == c->second.end() ? std::string(english) : it->second;
}

std::string Translate(std::string_view lang, std::string_view english,
                      std::initializer_list<std::string_view> args) {
  std::string text = Translate(lang, english);
  std::size_t i = 0;
  for (auto arg : args) {
    std::string mark = "{";  // built with += (GCC 12 -Wrestrict false positive on + chains)
    mark += std::to_string(i++);
    mark += '}';
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at + arg.size())) {
      text.replace(at, mark.size(), arg);
    }
  }
  return text;
}

std::string DurationText(std::string_view lang, long long seconds) {
  const char* one = "{0} second";
  const char* many = "{0} seconds";
  long long n = seconds;
  if (seconds >= 3600 && seconds % 3600 == 0) {
    n = seconds / 3600;
    one = "{0} hour";
    many = "{0} hours";
  } else if (seconds >= 60 && seconds % 60 == 0) {
    n = seconds / 60;
    one = "{0} minute";
    many = "{0} minutes";
  }
  const std::string count = std::to_string(n);
  return Translate(lang, n == 1 ? one : many, {count});
}

}  // namespace idp::gateway
