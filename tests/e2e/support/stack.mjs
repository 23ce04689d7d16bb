// Starts the real stack for end-to-end tests: the five built binaries on free loopback ports,
// against a fresh database on the throwaway PostgreSQL and a Redis database of their own
// (both started by scripts/test-services.sh). Nothing here is mocked.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.mjs';
export { freePort };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const build = process.env.IDP_BUILD_DIR ?? path.join(root, 'build');

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through \`make test\``);
  return v;
}


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
  throw new Error(`stack not ready at ${url}`);
}

/** Runs idpctl against the stack; returns parsed JSON output. */
export function idpctl(stack, args, input) {
  const out = execFileSync(path.join(build, 'tools/idpctl/idpctl'), ['--json', ...args], {
    env: { ...process.env, IDP_CONFIG: stack.configPath },
    input,
  });
  return JSON.parse(out.toString());
}

/**
 * Starts the stack; `env` adds IDP_* overrides (e.g. IDP_TOKEN_KEY_PUBLISH_AHEAD). Every process
 * serves /metrics on a loopback port of its own (`stack.metricsPorts[service]`). With `tls` (a
 * directory made by deploy/gen-certs.sh with a certificate per service and one named `idpctl`)
 * gRPC between the services is mutual TLS: each process gets its own certificate through
 * IDP_RPC_TLS_*, and the configuration file names idpctl's.
 */
export async function startStack(name = 'e2e', options = {}) {
  // A port found free can be taken by another process's outgoing connection before our service
  // binds it (the same ephemeral range): then start again on new ports, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(name, options);
    } catch (e) {
      if (attempt >= 3 || !e.portInUse) throw e;
    }
  }
}

async function startStackOnce(name, { env: extraEnv = {}, config: extraConfig = '', tls } = {}) {
  const pgAdmin = required('IDP_TEST_PG_DSN');
  const redisUrl = new URL(required('IDP_TEST_REDIS_URL'));
  const db = `${name}_${randomBytes(4).toString('hex')}`;
  execFileSync('psql', [pgAdmin, '-qc', `CREATE DATABASE ${db}`]);
  const dsn = new URL(pgAdmin);
  dsn.pathname = `/${db}`;

  const dir = path.join(root, 'tests/e2e/.artifacts', db);
  mkdirSync(dir, { recursive: true });
  const ports = {};
  const metricsPorts = {};
  for (const s of ['gateway', 'auth', 'mfa', 'delivery', 'token']) {
    ports[s] = await freePort();
    metricsPorts[s] = await freePort();
  }
  const issuer = `http://127.0.0.1:${ports.gateway}`;
  // Each stack gets a Redis database number no other live stack of this process has, so stacks
  // never share keys (two deliveries on one outbox, or one stack's FLUSHDB emptying another's).
  const redisDb = claimRedisDb();
  // A clean database: counters an earlier stack left (rate limits, codes) must not leak in.
  execFileSync('redis-cli', ['-h', redisUrl.hostname, '-p', redisUrl.port, '-n', String(redisDb), 'FLUSHDB']);
  const config = `issuer = "${issuer}"
[log]
level = "debug"
[postgres]
dsn = "${dsn}"
[redis]
url = "redis://${redisUrl.host}/${redisDb}"
[auth]
listen = "127.0.0.1:${ports.auth}"
metrics_listen = "127.0.0.1:${metricsPorts.auth}"
[mfa]
listen = "127.0.0.1:${ports.mfa}"
metrics_listen = "127.0.0.1:${metricsPorts.mfa}"
[delivery]
listen = "127.0.0.1:${ports.delivery}"
metrics_listen = "127.0.0.1:${metricsPorts.delivery}"
[token]
listen = "127.0.0.1:${ports.token}"
metrics_listen = "127.0.0.1:${metricsPorts.token}"
[gateway]
listen = "127.0.0.1:${ports.gateway}"
metrics_listen = "127.0.0.1:${metricsPorts.gateway}"
${tls ? `[rpc]
tls_cert = "${path.join(tls, 'idpctl/tls.crt')}"
tls_key = "${path.join(tls, 'idpctl/tls.key')}"
tls_ca = "${path.join(tls, 'idpctl/ca.crt')}"
` : ''}${extraConfig}`;
  const configPath = path.join(dir, 'idp.toml');
  writeFileSync(configPath, config);
  const env = { ...process.env, IDP_CONFIG: configPath, IDP_MASTER_KEY: randomBytes(32).toString('hex'), ...extraEnv };

  const procs = [];
  for (const s of ['auth', 'mfa', 'delivery', 'token', 'gateway']) {
    const log = path.join(dir, `${s}.log`);
    const fd = openSync(log, 'a');
    const own = tls ? {
      IDP_RPC_TLS_CERT: path.join(tls, s, 'tls.crt'),
      IDP_RPC_TLS_KEY: path.join(tls, s, 'tls.key'),
      IDP_RPC_TLS_CA: path.join(tls, s, 'ca.crt'),
    } : {};
    const p = spawn(path.join(build, `services/${s}/idp-${s}`), [], { env: { ...env, ...own }, stdio: ['ignore', fd, fd] });
    p.name = s;
    p.log = log;
    procs.push(p);
  }
  const stack = { issuer, ports, metricsPorts, procs, dir, configPath, dsn: dsn.toString(), redisDb, env };
  try {
    await waitReady(`${issuer}/readyz`, procs);
  } catch (e) {
    await stopStack(stack);
    e.portInUse = procs.some((p) => readFileSync(p.log, 'utf8').includes('Address already in use'));
    throw e;
  }
  return stack;
}

/**
 * Starts one more gateway for `stack` (same configuration, Redis and backends; its own port),
 * as a second instance behind a load balancer would be. Returns its base URL; stopStack stops it.
 */
export async function startExtraGateway(stack) {
  const port = await freePort();
  const name = `gateway${stack.procs.filter((p) => p.name.startsWith('gateway')).length + 1}`;
  const log = path.join(stack.dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const p = spawn(path.join(build, 'services/gateway/idp-gateway'), [], {
    env: { ...stack.env, IDP_GATEWAY_LISTEN: `127.0.0.1:${port}`, IDP_GATEWAY_METRICS_LISTEN: `127.0.0.1:${await freePort()}` },
    stdio: ['ignore', fd, fd],
  });
  p.name = name;
  p.log = log;
  stack.procs.push(p);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, [p]);
  return url;
}

// Redis databases 1..15 (0 is left to people running things by hand) held by live stacks.
const redisDbsInUse = new Set();

function claimRedisDb() {
  for (let n = 1; n <= 15; n++) {
    if (!redisDbsInUse.has(n)) { redisDbsInUse.add(n); return n; }
  }
  throw new Error('more than 15 stacks at once: stop one before starting another');
}

/** Stops every process with SIGTERM; returns {name: exitCode}. */
export async function stopStack(stack) {
  const codes = {};
  await Promise.all(stack.procs.map((p) => new Promise((resolve) => {
    if (p.exitCode !== null) { codes[p.name] = p.exitCode; resolve(); return; }
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', (code, signal) => { clearTimeout(timer); codes[p.name] = code ?? signal; resolve(); });
    p.kill('SIGTERM');
  })));
  redisDbsInUse.delete(stack.redisDb);
  return codes;
}

export function readLog(stack, service) {
  return readFileSync(path.join(stack.dir, `${service}.log`), 'utf8');
}
