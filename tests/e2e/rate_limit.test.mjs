// Failed password posts are limited per source address across gateway instances (Redis):
// past the limit, 429 with Retry-After, for the right password too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let stack;
before(async () => {
  stack = await startStack('e2e_rate', { env: { IDP_GATEWAY_LOGIN_FAILURES_PER_ADDRESS: '5' } });
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
