// Harness for the delivery tests: the built idp-delivery binary with its own configuration, a
// gRPC client for idp.delivery.v1, a real SMTP server (aiosmtpd, delivery_smtp_sink.py), an
// SMS provider stand-in speaking Twilio's Messages API, and a Redis server of its own for the
// restart test. Everything listens on loopback; every process started here is tracked and
// stopped by stopAll() (and killed on exit as a last resort).
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync, openSync, writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { freePort } from './stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const build = process.env.IDP_BUILD_DIR ?? path.join(root, 'build');
// Debian's python3 has python3-aiosmtpd; a python3 earlier on PATH (pyenv) may not.
const python = '/usr/bin/python3';

const children = new Set();
process.on('exit', () => { for (const p of children) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

function track(proc) {
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return proc;
}

/** Waits for `fn()` to return a truthy value (polling); throws with `what` after `ms`. */
export async function waitFor(fn, ms, what, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through \`make test\``);
  return v;
}

/** The test Redis (scripts/test-services.sh) as {host, port}. */
export function testRedis() {
  const u = new URL(required('IDP_TEST_REDIS_URL'));
  return { host: u.hostname, port: Number(u.port) };
}

/** Runs redis-cli against host:port; returns trimmed stdout. */
export function redisCli(port, ...args) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

/** Number of keys under `prefix` and the outbox stream length: "nothing queued" checks. */
export function outboxState(port, prefix) {
  const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--scan',
    '--pattern', `${prefix}*`]).toString().split('\n').filter(Boolean);
  const len = Number(execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port),
    'XLEN', `${prefix}outbox`]).toString().trim());
  return { keys, streamLength: len, messages: keys.filter((k) => k.startsWith(`${prefix}msg:`)) };
}

/** Deletes every key under `prefix` (the test Redis is shared by the e2e files). */
export function dropPrefix(port, prefix) {
  const keys = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--scan',
    '--pattern', `${prefix}*`]).toString().split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 100) {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'DEL', ...keys.slice(i, i + 100)]);
  }
}

/** A fresh key prefix, so that tests never share outbox keys. */
export function newPrefix(name) {
  return `delivery:e2e-${name}-${randomBytes(4).toString('hex')}:`;
}

// ---------------------------------------------------------------- gRPC client

const packageDef = protoLoader.loadSync(path.join(root, 'proto/idp/delivery/v1/delivery.proto'), {
  keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  includeDirs: [path.join(root, 'proto')],
});
const proto = grpc.loadPackageDefinition(packageDef).idp.delivery.v1;

/** A promise-based idp.delivery.v1 client: sendEmail, sendSms, getStatus, getMetrics. */
export function deliveryClient(port) {
  const stub = new proto.DeliveryService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (method) => (req) => new Promise((resolve, reject) => {
    stub[method](req, { deadline: Date.now() + 5000 }, (err, resp) => (err ? reject(err) : resolve(resp)));
  });
  return {
    sendEmail: call('SendEmail'),
    sendSms: call('SendSms'),
    getStatus: call('GetStatus'),
    getMetrics: call('GetMetrics'),
    close: () => stub.close(),
  };
}

export const grpcStatus = grpc.status;

// ---------------------------------------------------------------- the delivery service

/**
 * Starts idp-delivery with `delivery` as its [delivery] section (keys as in
 * docs/operations.md). Returns {port, proc, log, client, stop(), kill(), restart()}.
 * The master key is fixed per instance object so that a restart reads what it sealed.
 */
export async function startDelivery(name, { redisPort, delivery = {}, masterKey } = {}) {
  const dir = path.join(root, 'tests/e2e/.artifacts', `delivery-${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const rport = redisPort ?? testRedis().port;
  const lines = Object.entries({ listen: `127.0.0.1:${port}`, ...delivery })
    .map(([k, v]) => `${k} = ${typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? JSON.stringify(v) : v}`);
  const config = `[log]\nlevel = "info"\n[redis]\nurl = "redis://127.0.0.1:${rport}"\n[delivery]\n${lines.join('\n')}\n`;
  const configPath = path.join(dir, 'idp.toml');
  writeFileSync(configPath, config);
  const key = masterKey ?? randomBytes(32).toString('hex');
  const log = path.join(dir, 'delivery.log');
  const instance = { name, port, dir, log, configPath, masterKey: key, proc: null, client: null };

  instance.start = async () => {
    const fd = openSync(log, 'a');
    const proc = track(spawn(path.join(build, 'services/delivery/idp-delivery'), [], {
      env: { ...process.env, IDP_CONFIG: configPath, IDP_MASTER_KEY: key },
      stdio: ['ignore', fd, fd],
    }));
    instance.proc = proc;
    instance.client ??= deliveryClient(port);
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`idp-delivery exited with ${proc.exitCode}; see ${log}`);
      try { await instance.client.getMetrics({}); return true; } catch { return false; }
    }, 15000, `idp-delivery ${name} to serve`, 50);
  };
  /** SIGTERM; resolves with the exit code (or the signal). */
  instance.stop = () => new Promise((resolve) => {
    const p = instance.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) { resolve(p?.exitCode ?? p?.signalCode); return; }
    const timer = setTimeout(() => p.kill('SIGKILL'), 15000);
    p.once('exit', (code, sig) => { clearTimeout(timer); resolve(code ?? sig); });
    p.kill('SIGTERM');
  });
  /** SIGKILL: no chance to finish anything. */
  instance.kill = () => new Promise((resolve) => {
    const p = instance.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
  instance.logText = () => readFileSync(log, 'utf8');
  await instance.start();
  return instance;
}

// ---------------------------------------------------------------- SMTP server (aiosmtpd)

/** A self-signed certificate for 127.0.0.1 and localhost: {cert, key, dir}. */
export function makeCert() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'idp-delivery-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert, key, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts the SMTP sink on `port`. Options: mode (plain|starttls|tls), cert, key, user,
 * password, rejectRcpt. Returns {port, messages, waitForCount(n, ms), stop()}.
 */
export async function startSmtpSink(port, opts = {}) {
  const args = [path.join(root, 'tests/e2e/support/delivery_smtp_sink.py'), '--port', String(port),
    '--mode', opts.mode ?? 'plain'];
  for (const [flag, v] of [['--cert', opts.cert], ['--key', opts.key], ['--user', opts.user],
    ['--password', opts.password], ['--reject-rcpt', opts.rejectRcpt]]) {
    if (v) args.push(flag, v);
  }
  const proc = track(spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  const sink = { port, proc, messages: [], stderr: '' };
  proc.stderr.on('data', (d) => { sink.stderr += d.toString(); });
  const ready = new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`SMTP sink exited with ${code}: ${sink.stderr}`)));
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const ev = JSON.parse(line);
      if (ev.event === 'ready') resolve();
      if (ev.event === 'message') sink.messages.push(ev);
    });
  });
  await Promise.race([ready, sleep(15000).then(() => { throw new Error('SMTP sink did not start'); })]);
  sink.waitForCount = (n, ms) => waitFor(() => sink.messages.length >= n, ms, `${n} messages at the SMTP sink`);
  sink.stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => { clearTimeout(timer); resolve(); });
    proc.kill('SIGTERM');
  });
  return sink;
}

/** The IDP_* variables that make a stack's delivery service send its email to `sink` (plain SMTP). */
export function smtpSinkEnv(sink) {
  return {
    IDP_DELIVERY_EMAIL_PROVIDER: 'smtp',
    IDP_DELIVERY_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    IDP_DELIVERY_SMTP_STARTTLS: 'off',
    IDP_DELIVERY_EMAIL_FROM: 'no-reply@idp.test',
  };
}

/**
 * The IDP_* variables that make a stack's delivery service send its SMS through the stand-in
 * `sms` (startSmsStandIn), to the Netherlands and the United States.
 */
export function smsStandInEnv(sms) {
  return {
    IDP_DELIVERY_SMS_PROVIDER: 'twilio',
    IDP_DELIVERY_SMS_API_BASE: sms.url,
    IDP_DELIVERY_SMS_ACCOUNT_SID: 'AC0123456789abcdef',
    IDP_DELIVERY_SMS_AUTH_TOKEN: 'stand-in-token',
    IDP_DELIVERY_SMS_FROM: '+15005550006',
    IDP_DELIVERY_SMS_COUNTRIES: 'NL,US',
  };
}

// ---------------------------------------------------------------- SMS provider stand-in

/**
 * An HTTP server in the shape of Twilio's Messages API. `respond(req, n)` decides each answer:
 * {status, body?, delayMs?, headers?}; n counts requests from 1. Every request is recorded with
 * its form fields, basic-auth user and password, arrival time, and when it was answered 2xx
 * (`acceptedAt`). Returns {port, url, requests, accepted(), stop()}.
 */
export async function startSmsStandIn(respond) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rec = {
        method: req.method,
        path: req.url,
        arrivedAt: Date.now(),
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
        contentType: req.headers['content-type'],
      };
      const auth = req.headers.authorization ?? '';
      if (auth.startsWith('Basic ')) {
        const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
        rec.user = u;
        rec.password = p.join(':');
      }
      requests.push(rec);
      const answer = await respond(rec, requests.length);
      if (answer.delayMs) await sleep(answer.delayMs);
      const status = answer.status ?? 201;
      const body = answer.body ?? (status < 300
        ? { sid: `SM${randomBytes(16).toString('hex')}`, status: 'queued' }
        : { code: 20500, message: 'stand-in error', status });
      if (status >= 200 && status < 300) rec.acceptedAt = Date.now();
      res.writeHead(status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
      res.end(JSON.stringify(body));
    });
  });
  const port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted: () => requests.filter((r) => r.acceptedAt),
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** The code in an SMS body ("123456 is your ... code"). */
export const codeOf = (body) => (body ?? '').split(' ')[0];

// ---------------------------------------------------------------- a Redis of our own

/**
 * A redis-server child process on a free loopback port with AOF persistence
 * (appendonly yes, appendfsync `fsync`), data in a temporary directory. Returns
 * {port, dir, kill() (SIGKILL), start() (same port and dir), stop(), remove()}.
 */
export async function startOwnRedis({ fsync = 'always' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'idp-delivery-redis-'));
  const port = await freePort();
  const r = { port, dir, proc: null };
  r.start = async () => {
    const proc = track(spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port),
      '--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--save', '',
      '--logfile', path.join(dir, 'redis.log')], { stdio: 'ignore' }));
    r.proc = proc;
    await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited; see ${dir}/redis.log`);
      try { return redisCli(port, 'PING') === 'PONG'; } catch { return false; }
    }, 10000, 'redis-server to answer');
  };
  r.kill = () => new Promise((resolve) => {
    const p = r.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
  r.stop = r.kill;
  r.remove = () => rmSync(dir, { recursive: true, force: true });
  await r.start();
  return r;
}
