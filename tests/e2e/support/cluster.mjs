// The operations tests' harness: a PostgreSQL and a Redis of its own (so a test can stop and
// restart them), then any number of gateways and of instances of each backend service, all from
// the built binaries, all on free loopback ports. Nothing is mocked. Everything it starts is
// stopped by stopCluster(), and by a process 'exit' hook if a test dies first.
//
// Modelled on stack.mjs (which the other end-to-end tests use and which stays as it is).
import { spawn, execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, openSync, closeSync, rmSync, chmodSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const build = process.env.IDP_BUILD_DIR ?? path.join(root, 'build');
const libServers = path.join(root, 'scripts/lib-servers.sh');
const execFileP = promisify(execFile);
export const BACKENDS = ['auth', 'mfa', 'delivery', 'token'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export { freePort };

/** Runs a function of scripts/lib-servers.sh (asynchronously: the event loop keeps serving). */
async function libServer(fn, args) {
  await execFileP('bash', ['-c', `set -e; source "${libServers}"; ${fn} "$@"`, fn, ...args.map(String)],
    { cwd: '/', timeout: 90000 });
}
function libServerSync(fn, args) {
  execFileSync('bash', ['-c', `source "${libServers}"; ${fn} "$@"`, fn, ...args.map(String)],
    { cwd: '/', timeout: 30000, stdio: 'ignore' });
}

/**
 * One gRPC unary call grpc.health.v1.Health/Check over HTTP/2 cleartext, with node's own http2
 * (no gRPC library): 'SERVING', 'NOT_SERVING', ... or throws when the call fails.
 */
export function grpcHealth(address, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`health ${address}: timeout`)); }, timeoutMs);
    const done = (fn, v) => { clearTimeout(timer); session.close(); fn(v); };
    session.on('error', (e) => done(reject, e));
    const req = session.request({
      ':method': 'POST', ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc', te: 'trailers',
    });
    const chunks = [];
    let trailers = {};
    req.on('data', (c) => chunks.push(c));
    req.on('trailers', (t) => { trailers = t; });
    req.on('error', (e) => done(reject, e));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const status = trailers['grpc-status'] ?? '';
      if (status !== '0') { done(reject, new Error(`health ${address}: grpc-status ${status}`)); return; }
      // 5-byte frame header, then HealthCheckResponse { status = 1 (varint) }.
      const msg = body.subarray(5);
      const value = msg.length >= 2 && msg[0] === 0x08 ? msg[1] : 0;
      done(resolve, ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][value] ?? String(value));
    });
    req.end(Buffer.alloc(5));  // an empty HealthCheckRequest: not compressed, length 0
  });
}

/** A service process that can be killed and started again on the same port and config. */
class Proc {
  constructor(cluster, service, index, port, env) {
    Object.assign(this, { cluster, service, index, port, env });
    this.name = `${service}${index}`;
    this.log = path.join(cluster.dir, `${this.name}.log`);
    this.address = `127.0.0.1:${port}`;
    this.child = null;
    this.starts = 0;
  }

  /**
   * Starts the binary; resolves once it runs. A binary that cannot be executed right now
   * (ENOENT, EACCES, ETXTBSY: a build is relinking it) is tried again for up to 20 s.
   */
  async start() {
    const bin = path.join(build, `services/${this.service}/idp-${this.service}`);
    for (let attempt = 0; ; attempt += 1) {
      const fd = openSync(this.log, 'a');
      const child = spawn(bin, [], { env: this.env, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      this.child = child;
      this.spawnError = null;
      this.exit = new Promise((resolve) => {
        child.once('exit', (code, signal) => resolve(code ?? signal));
        child.once('error', (e) => { this.spawnError = e; resolve(e.code); });
      });
      const error = await new Promise((resolve) => {
        child.once('spawn', () => resolve(null));
        child.once('error', resolve);
      });
      if (!error) { this.starts += 1; return; }
      if (!['EACCES', 'ETXTBSY', 'ENOENT'].includes(error.code) || attempt >= 40) {
        throw new Error(`${this.name}: cannot start ${bin}: ${error.code}`);
      }
      await sleep(500);
    }
  }

  get running() {
    return this.child !== null && !this.spawnError && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: no shutdown of any kind. Resolves when the process is gone. */
  async kill() {
    if (!this.running) return this.exit;
    this.child.kill('SIGKILL');
    return this.exit;
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves to the exit code (or signal name). */
  async stop(graceMs = 10000) {
    if (!this.child) return null;
    if (!this.running) return this.spawnError ? this.spawnError.code : this.exit;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill('SIGTERM');
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }

  /** Waits until this instance answers: /readyz 200 for a gateway, SERVING for a backend. */
  async waitReady(timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited with ${await this.exit}; see ${this.log}`);
      try {
        if (this.service === 'gateway') {
          const r = await fetch(`http://${this.address}/readyz`, { signal: AbortSignal.timeout(2000) });
          if (r.status === 200) return;
        } else if (await grpcHealth(this.address) === 'SERVING') {
          return;
        }
      } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error(`${this.name} not ready within ${timeoutMs} ms; see ${this.log}`);
  }
}

/** PostgreSQL 15 from Debian's package, data in `dir`; stop() and start() keep the data. */
class Postgres {
  constructor(dir, port) { Object.assign(this, { dir, port }); this.log = path.join(dir, '../postgres.log'); }
  get admin() { return `postgresql://postgres@127.0.0.1:${this.port}/postgres`; }
  start() {
    return libServer('pg_start', [this.dir, this.port, this.log,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  }
  stop() { return libServer('pg_stop', [this.dir]); }
}

/** Redis with the persistence `make run` uses (AOF, fsync every second). */
class Redis {
  constructor(dir, port) { Object.assign(this, { dir, port }); }
  start() { return libServer('redis_start', [this.dir, this.port, '--appendonly', 'yes', '--appendfsync', 'everysec']); }
  stop() { return libServer('redis_stop', [this.port]); }
}

const live = new Set();
function cleanupAll() {
  // Last resort when a test dies without its after(): nothing may outlive the test run.
  for (const c of live) {
    for (const p of c.all()) if (p.running) p.child.kill('SIGKILL');
    try { execFileSync('redis-cli', ['-p', String(c.redis.port), 'shutdown', 'nosave'], { stdio: 'ignore' }); } catch { /* gone */ }
    try { libServerSync('pg_stop', [c.pg.dir]); } catch { /* gone */ }
    rmSync(c.state, { recursive: true, force: true });
  }
  live.clear();
}
process.on('exit', cleanupAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { cleanupAll(); process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); });
}

/**
 * Starts PostgreSQL, Redis, `instances` of each backend and `gateways` gateways. Every gateway
 * has every instance of each backend as a comma-separated upstream list (round robin). All
 * gateways share one issuer (as behind one load balancer): the first gateway's URL.
 */
export async function startCluster(name, { gateways = 1, instances = 1, env: extraEnv = {} } = {}) {
  const id = `${name}_${randomBytes(3).toString('hex')}`;
  const dir = path.join(root, 'tests/e2e/.artifacts', id);
  mkdirSync(dir, { recursive: true });
  // Server data under /tmp: the postgres user must be able to reach it when we run as root.
  const state = path.join('/tmp', `idp-ops-${id}`);
  mkdirSync(state, { recursive: true });
  chmodSync(state, 0o755);

  const cluster = {
    id, dir, state, procs: {},
    pg: new Postgres(path.join(state, 'pg'), await freePort()),
    redis: new Redis(path.join(state, 'redis'), await freePort()),
    all() { return Object.values(this.procs).flat(); },
  };
  live.add(cluster);
  try {
    await cluster.pg.start();
    execFileSync('psql', [cluster.pg.admin, '-qc', 'CREATE DATABASE idp']);
    await cluster.redis.start();

    const ports = {};
    for (const s of [...BACKENDS, 'gateway']) {
      ports[s] = [];
      for (let i = 0; i < (s === 'gateway' ? gateways : instances); i += 1) ports[s].push(await freePort());
    }
    cluster.issuer = `http://127.0.0.1:${ports.gateway[0]}`;
    cluster.gateways = ports.gateway.map((p) => `http://127.0.0.1:${p}`);
    const list = (s) => ports[s].map((p) => `127.0.0.1:${p}`).join(',');
    // The file names the first instance of each service (what idpctl talks to); each process
    // gets its own listen address through the environment.
    const config = `issuer = "${cluster.issuer}"
[log]
level = "info"
[postgres]
dsn = "postgresql://postgres@127.0.0.1:${cluster.pg.port}/idp"
[redis]
url = "redis://127.0.0.1:${cluster.redis.port}"
[auth]
listen = "127.0.0.1:${ports.auth[0]}"
[mfa]
listen = "127.0.0.1:${ports.mfa[0]}"
[delivery]
listen = "127.0.0.1:${ports.delivery[0]}"
[token]
listen = "127.0.0.1:${ports.token[0]}"
[gateway]
listen = "127.0.0.1:${ports.gateway[0]}"
auth = "${list('auth')}"
mfa = "${list('mfa')}"
delivery = "${list('delivery')}"
token = "${list('token')}"
`;
    cluster.configPath = path.join(dir, 'idp.toml');
    writeFileSync(cluster.configPath, config);
    const base = {
      ...process.env, IDP_CONFIG: cluster.configPath,
      IDP_MASTER_KEY: randomBytes(32).toString('hex'), ...extraEnv,
    };

    for (const s of [...BACKENDS, 'gateway']) {
      cluster.procs[s] = ports[s].map((port, i) => new Proc(cluster, s, i, port,
        { ...base, [`IDP_${s.toUpperCase()}_LISTEN`]: `127.0.0.1:${port}` }));
    }
    // Backends first (instances of one service start together: migrations and key creation
    // take an advisory lock), then the gateways.
    await Promise.all(BACKENDS.flatMap((s) => cluster.procs[s]).map((p) => p.start()));
    await Promise.all(BACKENDS.flatMap((s) => cluster.procs[s]).map((p) => p.waitReady()));
    await Promise.all(cluster.procs.gateway.map((p) => p.start()));
    await Promise.all(cluster.procs.gateway.map((p) => p.waitReady()));
  } catch (e) {
    await stopCluster(cluster);
    throw e;
  }
  return cluster;
}

/** Stops every service with SIGTERM (gateways first), then Redis and PostgreSQL. */
export async function stopCluster(cluster) {
  const codes = {};
  try {
    for (const group of [cluster.procs.gateway ?? [], BACKENDS.flatMap((s) => cluster.procs[s] ?? [])]) {
      await Promise.all(group.map(async (p) => { codes[p.name] = await p.stop(); }));
    }
  } finally {
    try {
      execFileSync('redis-cli', ['-p', String(cluster.redis.port), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch { /* not running */ }
    await cluster.pg.stop().catch(() => {});
    rmSync(cluster.state, { recursive: true, force: true });
    live.delete(cluster);
  }
  return codes;
}

/** Runs idpctl against the cluster (the first instance of auth and token); parsed JSON. */
export function idpctl(cluster, args, input) {
  const out = execFileSync(path.join(build, 'tools/idpctl/idpctl'), ['--json', ...args], {
    env: { ...process.env, IDP_CONFIG: cluster.configPath },
    input,
  });
  return JSON.parse(out.toString());
}

export function readLog(proc) {
  return readFileSync(proc.log, 'utf8');
}

/** Lines of a service log that say it crashed or aborted (for the report). */
export function crashLines(proc) {
  return readLog(proc).split('\n').filter((l) => /terminate called|Segmentation|Aborted|"level":"(critical|fatal)"/.test(l));
}
