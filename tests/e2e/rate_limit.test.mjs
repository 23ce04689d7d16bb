// Failed password posts are limited per source address across gateway instances (Redis):
// past the limit, 429 with Retry-After, for the right password too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let stack;
before(async () => {
  stack = await startStack('e2e_rate', {
    env: { IDP_GATEWAY_LOGIN_FAILURES_PER_ADDRESS: '5', IDP_GATEWAY_TOKEN_REQUESTS_PER_CLIENT: '4' },
  });
  idpctl(stack, ['users', 'create', '--username', 'rita', '--password-stdin'], 'rita has a long password\n');
});
after(async () => { if (stack) await stopStack(stack); });

async function attempt(username, password) {
  const agent = new Agent();
  const start = await agent.request(new URL('/login', stack.issuer));
  const page = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  return agent.request(new URL('/login', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password } });
}

test('the sixth failed post from one address within a minute gets 429 with Retry-After', async () => {
  for (let i = 0; i < 5; i++) {
    // Unknown and known usernames count alike.
    assert.equal((await attempt(i % 2 ? 'rita' : 'nobody', `wrong ${i}`)).status, 401);
  }
  const limited = await attempt('rita', 'rita has a long password');
  assert.equal(limited.status, 429);
  const retry = Number(limited.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  assert.match(limited.text_, /role="alert">There were too many failed sign-ins/);
});

test('the token endpoint limits each client: the fifth request in a minute gets 429, another client is served', async () => {
  const add = (id) => idpctl(stack, ['clients', 'add', '--id', id, '--redirect-uri', `http://127.0.0.1:9/${id}/cb`,
    '--grant-type', 'client_credentials', '--scopes', 'api']);
  const busy = add('rl-busy');
  const calm = add('rl-calm');
  const grant = (c) => fetch(`${stack.issuer}/token`, {
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
  for (let i = 0; i < 4; i++) assert.equal((await grant(busy)).status, 200, `request ${i + 1}`);
  const limited = await grant(busy);
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal(limited.headers.get('cache-control'), 'no-store');
  assert.equal((await limited.json()).error, 'temporarily_unavailable');
  assert.equal((await grant(calm)).status, 200, 'another client is not held back');
});
