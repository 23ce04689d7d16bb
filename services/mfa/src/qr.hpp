#pragma once
/// @file QR codes (libqrencode) rendered as SVG.

#include <string>
#include <string_view>

namespace idp::mfa {

/// An SVG document showing `text` as a QR code (error correction M, 4-module quiet zone).
/// Throws std::runtime_error when the text cannot be encoded.
std::string QrSvg(std::string_view text);

}  // namespace idp::mfa
