#include "destination.hpp"

#include <cctype>

namespace idp::mfa {

Result<Destination> NormaliseDestination(std::string_view type, std::string_view raw) {
  Destination out;
  for (char c : raw) {
    if (type == "sms" && (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.')) continue;
    out.value += c;
  }
  if (type == "email") {
    for (auto& c : out.value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!IsEmailAddress(out.value)) {
      out.value.clear();
    }
  } else if (type == "sms") {
    if (!IsE164(out.value)) {
      out.value.clear();
    }
  } else {
    return InvalidArgument("type must be email or sms");
  }
  return out;
}

bool IsEmailAddress(std::string_view a) {
  auto at = a.find('@');
  if (a.size() > 254 || at == std::string_view::npos || at == 0 || at + 1 >= a.size() ||
      a.find('@', at + 1) != std::string_view::npos || a.find('.', at) == std::string_view::npos) {
    return false;
  }
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == ',' || c == ';') {
      return false;
    }
  }
  return a.back() != '.';
}

bool IsE164(std::string_view n) {
  if (n.size() < 9 || n.size() > 16 || n[0] != '+' || n[1] == '0') return false;
  for (std::size_t i = 1; i < n.size(); ++i) {
    if (n[i] < '0' || n[i] > '9') return false;
  }
  return true;
}

std::string MaskDestination(std::string_view type, std::string_view d) {
  if (type == "email") {
    auto at = d.find('@');
    // The whole first character, not its first byte: a lone lead byte of "é" made the label
    // invalid UTF-8, which PostgreSQL and protobuf refuse (found by fuzz/contact.cpp).
    std::size_t first = d.empty() ? 0 : 1;
    while (first < at && first < 4 && (static_cast<unsigned char>(d[first]) & 0xC0) == 0x80) {
      ++first;
    }
    std::string out(d.substr(0, first));
    out += "\u2022\u2022\u2022";
    out += d.substr(at);
    return out;
  }
  std::string out(d.substr(0, 3));
  out += " \u2022\u2022\u2022 \u2022\u2022\u2022 ";
  out += d.substr(d.size() - 2);
  return out;
}

}  // namespace idp::mfa
