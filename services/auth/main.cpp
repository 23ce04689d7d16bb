// The auth service: accounts and passwords. Everything is built in src/app.cpp.
#include "src/app.hpp"

#include "idp/rpc/server.hpp"

int main(int argc, char** argv) {
  return idp::rpc::ServiceMain(argc, argv, "auth", idp::auth::RunApp);
}
