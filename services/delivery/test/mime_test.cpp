// MIME building, header-injection refusal, RFC 2047 encoded words, quoted-printable, dates.
#include "mime.hpp"

#include "idp/crypto/crypto.hpp"

#include <catch2/catch.hpp>

#include <cctype>

using namespace idp::delivery;

namespace {

/// Decodes one "=?UTF-8?B?...?=" word; empty when `w` is not one.
std::string DecodeWord(const std::string& w) {
  const std::string pre = "=?UTF-8?B?";
  if (w.rfind(pre, 0) != 0 || w.size() < pre.size() + 2 || w.substr(w.size() - 2) != "?=") {
    return {};
  }
  return idp::crypto::Base64Decode(w.substr(pre.size(), w.size() - pre.size() - 2)).value_or("");
}

/// Splits folded encoded words ("w1\r\n w2").
std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find("\r\n ", start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 3;
  }
  return out;
}

/// RFC 2045 §6.7 decoder, strict enough for the tests.
std::string QpDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

MimeMessage Sample() {
  MimeMessage m;
  m.from_name = "Identity Portal";
  m.from_address = "no-reply@idp.example.com";
  m.to_name = "Zoë Ångström";
  m.to_address = "zoe@example.org";
  m.subject = "Your sign-in code";
  m.text = "Your code is 123456.\n";
  m.html = "<p>Your code is <b>123456</b>.</p>\n";
  m.message_id = "abc123@idp.example.com";
  m.date = std::chrono::system_clock::time_point(std::chrono::seconds(1748959509));
  m.boundary = "=_idp_b0undary";
  return m;
}

}  // namespace

TEST_CASE("addresses of the dot-atom form are accepted") {
  for (const char* a : {"a@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@a-b.io",
                        "o'neil@example.com"}) {
    INFO(a);
    CHECK(ValidateAddress(a, "to_address").has_value());
  }
}

TEST_CASE("CR or LF in an address is refused as header injection") {
  for (const char* a : {"a@example.com\r\nBcc: victim@example.net", "a@example.com\nBcc: x@y.z",
                        "a@exam\rple.com"}) {
    auto st = ValidateAddress(a, "to_address");
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == idp::ErrorCode::kInvalidArgument);
    CHECK(st.error().message == "to_address must not contain CR or LF");
  }
}

TEST_CASE("malformed addresses are refused with the field named") {
  for (const char* a : {"", "plain", "a@b", "a@@b.com", "a b@c.com", "<a@b.com>", "a@b.com>",
                        "\"q\"@b.com", "a..b@c.com", ".a@c.com", "a@-b.com", "a@b_c.com",
                        "Zoë@example.com", "a@[127.0.0.1]", "a@b.com,c@d.com"}) {
    INFO(a);
    auto st = ValidateAddress(a, "to_address");
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().message.rfind("to_address", 0) == 0);
  }
  CHECK_FALSE(ValidateAddress(std::string(65, 'a') + "@example.com", "to").has_value());
  CHECK_FALSE(ValidateAddress("a@" + std::string(250, 'b') + ".com", "to").has_value());
}

TEST_CASE("display names refuse CR LF and control characters and invalid UTF-8") {
  CHECK(ValidateDisplayName("Zoë Ångström 山田", "to_name").has_value());
  CHECK(ValidateDisplayName("", "to_name").has_value());
  auto crlf = ValidateDisplayName("Eve\r\nBcc: victim@example.net", "to_name");
  REQUIRE_FALSE(crlf.has_value());
  CHECK(crlf.error().message == "to_name must not contain CR or LF");
  CHECK_FALSE(ValidateDisplayName("tab\there", "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName("nul\x01", "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName("c1 \xC2\x85 next line", "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName("line\xE2\x80\xA8sep", "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName("bad \xC3\x28", "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName("overlong \xC0\xAF", "to_name").has_value());
  CHECK(ValidateDisplayName(std::string(100, 'a'), "to_name").has_value());
  CHECK_FALSE(ValidateDisplayName(std::string(101, 'a'), "to_name").has_value());
}

TEST_CASE("RFC 2047 encodes non-ASCII names and decodes back to the same text") {
  const std::string name = "Zoë Ångström 山田";
  const std::string enc = EncodeHeaderText(name, true);
  CHECK(enc.rfind("=?UTF-8?B?", 0) == 0);
  std::string decoded;
  for (const auto& w : Words(enc)) decoded += DecodeWord(w);
  CHECK(decoded == name);
}

TEST_CASE("RFC 2047 words stay within 75 characters and split on character boundaries") {
  std::string name;
  for (int i = 0; i < 40; ++i) name += "日本";  // 3 bytes each
  const std::string enc = EncodeHeaderText(name, true);
  const auto words = Words(enc);
  REQUIRE(words.size() > 1);
  std::string joined;
  for (const auto& w : words) {
    CHECK(w.size() <= 75);
    const std::string part = DecodeWord(w);
    REQUIRE_FALSE(part.empty());
    CHECK(IsValidUtf8(part));  // each word holds whole characters (RFC 2047 §5)
    joined += part;
  }
  CHECK(joined == name);
}

TEST_CASE("ASCII header text is left alone or quoted when it holds specials") {
  CHECK(EncodeHeaderText("Alice Smith", true) == "Alice Smith");
  CHECK(EncodeHeaderText("Smith, Alice", true) == "\"Smith, Alice\"");
  CHECK(EncodeHeaderText("say \"hi\" \\o/", true) == "\"say \\\"hi\\\" \\\\o/\"");
  CHECK(EncodeHeaderText("Smith, Alice", false) == "Smith, Alice");
  // Text that looks like an encoded word is encoded, so it cannot be read as one.
  CHECK(EncodeHeaderText("=?UTF-8?B?x?=", true).rfind("=?UTF-8?B?", 0) == 0);
  CHECK(DecodeWord(EncodeHeaderText("=?UTF-8?B?x?=", true)) == "=?UTF-8?B?x?=");
}

TEST_CASE("FormatMailbox puts the encoded name before the address") {
  CHECK(FormatMailbox("", "a@b.com") == "a@b.com");
  CHECK(FormatMailbox("Alice", "a@b.com") == "Alice <a@b.com>");
  CHECK(FormatMailbox("Zoë", "a@b.com") == "=?UTF-8?B?Wm/Dqw==?= <a@b.com>");
}

TEST_CASE("quoted-printable escapes and wraps at 76 and round-trips") {
  CHECK(QuotedPrintable("a=b") == "a=3Db");
  CHECK(QuotedPrintable("Zoë") == "Zo=C3=AB");
  CHECK(QuotedPrintable("trailing \nx") == "trailing=20\r\nx");
  CHECK(QuotedPrintable("a\r\nb\nc") == "a\r\nb\r\nc");
  std::string long_line;
  for (int i = 0; i < 50; ++i) long_line += "ab=cd ë ";
  const std::string qp = QuotedPrintable(long_line);
  std::size_t start = 0;
  while (start < qp.size()) {
    auto end = qp.find("\r\n", start);
    if (end == std::string::npos) end = qp.size();
    CHECK(end - start <= 76);
    start = end + 2;
  }
  CHECK(QpDecode(qp) == long_line);
  for (char c : qp) CHECK((c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7F)));
}

TEST_CASE("RFC 5322 dates are in UTC with English names") {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1748959509));
  CHECK(Rfc5322Date(t) == "Tue, 03 Jun 2025 14:05:09 +0000");
  CHECK(Rfc5322Date(std::chrono::system_clock::time_point{}) == "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST_CASE("a MIME message has the headers and two alternative parts") {
  auto built = BuildMimeMessage(Sample());
  REQUIRE(built.has_value());
  const std::string& m = *built;
  CHECK(m.find("From: Identity Portal <no-reply@idp.example.com>\r\n") != std::string::npos);
  CHECK(m.find("To: =?UTF-8?B?") != std::string::npos);
  CHECK(m.find(" <zoe@example.org>\r\n") != std::string::npos);
  CHECK(m.find("Subject: Your sign-in code\r\n") != std::string::npos);
  CHECK(m.find("Date: Tue, 03 Jun 2025 14:05:09 +0000\r\n") != std::string::npos);
  CHECK(m.find("Message-ID: <abc123@idp.example.com>\r\n") != std::string::npos);
  CHECK(m.find("MIME-Version: 1.0\r\n") != std::string::npos);
  CHECK(m.find("Content-Type: multipart/alternative; boundary=\"=_idp_b0undary\"\r\n") !=
        std::string::npos);
  const auto text = m.find("Content-Type: text/plain; charset=UTF-8");
  const auto html = m.find("Content-Type: text/html; charset=UTF-8");
  REQUIRE(text != std::string::npos);
  REQUIRE(html != std::string::npos);
  CHECK(text < html);  // RFC 2046 §5.1.4: the richest part last
  CHECK(m.find("123456") != std::string::npos);
  CHECK(m.find("--=_idp_b0undary--\r\n") == m.size() - std::string("--=_idp_b0undary--\r\n").size());
  // Only CRLF line ends, and the header block ends before the first boundary.
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') REQUIRE((i > 0 && m[i - 1] == '\r'));
  }
  CHECK(m.find("\r\n\r\n") < m.find("--=_idp_b0undary\r\n"));
}

TEST_CASE("BuildMimeMessage refuses injected headers and oversized bodies") {
  auto m = Sample();
  m.to_name = "Eve\r\nBcc: victim@example.net";
  auto r = BuildMimeMessage(m);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == idp::ErrorCode::kInvalidArgument);

  m = Sample();
  m.subject = "hi\nBcc: x@y.z";
  CHECK_FALSE(BuildMimeMessage(m).has_value());

  m = Sample();
  m.text = std::string(70 * 1024, 'a');
  auto big = BuildMimeMessage(m);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().message.find("larger than") != std::string::npos);

  m = Sample();
  m.message_id = "no-at-sign";
  CHECK_FALSE(BuildMimeMessage(m).has_value());
}
