#pragma once
/// @file Mutual TLS between the services: every gRPC server asks for and verifies a client
/// certificate, every channel presents one, both issued by one private CA. Off unless the three
/// files are configured (then plaintext connections are refused).

#include <string>

namespace idp {
class Config;
}

namespace idp::rpc {

/// PEM contents (not paths). Empty = plaintext.
struct TlsConfig {
  std::string cert_chain;  ///< this process's certificate (server and client), then any chain
  std::string private_key; ///< its key; never logged
  std::string ca;          ///< the CA that signs every peer's certificate

  bool enabled() const { return !cert_chain.empty(); }
};

/// Reads `[rpc] tls_cert`, `tls_key`, `tls_ca` (paths to PEM files; IDP_RPC_TLS_CERT, ...):
/// all three or none. Throws std::runtime_error when only some are set or a file cannot be
/// read or holds no PEM (startup errors are fatal).
TlsConfig LoadTlsConfig(const Config& config);

/// The TLS every GrpcServer and MakeChannel of this process uses unless told otherwise. Set once
/// at startup (ServiceMain does), before any channel or server exists.
void SetDefaultTls(TlsConfig tls);
const TlsConfig& DefaultTls();

}  // namespace idp::rpc
