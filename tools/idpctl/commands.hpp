#pragma once

namespace idp::idpctl {

/// Parses the command line and runs one command. Exit codes: 0 success, 1 failure reported by a
/// service (already exists, invalid argument, unavailable), 2 usage error.
int Run(int argc, char** argv);

}  // namespace idp::idpctl
