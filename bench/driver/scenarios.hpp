// The benchmark's scenarios, played by virtual users (VUs): each VU is one coroutine with its own
// keep-alive connections (a browser's and a relying party's) and its own cookie jar.
//
//   cc       client_credentials grant (client_secret_basic)
//   code     authorization-code flow with an SSO session: /authorize -> code -> token exchange
//            (PKCE S256, client_secret_basic), the ID token checked (signature, alg, iss, aud,
//            nonce, exp); each VU signs in once before the run
//   refresh  refresh-token grant with rotation; each VU gets its first refresh token before the
//            run and always presents the newest one
//   login    sign-in from scratch: a new cookie jar, /authorize, the login page, the password
//            form, with --totp-file the second step (a TOTP code of one of the person's
//            authenticator apps), the callback, the token exchange and the ID token check
//   get      one cacheable GET (discovery, JWKS)
//
// Closed loop (each VU starts its next operation when the last ends) or, with a rate, open loop:
// operations are due at fixed intervals and their latency counts from when they were due, so a
// server that falls behind shows it (no coordinated omission).
#pragma once

#include "http_client.hpp"
#include "jwt_check.hpp"
#include "proc_stats.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bench {

struct Options {
  std::string scenario;
  std::string url;       // the server's origin, http://127.0.0.1:PORT
  std::string label;     // a name for the server in the report
  std::string path;      // for `get`
  std::string client_id, client_secret;
  std::string alg = "RS256";  // the alg the client registered for ID tokens
  std::string redirect_uri;
  std::string scope;
  std::string user_prefix = "bench-user-";  // users are PREFIX0 .. PREFIX(N-1)
  int users = 1;
  std::string password;
  bool login_hint = true;  // name the user in the authorization request (the reference's auto-login reads it)
  int concurrency = 1;
  double rate = 0;  // operations per second; 0 = closed loop
  double warmup_s = 1;
  double duration_s = 5;
  std::uint64_t max_ops = 1'000'000;
  int threads = 1;
  int setup_parallel = 2;  // VUs that sign in at once before the run
  // login: the people's authenticator apps, a JSON object {username: [{secret: BASE32, step:
  // the last time step used}]}. A step is accepted once per app (RFC 6238 §5.2), so each
  // sign-in takes an app whose last step is behind the current one.
  std::string totp_file;
  std::vector<Watched> watched;
};

/// Runs one scenario at one load and returns its report (JSON).
boost::json::object RunScenario(const Options& options);

/// Times `n` Argon2id verifications with the service's parameters (CPU time of this thread).
boost::json::object CalibrateArgon2(int n, unsigned t_cost, unsigned m_kib);

}  // namespace bench
