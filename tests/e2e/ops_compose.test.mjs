// docker-compose.yml and the container image, checked without a container engine (none runs on
// the development machines or in CI): Debian's docker-compose parses the file; each service's
// effective configuration equals `make run`'s key by key except for the differences listed
// below; health checks, dependencies, secrets, volumes and ports are what the operations issue
// asks for; the Dockerfile builds with the CI scripts and ships no compiler; its helper scripts
// work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, build } from './support/cluster.mjs';
import { parseYamlAll, parseTomlFlat, effectiveConfig, compareConfigs, portOf, documentedKeys } from './support/ops_config.mjs';

const IDP_SERVICES = ['auth', 'mfa', 'delivery', 'token', 'gateway'];
const PG_USERS = ['auth', 'mfa', 'token'];          // hold a PostgreSQL pool
const MASTER_KEY_USERS = ['mfa', 'delivery', 'token']; // read IDP_MASTER_KEY
const MAIL_SINK = 'mailsink';

// Run docker-compose with a clean environment: no IDP_ISSUER or the like from the caller.
function compose(args) {
  const env = { PATH: process.env.PATH, HOME: os.tmpdir() };
  const r = spawnSync('docker-compose', ['-f', path.join(root, 'docker-compose.yml'), ...args],
    { cwd: root, env, encoding: 'utf8', timeout: 60000 });
  if (r.error?.code === 'ENOENT') throw new Error('docker-compose is not installed: scripts/install-deps.sh installs it');
  return r;
}

let composed;
function composed_() {
  if (!composed) {
    const r = compose(['config']);
    assert.equal(r.status, 0, r.stderr);
    composed = parseYamlAll(r.stdout)[0];
  }
  return composed;
}

const sameExceptHostPort = (theirs, ours) => {
  const a = new URL(theirs);
  const b = new URL(ours);
  return a.protocol === b.protocol && a.username === b.username && a.password === b.password &&
    a.pathname === b.pathname && a.search === b.search;
};

/**
 * The only differences allowed between a compose service's configuration and `make run`'s,
 * each with its reason. Anything else that differs fails the test.
 */
const ALLOWED = [
  {
    keys: /^(auth|mfa|delivery|token|gateway)\.listen$/,
    why: 'listen: 0.0.0.0 in the service\'s own container, its service name in the others; same port',
    ok: (c, r, key) => portOf(c) === portOf(r) && (c === `0.0.0.0:${portOf(r)}` || c === `${key.split('.')[0]}:${portOf(r)}`),
  },
  {
    keys: /^(auth|mfa|delivery|token|gateway)\.metrics_listen$/,
    why: 'metrics: on all interfaces of the container (the compose network, never published); same port',
    ok: (c, r) => c === `0.0.0.0:${portOf(r)}`,
  },
  {
    keys: /^rpc\.tls_(cert|key|ca)$/,
    why: 'mutual TLS between the services: each container\'s own certificate from var/tls/<service> (make run: plaintext on loopback)',
    ok: (c, r, key) => r === undefined &&
      c === { 'rpc.tls_cert': '/etc/idp-tls/tls.crt', 'rpc.tls_key': '/etc/idp-tls/tls.key', 'rpc.tls_ca': '/etc/idp-tls/ca.crt' }[key],
  },
  {
    keys: /^gateway\.(auth|mfa|delivery|token)$/,
    why: 'upstream: the service name on the compose network; same port',
    ok: (c, r, key) => c === `${key.split('.')[1]}:${portOf(r)}`,
  },
  {
    keys: /^postgres\.dsn$/,
    why: 'PostgreSQL: the postgres container instead of loopback; same user and database (password: PGPASSWORD secret)',
    ok: (c, r) => sameExceptHostPort(c, r) && new URL(c).host === 'postgres:5432',
  },
  {
    keys: /^redis\.url$/,
    why: 'Redis: the redis container instead of loopback; same database',
    ok: (c, r) => sameExceptHostPort(c, r) && new URL(c).host === 'redis:6379',
  },
  {
    keys: /^delivery\.(email_provider|smtp_url|smtp_starttls)$/,
    why: 'email: SMTP to the compose mail sink instead of files under var/outbox',
    ok: (c, r, key) => ({
      'delivery.email_provider': c === 'smtp',
      'delivery.smtp_url': c === `smtp://${MAIL_SINK}:1025`,
      'delivery.smtp_starttls': c === 'off',
    })[key] === true,
  },
];

function volumeMounts(service) {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source, target, readOnly: mode === 'ro' };
    }
    return { source: v.source, target: v.target, readOnly: v.read_only === true };
  });
}

function publishedPorts(service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: p.host_ip ?? '', published: Number(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/tcp$/, '').split(':');
    return parts.length === 3
      ? { host: parts[0], published: Number(parts[1]), target: Number(parts[2]) }
      : { host: '', published: Number(parts[0]), target: Number(parts[1]) };
  });
}

const secretsOf = (service) => (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));

test('docker-compose config -q accepts docker-compose.yml', () => {
  const r = compose(['config', '-q']);
  assert.equal(r.status, 0, `docker-compose config -q failed:\n${r.stderr}`);
});

test('each service\'s configuration in compose is the one `make run` uses (only the listed differences)', (t) => {
  const c = composed_();
  // What `make run` gives its services: deploy/idp.toml, plus IDP_CONFIG and IDP_MASTER_KEY.
  const runSh = readFileSync(path.join(root, 'deploy/run.sh'), 'utf8');
  assert.match(runSh, /export IDP_CONFIG="\$root\/deploy\/idp\.toml"/, 'make run reads deploy/idp.toml');
  const runVars = new Set([...runSh.matchAll(/\b(IDP_[A-Z0-9_]+)=/g)].map((m) => m[1]));
  assert.deepEqual([...runVars].sort(), ['IDP_CONFIG', 'IDP_MASTER_KEY'],
    'make run sets no other IDP_* variable (if it does, account for it here)');
  const file = parseTomlFlat(readFileSync(path.join(root, 'deploy/idp.toml'), 'utf8'));
  const knownKeys = documentedKeys(readFileSync(path.join(root, 'docs/operations.md'), 'utf8'));
  // The gateway's upstreams default to the services' listen addresses (derived keys); no
  // other service reads gateway.* keys.
  const makeRun = (name) => effectiveConfig(file, {}, { derive: name === 'gateway' }).values;

  for (const name of IDP_SERVICES) {
    const s = c.services[name];
    assert.ok(s, `compose has the service ${name}`);
    assert.deepEqual(s.command, [`idp-${name}`], `${name} runs idp-${name}`);
    assert.equal(s.build?.dockerfile, 'deploy/docker/Dockerfile', `${name} is built from deploy/docker/Dockerfile`);
    const env = s.environment ?? {};
    // The file the service reads is deploy/idp.toml itself, mounted read-only.
    const mount = volumeMounts(s).find((m) => m.target === env.IDP_CONFIG);
    assert.ok(mount, `${name}: IDP_CONFIG (${env.IDP_CONFIG}) is a mounted file`);
    assert.equal(path.resolve(root, mount.source), path.join(root, 'deploy/idp.toml'), `${name} mounts deploy/idp.toml`);
    assert.ok(mount.readOnly, `${name} mounts it read-only`);
    for (const secret of ['IDP_MASTER_KEY', 'PGPASSWORD', 'POSTGRES_PASSWORD']) {
      assert.equal(env[secret], undefined, `${name}: ${secret} comes from a secret file, not the environment`);
    }

    const mine = effectiveConfig(file, env, { ignore: ['IDP_CONFIG'], derive: name === 'gateway', knownKeys });
    assert.deepEqual(mine.unknown, [], `${name}: every IDP_* variable names a key of deploy/idp.toml or of docs/operations.md`);
    const diffs = compareConfigs(makeRun(name), mine.values, ALLOWED);
    t.diagnostic(`${name} differs from make run in: ${diffs.map((d) => `${d.key}=${d.other}`).join(' ')}`);
    for (const d of diffs.filter((x) => !x.allowedBy)) t.diagnostic(`${name}: ${d.key}: make run ${JSON.stringify(d.reference)}, compose ${JSON.stringify(d.other)}: NOT ALLOWED`);
    assert.deepEqual(diffs.filter((d) => !d.allowedBy), [], `${name}: only addresses (and the mail sink) differ from make run`);
    // Its own listen address is on all interfaces; everyone else's is a service name.
    assert.equal(mine.values.get(`${name}.listen`), `0.0.0.0:${portOf(file.get(`${name}.listen`))}`);
    // Mutual TLS with its own certificate directory, mounted read-only where rpc.tls_* point.
    const tls = volumeMounts(s).find((m) => m.target === '/etc/idp-tls');
    assert.ok(tls && tls.readOnly, `${name} mounts its certificates read-only at /etc/idp-tls`);
    assert.equal(path.resolve(root, tls.source), path.join(root, 'var/tls', name), `${name} gets var/tls/${name}, no other service's key`);
    for (const k of ['cert', 'key', 'ca']) assert.ok(mine.values.get(`rpc.tls_${k}`)?.startsWith('/etc/idp-tls/'), `${name}: rpc.tls_${k}`);
    // /metrics on its own port, never the gRPC or public one.
    assert.notEqual(portOf(mine.values.get(`${name}.metrics_listen`)), portOf(file.get(`${name}.listen`)));
  }
  // The issuer is where compose publishes the gateway.
  const issuer = new URL(effectiveConfig(file, c.services.gateway.environment).values.get('issuer'));
  assert.ok(publishedPorts(c.services.gateway).some((p) => p.published === Number(issuer.port || 80)),
    `the issuer ${issuer} is the published gateway port`);
});

test('compose: health checks, dependencies, secrets, volumes and one published port', () => {
  const c = composed_();
  const file = parseTomlFlat(readFileSync(path.join(root, 'deploy/idp.toml'), 'utf8'));
  for (const [name, s] of Object.entries(c.services)) {
    assert.ok(s.healthcheck?.test?.length, `${name} has a health check`);
    for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
      assert.ok(c.services[dep], `${name} depends on an existing service ${dep}`);
      assert.equal(cond.condition, 'service_healthy', `${name} waits until ${dep} is healthy`);
    }
  }
  for (const name of IDP_SERVICES) {
    const s = c.services[name];
    const port = portOf(file.get(`${name}.listen`));
    const hc = s.healthcheck.test;
    if (name === 'gateway') {
      assert.deepEqual(hc.slice(0, 2), ['CMD', 'curl']);
      assert.equal(hc.at(-1), `http://127.0.0.1:${port}/readyz`, 'the gateway is healthy when /readyz is 200');
      for (const b of ['auth', 'mfa', 'delivery', 'token', 'redis']) {
        assert.equal(s.depends_on?.[b]?.condition, 'service_healthy', `gateway waits for ${b}`);
      }
      assert.deepEqual(secretsOf(s), [], 'the gateway holds no secret');
    } else {
      assert.deepEqual(hc, ['CMD', 'grpc-health.sh', `127.0.0.1:${port}`], `${name}: grpc.health.v1 on its port`);
    }
    if (PG_USERS.includes(name)) {
      assert.equal(s.depends_on?.postgres?.condition, 'service_healthy', `${name} waits for PostgreSQL`);
      assert.ok(secretsOf(s).includes('PGPASSWORD'), `${name} gets the database password as a secret`);
    }
    if (MASTER_KEY_USERS.includes(name)) assert.ok(secretsOf(s).includes('IDP_MASTER_KEY'), `${name} gets the master key`);
    assert.equal(s.depends_on?.redis?.condition, 'service_healthy', `${name} waits for Redis`);
  }
  assert.equal(c.services.delivery.depends_on?.[MAIL_SINK]?.condition, 'service_healthy', 'delivery waits for the mail sink');
  // Secrets are files (never values in the compose file), and PostgreSQL gets the same password.
  for (const [name, def] of Object.entries(c.secrets ?? {})) assert.ok(def.file, `secret ${name} comes from a file`);
  assert.equal(c.services.postgres.environment.POSTGRES_PASSWORD_FILE, '/run/secrets/PGPASSWORD');
  assert.ok(secretsOf(c.services.postgres).includes('PGPASSWORD'));
  // Data on named volumes.
  for (const [name, dir] of [['postgres', '/var/lib/postgresql/data'], ['redis', '/data']]) {
    const m = volumeMounts(c.services[name]).find((v) => v.target === dir);
    assert.ok(m && c.volumes?.[m.source] !== undefined, `${name} keeps ${dir} on a named volume`);
  }
  // Redis persists as under `make run`.
  const runSh = readFileSync(path.join(root, 'deploy/run.sh'), 'utf8');
  const runRedisArgs = /redis_start "\$var\/redis" "\$REDIS_PORT" (.*)$/m.exec(runSh)[1].trim().split(/\s+/);
  assert.deepEqual(c.services.redis.command.slice(1), runRedisArgs, 'Redis has make run\'s persistence settings');
  // One port open to the world: the gateway's. Anything else is published on loopback only.
  const open = Object.entries(c.services).flatMap(([name, s]) => publishedPorts(s)
    .filter((p) => p.host !== '127.0.0.1').map((p) => ({ name, ...p })));
  assert.deepEqual(open.map((p) => p.name), ['gateway'], 'only the gateway is published beyond loopback');
  assert.equal(open[0].target, portOf(file.get('gateway.listen')));
});

test('the Dockerfile: CI\'s scripts in a Debian 12 build stage, a slim non-root runtime without a compiler', () => {
  const text = readFileSync(path.join(root, 'deploy/docker/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = [];
  for (const l of lines) {
    if (/^FROM /i.test(l)) stages.push({ from: l, lines: [] });
    else stages.at(-1).lines.push(l);
  }
  assert.equal(stages.length, 2, 'two stages');
  assert.match(stages[0].from, /^FROM debian:12 AS build$/);
  const buildRun = stages[0].lines.filter((l) => l.startsWith('RUN')).join(' ');
  assert.match(buildRun, /bash scripts\/install-deps\.sh/, 'the build stage installs with CI\'s script');
  assert.match(buildRun, /bash scripts\/build\.sh/, 'the build stage builds with CI\'s script');
  assert.match(stages[1].from, /^FROM debian:12-slim/);
  const runtime = stages[1].lines.join('\n');
  assert.doesNotMatch(runtime, /install-deps|build\.sh|\bg\+\+|\bgcc\b|\bclang\b|\bcmake\b|-dev\b/, 'no toolchain in the runtime stage');
  assert.match(runtime, /^USER 10001(:10001)?$/m, 'runs as a non-root user');
  assert.match(runtime, /useradd --system --uid 10001/);
  assert.match(runtime, /^ENTRYPOINT \["idp-entrypoint"\]$/m);
  for (const m of runtime.matchAll(/^COPY (?!--from)(\S+) /gm)) {
    assert.ok(readdirSync(path.join(root, path.dirname(m[1]))).includes(path.basename(m[1])), `${m[1]} exists`);
  }
  // The build context leaves out local builds, data and secrets.
  const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['build*/', 'var/', '.git']) assert.ok(ignore.includes(entry), `.dockerignore has ${entry}`);
});

test('the runtime image\'s packages (runtime-deps.sh on the built binaries) pull in no compiler', (t) => {
  const bins = [...['auth', 'mfa', 'delivery', 'token', 'gateway'].map((s) => path.join(build, `services/${s}/idp-${s}`)),
    path.join(build, 'tools/idpctl/idpctl')];
  const pkgs = execFileSync('bash', [path.join(root, 'deploy/docker/runtime-deps.sh'), ...bins]).toString().trim().split('\n');
  t.diagnostic(`runtime packages: ${pkgs.join(' ')}`);
  for (const p of ['libc6', 'libstdc++6', 'libgrpc++1.51', 'libprotobuf32', 'libpqxx-6.4', 'libhiredis0.14', 'libssl3']) {
    assert.ok(pkgs.includes(p), `${p} is among them`);
  }
  // Their dependency closure, from dpkg's database (these are all installed here: the binaries run).
  const db = new Map();
  const out = execFileSync('dpkg-query', ['-W', '-f', '${Package}\t${db:Status-Abbrev}\t${Depends}, ${Pre-Depends}\t${Provides}\n']).toString();
  const provides = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, status, deps, prov] = line.split('\t');
    if (!status.startsWith('ii')) continue;
    db.set(name, deps.split(',').map((d) => d.trim()).filter(Boolean)
      .map((d) => d.split('|').map((a) => a.trim().replace(/\s*\(.*\)/, '').replace(/:any$/, ''))));
    for (const p of (prov ?? '').split(',').map((x) => x.trim().replace(/\s*\(.*\)/, '')).filter(Boolean)) provides.set(p, name);
  }
  const closure = new Set();
  const visit = (p) => {
    const name = db.has(p) ? p : provides.get(p);
    if (!name || closure.has(name)) return;
    closure.add(name);
    for (const alternatives of db.get(name)) {
      const pick = alternatives.find((a) => db.has(a) || provides.has(a));
      if (pick) visit(pick);
    }
  };
  pkgs.forEach(visit);
  t.diagnostic(`${closure.size} packages in the closure`);
  const toolchain = [...closure].filter((p) => /^(gcc|g\+\+|cpp|clang|binutils|cmake|make|ninja-build)(-\d+)?$/.test(p) || /-dev$/.test(p));
  assert.deepEqual(toolchain, [], 'no compiler, build tool or -dev package in the runtime image');
});

test('the entrypoint turns secret files into variables; the environment wins; other files are ignored', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'idp-secrets-'));
  try {
    writeFileSync(path.join(dir, 'IDP_MASTER_KEY'), 'ab'.repeat(32) + '\n');
    writeFileSync(path.join(dir, 'PGPASSWORD'), 'pw from file\n');
    writeFileSync(path.join(dir, 'IDP_DELIVERY_SMTP_PASSWORD'), 'smtp\n');
    writeFileSync(path.join(dir, 'not-a-variable'), 'x');
    const out = execFileSync('bash', [path.join(root, 'deploy/docker/entrypoint.sh'), 'env'], {
      env: { PATH: process.env.PATH, IDP_SECRETS_DIR: dir, IDP_DELIVERY_SMTP_PASSWORD: 'from env' },
    }).toString();
    const env = Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.IDP_MASTER_KEY, 'ab'.repeat(32));
    assert.equal(env.PGPASSWORD, 'pw from file');
    assert.equal(env.IDP_DELIVERY_SMTP_PASSWORD, 'from env');
    assert.equal(env['not-a-variable'], undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
