// Fuzzes the compact JWS/JWT parser of libs/jose (Parse, VerifySignature, VerifyJwt) and Sign.
// Invariants: a parsed JWS re-encodes to the exact parts it came from (base64url is strict, so
// no two spellings of one token); nothing the fuzzer makes verifies under our keys (no alg
// confusion, no "none"); whatever we sign parses back to the same payload and verifies.
#include "fuzz_check.hpp"
#include "idp/crypto/crypto.hpp"
#include "idp/jose/jose.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <vector>

using namespace idp;

namespace {

const std::vector<jose::Key>& Keys() {
  static const std::vector<jose::Key> kKeys = [] {
    std::vector<jose::Key> keys;
    for (auto alg : {jose::Alg::kRS256, jose::Alg::kES256, jose::Alg::kEdDSA}) {
      keys.push_back(jose::Key::Generate(alg).value());
    }
    return keys;
  }();
  return kKeys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  const auto& keys = Keys();

  auto jws = jose::Parse(text);
  if (jws) {
    const std::size_t dot1 = text.find('.');
    const std::size_t dot2 = text.find('.', dot1 + 1);
    FUZZ_CHECK(dot2 != std::string_view::npos);
    FUZZ_CHECK(text.find('.', dot2 + 1) == std::string_view::npos);
    FUZZ_CHECK(jws->signing_input == text.substr(0, dot2));
    FUZZ_CHECK(crypto::Base64UrlEncode(jws->payload) == text.substr(dot1 + 1, dot2 - dot1 - 1));
    FUZZ_CHECK(crypto::Base64UrlEncode(jws->signature) == text.substr(dot2 + 1));
    const auto* alg = jws->header.if_contains("alg");
    FUZZ_CHECK(alg != nullptr && alg->is_string());
    FUZZ_CHECK(!jws->header.contains("crit"));
    for (const auto& key : keys) FUZZ_CHECK(!jose::VerifySignature(*jws, key));
  }
  // Whatever key the header asks for, a forged token never verifies.
  for (const auto& key : keys) {
    auto verified = jose::VerifyJwt(text, [&](const boost::json::object&) { return key; });
    FUZZ_CHECK(!verified);
  }

  // Sign the input as a payload: it comes back byte for byte and verifies with the same key only.
  if (size <= 4096) {
    const auto& key = keys[2];  // EdDSA: cheap enough for every input
    auto compact = jose::Sign(key, "fuzz", "JWT", text);
    FUZZ_CHECK(compact.has_value());
    auto back = jose::Parse(*compact);
    FUZZ_CHECK(back.has_value() && back->payload == text);
    FUZZ_CHECK(jose::VerifySignature(*back, key));
    FUZZ_CHECK(!jose::VerifySignature(*back, keys[1]));
    boost::json::error_code ec;
    const auto payload = boost::json::parse(text, ec);
    auto verified = jose::VerifyJwt(*compact, [&](const boost::json::object&) { return key; });
    FUZZ_CHECK(verified.has_value() == (!ec && payload.is_object()));
  }
  return 0;
}
