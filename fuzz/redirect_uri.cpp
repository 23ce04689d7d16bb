// Fuzzes the redirect URI rules of libs/oauth: CheckRedirectUriRegistration, the matcher
// RedirectUriRegistered and AppendQuery. The input is "<registered>\n<requested>".
// Invariants: the matcher accepts a requested URI only when it is byte for byte a registered
// one (no normalisation: no case folding, no trailing-slash or port or percent games); an
// accepted registration is absolute, without fragment or user information, https with a host,
// http on a loopback host, or a private-use scheme with a dot; AppendQuery keeps the URI as a
// prefix and adds exactly one separator.
#include "fuzz_check.hpp"
#include "idp/oauth/oauth.hpp"

#include <boost/url/parse.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace idp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::AsText(data, size);
  const std::size_t nl = text.find('\n');
  const std::string_view registered = text.substr(0, nl);
  const std::string_view requested =
      nl == std::string_view::npos ? registered : text.substr(nl + 1);

  const auto why = oauth::CheckRedirectUriRegistration(registered);
  if (!why) {
    auto u = boost::urls::parse_absolute_uri(registered);
    FUZZ_CHECK(u.has_value());
    FUZZ_CHECK(!u->has_fragment() && !u->has_userinfo());
    FUZZ_CHECK(registered.find('#') == std::string_view::npos);
    const auto scheme = u->scheme();
    const auto host = u->encoded_host();
    if (scheme == "https") {
      FUZZ_CHECK(!host.empty());
    } else if (scheme == "http") {
      FUZZ_CHECK(host == "localhost" || host == "127.0.0.1" || host == "[::1]");
    } else {
      FUZZ_CHECK(scheme.find('.') != std::string_view::npos);
    }
  } else {
    FUZZ_CHECK(!why->empty());
  }

  const std::vector<std::string> list{std::string(registered), "https://client.example/cb"};
  const bool matched = oauth::RedirectUriRegistered(requested, list);
  FUZZ_CHECK(matched == (requested == registered || requested == "https://client.example/cb"));
  FUZZ_CHECK(oauth::RedirectUriRegistered(registered, list));
  FUZZ_CHECK(!oauth::RedirectUriRegistered(requested, {}));

  const std::string with_query = oauth::AppendQuery(requested, "code=abc&state=xyz");
  FUZZ_CHECK(with_query.size() == requested.size() + 1 + 18);
  FUZZ_CHECK(std::string_view(with_query).substr(0, requested.size()) == requested);
  const char sep = with_query[requested.size()];
  FUZZ_CHECK(sep == (requested.find('?') == std::string_view::npos ? '?' : '&'));
  return 0;
}
