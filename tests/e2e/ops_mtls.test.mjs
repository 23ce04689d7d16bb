// The whole stack with mutual TLS between the services: certificates from deploy/gen-certs.sh
// (the openssl CLI) into a throwaway directory, one per service and one for idpctl. A sign-in
// and a token request work end to end; gRPC clients without a certificate (plaintext, or TLS
// without a client certificate, or one of another CA) are refused; the containers' health check
// (deploy/docker/grpc-health.sh) speaks mutual TLS with the service's own files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, stopStack, idpctl, readLog } from './support/stack.mjs';
import { root, build } from './support/cluster.mjs';
import { Agent } from './support/browser.mjs';
import * as oidc from './support/oidc.mjs';

const PASSWORD = 'mutual tls all the way';
let certs;
let stack;
let app;

before(async () => {
  certs = mkdtempSync(path.join(os.tmpdir(), 'idp-mtls-'));
  const gen = path.join(root, 'deploy/gen-certs.sh');
  execFileSync('bash', [gen, certs, 'auth', 'mfa', 'delivery', 'token', 'gateway', 'idpctl']);
  execFileSync('bash', [gen, path.join(certs, 'foreign'), 'intruder']);
  stack = await startStack('e2e_mtls', { tls: certs });
  idpctl(stack, ['users', 'create', '--username', 'tess', '--email', 'tess@example.com',
    '--email-verified', '--password-stdin'], `${PASSWORD}\n`);
  app = idpctl(stack, ['clients', 'add', '--id', 'rp-mtls', '--name', 'mTLS RP',
    '--redirect-uri', 'http://127.0.0.1:9/cb']);
});

after(async () => {
  try {
    if (stack) assert.deepEqual(await stopStack(stack), { auth: 0, mfa: 0, delivery: 0, token: 0, gateway: 0 });
  } finally {
    if (certs) rmSync(certs, { recursive: true, force: true });
  }
});

const healthProbe = (address, env = {}) => spawnSync('bash', [path.join(root, 'deploy/docker/grpc-health.sh'), address],
  { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 10000 });
const tlsEnv = (name, dir = certs) => ({
  IDP_RPC_TLS_CERT: path.join(dir, name, 'tls.crt'),
  IDP_RPC_TLS_KEY: path.join(dir, name, 'tls.key'),
  IDP_RPC_TLS_CA: path.join(dir, name, 'ca.crt'),
});

test('a sign-in and a token request work with every hop over mutual TLS', async () => {
  const config = await oidc.discover(stack, app);
  const a = await oidc.authorize(stack, new Agent(), config, app, { username: 'tess', password: PASSWORD });
  const tokens = await oidc.exchange(config, a);
  assert.ok(tokens.id_token && tokens.access_token);
  assert.equal(tokens.claims().sub.length > 0, true);
  // The gateway's readiness checks every backend's grpc.health.v1 over the same channels.
  assert.equal((await fetch(`${stack.issuer}/readyz`)).status, 200);
  for (const s of ['auth', 'mfa', 'delivery', 'token', 'gateway']) {
    assert.match(readLog(stack, s), /gRPC between services uses mutual TLS/, `${s} runs with mutual TLS`);
  }
});

test('clients without a certificate of the CA are refused', () => {
  for (const s of ['auth', 'mfa', 'delivery', 'token']) {
    const address = `127.0.0.1:${stack.ports[s]}`;
    // The health check with the service's own certificate: SERVING.
    const ok = healthProbe(address, tlsEnv(s));
    assert.equal(ok.status, 0, `${s}: ${ok.stderr}`);
    // Plaintext HTTP/2: refused.
    assert.equal(healthProbe(address).status, 1, `${s} refuses plaintext`);
    // TLS, trusting the CA, but without a client certificate: the handshake fails.
    const noCert = spawnSync('curl', ['-sS', '--max-time', '5', '--http2', '--cacert', path.join(certs, 'ca.crt'),
      '-X', 'POST', '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', '@-',
      `https://${address}/grpc.health.v1.Health/Check`], { input: Buffer.alloc(5), encoding: 'utf8' });
    assert.notEqual(noCert.status, 0, `${s} refuses a TLS client without a certificate`);
    // A certificate of another CA: refused too.
    const foreign = { ...tlsEnv('intruder', path.join(certs, 'foreign')), IDP_RPC_TLS_CA: path.join(certs, 'ca.crt') };
    assert.equal(healthProbe(address, foreign).status, 1, `${s} refuses a certificate of another CA`);
  }
  // idpctl without its certificate cannot reach auth.
  const r = spawnSync(path.join(build, 'tools/idpctl/idpctl'), ['--json', 'users', 'list'], {
    env: { ...process.env, IDP_CONFIG: stack.configPath, IDP_RPC_TLS_CERT: '', IDP_RPC_TLS_KEY: '', IDP_RPC_TLS_CA: '' },
    encoding: 'utf8', timeout: 30000,
  });
  assert.notEqual(r.status, 0, 'idpctl over plaintext fails');
  assert.match(r.stderr, /unavailable/i);
});

test('a service refuses to start with only part of the TLS settings', () => {
  const r = spawnSync(path.join(build, 'services/auth/idp-auth'), [], {
    env: { ...process.env, IDP_CONFIG: stack.configPath, IDP_AUTH_LISTEN: '127.0.0.1:0', IDP_AUTH_METRICS_LISTEN: '',
      IDP_RPC_TLS_CERT: path.join(certs, 'auth/tls.crt'), IDP_RPC_TLS_KEY: '', IDP_RPC_TLS_CA: '' },
    encoding: 'utf8', timeout: 30000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stdout + r.stderr, /mutual TLS needs rpc\.tls_cert, rpc\.tls_key and rpc\.tls_ca/);
});
