// Mutual TLS and call metrics on a real loopback server. The certificates come from
// deploy/gen-certs.sh (the openssl CLI), into a fresh directory: a server certificate, a client
// certificate of the same CA, and one of another CA.
#include "grpc/health/v1/health.grpc.pb.h"
#include "idp/common/config.hpp"
#include "idp/mfa/v1/mfa.grpc.pb.h"
#include "idp/metrics/registry.hpp"
#include "idp/rpc/call_metrics.hpp"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/server.hpp"
#include "idp/rpc/tls.hpp"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One throwaway CA (and a second, foreign one) for the whole binary.
const fs::path& CertDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() /
                 ("idp-rpc-tls-" + std::to_string(std::random_device{}()));
    const std::string script = std::string(IDP_SOURCE_DIR) + "/deploy/gen-certs.sh";
    for (const auto& [sub, names] : {std::pair{"ca", "server client"}, {"other", "client"}}) {
      const std::string cmd = "bash '" + script + "' '" + (d / sub).string() + "' " + names +
                              " >/dev/null";
      REQUIRE(std::system(cmd.c_str()) == 0);
    }
    return d;
  }();
  return dir;
}

idp::rpc::TlsConfig Load(const std::string& ca_dir, const std::string& name) {
  const fs::path d = CertDir() / ca_dir / name;
  return idp::rpc::LoadTlsConfig(idp::Config::FromMap({
      {"rpc.tls_cert", (d / "tls.crt").string()},
      {"rpc.tls_key", (d / "tls.key").string()},
      {"rpc.tls_ca", (d / "ca.crt").string()},
  }));
}

grpc::Status Check(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext ctx;
  idp::rpc::PrepareContext(ctx, "", std::chrono::milliseconds(2000));
  HealthCheckRequest req;
  HealthCheckResponse resp;
  return stub->Check(&ctx, req, &resp);
}

}  // namespace

TEST_CASE("mutual TLS: a client with a certificate of the CA is served and others are refused") {
  const auto server_tls = Load("ca", "server");
  REQUIRE(server_tls.enabled());
  idp::metrics::Registry registry;
  idp::rpc::ServerOptions options{"127.0.0.1:0", 4, std::chrono::seconds(1)};
  options.tls = &server_tls;
  options.metrics = &registry;
  idp::mfa::v1::MfaService::Service unimplemented;  // a sync server needs one service
  idp::rpc::GrpcServer server(options, {&unimplemented});
  const std::string target = "127.0.0.1:" + std::to_string(server.port());

  SECTION("a client certificate of the same CA") {
    const auto client = Load("ca", "client");
    CHECK(Check(idp::rpc::MakeChannel(target, {&client, nullptr})).ok());
    // Also through a comma list (round robin), verified against the first address.
    CHECK(Check(idp::rpc::MakeChannel(target + "," + target, {&client, nullptr})).ok());
    const std::string text = registry.Render();
    CHECK(text.find("idp_grpc_server_handled_total{service=\"grpc.health.v1.Health\",method="
                    "\"Check\",code=\"OK\"} 2") != std::string::npos);
  }
  SECTION("plaintext is refused") {
    const idp::rpc::TlsConfig none;
    CHECK(Check(idp::rpc::MakeChannel(target, {&none, nullptr})).error_code() ==
          grpc::StatusCode::UNAVAILABLE);
  }
  SECTION("TLS without a client certificate is refused") {
    auto ca_only = Load("ca", "client");
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_only.ca;
    auto channel = grpc::CreateChannel(target, grpc::SslCredentials(ssl));
    CHECK(Check(channel).error_code() == grpc::StatusCode::UNAVAILABLE);
  }
  SECTION("a client certificate of another CA is refused") {
    auto foreign = Load("other", "client");
    foreign.ca = server_tls.ca;  // it trusts the server, but the server does not trust it
    CHECK(Check(idp::rpc::MakeChannel(target, {&foreign, nullptr})).error_code() ==
          grpc::StatusCode::UNAVAILABLE);
  }
  SECTION("a server certificate of another CA is refused by the client") {
    auto wrong_trust = Load("ca", "client");
    wrong_trust.ca = Load("other", "client").ca;
    CHECK(Check(idp::rpc::MakeChannel(target, {&wrong_trust, nullptr})).error_code() ==
          grpc::StatusCode::UNAVAILABLE);
  }
}

TEST_CASE("the TLS keys are all or nothing and must name readable PEM files") {
  CHECK_FALSE(idp::rpc::LoadTlsConfig(idp::Config::FromMap({})).enabled());
  CHECK_THROWS(idp::rpc::LoadTlsConfig(idp::Config::FromMap({{"rpc.tls_cert", "/x"}})));
  const fs::path d = CertDir() / "ca" / "client";
  CHECK_THROWS(idp::rpc::LoadTlsConfig(idp::Config::FromMap({
      {"rpc.tls_cert", (d / "tls.crt").string()},
      {"rpc.tls_key", "/nonexistent/tls.key"},
      {"rpc.tls_ca", (d / "ca.crt").string()},
  })));
  const fs::path not_pem = CertDir() / "not.pem";
  std::ofstream(not_pem) << "hello";
  CHECK_THROWS(idp::rpc::LoadTlsConfig(idp::Config::FromMap({
      {"rpc.tls_cert", not_pem.string()},
      {"rpc.tls_key", (d / "tls.key").string()},
      {"rpc.tls_ca", (d / "ca.crt").string()},
  })));
}

TEST_CASE("client and server calls are counted by method and code with consistent histograms") {
  idp::metrics::Registry server_registry;
  idp::rpc::ServerOptions options{"127.0.0.1:0", 4, std::chrono::seconds(1)};
  options.metrics = &server_registry;
  idp::mfa::v1::MfaService::Service unimplemented;
  idp::rpc::GrpcServer server(options, {&unimplemented});
  idp::metrics::Registry client_registry;
  idp::rpc::CallMetrics client_metrics(client_registry, idp::rpc::CallMetrics::Side::kClient);
  auto channel = idp::rpc::MakeChannel("127.0.0.1:" + std::to_string(server.port()),
                                       {nullptr, &client_metrics});
  for (int i = 0; i < 3; ++i) REQUIRE(Check(channel).ok());
  {
    // An unknown service: NOT_FOUND from the health service.
    auto stub = Health::NewStub(channel);
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "");
    HealthCheckRequest req;
    req.set_service("nope");
    HealthCheckResponse resp;
    CHECK(stub->Check(&ctx, req, &resp).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  const std::string s = server_registry.Render();
  CHECK(s.find("idp_grpc_server_handled_total{service=\"grpc.health.v1.Health\",method=\"Check\","
               "code=\"OK\"} 3\n") != std::string::npos);
  CHECK(s.find("idp_grpc_server_handled_total{service=\"grpc.health.v1.Health\",method=\"Check\","
               "code=\"NOT_FOUND\"} 1\n") != std::string::npos);
  CHECK(s.find("idp_grpc_server_handling_seconds_bucket{service=\"grpc.health.v1.Health\","
               "method=\"Check\",le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(s.find("idp_grpc_server_handling_seconds_count{service=\"grpc.health.v1.Health\","
               "method=\"Check\"} 4\n") != std::string::npos);
  const std::string c = client_registry.Render();
  CHECK(c.find("idp_grpc_client_handled_total{service=\"grpc.health.v1.Health\",method=\"Check\","
               "code=\"OK\"} 3\n") != std::string::npos);
  CHECK(c.find("idp_grpc_client_handled_total{service=\"grpc.health.v1.Health\",method=\"Check\","
               "code=\"NOT_FOUND\"} 1\n") != std::string::npos);
  CHECK(idp::rpc::StatusCodeName(14) == "UNAVAILABLE");
}

TEST_CASE("call metrics bound the methods they label") {
  idp::metrics::Registry registry;
  idp::rpc::CallMetrics m(registry, idp::rpc::CallMetrics::Side::kServer);
  // A peer probing made-up method names cannot grow the series without bound.
  for (int i = 0; i < 1000; ++i) m.Record("/probe.Service/M" + std::to_string(i), 12, 0.001);
  m.Record("/probe.Service/M1", 12, 0.001);
  const std::string text = registry.Render();
  std::size_t series = 0;
  for (std::size_t at = text.find("idp_grpc_server_handled_total{"); at != std::string::npos;
       at = text.find("idp_grpc_server_handled_total{", at + 1)) {
    ++series;
  }
  CHECK(series == 257);  // 256 named methods, then one "other"
  CHECK(text.find("idp_grpc_server_handled_total{service=\"probe.Service\",method=\"M1\","
                  "code=\"UNIMPLEMENTED\"} 2\n") != std::string::npos);
  CHECK(text.find("idp_grpc_server_handled_total{service=\"other\",method=\"other\","
                  "code=\"UNIMPLEMENTED\"} 744\n") != std::string::npos);
}
