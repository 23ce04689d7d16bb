// A protocol error matrix modelled on the OpenID conformance suite's OP test modules
// (oidcc-*) and RFC 6749/7636/9700 rules: each row asserts the exact error and where it is
// delivered (an error page and no redirect, a redirect to the client, or token-endpoint JSON).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent } from './support/browser.mjs';
import { discover, authorize } from './support/oidc.mjs';

let stack;
let app;
const alice = { username: 'alice', password: 'correct horse battery staple' };
const CB = 'http://127.0.0.1:9/conf/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const ERROR_TEXT = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/; // RFC 6749 §5.2

before(async () => {
  stack = await startStack('e2e_conf', { env: { IDP_TOKEN_CODE_TTL: '2' } });
  idpctl(stack, ['users', 'create', '--username', 'alice', '--password-stdin'], `${alice.password}\n`);
  app = idpctl(stack, ['clients', 'add', '--id', 'conf', '--name', 'Conformance', '--redirect-uri', CB,
    '--redirect-uri', 'http://127.0.0.1:9/conf/cb2']);
});
after(async () => { if (stack) await stopStack(stack); });

const base = (extra = '') =>
  `client_id=conf&redirect_uri=${encodeURIComponent(CB)}&response_type=code&scope=openid&state=st-1` +
  `&code_challenge=${CHALLENGE}&code_challenge_method=S256${extra}`;

async function get(query, agent) {
  const url = `${stack.issuer}/authorize?${query}`;
  return agent ? agent.request(url) : fetch(url, { redirect: 'manual' });
}

// [name, query, expected]: expected.page = status of an error page; expected.redirect = error.
const authorizeRows = [
  ['oidcc-ensure-registered-redirect-uri: /callback/<random> added', base().replace(encodeURIComponent(CB), encodeURIComponent(`${CB}/callback/x1`)), { page: 400 }],
  ['redirect URI differing by case', base().replace(encodeURIComponent(CB), encodeURIComponent(CB.replace('conf', 'CONF'))), { page: 400 }],
  ['redirect URI with a trailing slash', base().replace(encodeURIComponent(CB), encodeURIComponent(`${CB}/`)), { page: 400 }],
  ['redirect URI with another port', base().replace(encodeURIComponent(CB), encodeURIComponent(CB.replace(':9/', ':10/'))), { page: 400 }],
  ['redirect URI with a fragment', base().replace(encodeURIComponent(CB), encodeURIComponent(`${CB}#x`)), { page: 400 }],
  ['redirect URI with userinfo', base().replace(encodeURIComponent(CB), encodeURIComponent(CB.replace('http://', 'http://u:p@'))), { page: 400 }],
  ['redirect URI with a query added (oidcc-redirect-uri-query-added)', base().replace(encodeURIComponent(CB), encodeURIComponent(`${CB}?foo=bar`)), { page: 400 }],
  ['oidcc-ensure-redirect-uri-in-authorization-request: none sent', base().replace(`&redirect_uri=${encodeURIComponent(CB)}`, ''), { page: 400 }],
  ['missing client_id', base().replace('client_id=conf&', ''), { page: 400 }],
  ['unknown client_id', base().replace('client_id=conf', 'client_id=nobody'), { page: 400 }],
  ['duplicate client_id', `${base()}&client_id=conf`, { page: 400 }],
  ['oidcc-response-type-missing', base().replace('&response_type=code', ''), { redirect: 'invalid_request' }],
  ['response_type=token (implicit refused)', base().replace('response_type=code', 'response_type=token'), { redirect: 'unsupported_response_type' }],
  ['response_type=code id_token (hybrid refused)', base().replace('response_type=code', 'response_type=code%20id_token'), { redirect: 'unsupported_response_type' }],
  ['duplicate state', `${base()}&state=st-2`, { redirect: 'invalid_request' }],
  ['duplicate response_type', `${base()}&response_type=code`, { redirect: 'invalid_request' }],
  ['scope without openid', base().replace('scope=openid', 'scope=profile'), { redirect: 'invalid_scope' }],
  ['code_challenge_method=plain', base().replace('code_challenge_method=S256', 'code_challenge_method=plain'), { redirect: 'invalid_request' }],
  ['malformed code_challenge', base().replace(CHALLENGE, 'short'), { redirect: 'invalid_request' }],
  ['prompt=none with login', `${base()}&prompt=none%20login`, { redirect: 'invalid_request' }],
  ['unknown prompt value', `${base()}&prompt=bogus`, { redirect: 'invalid_request' }],
  ['negative max_age', `${base()}&max_age=-5`, { redirect: 'invalid_request' }],
  ['non-numeric max_age', `${base()}&max_age=abc`, { redirect: 'invalid_request' }],
  ['malformed id_token_hint', `${base()}&id_token_hint=not.a.jwt`, { redirect: 'invalid_request' }],
  ['response_mode=fragment', `${base()}&response_mode=fragment`, { redirect: 'invalid_request' }],
  ['claims that are not JSON', `${base()}&claims=%7Bnope`, { redirect: 'invalid_request' }],
  ['request object (request_not_supported)', `${base()}&request=eyJhbGciOiJub25lIn0.e30.`, { redirect: 'request_not_supported' }],
  ['request_uri (request_uri_not_supported)', `${base()}&request_uri=${encodeURIComponent('https://example.com/r')}`, { redirect: 'request_uri_not_supported' }],
  ['oidcc-prompt-none-not-logged-in', `${base()}&prompt=none`, { redirect: 'login_required' }],
];

test('authorization errors: pages where no redirect is allowed, redirects with state and iss otherwise', async () => {
  for (const [name, query, expected] of authorizeRows) {
    const res = await get(query);
    if (expected.page) {
      assert.equal(res.status, expected.page, name);
      assert.equal(res.headers.get('location'), null, `${name}: never a redirect`);
      assert.match(await res.text(), /role="alert"/, name);
    } else {
      assert.equal(res.status, 303, name);
      const loc = new URL(res.headers.get('location'));
      assert.equal(loc.origin + loc.pathname, CB, name);
      assert.equal(loc.searchParams.get('error'), expected.redirect, name);
      assert.equal(loc.searchParams.get('state'), 'st-1', `${name}: state echoed`);
      assert.equal(loc.searchParams.get('iss'), stack.issuer, `${name}: iss (RFC 9207)`);
      assert.match(loc.searchParams.get('error_description') ?? '', ERROR_TEXT, name);
    }
  }
});

test('requests that must succeed: unknown parameters, odd scope spacing, POST, no nonce, display, hints', async () => {
  const agent = new Agent();
  const config = await discover(stack, app);
  await authorize(stack, agent, config, app, alice); // sign in once
  const ok = [
    ['oidcc-ensure-request-with-unknown-parameter-succeeds', `${base()}&extra=foobar`],
    ['oidcc-alternate-happy-flow (scope order and spacing)', base().replace('scope=openid', 'scope=profile%20%20openid%20email')],
    ['oidcc-ensure-request-without-nonce-succeeds-for-code-flow', base()],
    ['oidcc-display-page', `${base()}&display=page`],
    ['oidcc-display-popup', `${base()}&display=popup`],
    ['oidcc-login-hint', `${base()}&login_hint=alice`],
    ['oidcc-ui-locales', `${base()}&ui_locales=nl-NL%20en`],
    ['oidcc-claims-locales', `${base()}&claims_locales=nl`],
    ['oidcc-ensure-request-with-acr-values-succeeds', `${base()}&acr_values=aal1%20aal2`],
    ['oidcc-max-age-10000', `${base()}&max_age=10000`],
    ['claims parameter (standard claims)', `${base()}&claims=${encodeURIComponent('{"userinfo":{"name":{"essential":true}}}')}`],
  ];
  for (const [name, query] of ok) {
    const res = await get(query, agent);
    assert.equal(res.status, 303, name);
    const loc = new URL(res.headers.get('location'));
    assert.ok(loc.searchParams.get('code'), `${name}: a code`);
    assert.equal(loc.searchParams.get('state'), 'st-1');
  }
  const post = await agent.request(`${stack.issuer}/authorize`, { method: 'POST', form: Object.fromEntries(new URLSearchParams(base())) });
  assert.equal(post.status, 303, 'oidcc-ensure-post-request-succeeds');
  assert.ok(new URL(post.headers.get('location')).searchParams.get('code'));
});

async function codeFor(agent) {
  const res = await get(base(), agent);
  return new URL(res.headers.get('location')).searchParams.get('code');
}

async function token(form, { secret = app.client_secret, headers = {}, method = 'POST' } = {}) {
  const res = await fetch(`${stack.issuer}/token`, {
    method,
    headers: { 'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`conf:${secret}`).toString('base64'), ...headers },
    body: method === 'POST' ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

test('token endpoint errors are RFC 6749 §5.2 JSON with no-store', async () => {
  const agent = new Agent();
  const config = await discover(stack, app);
  await authorize(stack, agent, config, app, alice);
  const good = (code, extra = {}) => ({ grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: VERIFIER, ...extra });

  const rows = [
    ['wrong client secret', async () => token(good(await codeFor(agent)), { secret: 'wrong' }), 401, 'invalid_client'],
    ['missing grant_type', async () => token({ code: await codeFor(agent), redirect_uri: CB }), 400, 'invalid_request'],
    ['unsupported grant_type password (ROPC disabled)', async () => token({ grant_type: 'password', username: 'alice', password: alice.password }), 400, 'unsupported_grant_type'],
    ['duplicate code parameter', async () => {
      const c = await codeFor(agent);
      const res = await fetch(`${stack.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`conf:${app.client_secret}`).toString('base64') },
        body: `${new URLSearchParams(good(c))}&code=${c}` });
      return { status: res.status, headers: res.headers, body: await res.json() };
    }, 400, 'invalid_request'],
    ['redirect_uri differs from the authorization request', async () => token(good(await codeFor(agent), { redirect_uri: 'http://127.0.0.1:9/conf/cb2' })), 400, 'invalid_grant'],
    ['redirect_uri missing at the token endpoint', async () => { const f = good(await codeFor(agent)); delete f.redirect_uri; return token(f); }, 400, 'invalid_grant'],
    ['PKCE verifier missing', async () => { const f = good(await codeFor(agent)); delete f.code_verifier; return token(f); }, 400, 'invalid_grant'],
    ['PKCE verifier too short', async () => token(good(await codeFor(agent), { code_verifier: 'abc' })), 400, 'invalid_grant'],
    ['unknown code', async () => token(good('not-a-code')), 400, 'invalid_grant'],
    ['oidcc-codereuse', async () => { const c = await codeFor(agent); await token(good(c)); return token(good(c)); }, 400, 'invalid_grant'],
    ['expired code (60 s in production; 2 s here)', async () => { const c = await codeFor(agent); await new Promise((r) => setTimeout(r, 2600)); return token(good(c)); }, 400, 'invalid_grant'],
    ['client_secret in both Basic and body', async () => token({ ...good(await codeFor(agent)), client_secret: app.client_secret }), 400, 'invalid_request'],
  ];
  for (const [name, run, status, error] of rows) {
    const r = await run();
    assert.equal(r.status, status, name);
    assert.equal(r.body.error, error, name);
    assert.equal(r.headers.get('cache-control'), 'no-store', name);
    assert.match(r.body.error_description ?? '', ERROR_TEXT, name);
  }
  const get405 = await fetch(`${stack.issuer}/token`);
  assert.equal(get405.status, 405);
});

test('oidcc-codereuse-30seconds: the first access token stops working after a reuse', async () => {
  const agent = new Agent();
  const config = await discover(stack, app);
  const a = await authorize(stack, agent, config, app, alice);
  const tokens = await client.authorizationCodeGrant(config, a.callback, { pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state });
  await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  const again = await token({ grant_type: 'authorization_code', code: a.callback.searchParams.get('code'), redirect_uri: CB, code_verifier: a.verifier });
  assert.equal(again.body.error, 'invalid_grant');
  const info = await fetch(`${stack.issuer}/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
});
