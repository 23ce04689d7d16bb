// End to end: the gateway behind a reverse proxy (X-Forwarded-For/-Proto believed only from
// gateway.trusted_proxies), HSTS only over TLS, and branding from the configuration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let proxied;  // trusts 127.0.0.1 (the test is its proxy)
let direct;   // trusts no one

before(async () => {
  proxied = await startStack('e2e_edge_proxy', {
    env: {
      IDP_GATEWAY_TRUSTED_PROXIES: '10.9.0.0/16,127.0.0.1',
      IDP_GATEWAY_ACCENT_COLOR: '#5b2a86',
      IDP_GATEWAY_LOGO_URL: '/static/favicon.svg',
      IDP_GATEWAY_LOGIN_FAILURES_PER_ADDRESS: '3',
    },
  });
  direct = await startStack('e2e_edge_direct', { env: { IDP_GATEWAY_LOGIN_FAILURES_PER_ADDRESS: '3' } });
});

after(async () => {
  for (const s of [proxied, direct]) if (s) await stopStack(s);
});

async function failLogin(stack, headers) {
  const agent = new Agent();
  const page = await agent.request(new URL('/login', stack.issuer), { headers });
  const form = await agent.request(new URL(page.headers.get('location') ?? '/login', stack.issuer), { headers });
  const html = form.status === 200 ? form.text_ : page.text_;
  return agent.request(new URL('/login', stack.issuer), {
    method: 'POST', headers,
    form: { flow: hiddenInput(html, 'flow'), csrf: hiddenInput(html, 'csrf'), username: 'nobody', password: 'wrong-password' },
  });
}

test('X-Forwarded-For from a trusted proxy names the client: limits apply per real client', async () => {
  const a = { 'x-forwarded-for': '203.0.113.5, 198.51.100.7' };
  for (let i = 0; i < 3; i++) assert.equal((await failLogin(proxied, a)).status, 401);
  assert.equal((await failLogin(proxied, a)).status, 429, 'the 4th failure of that client is refused');
  // Another client behind the same proxy is not held back by the first.
  assert.equal((await failLogin(proxied, { 'x-forwarded-for': '198.51.100.8' })).status, 401);
  // A forged left-hand entry does not make a new client: the proxy appended the real one.
  assert.equal((await failLogin(proxied, { 'x-forwarded-for': '1.2.3.4, 198.51.100.7' })).status, 429);
});

test('without trusted proxies, X-Forwarded-For is ignored (a client cannot pick its address)', async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal((await failLogin(direct, { 'x-forwarded-for': `192.0.2.${i}` })).status, 401);
  }
  assert.equal((await failLogin(direct, { 'x-forwarded-for': '192.0.2.99' })).status, 429);
});

test('HSTS only when the client used TLS (here: X-Forwarded-Proto from a trusted proxy)', async () => {
  const https = await fetch(`${proxied.issuer}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(https.headers.get('strict-transport-security'), 'max-age=31536000');
  const plain = await fetch(`${proxied.issuer}/healthz`);
  assert.equal(plain.headers.get('strict-transport-security'), null);
  const forged = await fetch(`${direct.issuer}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(forged.headers.get('strict-transport-security'), null, 'not from an untrusted peer');
});

test('branding: logo and accent colour from the configuration', async () => {
  const agent = new Agent();
  const res = await agent.request(new URL('/login', proxied.issuer));
  const page = await agent.request(new URL(res.headers.get('location'), proxied.issuer));
  assert.match(page.text_, /<link rel="stylesheet" href="\/static\/theme.css">/);
  assert.match(page.text_, /<img class="logo" src="\/static\/favicon.svg" alt="" height="28">/);
  const css = await fetch(`${proxied.issuer}/static/theme.css`);
  assert.equal(css.status, 200);
  assert.match(await css.text(), /--accent: #5b2a86;/);
  // No branding configured: no theme file and no link to it.
  const plain = await agent.request(new URL('/login', direct.issuer));
  const plainPage = await agent.request(new URL(plain.headers.get('location'), direct.issuer));
  assert.doesNotMatch(plainPage.text_, /theme.css/);
  assert.equal((await fetch(`${direct.issuer}/static/theme.css`)).status, 404);
});
