// The gateway: every HTTP endpoint (OIDC, hosted pages, health). Everything is built in
// src/app.cpp.
#include "src/app.hpp"

#include "idp/rpc/server.hpp"

int main(int argc, char** argv) {
  return idp::rpc::ServiceMain(argc, argv, "gateway", idp::gateway::RunApp);
}
