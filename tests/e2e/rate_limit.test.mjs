// Failed password posts are limited per source address across gateway instances (Redis):
// past the limit (default 30 a minute), 429 with Retry-After, for the right password too; the
// same account from another address is not held back. The attempt is counted before the
// password is checked, so concurrent guesses cannot slip past; an IPv6 /64 is one address.
// /token is limited per client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl, startExtraGateway } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let stack;
let gateways;
before(async () => {
  stack = await startStack('e2e_rate', {
    // The test is the gateways' trusted proxy: X-Forwarded-For names the browser's address.
    env: { IDP_GATEWAY_TOKEN_REQUESTS_PER_CLIENT: '4', IDP_GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
  });
  gateways = [stack.issuer, await startExtraGateway(stack)];
  idpctl(stack, ['users', 'create', '--username', 'rita', '--password-stdin'], 'rita has a long password\n');
});
after(async () => { if (stack) await stopStack(stack); });

/** One sign-in attempt from `address`, the whole of it through `gateway`. */
async function attempt(username, password, address, gateway = stack.issuer) {
  const agent = new Agent();
  const headers = { 'x-forwarded-for': address };
  const start = await agent.request(new URL('/login', gateway), { headers });
  const page = await agent.request(new URL(start.headers.get('location'), gateway), { headers });
  return agent.request(new URL('/login', gateway), { method: 'POST', headers, form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password } });
}

test('31 failed posts in a minute from one address, spread over two gateways: the 31st gets 429; another address still signs in', async () => {
  const attacker = '203.0.113.31';
  for (let i = 0; i < 30; i++) {
    // Unknown and known usernames count alike; every other attempt goes through the second gateway.
    const res = await attempt(i % 3 ? 'rita' : 'nobody', `wrong ${i}`, attacker, gateways[i % 2]);
    assert.equal(res.status, 401, `attempt ${i + 1}`);
  }
  for (const gateway of gateways) {
    const limited = await attempt('rita', 'rita has a long password', attacker, gateway);
    assert.equal(limited.status, 429, `limited at ${gateway}`);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.match(limited.text_, /role="alert">There were too many failed sign-ins/);
  }
  // The attacker's address holds no lock over rita: from her own address she signs in.
  const rita = await attempt('rita', 'rita has a long password', '198.51.100.7', gateways[1]);
  assert.equal(rita.status, 303);
});

test('100 concurrent wrong passwords for one account from one address: at most 30 are checked, the rest get 429', async () => {
  const address = '203.0.113.100';
  // Every request its own flow, made first; then the 100 password posts at once.
  const flows = await Promise.all(Array.from({ length: 100 }, async () => {
    const agent = new Agent();
    const headers = { 'x-forwarded-for': address };
    const start = await agent.request(new URL('/login', stack.issuer), { headers });
    const page = await agent.request(new URL(start.headers.get('location'), stack.issuer), { headers });
    return { agent, headers, flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf') };
  }));
  const answers = await Promise.all(flows.map(({ agent, headers, flow, csrf }, i) =>
    agent.request(new URL('/login', gateways[i % 2]), { method: 'POST', headers,
      form: { flow, csrf, username: 'rita', password: `wrong ${i}` } })));
  const count = (status) => answers.filter((r) => r.status === status).length;
  console.log(`# 100 concurrent wrong passwords: ${count(401)} x 401, ${count(429)} x 429, ${100 - count(401) - count(429)} other`);
  assert.equal(count(401) + count(429), 100, 'every answer is a 401 or a 429');
  assert.ok(count(401) <= 30, `${count(401)} wrong-password answers: the limit is 30`);
  assert.ok(count(401) >= 1);
  for (const r of answers.filter((a) => a.status === 429)) assert.ok(Number(r.headers.get('retry-after')) >= 1);
});

test('IPv6 addresses of one /64 share the address limit; another /64 does not', async () => {
  // 30 failures spread over 30 addresses of one /64.
  for (let i = 0; i < 30; i++) {
    const res = await attempt('nobody', `wrong ${i}`, `2001:db8:64:1::${(i + 1).toString(16)}`);
    assert.equal(res.status, 401, `attempt ${i + 1}`);
  }
  assert.equal((await attempt('nobody', 'again', '2001:db8:64:1:ffff::1')).status, 429, 'the same /64');
  assert.equal((await attempt('nobody', 'again', '2001:db8:64:2::1')).status, 401, 'another /64');
});

test('the token endpoint limits each client across gateways: the fifth request in a minute gets 429, another client is served', async () => {
  const add = (id) => idpctl(stack, ['clients', 'add', '--id', id, '--redirect-uri', `http://127.0.0.1:9/${id}/cb`,
    '--grant-type', 'client_credentials', '--scopes', 'api']);
  const busy = add('rl-busy');
  const calm = add('rl-calm');
  const grant = (c, gateway = stack.issuer) => fetch(`${gateway}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  // Someone who knows only the client_id cannot spend the client's budget.
  for (let i = 0; i < 6; i++) {
    assert.equal((await grant({ ...busy, client_secret: 'not-the-secret-0123456789abcdef0123' })).status, 401);
  }
  // The budget is shared by the gateways (Redis): requests alternate between them.
  for (let i = 0; i < 4; i++) assert.equal((await grant(busy, gateways[i % 2])).status, 200, `request ${i + 1}`);
  const limited = await grant(busy);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal(limited.headers.get('cache-control'), 'no-store');
  assert.equal((await limited.json()).error, 'temporarily_unavailable');
  assert.equal((await grant(calm)).status, 200, 'another client is not held back');
});
