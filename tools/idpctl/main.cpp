// idpctl: the admin CLI. Talks gRPC to the services named in the stack's configuration.
#include "commands.hpp"

int main(int argc, char** argv) { return idp::idpctl::Run(argc, argv); }
