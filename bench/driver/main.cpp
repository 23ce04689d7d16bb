// idp-bench-driver: the benchmark's load driver. One invocation runs one scenario at one load
// against one server and prints its report as one JSON object on stdout. bench/bench.mjs runs it
// for every scenario, load and server; see docs/benchmarks.md.
//
//   idp-bench-driver --scenario cc --url http://127.0.0.1:8080 --client-id X --client-secret Y
//       --concurrency 8 --warmup 1 --duration 5 --watch gateway=1234 --watch postgres=tree:99
//   idp-bench-driver --argon2-calibrate 10 [--argon2-t 2 --argon2-m-kib 19456]
//
// Bounded: every run has a duration (at most 600 s) and a maximum operation count, every
// request a 10 s timeout, and the whole process an alarm; it talks to loopback addresses only.
#include "scenarios.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

void Usage() {
  std::cerr <<
      "usage: idp-bench-driver --scenario cc|code|refresh|login|get --url http://127.0.0.1:PORT\n"
      "  [--label NAME] [--path /jwks] [--client-id ID --client-secret S] [--alg RS256|ES256]\n"
      "  [--redirect-uri URI] [--scope S] [--user-prefix P --users N --password PW] [--no-login-hint]\n"
      "  [--concurrency N] [--rate OPS_PER_S] [--warmup S] [--duration S] [--max-ops N]\n"
      "  [--threads N] [--setup-parallel N] [--totp-file F] [--watch label=pid | label=tree:pid ...]\n"
      "  or: idp-bench-driver --argon2-calibrate N [--argon2-t T --argon2-m-kib KIB]\n";
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options o;
  int calibrate = 0;
  unsigned argon2_t = 2, argon2_m = 19456;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--scenario") o.scenario = next();
      else if (a == "--url") o.url = next();
      else if (a == "--label") o.label = next();
      else if (a == "--path") o.path = next();
      else if (a == "--client-id") o.client_id = next();
      else if (a == "--client-secret") o.client_secret = next();
      else if (a == "--alg") o.alg = next();
      else if (a == "--redirect-uri") o.redirect_uri = next();
      else if (a == "--scope") o.scope = next();
      else if (a == "--user-prefix") o.user_prefix = next();
      else if (a == "--users") o.users = std::stoi(next());
      else if (a == "--password") o.password = next();
      else if (a == "--no-login-hint") o.login_hint = false;
      else if (a == "--concurrency") o.concurrency = std::stoi(next());
      else if (a == "--rate") o.rate = std::stod(next());
      else if (a == "--warmup") o.warmup_s = std::stod(next());
      else if (a == "--duration") o.duration_s = std::stod(next());
      else if (a == "--max-ops") o.max_ops = std::stoull(next());
      else if (a == "--threads") o.threads = std::stoi(next());
      else if (a == "--setup-parallel") o.setup_parallel = std::stoi(next());
      else if (a == "--totp-file") o.totp_file = next();
      else if (a == "--watch") o.watched.push_back(bench::ParseWatched(next()));
      else if (a == "--argon2-calibrate") calibrate = std::stoi(next());
      else if (a == "--argon2-t") argon2_t = static_cast<unsigned>(std::stoul(next()));
      else if (a == "--argon2-m-kib") argon2_m = static_cast<unsigned>(std::stoul(next()));
      else if (a == "-h" || a == "--help") {
        Usage();
        return 0;
      } else {
        throw std::runtime_error("unknown option " + a);
      }
    }
    if (calibrate > 0) {
      if (calibrate > 200) throw std::runtime_error("--argon2-calibrate: at most 200");
      std::cout << boost::json::serialize(bench::CalibrateArgon2(calibrate, argon2_t, argon2_m)) << "\n";
      return 0;
    }
    if (o.scenario.empty() || o.url.empty()) {
      Usage();
      return 2;
    }
    // A hard bound on the whole process: set-up (2 min at most), warm-up, the run and draining.
    alarm(static_cast<unsigned>(o.warmup_s + o.duration_s) + 180);
    std::cout << boost::json::serialize(bench::RunScenario(o)) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "idp-bench-driver: " << e.what() << "\n";
    return 1;
  }
}
