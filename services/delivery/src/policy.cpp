#include "policy.hpp"

#include <algorithm>
#include <charconv>

namespace idp::delivery {

Result<std::vector<RateWindow>> ParseRateSpec(std::string_view spec) {
  std::vector<RateWindow> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find(',', start);
    if (end == std::string_view::npos) end = spec.size();
    std::string item;
    for (char c : spec.substr(start, end - start)) {
      if (c != ' ') item += c;
    }
    start = end + 1;
    if (item.empty()) continue;
    const auto bad = [&item] {
      return InvalidArgument("rate limit \"" + item +
                             "\": expected COUNT/WINDOW such as 3/5m (units s, m, h, d)");
    };
    const auto slash = item.find('/');
    if (slash == std::string::npos || slash == 0 || item.size() < slash + 3) return bad();
    std::int64_t limit = 0;
    std::int64_t amount = 0;
    const char* b = item.data();
    if (auto r = std::from_chars(b, b + slash, limit); r.ec != std::errc() || r.ptr != b + slash) {
      return bad();
    }
    const char unit = item.back();
    const char* ab = b + slash + 1;
    const char* ae = b + item.size() - 1;
    if (auto r = std::from_chars(ab, ae, amount); r.ec != std::errc() || r.ptr != ae) {
      return bad();
    }
    std::int64_t seconds = 0;
    switch (unit) {
      case 's': seconds = amount; break;
      case 'm': seconds = amount * 60; break;
      case 'h': seconds = amount * 3600; break;
      case 'd': seconds = amount * 86400; break;
      default: return bad();
    }
    if (limit < 1 || seconds < 1 || seconds > 7 * 86400) return bad();
    out.push_back({limit, std::chrono::seconds(seconds)});
  }
  return out;
}

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt,
                                       double jitter01) {
  jitter01 = std::clamp(jitter01, 0.0, 1.0);
  const auto base = std::max<std::int64_t>(1, policy.base.count());
  const auto cap = std::max<std::int64_t>(base, policy.cap.count());
  // base * 2^(attempt-1) without overflow: stop doubling once past the cap.
  std::int64_t d = base;
  for (int i = 1; i < attempt && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  const double half = static_cast<double>(d) / 2.0;
  return std::chrono::milliseconds(static_cast<std::int64_t>(half + jitter01 * half));
}

}  // namespace idp::delivery
