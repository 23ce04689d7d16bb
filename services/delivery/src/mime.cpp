#include "mime.hpp"

#include "idp/crypto/crypto.hpp"

#include <cstdio>
#include <ctime>

namespace idp::delivery {
namespace {

bool IsAtext(char c) {
  // RFC 5322 §3.2.3 atext.
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool IsLdh(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/// Decodes the code point at `s[i]`, advancing `i`; -1 on malformed input.
long DecodeUtf8(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  long cp = 0;
  long min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += static_cast<std::size_t>(len);
  return cp;
}

bool IsControl(long cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

constexpr char kHexUpper[] = "0123456789ABCDEF";

}  // namespace

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (DecodeUtf8(s, i) < 0) return false;
  }
  return true;
}

std::size_t Utf8Length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

Status ValidateAddress(std::string_view address, std::string_view field) {
  const std::string f(field);
  if (address.empty()) return InvalidArgument(f + " is required");
  if (address.find_first_of("\r\n") != std::string_view::npos) {
    return InvalidArgument(f + " must not contain CR or LF");
  }
  if (address.size() > kMaxAddressLength) {
    return InvalidArgument(f + " is longer than " + std::to_string(kMaxAddressLength) +
                           " characters");
  }
  for (char c : address) {
    if (c <= 0x20 || c >= 0x7F) {
      return InvalidArgument(f + " must be plain ASCII without spaces or control characters");
    }
  }
  const auto at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgument(f + " must be one address of the form local@domain");
  }
  const std::string_view local = address.substr(0, at);
  const std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64) {
    return InvalidArgument(f + ": the local part must be 1-64 characters");
  }
  if (local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return InvalidArgument(f + ": misplaced dot in the local part");
  }
  for (char c : local) {
    if (c != '.' && !IsAtext(c)) {
      return InvalidArgument(f + ": the local part may hold letters, digits, dots and " +
                             "!#$%&'*+-/=?^_`{|}~ only");
    }
  }
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) {
    return InvalidArgument(f + ": the domain must be a name with at least one dot");
  }
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return InvalidArgument(f + ": bad domain label");
    }
    for (char c : label) {
      if (!IsLdh(c)) return InvalidArgument(f + ": the domain may hold letters, digits and '-'");
    }
    start = end + 1;
  }
  return {};
}

Status ValidateDisplayName(std::string_view name, std::string_view field) {
  const std::string f(field);
  if (name.find_first_of("\r\n") != std::string_view::npos) {
    return InvalidArgument(f + " must not contain CR or LF");
  }
  std::size_t i = 0;
  std::size_t count = 0;
  while (i < name.size()) {
    const long cp = DecodeUtf8(name, i);
    if (cp < 0) return InvalidArgument(f + " must be valid UTF-8");
    if (IsControl(cp)) return InvalidArgument(f + " must not contain control characters");
    ++count;
  }
  if (count > kMaxDisplayNameChars) {
    return InvalidArgument(f + " is longer than " + std::to_string(kMaxDisplayNameChars) +
                           " characters");
  }
  return {};
}

std::string EncodeHeaderText(std::string_view text, bool phrase) {
  // "=?" in plain text could be read as the start of an encoded word (RFC 2047 §5): encode.
  if (IsPrintableAscii(text) && text.find("=?") == std::string_view::npos) {
    if (!phrase || text.find_first_of("()<>[]:;@\\,.\"") == std::string_view::npos) {
      return std::string(text);
    }
    // RFC 5322 §3.2.4 quoted-string.
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    return out;
  }
  // RFC 2047 §2: an encoded word is at most 75 characters; "=?UTF-8?B?" + "?=" take 12, so
  // the payload is at most 63 base64 characters, i.e. 45 bytes. §5: each word holds whole
  // characters, so chunks end on code-point boundaries.
  constexpr std::size_t kMaxChunk = 45;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t next = end;
      if (DecodeUtf8(text, next) < 0) next = end + 1;  // validated before; stay total
      if (next - i > kMaxChunk) break;
      end = next;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + crypto::Base64Encode(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string FormatMailbox(std::string_view name, std::string_view address) {
  if (name.empty()) return std::string(address);
  return EncodeHeaderText(name, /*phrase=*/true) + " <" + std::string(address) + ">";
}

std::string QuotedPrintable(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  bool first_line = true;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    const bool last = nl == std::string_view::npos;
    std::string_view line = text.substr(pos, (last ? text.size() : nl) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!first_line) out += "\r\n";
    first_line = false;

    std::size_t col = 0;
    for (std::size_t k = 0; k < line.size(); ++k) {
      const auto c = static_cast<unsigned char>(line[k]);
      const bool at_end = k + 1 == line.size();
      std::string token;
      if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end)) {
        token.assign(1, static_cast<char>(c));
      } else {
        token = {'=', kHexUpper[c >> 4], kHexUpper[c & 0xF]};
      }
      // A line is at most 76 characters, the soft break's "=" included (RFC 2045 §6.7 (5)).
      if (col + token.size() > (at_end ? 76 : 75)) {
        out += "=\r\n";
        col = 0;
      }
      out += token;
      col += token.size();
    }
    if (last) break;
    pos = nl + 1;
  }
  return out;
}

std::string Rfc5322Date(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

Result<std::string> BuildMimeMessage(const MimeMessage& m) {
  if (auto st = ValidateAddress(m.from_address, "from address"); !st) return st.error();
  if (auto st = ValidateAddress(m.to_address, "to_address"); !st) return st.error();
  if (auto st = ValidateDisplayName(m.from_name, "from name"); !st) return st.error();
  if (auto st = ValidateDisplayName(m.to_name, "to_name"); !st) return st.error();
  if (m.subject.find_first_of("\r\n") != std::string::npos || !IsValidUtf8(m.subject)) {
    return InvalidArgument("subject must be one line of UTF-8");
  }
  if (!IsValidUtf8(m.text) || !IsValidUtf8(m.html)) {
    return InvalidArgument("message text must be UTF-8");
  }
  if (m.message_id.empty() || m.message_id.find('@') == std::string::npos ||
      m.message_id.find_first_of("<> \t\r\n") != std::string::npos ||
      !IsPrintableAscii(m.message_id)) {
    return InvalidArgument("bad Message-ID");
  }
  if (m.boundary.empty() || m.boundary.size() > 70 || !IsPrintableAscii(m.boundary) ||
      m.boundary.find('"') != std::string::npos) {
    return InvalidArgument("bad MIME boundary");
  }
  const std::string text = QuotedPrintable(m.text);
  const std::string html = QuotedPrintable(m.html);
  if (text.find(m.boundary) != std::string::npos || html.find(m.boundary) != std::string::npos) {
    return InvalidArgument("MIME boundary occurs in a part");
  }

  std::string out;
  out.reserve(text.size() + html.size() + 1024);
  out += "From: " + FormatMailbox(m.from_name, m.from_address) + "\r\n";
  out += "To: " + FormatMailbox(m.to_name, m.to_address) + "\r\n";
  out += "Subject: " + EncodeHeaderText(m.subject, /*phrase=*/false) + "\r\n";
  out += "Date: " + Rfc5322Date(m.date) + "\r\n";
  out += "Message-ID: <" + m.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Auto-Submitted: auto-generated\r\n";  // RFC 3834 §5: no auto-replies, please
  out += "Content-Type: multipart/alternative; boundary=\"" + m.boundary + "\"\r\n";
  out += "\r\n";
  out += "--" + m.boundary + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += text + "\r\n";
  out += "--" + m.boundary + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += html + "\r\n";
  out += "--" + m.boundary + "--\r\n";
  if (out.size() > kMaxMimeBytes) {
    return InvalidArgument("the message is larger than " + std::to_string(kMaxMimeBytes) +
                           " bytes");
  }
  return out;
}

}  // namespace idp::delivery
