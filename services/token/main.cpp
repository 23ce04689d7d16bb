// The token service: clients, signing keys, codes and tokens. Everything is built in src/app.cpp.
#include "src/app.hpp"

#include "idp/rpc/server.hpp"

int main(int argc, char** argv) {
  return idp::rpc::ServiceMain(argc, argv, "token", idp::token::RunApp);
}
