// Fuzzes the JWK reader of libs/jose (Key::FromJwk) with JSON objects.
// Invariants: a key read from a JWK gives a public JWK without private members that reads back
// as the same public key (same RFC 7638 thumbprint, same algorithm, no private part).
#include "fuzz_check.hpp"
#include "idp/jose/jose.hpp"

#include <boost/json.hpp>

#include <cstdint>

using namespace idp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;  // RSA keys of absurd sizes only make the run slow
  boost::json::error_code ec;
  const auto value = boost::json::parse(fuzz::AsText(data, size), ec);
  if (ec || !value.is_object()) return 0;
  auto key = jose::Key::FromJwk(value.get_object());
  if (!key) return 0;
  const auto pub = key->PublicJwk("kid-1");
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) FUZZ_CHECK(!pub.contains(member));
  auto again = jose::Key::FromJwk(pub);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(!again->has_private());
  FUZZ_CHECK(again->alg() == key->alg());
  FUZZ_CHECK(again->Thumbprint() == key->Thumbprint());
  return 0;
}
