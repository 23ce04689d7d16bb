#pragma once
/// @file Internet messages without I/O: address and display-name checks (no header injection),
/// RFC 2047 encoded words, quoted-printable, RFC 5322 dates, and a multipart/alternative MIME
/// message with a text and an HTML part. All functions are pure and thread-safe.

#include "idp/common/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace idp::delivery {

/// Longest address accepted (RFC 5321 §4.5.3.1.3 path limit less the angle brackets).
inline constexpr std::size_t kMaxAddressLength = 254;
/// Longest display name accepted, in code points.
inline constexpr std::size_t kMaxDisplayNameChars = 100;

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s);

/// The number of code points in `s` (valid UTF-8 assumed).
std::size_t Utf8Length(std::string_view s);

/// Checks an addr-spec of the dot-atom form only (RFC 5322 §3.4.1): local part at most 64
/// characters of atext and dots, a domain of LDH labels with at least one dot. Quoted local
/// parts, comments, IP literals, non-ASCII and any control character (CR/LF) are refused.
/// kInvalidArgument with a message that names `field`.
[[nodiscard]] Status ValidateAddress(std::string_view address, std::string_view field);

/// Checks a display name: valid UTF-8, at most kMaxDisplayNameChars code points, no control
/// character (CR, LF, TAB, DEL, C1). kInvalidArgument naming `field`.
[[nodiscard]] Status ValidateDisplayName(std::string_view name, std::string_view field);

/// A header value of free text (Subject, a display name) ready to follow "Name: ": printable
/// ASCII is returned as is (as a quoted-string when `phrase` and it holds specials); anything
/// else becomes RFC 2047 "B" encoded words of at most 75 characters each, split on code-point
/// boundaries and folded with CRLF SP. `text` must have passed the checks above.
std::string EncodeHeaderText(std::string_view text, bool phrase);

/// "Name <address>" (or just the address when `name` is empty), with the name encoded.
std::string FormatMailbox(std::string_view name, std::string_view address);

/// RFC 2045 §6.7 quoted-printable of UTF-8 text with CRLF line breaks; lines at most 76
/// characters, soft breaks "=" CRLF. LF or CRLF in `text` become CRLF.
std::string QuotedPrintable(std::string_view text);

/// RFC 5322 §3.3 date-time in UTC: "Tue, 03 Jun 2025 14:05:09 +0000".
std::string Rfc5322Date(std::chrono::system_clock::time_point t);

/// What BuildMimeMessage needs. Addresses and names must have passed the checks above.
struct MimeMessage {
  std::string from_name;
  std::string from_address;
  std::string to_name;
  std::string to_address;
  std::string subject;  ///< UTF-8
  std::string text;     ///< UTF-8 plain text
  std::string html;     ///< UTF-8 HTML document
  /// The id-left and id-right of the Message-ID, without angle brackets ("abc@example.com").
  std::string message_id;
  std::chrono::system_clock::time_point date;
  /// The multipart boundary: 1-70 characters that occur in neither part (RFC 2046 §5.1.1).
  std::string boundary;
};

/// Largest message BuildMimeMessage produces.
inline constexpr std::size_t kMaxMimeBytes = 64 * 1024;

/// The whole message (headers and body, CRLF line ends): From, To, Subject, Date, Message-ID,
/// MIME-Version, Auto-Submitted (RFC 3834), and a multipart/alternative body with a
/// text/plain and a text/html part, both UTF-8 quoted-printable. kInvalidArgument when an input
/// fails the checks above again (defence in depth) or the result exceeds kMaxMimeBytes.
[[nodiscard]] Result<std::string> BuildMimeMessage(const MimeMessage& m);

}  // namespace idp::delivery
