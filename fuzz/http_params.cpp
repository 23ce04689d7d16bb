// Fuzzes the application/x-www-form-urlencoded parser of libs/http (query strings and form
// bodies): Params::Parse, FirstRepeated, PercentDecode, UrlEncode, EncodeQuery, IsValidUtf8,
// HtmlEscape.
// Invariants: everything decoded is valid UTF-8; parse -> serialize -> parse gives the same
// pairs; encode -> decode is the identity; HTML escaping leaves no markup characters.
#include "fuzz_check.hpp"
#include "idp/http/message.hpp"

#include <cstdint>

using namespace idp::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = idp::fuzz::AsText(data, size);

  for (bool plus : {false, true}) {
    auto decoded = PercentDecode(text, plus);
    if (!decoded) continue;
    FUZZ_CHECK(IsValidUtf8(*decoded));
    FUZZ_CHECK(decoded->size() <= text.size());
    auto again = PercentDecode(UrlEncode(*decoded), plus);
    FUZZ_CHECK(again && *again == *decoded);
  }
  if (IsValidUtf8(text)) {
    auto round = PercentDecode(UrlEncode(text));
    FUZZ_CHECK(round && *round == text);
  }

  const std::string escaped = HtmlEscape(text);
  for (char c : escaped) FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'');

  auto params = Params::Parse(text);
  if (!params) return 0;
  // The repeated-parameter rule of /token, /revoke and /introspect (one pass): the name it
  // reports occurs twice, and when it reports none, no name does (checked the slow way on
  // small inputs only, so that the fuzzer itself stays fast).
  const auto repeated = params->FirstRepeated();
  if (repeated) FUZZ_CHECK(params->Count(*repeated) >= 2);
  for (const auto& [name, value] : params->items()) {
    FUZZ_CHECK(IsValidUtf8(name) && IsValidUtf8(value));
    if (params->items().size() <= 64) {
      FUZZ_CHECK(params->Count(name) >= 1);
      if (!repeated) FUZZ_CHECK(params->Count(name) == 1);
    }
  }
  if (!params->items().empty()) {
    const auto& [first_name, first_value] = params->items().front();
    FUZZ_CHECK(params->Get(first_name) == first_value);
  }
  auto reparsed = Params::Parse(EncodeQuery(params->items()));
  FUZZ_CHECK(reparsed.has_value());
  FUZZ_CHECK(reparsed->items() == params->items());
  return 0;
}
