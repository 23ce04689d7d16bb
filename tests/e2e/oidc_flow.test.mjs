// End to end: openid-client (a certified OIDC relying-party library) signs a user in against the
// whole stack, then a second client signs in by SSO; and the errors the foundation must give.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startStack, stopStack, idpctl, readLog } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import * as oidc from './support/oidc.mjs';

let stack;
const apps = {};
const PASSWORD = 'correct horse battery staple';

before(async () => {
  stack = await startStack('e2e_oidc');
  idpctl(stack, ['users', 'create', '--username', 'alice', '--email', 'alice@example.com',
    '--email-verified', '--name', 'Alice Example', '--given-name', 'Alice', '--family-name',
    'Example', '--phone', '+31612345678', '--password-stdin'], `${PASSWORD}\n`);
  const add = (id, extra) => idpctl(stack, ['clients', 'add', '--id', id, '--name', id,
    '--redirect-uri', `http://127.0.0.1:9/${id}/cb`, ...extra]);
  apps.basic = add('rp-basic', ['--portal', '--home-url', 'http://127.0.0.1:9/rp-basic/']);
  apps.post = add('rp-post', ['--auth-method', 'client_secret_post', '--alg', 'ES256']);
  apps.public = add('rp-public', ['--public']);
});

after(async () => {
  if (!stack) return;
  const codes = await stopStack(stack);
  // Every service stops cleanly on SIGTERM.
  assert.deepEqual(codes, { auth: 0, mfa: 0, delivery: 0, token: 0, gateway: 0 });
});

const discover = (app, ...rest) => oidc.discover(stack, app, ...rest);
const authorizationUrl = oidc.authorizationUrl;
const signIn = (agent, ...rest) => oidc.signIn(stack, agent, ...rest);

test('discovery is complete and true to the issuer', async () => {
  const res = await fetch(`${stack.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const d = await res.json();
  assert.equal(d.issuer, stack.issuer);
  assert.equal(d.authorization_endpoint, `${stack.issuer}/authorize`);
  assert.deepEqual(d.response_types_supported, ['code']);
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'));
  assert.equal(d.authorization_response_iss_parameter_supported, true);
  const jwks = await (await fetch(d.jwks_uri)).json();
  assert.ok(jwks.keys.length >= 2);
  for (const k of jwks.keys) {
    assert.ok(k.kid && k.alg, 'each key has kid and alg');
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(k[secret], undefined);
  }
});

test('sign-in with openid-client, then SSO into a second client without a second login', async () => {
  const agent = new Agent();
  const config = await discover(apps.basic);
  const a = await authorizationUrl(config, apps.basic, { scope: 'openid profile email phone' });

  const toLogin = await agent.request(a.url, { headers: { 'x-request-id': 'e2e-trace-0001' } });
  assert.equal(toLogin.status, 303);
  const loginUrl = new URL(toLogin.headers.get('location'), stack.issuer);
  assert.equal(loginUrl.pathname, '/login');

  const back = await signIn(agent, loginUrl, 'alice', PASSWORD, { 'x-request-id': 'e2e-trace-0002' });
  assert.equal(back.status, 303);
  const callback = new URL(back.headers.get('location'));
  assert.equal(callback.origin + callback.pathname, apps.basic.redirect_uris[0]);
  assert.equal(callback.searchParams.get('iss'), stack.issuer);
  const session = [...agent.cookies.keys()].find((k) => k.includes('idp_session'));
  assert.ok(session, 'an SSO session cookie is set');

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, stack.issuer);
  assert.equal(claims.aud, 'rp-basic');
  assert.equal(claims.nonce, a.nonce);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.ok(claims.auth_time <= Math.floor(Date.now() / 1000));
  const idHeader = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url'));
  assert.equal(idHeader.alg, 'RS256');
  const atHeader = JSON.parse(Buffer.from(tokens.access_token.split('.')[0], 'base64url'));
  assert.equal(atHeader.typ, 'at+jwt');
  // Access tokens are ES256 (token.access_token_alg), with a key the JWKS publishes.
  assert.equal(atHeader.alg, 'ES256');
  const published = await (await fetch(`${stack.issuer}/jwks`)).json();
  assert.ok(published.keys.some((k) => k.kid === atHeader.kid && k.kty === 'EC'));

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'alice@example.com');
  assert.equal(info.email_verified, true);
  assert.equal(info.name, 'Alice Example');
  assert.equal(info.preferred_username, 'alice');
  assert.equal(info.phone_number, '+31612345678');

  // The request id travelled from the gateway into the auth service's log.
  assert.match(readLog(stack, 'auth'), /"request_id":"e2e-trace-0002"/);
  // No password or code ever reaches a log.
  for (const svc of ['gateway', 'auth', 'token']) {
    const log = readLog(stack, svc);
    assert.ok(!log.includes(PASSWORD), `${svc} log holds the password`);
    assert.ok(!log.includes(callback.searchParams.get('code')), `${svc} log holds the code`);
  }

  // SSO: the second client (client_secret_post, ES256 ID tokens) gets a code at once.
  const config2 = await discover(apps.post, client.ClientSecretPost(apps.post.client_secret),
    { id_token_signed_response_alg: 'ES256' });
  const b = await authorizationUrl(config2, apps.post);
  const direct = await agent.request(b.url);
  assert.equal(direct.status, 303);
  const callback2 = new URL(direct.headers.get('location'));
  assert.equal(callback2.origin + callback2.pathname, apps.post.redirect_uris[0], 'no login page');
  const tokens2 = await client.authorizationCodeGrant(config2, callback2, {
    pkceCodeVerifier: b.verifier, expectedNonce: b.nonce, expectedState: b.state, idTokenExpected: true,
  });
  const claims2 = tokens2.claims();
  assert.equal(claims2.sub, claims.sub);
  assert.equal(claims2.auth_time, claims.auth_time, 'silent SSO keeps auth_time');
  assert.equal(JSON.parse(Buffer.from(tokens2.id_token.split('.')[0], 'base64url')).alg, 'ES256');

  // The portal lists the applications shown there; Sign out ends the session.
  const portal = await agent.request(new URL('/', stack.issuer));
  assert.equal(portal.status, 200);
  assert.match(portal.text_, /<h1>Applications<\/h1>/);
  assert.match(portal.text_, /href="http:\/\/127\.0\.0\.1:9\/rp-basic\/"/);
  assert.doesNotMatch(portal.text_, /rp-post/);
  assert.equal(portal.headers.get('x-frame-options'), 'DENY');
  assert.match(portal.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  const out = await agent.request(new URL('/logout', stack.issuer), {
    method: 'POST', form: { csrf: hiddenInput(portal.text_, 'csrf') },
  });
  assert.equal(out.status, 200);
  const c = await authorizationUrl(config, apps.basic, { prompt: 'none' });
  const none = await agent.request(c.url);
  assert.equal(new URL(none.headers.get('location')).searchParams.get('error'), 'login_required');
});

test('a public client signs in with PKCE and no secret', async () => {
  const agent = new Agent();
  const config = await discover(apps.public, client.None());
  const a = await authorizationUrl(config, apps.public);
  const toLogin = await agent.request(a.url);
  const back = await signIn(agent, new URL(toLogin.headers.get('location'), stack.issuer), 'ALICE', PASSWORD);
  const tokens = await client.authorizationCodeGrant(config, new URL(back.headers.get('location')), {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state,
  });
  assert.equal(tokens.claims().aud, 'rp-public');
});

test('wrong password and unknown user get the same answer', async () => {
  const config = await discover(apps.basic);
  const answers = [];
  for (const [user, pw] of [['alice', 'not the password'], ['nobody-at-all', 'whatever pw']]) {
    const agent = new Agent();
    const a = await authorizationUrl(config, apps.basic);
    const toLogin = await agent.request(a.url);
    const res = await signIn(agent, new URL(toLogin.headers.get('location'), stack.issuer), user, pw);
    assert.equal(res.status, 401);
    assert.match(res.text_, /role="alert"[^>]*>Invalid username or password\.</);
    assert.equal(res.headers.get('location'), null);
    assert.equal([...agent.cookies.keys()].some((k) => k.includes('idp_session')), false);
    answers.push(res.text_.replace(/value="[^"]*"/g, ''));
  }
  assert.equal(answers[0].replace('alice', 'X'), answers[1].replace('nobody-at-all', 'X'));
});

test('unknown client_id and unregistered redirect_uri get an error page, never a redirect', async () => {
  const base = `${stack.issuer}/authorize?response_type=code&scope=openid&state=s1`;
  const unknown = await fetch(`${base}&client_id=nope&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/rp-basic/cb')}`, { redirect: 'manual' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.headers.get('location'), null);
  assert.match(await unknown.text(), /role="alert"/);
  for (const uri of ['http://127.0.0.1:9/rp-basic/cb/', 'http://127.0.0.1:9/rp-basic/cb/callback/x',
    'https://evil.example/cb', 'http://127.0.0.1:9/rp-basic/CB']) {
    const res = await fetch(`${base}&client_id=rp-basic&redirect_uri=${encodeURIComponent(uri)}`, { redirect: 'manual' });
    assert.equal(res.status, 400, uri);
    assert.equal(res.headers.get('location'), null, uri);
  }
});

test('authorization errors go back to the client with state and iss', async () => {
  const cb = 'http://127.0.0.1:9/rp-public/cb';
  const go = async (q) => {
    const res = await fetch(`${stack.issuer}/authorize?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 303, q);
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, cb);
    assert.equal(loc.searchParams.get('iss'), stack.issuer);
    return loc.searchParams;
  };
  const base = `client_id=rp-public&redirect_uri=${encodeURIComponent(cb)}&scope=openid&state=xyz`;
  const noPkce = await go(`${base}&response_type=code`);
  assert.equal(noPkce.get('error'), 'invalid_request');
  assert.equal(noPkce.get('state'), 'xyz');
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
  assert.equal((await go(`${base}&response_type=code&code_challenge=${challenge}&code_challenge_method=plain`)).get('error'), 'invalid_request');
  assert.equal((await go(`${base}&response_type=token&code_challenge=${challenge}&code_challenge_method=S256`)).get('error'), 'unsupported_response_type');
  assert.equal((await go(`${base}&code_challenge=${challenge}&code_challenge_method=S256`)).get('error'), 'invalid_request');
  assert.equal((await go(`${base}&response_type=code&code_challenge=${challenge}&code_challenge_method=S256&prompt=none`)).get('error'), 'login_required');
  assert.equal((await go(`${base}&response_type=code&response_type=code&code_challenge=${challenge}&code_challenge_method=S256`)).get('error'), 'invalid_request');
  assert.equal((await go(`${base}&response_type=code&code_challenge=${challenge}&code_challenge_method=S256&max_age=-1`)).get('error'), 'invalid_request');
  assert.equal((await go(`${base}&response_type=code&code_challenge=${challenge}&code_challenge_method=S256&request=eyJ9`)).get('error'), 'request_not_supported');
});

/** A fresh code for rp-basic (session in `agent`). */
async function freshCode(agent, config) {
  const a = await authorizationUrl(config, apps.basic);
  let res = await agent.request(a.url);
  if (new URL(res.headers.get('location'), stack.issuer).pathname === '/login') {
    res = await signIn(agent, new URL(res.headers.get('location'), stack.issuer), 'alice', PASSWORD);
  }
  return { ...a, code: new URL(res.headers.get('location')).searchParams.get('code') };
}

async function tokenRequest(form, app = apps.basic) {
  const res = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64'),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

test('the token endpoint refuses a bad verifier, a reused code and a bad secret', async () => {
  const agent = new Agent();
  const config = await discover(apps.basic);
  const redirect_uri = apps.basic.redirect_uris[0];

  const a = await freshCode(agent, config);
  const wrong = await tokenRequest({ grant_type: 'authorization_code', code: a.code, redirect_uri,
    code_verifier: client.randomPKCECodeVerifier() });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, 'invalid_grant');
  assert.equal(wrong.headers.get('cache-control'), 'no-store');

  const b = await freshCode(agent, config);
  const ok = await tokenRequest({ grant_type: 'authorization_code', code: b.code, redirect_uri, code_verifier: b.verifier });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  const again = await tokenRequest({ grant_type: 'authorization_code', code: b.code, redirect_uri, code_verifier: b.verifier });
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');

  const c = await freshCode(agent, config);
  const badSecret = await tokenRequest({ grant_type: 'authorization_code', code: c.code, redirect_uri, code_verifier: c.verifier },
    { ...apps.basic, client_secret: 'wrong' });
  assert.equal(badSecret.status, 401);
  assert.equal(badSecret.body.error, 'invalid_client');
  assert.match(badSecret.headers.get('www-authenticate'), /^Basic/);

  const unsupported = await tokenRequest({ grant_type: 'password', username: 'alice', password: PASSWORD });
  assert.equal(unsupported.body.error, 'unsupported_grant_type');
  const get = await fetch(`${stack.issuer}/token`);
  assert.equal(get.status, 405);
  const json = await fetch(`${stack.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, 'invalid_request');
});

test('20 racing redemptions of one code: exactly one succeeds', async () => {
  const agent = new Agent();
  const config = await discover(apps.basic);
  const a = await freshCode(agent, config);
  const form = { grant_type: 'authorization_code', code: a.code, redirect_uri: apps.basic.redirect_uris[0], code_verifier: a.verifier };
  const results = await Promise.all(Array.from({ length: 20 }, () => tokenRequest(form)));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant').length, 19);
});

test('userinfo refuses a bad token with WWW-Authenticate', async () => {
  const none = await fetch(`${stack.issuer}/userinfo`);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  const bad = await fetch(`${stack.issuer}/userinfo`, { headers: { authorization: 'Bearer not.a.token' } });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
});

test('readiness checks every upstream', async () => {
  const r = await (await fetch(`${stack.issuer}/readyz`)).json();
  assert.deepEqual(r.checks, { auth: 'ok', mfa: 'ok', delivery: 'ok', token: 'ok', redis: 'ok' });
});

test('ten wrong passwords from one address hold that pair: same answer, even for the right one', async () => {
  idpctl(stack, ['users', 'create', '--username', 'locky', '--password-stdin'], 'locky has a long password\n');
  const config = await discover(apps.basic);
  const attempt = async (password) => {
    const agent = new Agent();
    const a = await authorizationUrl(config, apps.basic);
    const toLogin = await agent.request(a.url);
    return signIn(agent, new URL(toLogin.headers.get('location'), stack.issuer), 'locky', password);
  };
  for (let i = 0; i < 10; i++) assert.equal((await attempt(`wrong guess ${i}`)).status, 401);
  const held = await attempt('locky has a long password');
  assert.equal(held.status, 401);
  assert.match(held.text_, /role="alert"[^>]*>Invalid username or password\.</);
  assert.equal(idpctl(stack, ['users', 'unlock', '--username', 'locky']).unlocked, true);
  assert.equal((await attempt('locky has a long password')).status, 303);
});
