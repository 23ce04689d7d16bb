#pragma once
/// @file Test helper: a fresh PostgreSQL database per test binary run, on the throwaway server
/// named by IDP_TEST_PG_DSN (scripts/test-services.sh). A missing variable fails the test.

#include <pqxx/pqxx>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

namespace idp::testing {

/// Creates database `<prefix>_<random>` and returns a DSN for it.
inline std::string CreateTestDatabase(const std::string& prefix) {
  const char* admin = std::getenv("IDP_TEST_PG_DSN");
  if (admin == nullptr || *admin == '\0') {
    throw std::runtime_error("IDP_TEST_PG_DSN is not set: run the tests through `make test`");
  }
  std::random_device rd;
  std::string name = prefix + "_" + std::to_string(rd() % 1000000000u);
  pqxx::connection c(admin);
  pqxx::nontransaction tx(c);
  tx.exec0("CREATE DATABASE " + tx.quote_name(name));
  std::string dsn = admin;
  auto slash = dsn.rfind('/');
  auto scheme = dsn.find("://");
  if (scheme == std::string::npos || slash == std::string::npos || slash < scheme + 3) {
    throw std::runtime_error("IDP_TEST_PG_DSN must be a postgresql:// URL with a database");
  }
  auto query = dsn.find('?', slash);
  return dsn.substr(0, slash + 1) + name + (query == std::string::npos ? "" : dsn.substr(query));
}

}  // namespace idp::testing
