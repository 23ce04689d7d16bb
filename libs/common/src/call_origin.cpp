#include "idp/common/call_origin.hpp"

#include <algorithm>
#include <utility>

namespace idp {
namespace {
thread_local CallOrigin t_origin;
}  // namespace

std::string SanitizeOriginField(std::string_view value, std::size_t max_length) {
  std::string out;
  out.reserve(std::min(value.size(), max_length));
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) continue;
    out += ch;
  }
  if (out.size() > max_length) {
    std::size_t cut = max_length;
    // Back up over UTF-8 continuation bytes so that no sequence is cut in half.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

ScopedCallOrigin::ScopedCallOrigin(CallOrigin origin) : previous_(std::move(t_origin)) {
  t_origin = std::move(origin);
}

ScopedCallOrigin::~ScopedCallOrigin() { t_origin = std::move(previous_); }

const CallOrigin& CurrentCallOrigin() { return t_origin; }

}  // namespace idp
