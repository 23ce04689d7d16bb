// The side-by-side benchmark (issue "Benchmarks"): our stack and node-oidc-provider on the same
// machine in the same invocation, every scenario at several loads, ours and the reference taking
// turns at each load so that a drift in the machine's speed hits both. Run by bench/run.sh
// (`make bench`), which builds, starts PostgreSQL and Redis, installs the reference and passes
// everything below through the environment. Writes bench/results/<date>.{md,json} and the
// latest table into docs/benchmarks.md. How to read it: docs/benchmarks.md.
import { execFileSync, execFile } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startOurs, startReference, seedOurs, referenceClients, stopProcs } from './support/stack.mjs';
import { renderResults, updateDocs } from './support/report.mjs';
import { SCENARIOS, REDIRECT, PASSWORD, USERS, MFA_USERS, APPS_PER_USER, driverArgs } from './support/scenarios.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the benchmark through \`make bench\``);
  return v;
}

const env = {
  driver: need('BENCH_DRIVER'),
  bin: need('BENCH_BIN'),
  refDir: need('BENCH_REF_DIR'),
  tmp: need('BENCH_TMP'),
  pgAdmin: need('IDP_TEST_PG_DSN'),
  redisUrl: need('IDP_TEST_REDIS_URL'),
  pgPidFile: need('BENCH_PG_PIDFILE'),
  redisPidFile: need('BENCH_REDIS_PIDFILE'),
  // BENCH_QUICK=1: one short load per scenario, for trying the harness (not for results).
  quick: process.env.BENCH_QUICK === '1',
  only: process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null,
  // BENCH_LEVELS=4,16: these concurrencies for every scenario instead of its own (exploring).
  levels: process.env.BENCH_LEVELS ? process.env.BENCH_LEVELS.split(',').map(Number) : null,
  out: process.env.BENCH_OUT ?? path.join(root, 'bench/results'),
  docs: process.env.BENCH_DOCS !== '0',
};
const WARMUP = Number(process.env.BENCH_WARMUP ?? (env.quick ? 0.5 : 1.5));
const DURATION = Number(process.env.BENCH_DURATION ?? (env.quick ? 2 : 6));
const ARGON2 = { t: 2, m_kib: 19456 };  // auth.argon2_t / auth.argon2_m_kib defaults

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

function pidOf(file) {
  return Number(readFileSync(file, 'utf8').split('\n')[0].trim());
}

/** A "Name: N kB" line of /proc/PID/status (or another /proc file), in kB. */
function procKb(pid, name, file = 'status') {
  try {
    const m = readFileSync(`/proc/${pid}/${file}`, 'utf8').match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Memory of a process: resident, private (anonymous) and proportional set size, in kB. */
function memory(pid) {
  return { rss_kb: procKb(pid, 'VmRSS'), anon_kb: procKb(pid, 'RssAnon'), pss_kb: procKb(pid, 'Pss', 'smaps_rollup') };
}

function gitDescribe() {
  try {
    const rev = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'services', 'libs', 'proto'])
      .toString().trim() ? ' (services/libs with uncommitted changes)' : '';
    return rev + dirty;
  } catch { return 'unknown'; }
}

async function driver(args) {
  const { stdout } = await run(env.driver, args, { maxBuffer: 16 << 20, timeout: 300_000 });
  return JSON.parse(stdout);
}

/** The server-side numbers of one run: CPU split, efficiency and memory. */
function derive(r, server) {
  const procs = r.procs;
  const own = server.procNames.reduce((s, n) => s + (procs[n]?.cpu_s ?? 0), 0);
  const ownSys = server.procNames.reduce((s, n) => s + (procs[n]?.sys_s ?? 0), 0);
  const pg = procs.postgres?.cpu_s ?? 0;
  const redis = procs.redis?.cpu_s ?? 0;
  const ops = r.ops;
  const peakRss = {};
  for (const n of server.procNames) peakRss[n] = procs[n]?.peak_rss_kb ?? 0;
  return {
    server_cpu_s: own,
    server_sys_share: own > 0 ? ownSys / own : null,
    cpu_ms_per_op_by_proc: Object.fromEntries(Object.entries(procs).map(([n, p]) => [n, ops ? (p.cpu_s * 1000) / ops : null])),
    pg_cpu_s: pg,
    redis_cpu_s: redis,
    cpu_ms_per_op: ops ? (own * 1000) / ops : null,
    pg_ms_per_op: ops ? (pg * 1000) / ops : null,
    redis_ms_per_op: ops ? (redis * 1000) / ops : null,
    ops_per_cpu_s: own > 0 ? ops / own : null,
    ops_per_cpu_s_with_db: own + pg + redis > 0 ? ops / (own + pg + redis) : null,
    peak_rss_kb: peakRss,
    peak_rss_total_kb: Object.values(peakRss).reduce((a, b) => a + b, 0),
    pg_pss_kb: procs.postgres?.pss_kb ?? 0,
    redis_peak_rss_kb: procs.redis?.peak_rss_kb ?? 0,
  };
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  const t0 = Date.now();
  const dir = path.join(env.tmp, 'logs');
  mkdirSync(dir, { recursive: true });
  const pgPid = pidOf(env.pgPidFile);
  const redisPid = pidOf(env.redisPidFile);
  const servers = [];
  const cleanup = async () => {
    const codes = {};
    for (const s of servers) codes[s.label ?? s.name] = await stopProcs(s.procs);
    return codes;
  };
  process.on('SIGINT', () => { cleanup().finally(() => process.exit(130)); });
  process.on('SIGTERM', () => { cleanup().finally(() => process.exit(143)); });

  let exitCodes;
  const results = { runs: [] };
  try {
    // Ours: start and seed.
    log('bench: starting our stack');
    const ours = await startOurs({ bin: env.bin, dir: path.join(dir, 'ours'), pgAdmin: env.pgAdmin,
      redisUrl: env.redisUrl, redisDb: 1 });
    ours.label = 'ours';
    ours.procNames = ['gateway', 'auth', 'mfa', 'delivery', 'token'];
    servers.push(ours);
    log(`bench: seeding ${USERS} users and 3 clients`);
    ours.clients = await seedOurs(ours, { users: USERS, password: PASSWORD, redirectUri: REDIRECT,
      mfaUsers: MFA_USERS, appsPerUser: APPS_PER_USER });

    // The reference, with its Redis store, and with its in-memory store.
    const refClients = referenceClients();
    log('bench: starting the reference (node-oidc-provider, Redis store and in-memory store)');
    const ref = await startReference({ refDir: env.refDir, dir: path.join(dir, 'reference'), name: 'node',
      adapter: 'redis', redisUrl: env.redisUrl, redisDb: 2, clients: refClients, redirectUri: REDIRECT });
    ref.label = 'reference';
    ref.procNames = ['node'];
    servers.push(ref);
    const refMem = await startReference({ refDir: env.refDir, dir: path.join(dir, 'reference-memory'),
      name: 'node', adapter: 'memory', redisUrl: env.redisUrl, redisDb: 3, clients: refClients, redirectUri: REDIRECT });
    refMem.label = 'reference-memory';
    refMem.procNames = ['node'];
    servers.push(refMem);
    for (const s of [ref, refMem]) {
      s.clients = Object.fromEntries(refClients.map((c) => [c.client_id.replace('bench-', ''), c]));
    }

    // Idle memory, after start and seeding, before any load.
    await new Promise((r) => setTimeout(r, 1000));
    results.idle_memory = {
      ours: Object.fromEntries(ours.procs.map((p) => [p.name, memory(p.pid)])),
      reference: { node: memory(ref.procs[0].pid) },
      'reference-memory': { node: memory(refMem.procs[0].pid) },
    };

    // One Argon2id verification's CPU time, with the service's parameters, on this machine now.
    log('bench: timing Argon2id');
    results.argon2 = await driver(['--argon2-calibrate', env.quick ? '4' : '12',
      '--argon2-t', String(ARGON2.t), '--argon2-m-kib', String(ARGON2.m_kib)]);

    const watch = (server) => [
      ...server.procs.map((p) => ['--watch', `${p.name}=${p.pid}`]).flat(),
      '--watch', `postgres=tree:${pgPid}`, '--watch', `redis=${redisPid}`,
    ];
    const runOne = async (sc, server, { concurrency, rate = 0 }) => {
      const args = driverArgs(sc, server, { concurrency, rate, warmup: WARMUP, duration: DURATION,
        watch: watch(server) });
      const r = await driver(args);
      r.id = sc.id;
      r.derived = derive(r, server);
      results.runs.push(r);
      const d = r.derived;
      log(`  ${sc.id.padEnd(10)} ${server.label.padEnd(16)} c=${String(concurrency).padStart(2)}${rate ? ` rate=${rate.toFixed(0)}` : ''}`
        + `  ${r.throughput.toFixed(0).padStart(6)} ops/s  ${(d.ops_per_cpu_s ?? 0).toFixed(0).padStart(6)} ops/server-CPU-s`
        + `  p99 ${r.latency_ms.p99?.toFixed(2) ?? '-'} ms  errors ${r.errors}${r.setup_errors ? ` setup-errors ${r.setup_errors} (${r.setup_error})` : ''}`
        + `  driver ${(r.driver.util * 100).toFixed(0)}%`);
      return r;
    };
    for (const s of servers) {
      const disc = await (await fetch(`${s.issuer}/.well-known/openid-configuration`)).json();
      s.jwksUri = disc.jwks_uri;
    }

    // The matrix: at each load, ours and the reference take turns, starting alternately.
    const scenarios = SCENARIOS.filter((s) => !env.only || env.only.includes(s.id));
    for (const sc of scenarios) {
      log(`bench: ${sc.title}`);
      const levels = env.levels ?? (env.quick ? [sc.levels.at(-1)] : sc.levels);
      const peak = new Map();
      let turn = 0;
      for (const concurrency of levels) {
        const order = sc.oursOnly ? [ours] : (turn++ % 2 === 0 ? [ours, ref] : [ref, ours]);
        for (const server of order) {
          const r = await runOne(sc, server, { concurrency });
          // Half of the peak for the paced run: the peak among loads the server met without errors.
          if (r.errors <= 0.001 * (r.ops + r.errors)) peak.set(server, Math.max(peak.get(server) ?? 0, r.throughput));
        }
      }
      if (sc.paced && !env.quick) {
        for (const server of [ours, ref]) {
          const rate = Math.max(1, 0.5 * (peak.get(server) ?? 0));
          await runOne(sc, server, { concurrency: 32, rate });
        }
      }
      if (sc.memRef) await runOne(sc, refMem, { concurrency: levels.at(-1) });
    }
    exitCodes = await cleanup();
    servers.length = 0;
  } catch (e) {
    await cleanup();
    throw e;
  }

  results.meta = {
    started: started.toISOString(),
    seconds: Math.round((Date.now() - t0) / 1000),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
    },
    commit: gitDescribe(),
    reference: JSON.parse(readFileSync(path.join(env.refDir, 'node_modules/oidc-provider/package.json'), 'utf8')).version,
    reference_node: execFileSync(path.join(env.refDir, 'node_modules/.bin/node'), ['--version']).toString().trim(),
    // Other work on the machine during the run shows here (1-minute load average).
    load_average: { before: loadBefore.map((x) => Number(x.toFixed(2))), after: os.loadavg().map((x) => Number(x.toFixed(2))) },
    warmup_s: WARMUP,
    duration_s: DURATION,
    quick: env.quick,
    exit_codes: exitCodes,
    argon2_params: ARGON2,
  };
  const { markdown, table } = renderResults(results);
  const date = started.toISOString().slice(0, 10);
  mkdirSync(env.out, { recursive: true });
  let name = date;
  for (let i = 2; existsSync(path.join(env.out, `${name}.json`)); i++) name = `${date}-${i}`;
  writeFileSync(path.join(env.out, `${name}.json`), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(env.out, `${name}.md`), markdown);
  log(`bench: wrote ${path.relative(root, path.join(env.out, `${name}.md`))} and .json (${results.meta.seconds} s)`);
  if (env.docs && !env.quick && !env.only && !env.levels) {
    updateDocs(path.join(root, 'docs/benchmarks.md'), table, `bench/results/${name}.md`);
    log('bench: updated the latest table in docs/benchmarks.md');
  }
  const bad = Object.entries(exitCodes ?? {}).filter(([, c]) => Object.values(c).some((x) => x !== 0));
  if (bad.length) log(`bench: warning: processes did not exit 0 on SIGTERM: ${JSON.stringify(Object.fromEntries(bad))}`);
}

main().catch((e) => {
  log(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
