#include "idp/rpc/tls.hpp"

#include "idp/common/config.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace idp::rpc {
namespace {

TlsConfig& Default() {
  static TlsConfig tls;
  return tls;
}

std::string ReadPem(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + key + " (" + Config::EnvName(key) + "): " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    throw std::runtime_error(key + ": " + path + " holds no PEM block");
  }
  return pem;
}

}  // namespace

TlsConfig LoadTlsConfig(const Config& config) {
  const std::string cert = config.GetString("rpc.tls_cert", "");
  const std::string key = config.GetString("rpc.tls_key", "");
  const std::string ca = config.GetString("rpc.tls_ca", "");
  if (cert.empty() && key.empty() && ca.empty()) return {};
  if (cert.empty() || key.empty() || ca.empty()) {
    throw std::runtime_error(
        "mutual TLS needs rpc.tls_cert, rpc.tls_key and rpc.tls_ca (IDP_RPC_TLS_CERT, "
        "IDP_RPC_TLS_KEY, IDP_RPC_TLS_CA) together");
  }
  return {ReadPem("rpc.tls_cert", cert), ReadPem("rpc.tls_key", key), ReadPem("rpc.tls_ca", ca)};
}

void SetDefaultTls(TlsConfig tls) { Default() = std::move(tls); }

const TlsConfig& DefaultTls() { return Default(); }

}  // namespace idp::rpc
