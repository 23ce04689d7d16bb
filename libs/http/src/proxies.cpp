#include "idp/http/proxies.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace idp::http {
namespace {

namespace ip = boost::asio::ip;

std::optional<ip::address> ParseAddress(std::string_view text) {
  // Trim spaces; a bracketed or port-suffixed form is not what proxies send in XFF.
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::address(ip::make_address_v4(ip::v4_mapped, a.to_v6()));
  }
  return a;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies out;
  for (const auto& raw : entries) {
    std::string_view e = raw;
    while (!e.empty() && e.front() == ' ') e.remove_prefix(1);
    while (!e.empty() && e.back() == ' ') e.remove_suffix(1);
    if (e.empty()) continue;
    auto slash = e.find('/');
    auto addr = ParseAddress(e.substr(0, slash));
    if (!addr) return InvalidArgument("trusted proxy " + raw + " is not an address or CIDR block");
    int bits = addr->is_v4() ? 32 : 128;
    int prefix = bits;
    if (slash != std::string_view::npos) {
      auto p = e.substr(slash + 1);
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || ptr != p.data() + p.size() || prefix < 0 || prefix > bits) {
        return InvalidArgument("trusted proxy " + raw + " has a bad prefix length");
      }
    }
    if (addr->is_v4()) {
      unsigned long mask = prefix == 0 ? 0 : (0xFFFFFFFFUL << (32 - prefix)) & 0xFFFFFFFFUL;
      out.v4_.push_back({addr->to_v4().to_ulong() & mask, mask});
    } else {
      V6 v{};
      auto bytes = addr->to_v6().to_bytes();
      for (int i = 0; i < 16; ++i) v.net[i] = bytes[static_cast<std::size_t>(i)];
      v.prefix = prefix;
      out.v6_.push_back(v);
    }
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseAddress(address);
  if (!a) return false;
  if (a->is_v4()) {
    unsigned long x = a->to_v4().to_ulong();
    for (const auto& n : v4_) {
      if ((x & n.mask) == n.net) return true;
    }
    return false;
  }
  auto bytes = a->to_v6().to_bytes();
  for (const auto& n : v6_) {
    int left = n.prefix;
    bool match = true;
    for (int i = 0; i < 16 && left > 0; ++i, left -= 8) {
      unsigned char mask = left >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - left));
      if ((bytes[static_cast<std::size_t>(i)] & mask) != (n.net[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::string_view forwarded_for) const {
  if (!Contains(peer)) return std::string(peer);
  std::string client(peer);
  // From the right: each hop appended the address it saw.
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    auto item = comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    auto addr = ParseAddress(item);
    if (!addr) break;
    client = addr->to_string();
    if (!Contains(client)) break;
    if (comma == std::string_view::npos) break;
    forwarded_for = forwarded_for.substr(0, comma);
  }
  return client;
}

}  // namespace idp::http

namespace idp::http {

std::pair<std::string, std::string> LimitKeys(std::string_view address,
                                              const NetworkPrefixes& prefixes) {
  auto a = ParseAddress(address);
  if (!a) return {std::string(address), std::string(address)};
  auto masked = [](ip::address_v6::bytes_type bytes, int prefix) {
    for (int i = 0; i < 16; ++i) {
      const int keep = std::clamp(prefix - i * 8, 0, 8);
      bytes[i] = static_cast<unsigned char>(bytes[i] & (0xFF << (8 - keep)));
    }
    return ip::make_address_v6(bytes).to_string();
  };
  if (a->is_v4()) {
    const int bits = std::clamp(prefixes.v4, 0, 32);
    const auto v = a->to_v4().to_uint();
    const auto mask = bits == 0 ? 0u : ~0u << (32 - bits);
    return {a->to_string(),
            ip::make_address_v4(v & mask).to_string() + "/" + std::to_string(bits)};
  }
  const auto bytes = a->to_v6().to_bytes();
  const int host = std::clamp(prefixes.v6_host, 0, 128);
  const int site = std::clamp(prefixes.v6_site, 0, 128);
  return {masked(bytes, host) + "/" + std::to_string(host),
          masked(bytes, site) + "/" + std::to_string(site)};
}

}  // namespace idp::http
