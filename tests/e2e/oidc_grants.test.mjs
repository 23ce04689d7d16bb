// The OAuth/OIDC surface beyond the first sign-in, driven by openid-client: refresh rotation
// and reuse detection, client credentials, private_key_jwt, revocation, introspection,
// RP-initiated and back-channel logout, form_post, key rotation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as client from 'openid-client';
import * as jose from 'jose';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover as discoverFor, authorize, exchange } from './support/oidc.mjs';

let stack;
const apps = {};
const alice = { username: 'alice', password: 'correct horse battery staple' };
let bcl; // the back-channel logout receiver
const logoutTokens = [];

before(async () => {
  const bclPort = await freePort();
  bcl = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      logoutTokens.push(new URLSearchParams(body).get('logout_token'));
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => bcl.listen(bclPort, '127.0.0.1', r));

  stack = await startStack('e2e_grants', { env: { IDP_TOKEN_KEY_PUBLISH_AHEAD: '0' } });
  idpctl(stack, ['users', 'create', '--username', alice.username, '--email', 'alice@example.com',
    '--name', 'Alice Example', '--password-stdin'], `${alice.password}\n`);
  const add = (id, extra) => idpctl(stack, ['clients', 'add', '--id', id, '--name', id,
    '--redirect-uri', `http://127.0.0.1:9/${id}/cb`, ...extra]);
  apps.web = add('web', ['--post-logout-redirect-uri', 'http://127.0.0.1:9/web/bye',
    '--backchannel-logout-uri', `http://127.0.0.1:${bclPort}/bcl`]);
  apps.other = add('other', []);
  apps.service = add('service', ['--grant-type', 'client_credentials', '--scopes', 'api.read api.write']);

  // private_key_jwt: the client holds an ES256 key; we register its public half.
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'pk-1', alg: 'ES256', use: 'sig' };
  const jwksFile = path.join(stack.dir, 'pk-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  apps.pk = add('pk', ['--jwks-file', jwksFile]);
  apps.pk.privateKey = privateKey;
});

after(async () => {
  bcl?.close();
  if (stack) assert.deepEqual(Object.values(await stopStack(stack)), [0, 0, 0, 0, 0]);
});

const discover = (app, ...rest) => discoverFor(stack, app, ...rest);

/** Asserts that `promise` fails with OAuth error `code` (in the body or a WWW-Authenticate challenge). */
async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    const seen = e.error ?? e.cause?.[0]?.parameters?.error ?? e.cause?.error;
    assert.equal(seen, code, `${e.name}: ${e.message}`);
    return true;
  });
}

async function signedInTokens(agent, app, extra = {}, auth) {
  const config = await discover(app, auth);
  const a = await authorize(stack, agent, config, app, alice, extra);
  return { config, tokens: await exchange(config, a) };
}

test('refresh tokens rotate and a reused one revokes the whole grant', async () => {
  const { config, tokens } = await signedInTokens(new Agent(), apps.web, { scope: 'openid profile offline_access' });
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  const r1 = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(r1.refresh_token, tokens.refresh_token);
  assert.equal(r1.claims().sub, tokens.claims().sub);
  assert.equal(r1.claims().auth_time, tokens.claims().auth_time);
  await rejectsWith(client.refreshTokenGrant(config, tokens.refresh_token), 'invalid_grant');
  await rejectsWith(client.refreshTokenGrant(config, r1.refresh_token), 'invalid_grant');
  await rejectsWith(client.fetchUserInfo(config, r1.access_token, tokens.claims().sub), 'invalid_token');

  // A refresh token is bound to its client.
  const t2 = (await signedInTokens(new Agent(), apps.web, { scope: 'openid offline_access' })).tokens;
  const otherConfig = await discover(apps.other);
  await rejectsWith(client.refreshTokenGrant(otherConfig, t2.refresh_token), 'invalid_grant');
  // And cannot widen its scope.
  await rejectsWith(client.refreshTokenGrant(config, t2.refresh_token, { scope: 'openid email offline_access' }), 'invalid_scope');
  const ok = await client.refreshTokenGrant(config, t2.refresh_token, { scope: 'openid' });
  assert.equal(ok.scope, 'openid');
});

test('client credentials give a service its own token, introspectable by it only', async () => {
  const config = await discover(apps.service);
  const t = await client.clientCredentialsGrant(config, { scope: 'api.read' });
  assert.equal(t.scope, 'api.read');
  assert.equal(t.id_token, undefined);
  const mine = await client.tokenIntrospection(config, t.access_token);
  assert.equal(mine.active, true);
  assert.equal(mine.sub, 'service');
  assert.equal(mine.client_id, 'service');
  const theirs = await client.tokenIntrospection(await discover(apps.web), t.access_token);
  assert.deepEqual(theirs, { active: false });
  await rejectsWith(client.clientCredentialsGrant(config, { scope: 'openid' }), 'invalid_scope');
  await rejectsWith(client.clientCredentialsGrant(await discover(apps.web)), 'unauthorized_client');
});

test('a client_credentials token is an ES256 JWT the JWKS verifies, and revocable', async () => {
  const config = await discover(apps.service);
  const t = await client.clientCredentialsGrant(config, { scope: 'api.read' });
  const other = await client.clientCredentialsGrant(config, { scope: 'api.read' });
  // RFC 9068: a resource server verifies it with the key the JWKS names by kid.
  const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(t.access_token, jwks,
    { issuer: stack.issuer, typ: 'at+jwt' });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.client_id, 'service');
  // Another client's revocation does nothing (RFC 7009 §2.1); the owner's ends this token only.
  await client.tokenRevocation(await discover(apps.web), t.access_token);
  assert.equal((await client.tokenIntrospection(config, t.access_token)).active, true);
  await client.tokenRevocation(config, t.access_token);
  assert.deepEqual(await client.tokenIntrospection(config, t.access_token), { active: false });
  assert.equal((await client.tokenIntrospection(config, other.access_token)).active, true);
});

test('revocation ends a grant: its access token stops working everywhere', async () => {
  const { config, tokens } = await signedInTokens(new Agent(), apps.web, { scope: 'openid offline_access' });
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
  await client.tokenRevocation(config, tokens.refresh_token);
  assert.deepEqual(await client.tokenIntrospection(config, tokens.access_token), { active: false });
  assert.deepEqual(await client.tokenIntrospection(config, tokens.refresh_token), { active: false });
  await rejectsWith(client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub), 'invalid_token');
  // An unknown token is not an error (RFC 7009 §2.2).
  await client.tokenRevocation(config, 'not-a-token');
});

test('private_key_jwt: the assertion authenticates once and only once', async () => {
  const { tokens } = await signedInTokens(new Agent(), apps.pk, {},
    client.PrivateKeyJwt({ key: apps.pk.privateKey, kid: 'pk-1' }));
  assert.equal(tokens.claims().aud, 'pk');
  // A replayed assertion is refused.
  const config = await discover(apps.pk, client.PrivateKeyJwt({ key: apps.pk.privateKey, kid: 'pk-1' }));
  const a = await authorize(stack, new Agent(), config, apps.pk, alice);
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new jose.SignJWT({ jti: 'fixed-jti' })
    .setProtectedHeader({ alg: 'ES256', kid: 'pk-1' }).setIssuer('pk').setSubject('pk')
    .setAudience(`${stack.issuer}/token`).setExpirationTime(now + 60).sign(apps.pk.privateKey);
  const post = async (code) => fetch(`${stack.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: apps.pk.redirect_uris[0],
      code_verifier: a.verifier, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion }),
  });
  assert.equal((await post(a.callback.searchParams.get('code'))).status, 200);
  const b = await authorize(stack, new Agent(), config, apps.pk, alice);
  const replay = await post(b.callback.searchParams.get('code'));
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).error, 'invalid_client');
});

test('RP-initiated logout ends the session everywhere and notifies back-channel clients', async () => {
  const agent = new Agent();
  const { config, tokens } = await signedInTokens(agent, apps.web, { scope: 'openid offline_access' });
  const sid = tokens.claims().sid;
  assert.ok(sid);
  // An unregistered post_logout_redirect_uri is never followed.
  const bad = await agent.request(client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://evil.example/bye', state: 's' }));
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('location'), null);
  // Without a hint the person confirms first.
  const ask = await agent.request(client.buildEndSessionUrl(config, { client_id: 'web' }));
  assert.equal(ask.status, 200);
  assert.match(ask.text_, /<h1>Sign out\?<\/h1>/);
  assert.ok(hiddenInput(ask.text_, 'csrf'));

  const before = logoutTokens.length;
  const out = await agent.request(client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: 'http://127.0.0.1:9/web/bye', state: 'bye-1' }));
  assert.equal(out.status, 303);
  assert.equal(out.headers.get('location'), 'http://127.0.0.1:9/web/bye?state=bye-1');

  // prompt=none now fails; the refresh token died with the session.
  const c = await authorize(stack, agent, config, apps.web, alice, { prompt: 'none' }).catch((e) => e);
  assert.equal(c.callback.searchParams.get('error'), 'login_required');
  await rejectsWith(client.refreshTokenGrant(config, tokens.refresh_token), 'invalid_grant');

  // The back-channel logout token arrives, signed with our key, naming the session.
  for (let i = 0; i < 50 && logoutTokens.length === before; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(logoutTokens.length, before + 1);
  const jwks = jose.createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
  const { payload, protectedHeader } = await jose.jwtVerify(logoutTokens.at(-1), jwks, { issuer: stack.issuer, audience: 'web' });
  assert.equal(protectedHeader.typ, 'logout+jwt');
  assert.equal(payload.sid, sid);
  assert.equal(payload.sub, tokens.claims().sub);
  assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  assert.equal(payload.nonce, undefined);
});

test('form_post returns the code in an auto-submitted form', async () => {
  const agent = new Agent();
  const config = await discover(apps.web);
  await authorize(stack, agent, config, apps.web, alice); // sign in first
  const { url } = await (await import('./support/oidc.mjs')).authorizationUrl(config, apps.web, { response_mode: 'form_post' });
  const res = await agent.request(url);
  assert.equal(res.status, 200);
  assert.match(res.text_, /<form method="post" action="http:\/\/127\.0\.0\.1:9\/web\/cb">/);
  assert.ok(hiddenInput(res.text_, 'code'));
  assert.equal(hiddenInput(res.text_, 'iss'), stack.issuer);
  assert.match(res.text_, /<script src="\/static\/form_post\.js"><\/script>/);
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
});

test('prompt=login and max_age force a new sign-in with a later auth_time', async () => {
  const agent = new Agent();
  const first = await signedInTokens(agent, apps.web);
  await new Promise((r) => setTimeout(r, 1100));
  const config = first.config;
  for (const extra of [{ prompt: 'login' }, { max_age: '1' }]) {
    const a = await authorize(stack, agent, config, apps.web, alice, extra);
    const t = await exchange(config, a);
    assert.ok(t.claims().auth_time > first.tokens.claims().auth_time, JSON.stringify(extra));
  }
  // max_age=10000 reuses the session silently (same auth_time as the last sign-in).
  const a = await authorize(stack, agent, config, apps.web, alice, { max_age: '10000' });
  const t = await exchange(config, a);
  // id_token_hint with prompt=none: silent success for the same person.
  const b = await authorize(stack, agent, config, apps.web, alice, { prompt: 'none', id_token_hint: t.id_token });
  assert.ok(b.callback.searchParams.get('code'));
  const bad = await authorize(stack, agent, config, apps.web, alice, { prompt: 'none', id_token_hint: 'e30.e30.sig' });
  assert.equal(bad.callback.searchParams.get('error'), 'invalid_request');
});

test('key rotation: the JWKS verifies every token, before and after', async () => {
  const before = (await signedInTokens(new Agent(), apps.web)).tokens;
  const rotated = idpctl(stack, ['keys', 'rotate', '--alg', 'RS256']);
  assert.ok(rotated.new_kid && rotated.retired_kid);
  await new Promise((r) => setTimeout(r, 1100)); // the gateway's JWKS cache is 60 s; we wait for activation only
  const after = (await signedInTokens(new Agent(), apps.web)).tokens;
  const kid = (t) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).kid;
  assert.equal(kid(before.id_token), rotated.retired_kid);
  assert.equal(kid(after.id_token), rotated.new_kid);
  const keys = await (await fetch(`${stack.issuer}/jwks`)).json();
  const ids = keys.keys.map((k) => k.kid);
  assert.ok(ids.includes(rotated.retired_kid), 'the retired key stays published');
});
