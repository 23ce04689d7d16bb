// The mfa service: second factors. Everything is built in src/app.cpp.
#include "src/app.hpp"

#include "idp/rpc/server.hpp"

int main(int argc, char** argv) {
  return idp::rpc::ServiceMain(argc, argv, "mfa", idp::mfa::RunApp);
}
