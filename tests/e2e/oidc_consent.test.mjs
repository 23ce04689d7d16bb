// End to end: consent (OIDC Core §3.1.2.4, prompt=consent), prompt=select_account, the claims
// parameter (§5.5), and clients declared in the configuration file, driven by openid-client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import * as oidc from './support/oidc.mjs';

let stack;
const PASSWORD = 'correct horse battery staple';
const alice = { username: 'alice', password: PASSWORD };
const bob = { username: 'bob', password: PASSWORD };
const PARTNER_SECRET = 'partner-secret-0123456789abcdef0123456789';
const FIRST_SECRET = 'first-party-secret-0123456789abcdef012345';
const partner = { client_id: 'partner', client_secret: PARTNER_SECRET, redirect_uris: ['http://127.0.0.1:9/partner/cb'] };
const first = { client_id: 'first-party', client_secret: FIRST_SECRET, redirect_uris: ['http://127.0.0.1:9/first/cb'] };

before(async () => {
  // Both clients come from the file only: no idpctl registration.
  stack = await startStack('e2e_consent', {
    env: { IDP_TEST_PARTNER_SECRET: PARTNER_SECRET, IDP_TEST_FIRST_SECRET: FIRST_SECRET },
    config: `
[[clients]]
client_id = "partner"
name = "Partner Analytics"
redirect_uris = ["http://127.0.0.1:9/partner/cb"]
home_url = "http://127.0.0.1:9/partner/"
require_consent = true
secret_env = "IDP_TEST_PARTNER_SECRET"

[[clients]]
client_id = "first-party"
name = "First Party"
redirect_uris = ["http://127.0.0.1:9/first/cb"]
secret_env = "IDP_TEST_FIRST_SECRET"
show_in_portal = true
`,
  });
  idpctl(stack, ['users', 'create', '--username', 'alice', '--email', 'alice@example.com',
    '--email-verified', '--name', 'Alice Example', '--phone', '+31612345678', '--password-stdin'],
  `${PASSWORD}\n`);
  idpctl(stack, ['users', 'create', '--username', 'bob', '--email', 'bob@example.com',
    '--name', 'Bob Example', '--password-stdin'], `${PASSWORD}\n`);
});

after(async () => {
  if (!stack) return;
  const codes = await stopStack(stack);
  assert.deepEqual(codes, { auth: 0, mfa: 0, delivery: 0, token: 0, gateway: 0 });
});

/** Follows an authorization until it leaves the IdP or stops at one of our pages. */
async function start(agent, config, app, extra = {}) {
  const r = await oidc.authorize(stack, agent, config, app, alice, extra);
  return r;
}

async function consentPage(agent, location) {
  assert.equal(location.pathname, '/consent');
  const page = await agent.request(location);
  assert.equal(page.status, 200);
  assert.match(page.text_, /<button type="submit" name="decision" value="allow">Allow<\/button>/);
  assert.match(page.text_, /<button type="submit" name="decision" value="deny" class="secondary">Cancel<\/button>/);
  return page;
}

async function answer(agent, page, decision, path = '/consent', field = 'decision') {
  return agent.request(new URL(path, stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), [field]: decision },
  });
}

test('clients from the configuration file sign in; a first-party one asks no consent', async () => {
  const listed = idpctl(stack, ['clients', 'list']);
  const byId = Object.fromEntries((listed.clients ?? listed).map((c) => [c.client_id, c]));
  assert.deepEqual(Object.keys(byId).sort(), ['first-party', 'partner']);
  assert.equal(byId.partner.require_consent, true);
  assert.equal(byId['first-party'].show_in_portal, true);
  const agent = new Agent();
  const config = await oidc.discover(stack, first);
  const a = await start(agent, config, first);
  assert.equal(a.callback.origin + a.callback.pathname, first.redirect_uris[0]);
  const tokens = await oidc.exchange(config, a);
  assert.equal(tokens.claims().aud, 'first-party');
});

test('a client that requires consent: Cancel gives access_denied, Allow is remembered until more is asked', async () => {
  const agent = new Agent();
  const config = await oidc.discover(stack, partner);

  const denied = await start(agent, config, partner, { scope: 'openid email' });
  const page = await consentPage(agent, denied.callback);
  assert.match(page.text_, /Partner Analytics/);
  assert.match(page.text_, /See your email address/);
  assert.doesNotMatch(page.text_, /See your phone number/);
  const back = await answer(agent, page, 'deny');
  assert.equal(back.status, 303);
  const err = new URL(back.headers.get('location'));
  assert.equal(err.origin + err.pathname, partner.redirect_uris[0]);
  assert.equal(err.searchParams.get('error'), 'access_denied');
  assert.equal(err.searchParams.get('state'), denied.state);
  assert.equal(err.searchParams.get('iss'), stack.issuer);
  // The flow was answered once: the same form cannot be replayed into a code.
  const replay = await answer(agent, page, 'allow');
  assert.equal(replay.status, 400);

  const asked = await oidc.authorizationUrl(config, partner, { scope: 'openid email' });
  let res = await agent.request(asked.url);
  assert.equal(res.status, 303);
  const again = await consentPage(agent, new URL(res.headers.get('location'), stack.issuer));
  // A form without the page's CSRF token is refused.
  const forged = await agent.request(new URL('/consent', stack.issuer), {
    method: 'POST', form: { flow: hiddenInput(again.text_, 'flow'), csrf: 'x', decision: 'allow' },
  });
  assert.equal(forged.status, 403);
  // Another browser cannot answer it.
  const other = new Agent();
  const stolen = await other.request(new URL(res.headers.get('location'), stack.issuer));
  assert.equal(stolen.status, 400);
  res = await answer(agent, again, 'allow');
  assert.equal(res.status, 303);
  const tokens = await oidc.exchange(config, { ...asked, callback: new URL(res.headers.get('location')) });
  assert.equal(tokens.claims().aud, 'partner');

  // Remembered: the same scopes go straight back, even with prompt=none.
  const silent = await start(agent, config, partner, { scope: 'openid email', prompt: 'none' });
  assert.ok(silent.callback.searchParams.get('code'), 'a code without asking again');
  // More than was approved: prompt=none cannot ask, so consent_required (OIDC Core §3.1.2.6).
  const more = await start(agent, config, partner, { scope: 'openid email phone', prompt: 'none' });
  assert.equal(more.callback.searchParams.get('error'), 'consent_required');
  // Without prompt=none the page asks, now naming the phone number.
  const asksMore = await start(agent, config, partner, { scope: 'openid email phone' });
  const morePage = await consentPage(agent, asksMore.callback);
  assert.match(morePage.text_, /See your phone number/);
});

test('prompt=consent asks even a first-party client', async () => {
  const agent = new Agent();
  const config = await oidc.discover(stack, first);
  await start(agent, config, first);  // signed in, no question
  const a = await start(agent, config, first, { prompt: 'consent' });
  const page = await consentPage(agent, a.callback);
  const res = await answer(agent, page, 'allow');
  const tokens = await oidc.exchange(config, { ...a, callback: new URL(res.headers.get('location')) });
  assert.equal(tokens.claims().aud, 'first-party');
  // The same form posted again (a double click, the back button): it leads on, to the portal
  // (this client has no home page), not to "Sign-in expired"; and no second code is issued.
  const again = await answer(agent, page, 'allow');
  assert.equal(again.status, 303);
  assert.equal(new URL(again.headers.get('location'), stack.issuer).href, new URL('/', stack.issuer).href);
  // Another browser with the same form gets nowhere.
  const stranger = await answer(new Agent(), page, 'allow');
  assert.equal(stranger.status, 400);
  assert.match(stranger.text_, /Sign-in expired/);
});

test('the claims parameter adds claims to the ID token and to userinfo', async () => {
  const agent = new Agent();
  const config = await oidc.discover(stack, first);
  const claims = JSON.stringify({ id_token: { email: null, nickname: null }, userinfo: { phone_number: { essential: true } } });
  const a = await start(agent, config, first, { scope: 'openid', claims });
  const tokens = await oidc.exchange(config, a);
  const id = tokens.claims();
  assert.equal(id.email, 'alice@example.com');
  assert.equal(id.nickname, undefined);
  assert.equal(id.name, undefined, 'nothing that was not asked for');
  const info = await client.fetchUserInfo(config, tokens.access_token, id.sub);
  assert.equal(info.phone_number, '+31612345678');
  assert.equal(info.email, undefined, 'userinfo gives what the scopes and the userinfo member ask');
  // A malformed value is an error, delivered to the client.
  const bad = await start(agent, config, first, { claims: '{"userinfo":["email"]}' });
  assert.equal(bad.callback.searchParams.get('error'), 'invalid_request');
});

test('prompt=select_account: continue as the signed-in person, or sign in as another', async () => {
  const agent = new Agent();
  const config = await oidc.discover(stack, first);
  const signedIn = await start(agent, config, first);
  const sub = (await oidc.exchange(config, signedIn)).claims().sub;

  const a = await start(agent, config, first, { prompt: 'select_account' });
  assert.equal(a.callback.pathname, '/select-account');
  const page = await agent.request(a.callback);
  assert.equal(page.status, 200);
  assert.match(page.text_, /<button type="submit" name="choice" value="continue">Continue as Alice Example \(alice\)<\/button>/);
  assert.match(page.text_, /Use another account/);
  let res = await answer(agent, page, 'continue', '/select-account', 'choice');
  assert.equal(res.status, 303);
  const same = await oidc.exchange(config, { ...a, callback: new URL(res.headers.get('location')) });
  assert.equal(same.claims().sub, sub);
  const twice = await answer(agent, page, 'continue', '/select-account', 'choice');
  assert.equal(twice.status, 303, 'a second post leads on');
  assert.equal(new URL(twice.headers.get('location'), stack.issuer).pathname, '/');

  const b = await start(agent, config, first, { prompt: 'select_account' });
  const page2 = await agent.request(b.callback);
  res = await answer(agent, page2, 'other', '/select-account', 'choice');
  assert.equal(res.status, 303);
  const login = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(login.pathname, '/login');
  res = await oidc.signIn(stack, agent, login, bob.username, bob.password);
  const other = await oidc.exchange(config, { ...b, callback: new URL(res.headers.get('location')) });
  assert.notEqual(other.claims().sub, sub);
  // prompt=none with select_account is invalid (none stands alone).
  const bad = await start(agent, config, first, { prompt: 'none select_account' });
  assert.equal(bad.callback.searchParams.get('error'), 'invalid_request');
});

test('ui_locales and Accept-Language choose the language of the pages (English and Dutch)', async () => {
  const config = await oidc.discover(stack, first);
  // ui_locales=nl: the sign-in page that follows is Dutch, and so is the consent page.
  const agent = new Agent();
  const a = await oidc.authorizationUrl(config, first, { ui_locales: 'fr-CA nl-NL en', prompt: 'consent' });
  let res = await agent.request(a.url);
  assert.equal(res.status, 303);
  assert.ok(res.headers.getSetCookie().some((c) => /idp_lang=nl/.test(c)), 'the choice is kept in a cookie');
  const login = new URL(res.headers.get('location'), stack.issuer);
  const page = await agent.request(login);
  assert.match(page.text_, /<html lang="nl">/);
  assert.match(page.text_, /<label for="username">Gebruikersnaam<\/label>/);
  assert.match(page.text_, /<button type="submit">Aanmelden<\/button>/);
  res = await agent.request(new URL('/login', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: 'alice', password: 'wrong' },
  });
  assert.equal(res.status, 401);
  assert.match(res.text_, /role="alert"[^>]*>Ongeldige gebruikersnaam of ongeldig wachtwoord\./);
  res = await agent.request(new URL('/login', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: 'alice', password: PASSWORD },
  });
  const consent = await agent.request(new URL(res.headers.get('location'), stack.issuer));
  assert.match(consent.text_, /First Party toestaan\?/);
  assert.match(consent.text_, /value="allow">Toestaan<\/button>/);

  // Accept-Language alone, without the cookie: Dutch when preferred, English otherwise.
  const nl = await fetch(`${stack.issuer}/no-such-page`, { headers: { 'accept-language': 'de-DE, nl;q=0.8, en;q=0.5' } });
  assert.equal(nl.status, 404);
  const nlText = await nl.text();
  assert.match(nlText, /Pagina niet gevonden/);
  const en = await fetch(`${stack.issuer}/no-such-page`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
  assert.match(await en.text(), /Page not found/);
  const none = await fetch(`${stack.issuer}/no-such-page`);
  assert.match(await none.text(), /<html lang="en">/);
});
