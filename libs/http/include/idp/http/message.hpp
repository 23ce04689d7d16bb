#pragma once
/// @file Plain HTTP request/response types and parsers, free of Beast, so that route handlers
/// compile without Beast's headers.

#include "idp/common/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace idp::http {

/// An ordered list of decoded name/value pairs (query string or form body).
class Params {
 public:
  /// Parses application/x-www-form-urlencoded text ('+' is a space). kInvalidArgument on a
  /// malformed percent-escape or on a name or value that is not valid UTF-8.
  [[nodiscard]] static Result<Params> Parse(std::string_view text);

  /// The first value of `name`.
  std::optional<std::string> Get(std::string_view name) const;
  /// How many times `name` occurs.
  int Count(std::string_view name) const;
  /// The first name that occurs more than once, in one pass (RFC 6749 §3.1: no parameter may
  /// be repeated); nullopt when none is. Linear in the number of parameters, so a body of
  /// thousands of distinct names costs no more than reading it (security review F6).
  std::optional<std::string> FirstRepeated() const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

/// Percent-encodes for a query component (unreserved characters kept, RFC 3986 §2.3).
std::string UrlEncode(std::string_view s);
/// Builds "a=1&b=2" from pairs, each name and value UrlEncoded.
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& pairs);
/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);
/// Decodes %XX escapes (and '+' as a space when `plus_as_space`, for form data). kInvalidArgument
/// on a malformed escape or when the decoded bytes are not valid UTF-8.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view s, bool plus_as_space = false);
/// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

/// One request, fully read (the server caps sizes before this is built).
struct Request {
  std::string method;       ///< "GET", "POST", ...
  std::string target;       ///< raw request target
  std::string path;         ///< target up to '?', percent-decoded
  std::string query;        ///< raw text after '?', empty if none
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  std::string remote_addr;  ///< the client's IP as text (behind a trusted proxy: the one it saw)
  bool tls = false;         ///< served over TLS, here or at a trusted proxy (X-Forwarded-Proto)
  std::string request_id;   ///< from a valid X-Request-Id, else generated

  /// First header named `name` (lower-case).
  std::optional<std::string_view> Header(std::string_view name) const;
  /// Value of cookie `name` from the Cookie header(s).
  std::optional<std::string> Cookie(std::string_view name) const;
};

/// One response; the server adds Content-Length, Date and Connection handling.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Replaces any header of that name (case-insensitive).
  void SetHeader(std::string_view name, std::string value);
  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::optional<std::string_view> Header(std::string_view name) const;

  static Response Json(int status, std::string body);
  static Response Html(int status, std::string body);
  static Response Text(int status, std::string body);
  /// 302 or 303 with Location.
  static Response Redirect(int status, std::string location);
};

/// Attributes of a Set-Cookie header.
struct CookieOptions {
  bool secure = true;
  bool http_only = true;
  std::string same_site = "Lax";   ///< "Lax", "Strict" or "None"
  std::string path = "/";
  std::optional<long> max_age;     ///< seconds; 0 deletes
};

/// Builds a Set-Cookie header value. Names and values must be cookie-safe (base64url etc.).
std::string SetCookieValue(std::string_view name, std::string_view value,
                           const CookieOptions& options);

/// Parses a Cookie header ("a=1; b=2") into pairs; malformed pieces are skipped.
std::vector<std::pair<std::string, std::string>> ParseCookieHeader(std::string_view header);

}  // namespace idp::http
