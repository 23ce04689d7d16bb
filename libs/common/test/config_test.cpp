#include "idp/common/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

std::string WriteTemp(const std::string& text) {
  // A name of its own per process and call: ctest runs each test case as its own process, in
  // parallel, and a shared file made them read each other's configuration.
  static int n = 0;
  auto path = std::filesystem::temp_directory_path() /
              ("idp_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("config reads nested TOML keys as section.name") {
  auto path = WriteTemp(
      "issuer = \"http://localhost:8080\"\n[token]\nlisten = \"127.0.0.1:7004\"\n"
      "code_ttl = 60\n[gateway]\ntls = false\nallowed = [\"NL\", \"BE\"]\n");
  auto cfg = idp::Config::Load(path);
  CHECK(cfg.GetString("issuer", "") == "http://localhost:8080");
  CHECK(cfg.GetString("token.listen", "") == "127.0.0.1:7004");
  CHECK(cfg.GetInt("token.code_ttl", 0) == 60);
  CHECK(cfg.GetBool("gateway.tls", true) == false);
  CHECK(cfg.GetString("gateway.allowed", "") == "NL,BE");
  CHECK(cfg.GetString("absent.key", "fallback") == "fallback");
}

TEST_CASE("arrays of tables become numbered sections") {
  auto path = WriteTemp(
      "[[clients]]\nclient_id = \"a\"\nredirect_uris = [\"https://a/cb\", \"https://a/cb2\"]\n"
      "[[clients]]\nclient_id = \"b\"\nshow_in_portal = true\n");
  auto cfg = idp::Config::Load(path);
  CHECK(cfg.GetString("clients.0.client_id", "") == "a");
  CHECK(cfg.GetString("clients.0.redirect_uris", "") == "https://a/cb,https://a/cb2");
  CHECK(cfg.GetString("clients.1.client_id", "") == "b");
  CHECK(cfg.GetBool("clients.1.show_in_portal", false));
  CHECK_FALSE(cfg.Find("clients.2.client_id"));
  CHECK(cfg.KeysWithPrefix("clients.1.") ==
        std::vector<std::string>{"clients.1.client_id", "clients.1.show_in_portal"});
}

TEST_CASE("IDP_* environment variables override the file and fill absent keys") {
  auto path = WriteTemp("[token]\nlisten = \"127.0.0.1:7004\"\n");
  ::setenv("IDP_TOKEN_LISTEN", "127.0.0.1:9999", 1);
  ::setenv("IDP_MASTER_KEY_TEST_ONLY", "abc", 1);
  auto cfg = idp::Config::Load(path);
  CHECK(cfg.GetString("token.listen", "") == "127.0.0.1:9999");
  CHECK(cfg.RequireString("master_key_test_only") == "abc");
  ::unsetenv("IDP_TOKEN_LISTEN");
  ::unsetenv("IDP_MASTER_KEY_TEST_ONLY");
  CHECK(idp::Config::EnvName("auth.pg-pool.size") == "IDP_AUTH_PG_POOL_SIZE");
}

TEST_CASE("config errors name the key and its variable") {
  auto cfg = idp::Config::FromMap({{"a.n", "12x"}});
  CHECK_THROWS_WITH(cfg.RequireString("missing.key"), Catch::Contains("IDP_MISSING_KEY"));
  CHECK_THROWS_WITH(cfg.GetInt("a.n", 0), Catch::Contains("a.n"));
  CHECK_THROWS(idp::Config::Load("/nonexistent/idp.toml"));
  CHECK_THROWS(idp::Config::Load(WriteTemp("[broken\n")));
}
