// /metrics of every service and of the gateway, scraped from the real stack after a sign-in and
// a token request: each parses as Prometheus text (support/prometheus.mjs), histograms are
// consistent, and the counters moved for exactly the calls that were made. The gateway's
// /metrics lives on its own listener, never on the public one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { root } from './support/cluster.mjs';
import { parseYamlAll } from './support/ops_config.mjs';
import { Agent } from './support/browser.mjs';
import * as oidc from './support/oidc.mjs';
import { parseExposition, valueOf, checkHistograms } from './support/prometheus.mjs';

const SERVICES = ['auth', 'mfa', 'delivery', 'token', 'gateway'];
const PASSWORD = 'metrics are counted';
let stack;
let app;

before(async () => {
  stack = await startStack('e2e_metrics');
  idpctl(stack, ['users', 'create', '--username', 'mia', '--email', 'mia@example.com',
    '--email-verified', '--password-stdin'], `${PASSWORD}\n`);
  app = idpctl(stack, ['clients', 'add', '--id', 'rp-metrics', '--name', 'Metrics RP',
    '--redirect-uri', 'http://127.0.0.1:9/cb']);
});

after(async () => {
  if (!stack) return;
  assert.deepEqual(await stopStack(stack), { auth: 0, mfa: 0, delivery: 0, token: 0, gateway: 0 });
});

async function scrape(service) {
  const res = await fetch(`http://127.0.0.1:${stack.metricsPorts[service]}/metrics`);
  assert.equal(res.status, 200, `${service} /metrics`);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

async function scrapeAll() {
  return Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await scrape(s)])));
}

const server = (svc, method, code = 'OK') => ({ service: svc, method, code });
const AUTH = 'idp.auth.v1.AuthService';
const TOKEN = 'idp.token.v1.TokenService';
const MFA = 'idp.mfa.v1.MfaService';

/** One whole sign-in of a fresh browser, then the code exchange (a POST /token). */
async function signInAndExchange() {
  const config = await oidc.discover(stack, app);
  const a = await oidc.authorize(stack, new Agent(), config, app, { username: 'mia', password: PASSWORD });
  const tokens = await oidc.exchange(config, a);
  assert.ok(tokens.id_token && tokens.access_token);
}

test('every /metrics parses, and counts the RPCs and requests of a sign-in and a token request', async () => {
  await signInAndExchange();
  const before = await scrapeAll();
  await signInAndExchange();
  const after = await scrapeAll();

  for (const s of SERVICES) {
    assert.ok(checkHistograms(after[s]) > 0, `${s}: at least one histogram, all consistent`);
  }
  const moved = (s, name, labels) => (valueOf(after[s], name, labels) ?? 0) - (valueOf(before[s], name, labels) ?? 0);

  // Servers: exactly one more password check at auth and one more code issued and exchanged
  // at token; mfa was asked for the person's factors.
  assert.equal(moved('auth', 'idp_grpc_server_handled_total', server(AUTH, 'VerifyPassword')), 1);
  assert.equal(moved('token', 'idp_grpc_server_handled_total', server(TOKEN, 'IssueAuthorizationCode')), 1);
  assert.equal(moved('token', 'idp_grpc_server_handled_total', server(TOKEN, 'ExchangeAuthorizationCode')), 1);
  assert.ok(moved('mfa', 'idp_grpc_server_handled_total', server(MFA, 'ListFactors')) >= 1);
  assert.ok(moved('auth', 'idp_grpc_server_handling_seconds_count', { service: AUTH, method: 'VerifyPassword' }) === 1);
  // Argon2id takes milliseconds: the observed time is real.
  assert.ok(valueOf(after.auth, 'idp_grpc_server_handling_seconds_sum', { service: AUTH, method: 'VerifyPassword' }) > 0.001);

  // The gateway's side of the same calls, and its HTTP routes by template and status class.
  assert.equal(moved('gateway', 'idp_grpc_client_handled_total', server(AUTH, 'VerifyPassword')), 1);
  assert.equal(moved('gateway', 'idp_grpc_client_handled_total', server(TOKEN, 'ExchangeAuthorizationCode')), 1);
  assert.equal(moved('gateway', 'idp_http_requests_total', { route: '/token', method: 'POST', status: '2xx' }), 1);
  assert.equal(moved('gateway', 'idp_http_requests_total', { route: '/login', method: 'POST', status: '3xx' }), 1);
  assert.equal(moved('gateway', 'idp_http_request_duration_seconds_count', { route: '/token' }), 1);

  // Pools: the configured sizes, and nothing lent out between requests.
  assert.equal(valueOf(after.auth, 'idp_pool_connections_max', { pool: 'postgres' }), 8);
  assert.equal(valueOf(after.token, 'idp_pool_connections_max', { pool: 'postgres' }), 16);
  assert.equal(valueOf(after.token, 'idp_pool_connections_max', { pool: 'redis' }), 16);
  assert.ok(valueOf(after.auth, 'idp_pool_connections_open', { pool: 'postgres' }) >= 1);
  assert.equal(valueOf(after.auth, 'idp_pool_connections_in_use', { pool: 'postgres' }), 0);
  assert.equal(valueOf(after.gateway, 'idp_pool_acquire_timeouts_total', { pool: 'redis' }), 0);

  // Delivery: the outbox depth (Redis is up) and its own families next to the call counts.
  for (const queue of ['ready', 'in_flight', 'retry', 'dead']) {
    assert.equal(valueOf(after.delivery, 'idp_delivery_queue_depth', { queue }), 0, `delivery queue ${queue}`);
  }
  assert.equal(after.delivery.families.get('idp_delivery_sent_total')?.type, 'counter');
  assert.ok(after.delivery.families.get('idp_grpc_server_handled_total'));
  assert.equal(after.gateway.families.get('idp_gateway_rate_limited_total')?.type, 'counter');
});

test('unknown paths count under one route, never under the raw path', async () => {
  const odd = `/no-such-page-${Date.now()}`;
  const before = await scrape('gateway');
  assert.equal((await fetch(`${stack.issuer}${odd}`)).status, 404);
  // Without a session: a redirect to sign in.
  assert.equal((await fetch(`${stack.issuer}/account/mfa/${Date.now()}`, { method: 'POST', redirect: 'manual' })).status, 303);
  const after = await scrape('gateway');
  const other = { route: 'other', method: 'GET', status: '4xx' };
  assert.equal((valueOf(after, 'idp_http_requests_total', other) ?? 0) - (valueOf(before, 'idp_http_requests_total', other) ?? 0), 1);
  const text = await (await fetch(`http://127.0.0.1:${stack.metricsPorts.gateway}/metrics`)).text();
  assert.ok(!text.includes(odd), 'no raw path in a label');
  assert.equal(valueOf(after, 'idp_http_requests_total', { route: '/account/mfa/{action}', method: 'POST', status: '3xx' }), 1);
});

test('the public gateway listener does not serve /metrics; each metrics listener serves health', async () => {
  const pub = await fetch(`${stack.issuer}/metrics`);
  assert.equal(pub.status, 404);
  assert.doesNotMatch(await pub.text(), /idp_http_requests_total/);
  for (const s of SERVICES) {
    const base = `http://127.0.0.1:${stack.metricsPorts[s]}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200, `${s} /healthz`);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, `${s} /readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  }
});

test('the alert rules (deploy/prometheus/alerts.yml) and docs/operations.md name only metrics the stack exports', async () => {
  const scraped = await scrapeAll();
  const families = new Map();
  for (const s of SERVICES) for (const [name, f] of scraped[s].families) families.set(name, f.type);
  const known = (name) => families.has(name) ||
    (/_(bucket|sum|count)$/.test(name) && families.get(name.replace(/_(bucket|sum|count)$/, '')) === 'histogram');
  const [rules] = parseYamlAll(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, String(r.expr)]));
  assert.ok(exprs.length >= 5);
  for (const [alert, expr] of exprs) {
    for (const [name] of expr.matchAll(/\bidp_[a-z0-9_]+/g)) assert.ok(known(name), `${alert}: ${name} is exported`);
  }
  // Every idp_ family a service exports is in the metrics reference, and the reference names
  // nothing that does not exist.
  const doc = readFileSync(path.join(root, 'docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('\n## ', doc.indexOf('## Metrics') + 5));
  const documented = new Set([...section.matchAll(/`(idp_[a-z0-9_]+)/g)].map((m) => m[1]));
  for (const name of families.keys()) {
    if (name.startsWith('idp_')) assert.ok(documented.has(name), `${name} is documented`);
  }
  for (const name of documented) assert.ok(known(name), `documented ${name} is exported`);
});
