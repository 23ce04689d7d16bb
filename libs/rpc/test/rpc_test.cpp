#include "grpc/health/v1/health.grpc.pb.h"
#include "idp/mfa/v1/mfa.grpc.pb.h"
#include "idp/rpc/channel.hpp"
#include "idp/rpc/server.hpp"
#include "idp/rpc/status.hpp"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

namespace {

// Echoes the request id it saw (through the thread's log context) as a factor label.
idp::Status Echo(const idp::mfa::v1::ListFactorsRequest* req,
                 idp::mfa::v1::ListFactorsResponse* resp) {
  if (req->subject() == "fail") return idp::NotFound("no such subject");
  if (req->subject() == "throw") throw std::runtime_error("boom");
  if (req->subject() == "origin") {
    resp->add_factors()->set_label(idp::CurrentCallOrigin().client_addr);
    resp->add_factors()->set_label(idp::CurrentCallOrigin().user_agent);
    return {};
  }
  resp->add_factors()->set_label(idp::log::CurrentRequestId());
  return {};
}

// Echo on the sync API (Serve), as auth serves.
class EchoMfa final : public idp::mfa::v1::MfaService::Service {
 public:
  grpc::Status ListFactors(grpc::ServerContext* ctx, const idp::mfa::v1::ListFactorsRequest* req,
                           idp::mfa::v1::ListFactorsResponse* resp) override {
    return idp::rpc::Serve(ctx, "ListFactors", [&] { return Echo(req, resp); });
  }
};

// Echo on the callback API (ServeUnary), as token, mfa and delivery serve.
class CallbackEchoMfa final : public idp::mfa::v1::MfaService::WithCallbackMethod_ListFactors<
                                  idp::mfa::v1::MfaService::Service> {
 public:
  grpc::ServerUnaryReactor* ListFactors(grpc::CallbackServerContext* ctx,
                                        const idp::mfa::v1::ListFactorsRequest* req,
                                        idp::mfa::v1::ListFactorsResponse* resp) override {
    return idp::rpc::ServeUnary(ctx, "ListFactors", [&] { return Echo(req, resp); });
  }
};

}  // namespace

TEST_CASE("the server serves grpc.health.v1 and follows SetServing") {
  EchoMfa svc;
  idp::rpc::GrpcServer server({"127.0.0.1:0", 4, std::chrono::seconds(1)}, {&svc});
  auto channel = idp::rpc::MakeChannel("127.0.0.1:" + std::to_string(server.port()));
  auto health = grpc::health::v1::Health::NewStub(channel);

  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "");
    REQUIRE(health->Check(&ctx, req, &resp).ok());
    CHECK(resp.status() == grpc::health::v1::HealthCheckResponse::SERVING);
  }
  server.SetServing(false);
  {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "");
    REQUIRE(health->Check(&ctx, req, &resp).ok());
    CHECK(resp.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  }
}

TEMPLATE_TEST_CASE("request ids travel in metadata; errors and exceptions map to statuses", "",
                   EchoMfa, CallbackEchoMfa) {
  TestType svc;
  idp::rpc::GrpcServer server({"127.0.0.1:0", 4, std::chrono::seconds(1)}, {&svc});
  auto stub = idp::mfa::v1::MfaService::NewStub(
      idp::rpc::MakeChannel("127.0.0.1:" + std::to_string(server.port())));

  idp::mfa::v1::ListFactorsRequest req;
  idp::mfa::v1::ListFactorsResponse resp;
  SECTION("a valid id is kept") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "gw-req-42");
    req.set_subject("someone");
    REQUIRE(stub->ListFactors(&ctx, req, &resp).ok());
    REQUIRE(resp.factors_size() == 1);
    CHECK(resp.factors(0).label() == "gw-req-42");
  }
  SECTION("the browser's address and user agent travel too, bounded and without controls") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "r2");
    std::string agent = "Agent\x01/1.0\x7f ";
    agent += std::string(300, 'u');
    idp::rpc::AddCallOrigin(ctx, "2001:db8::1", agent);
    req.set_subject("origin");
    REQUIRE(stub->ListFactors(&ctx, req, &resp).ok());
    REQUIRE(resp.factors_size() == 2);
    CHECK(resp.factors(0).label() == "2001:db8::1");
    CHECK(resp.factors(1).label().size() == idp::kMaxUserAgentLength);
    CHECK(resp.factors(1).label().rfind("Agent/1.0 uuu", 0) == 0);
  }
  SECTION("without origin metadata the origin is empty") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "r3");
    req.set_subject("origin");
    REQUIRE(stub->ListFactors(&ctx, req, &resp).ok());
    CHECK(resp.factors(0).label().empty());
    CHECK(resp.factors(1).label().empty());
  }
  SECTION("a malformed id is replaced") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "bad id!");
    req.set_subject("someone");
    REQUIRE(stub->ListFactors(&ctx, req, &resp).ok());
    CHECK(resp.factors(0).label().size() == 32);
  }
  SECTION("an idp::Error becomes its gRPC code") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "r1");
    req.set_subject("fail");
    auto st = stub->ListFactors(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(idp::rpc::FromGrpcStatus(st).code == idp::ErrorCode::kNotFound);
  }
  SECTION("an exception becomes INTERNAL without its text") {
    grpc::ClientContext ctx;
    idp::rpc::PrepareContext(ctx, "r2");
    req.set_subject("throw");
    auto st = stub->ListFactors(&ctx, req, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INTERNAL);
    CHECK(st.error_message().find("boom") == std::string::npos);
  }
}

TEST_CASE("a call to an address where nothing listens fails as unavailable or deadline") {
  auto stub = idp::mfa::v1::MfaService::NewStub(idp::rpc::MakeChannel("127.0.0.1:1"));
  grpc::ClientContext ctx;
  idp::rpc::PrepareContext(ctx, "r3", std::chrono::milliseconds(300));
  idp::mfa::v1::ListFactorsResponse resp;
  auto st = stub->ListFactors(&ctx, {}, &resp);
  auto code = idp::rpc::FromGrpcStatus(st).code;
  CHECK((code == idp::ErrorCode::kUnavailable || code == idp::ErrorCode::kDeadlineExceeded));
}
