#pragma once
/// @file The gateway owns every sentence a person reads: the other services say why they
/// refused something as a reason with its parameters (a country, a limit), and these put it in
/// words in the page's language (locales/).

#include <string>
#include <string_view>

namespace idp::mfa::v1 {
class Refusal;
}
namespace idp::auth::v1 {
class PasswordWeakness;
}

namespace idp::gateway {

/// Why mfa refused a destination, a code or a removal, in `lang`; "" when it refused nothing.
std::string RefusalText(std::string_view lang, const mfa::v1::Refusal& refusal);

/// Which password rule a new password broke, in `lang`.
std::string WeaknessText(std::string_view lang, const auth::v1::PasswordWeakness& weakness);

}  // namespace idp::gateway
