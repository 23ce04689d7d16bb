// The benchmark's scenarios and how the driver is told to play them (bench/driver/scenarios.hpp
// describes each). Shared by bench/bench.mjs and bench/profile.mjs.

export const REDIRECT = 'http://127.0.0.1:9/cb';
export const PASSWORD = 'bench-password-0123456789';
export const USERS = 16;
// Scenario 4: people with an authenticator app, each with this many apps (see seedOurs).
export const MFA_USERS = 16;
export const APPS_PER_USER = 32;

// `levels` are concurrencies (virtual users); `paced` adds an open-loop run at half of each
// server's peak throughput (the latency target); `memRef` adds a run of the reference with its
// in-memory store at the top level; `oursOnly`: the reference has no such flow.
export const SCENARIOS = [
  { id: 'cc', title: '1. client_credentials grant', scenario: 'cc', client: 'cc', levels: [1, 8, 32],
    paced: true, memRef: true, scope: 'api.read' },
  { id: 'code-rs256', title: '2a. authorization code + SSO session, RS256 ID token', scenario: 'code',
    client: 'rs256', alg: 'RS256', levels: [1, 8, 32], paced: true, memRef: true,
    scope: 'openid profile email' },
  { id: 'code-es256', title: '2b. authorization code + SSO session, ES256 ID token', scenario: 'code',
    client: 'es256', alg: 'ES256', levels: [1, 8, 32], paced: true, memRef: true,
    scope: 'openid profile email' },
  { id: 'refresh', title: '3. refresh-token grant with rotation', scenario: 'refresh', client: 'rs256',
    alg: 'RS256', levels: [1, 8, 32], paced: true, memRef: true, scope: 'openid offline_access' },
  { id: 'login', title: '4. password + TOTP sign-in from scratch', scenario: 'login', client: 'rs256',
    alg: 'RS256', levels: [2, 8], oursOnly: true, scope: 'openid profile email', totp: true },
  { id: 'discovery', title: '5a. discovery document', scenario: 'get',
    path: '/.well-known/openid-configuration', levels: [8, 32] },
  { id: 'jwks', title: '5b. JWKS', scenario: 'get', path: 'jwks', levels: [8, 32] },
];

/** The driver's arguments for one run of `sc` against `server`. */
export function driverArgs(sc, server, { concurrency, rate = 0, warmup, duration, maxOps = 2_000_000, watch = [] }) {
  const client = sc.client ? server.clients[sc.client] : null;
  const args = ['--scenario', sc.scenario, '--url', server.issuer, '--label', server.label,
    '--concurrency', String(concurrency), '--warmup', String(warmup), '--duration', String(duration),
    '--max-ops', String(maxOps), ...watch];
  if (rate) args.push('--rate', String(rate));
  if (client) args.push('--client-id', client.client_id, '--client-secret', client.client_secret);
  if (sc.alg) args.push('--alg', sc.alg);
  if (sc.scope) args.push('--scope', sc.scope);
  if (sc.scenario === 'code' || sc.scenario === 'refresh' || sc.scenario === 'login') {
    args.push('--redirect-uri', REDIRECT, '--password', PASSWORD);
    if (sc.totp) {
      if (!server.totpFile) throw new Error('the login scenario needs the people with apps (seedOurs mfaUsers)');
      args.push('--user-prefix', 'bench-mfa-', '--users', String(MFA_USERS), '--totp-file', server.totpFile);
    } else {
      args.push('--user-prefix', 'bench-user-', '--users', String(USERS));
    }
  }
  if (sc.path) args.push('--path', sc.path === 'jwks' ? new URL(server.jwksUri).pathname : sc.path);
  return args;
}
