#include "idp/http/message.hpp"

#include <algorithm>
#include <unordered_set>
#include <cstddef>

namespace idp::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

// RFC 3986 §2.3.
bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 6265 §4.1.1 cookie-name is an RFC 7230 token.
bool IsTokenChar(unsigned char c) {
  if (IsUnreserved(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '^':
    case '`': case '|':
      return true;
    default:
      return false;
  }
}

}  // namespace

// RFC 3629 §4: the table of well-formed byte sequences.
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  auto in = [](unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; };
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (in(c, 0xC2, 0xDF)) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;  // no overlongs
    } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;  // no UTF-16 surrogates
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;  // no overlongs
    } else if (in(c, 0xF1, 0xF3)) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;  // 0x80-0xC1 and 0xF5-0xFF never start a sequence
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (!in(p[1], lo, hi)) return false;
    for (std::size_t i = 2; i < len; ++i) {
      if (!in(p[i], 0x80, 0xBF)) return false;
    }
    p += len;
  }
  return true;
}

Result<std::string> PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (s.size() - i < 3) return InvalidArgument("truncated percent-escape");
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("malformed percent-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!IsValidUtf8(out)) return InvalidArgument("not valid UTF-8");
  return out;
}

Result<Params> Params::Parse(std::string_view text) {
  Params params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view piece = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (piece.empty()) continue;  // "a=1&&b=2"
    const std::size_t eq = piece.find('=');
    auto name = PercentDecode(piece.substr(0, eq), true);
    if (!name) return name.error();
    std::string value;
    if (eq != std::string_view::npos) {
      auto decoded = PercentDecode(piece.substr(eq + 1), true);
      if (!decoded) return decoded.error();
      value = std::move(*decoded);
    }
    params.Add(std::move(*name), std::move(value));
  }
  return params;
}

std::optional<std::string> Params::Get(std::string_view name) const {
  for (const auto& [n, v] : items_) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Params::FirstRepeated() const {
  std::unordered_set<std::string_view> seen;
  seen.reserve(items_.size());
  for (const auto& [name, value] : items_) {
    if (!seen.insert(name).second) return name;
  }
  return std::nullopt;
}

int Params::Count(std::string_view name) const {
  return static_cast<int>(
      std::count_if(items_.begin(), items_.end(), [name](const auto& p) { return p.first == name; }));
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += UrlEncode(name);
    out.push_back('=');
    out += UrlEncode(value);
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  // RFC 6265 §5.4 sends one Cookie header, but HTTP/2 proxies may split it into several.
  for (const auto& [n, v] : headers) {
    if (!EqualsIgnoreCase(n, "cookie")) continue;
    for (auto& [cookie_name, cookie_value] : ParseCookieHeader(v)) {
      if (cookie_name == name) return std::move(cookie_value);
    }
  }
  return std::nullopt;
}

void Response::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [name](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> Response::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response r{status, {{"Content-Type", "application/json;charset=utf-8"}}, std::move(body)};
  return r;
}

Response Response::Html(int status, std::string body) {
  Response r{status, {{"Content-Type", "text/html;charset=utf-8"}}, std::move(body)};
  return r;
}

Response Response::Text(int status, std::string body) {
  Response r{status, {{"Content-Type", "text/plain;charset=utf-8"}}, std::move(body)};
  return r;
}

Response Response::Redirect(int status, std::string location) {
  Response r{status, {{"Location", std::move(location)}}, {}};
  return r;
}

std::string SetCookieValue(std::string_view name, std::string_view value,
                           const CookieOptions& options) {
  std::string out;
  out.reserve(name.size() + value.size() + 64);
  out.append(name).append("=").append(value);
  if (!options.path.empty()) out.append("; Path=").append(options.path);
  if (options.max_age) out.append("; Max-Age=").append(std::to_string(*options.max_age));
  if (options.secure) out.append("; Secure");
  if (options.http_only) out.append("; HttpOnly");
  if (!options.same_site.empty()) out.append("; SameSite=").append(options.same_site);
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseCookieHeader(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    const std::string_view piece = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;  // no '=': not a cookie pair
    const std::string_view name = TrimSpaces(piece.substr(0, eq));
    std::string_view value = TrimSpaces(piece.substr(eq + 1));
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); })) {
      continue;
    }
    // RFC 6265 §4.1.1: a cookie-value may be wrapped in double quotes.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

}  // namespace idp::http
