// Multi-factor sign-in with an authenticator app, end to end: enrolment on the account page,
// codes computed by oathtool (an independent TOTP implementation), replay and limits, recovery
// codes, and the amr/acr that openid-client sees in the ID token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';

let stack;
let app;
const users = {
  carol: { username: 'carol', password: 'carol likes long passwords' },
  dave: { username: 'dave', password: 'dave likes long passwords' },
  frank: { username: 'frank', password: 'frank likes long passwords' },
  hank: { username: 'hank', password: 'hank likes long passwords' },
  rob: { username: 'rob', password: 'rob likes long passwords' },
};
let strict;

before(async () => {
  stack = await startStack('e2e_mfa');
  for (const u of Object.values(users)) {
    idpctl(stack, ['users', 'create', '--username', u.username, '--password-stdin'], `${u.password}\n`);
  }
  app = idpctl(stack, ['clients', 'add', '--id', 'mfa-app', '--name', 'MFA App',
    '--redirect-uri', 'http://127.0.0.1:9/mfa-app/cb']);
  strict = idpctl(stack, ['clients', 'add', '--id', 'strict-app', '--name', 'Strict App',
    '--redirect-uri', 'http://127.0.0.1:9/strict-app/cb', '--mfa-policy', 'required']);
});

after(async () => { if (stack) await stopStack(stack); });

/** A TOTP code from oathtool for `secret` (base32) at unix time `at`. */
function oathtool(secret, at) {
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
}

/** Signs `user` in at the portal (no MFA yet) and returns the agent. */
async function portalSignIn(user) {
  const agent = new Agent();
  const start = await agent.request(new URL('/', stack.issuer));
  assert.equal(start.status, 303);
  const toLogin = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  const loginUrl = toLogin.status === 303 ? new URL(toLogin.headers.get('location'), stack.issuer) : new URL('/login', stack.issuer);
  const res = await signIn(stack, agent, loginUrl, user.username, user.password);
  assert.equal(res.status, 303);
  return agent;
}

/** Enrols an authenticator app for a signed-in agent; returns {secret, at}. */
async function enrol(agent) {
  const page = await agent.request(new URL('/account/mfa', stack.issuer));
  assert.equal(page.status, 200);
  assert.match(page.text_, /<h2>Authenticator app<\/h2>/);
  assert.match(page.text_, /<button type="submit">Set up authenticator app<\/button>/);
  const csrf = hiddenInput(page.text_, 'csrf');
  const setup = await agent.request(new URL('/account/mfa/totp', stack.issuer), { method: 'POST', form: { csrf } });
  assert.equal(setup.status, 200);
  assert.match(setup.text_, /<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="QR code"/);
  const secret = setup.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  assert.equal(secret.length, 32, '160-bit seed');
  const factor_id = hiddenInput(setup.text_, 'factor_id');
  const wrong = await agent.request(new URL('/account/mfa/totp/confirm', stack.issuer), { method: 'POST', form: { csrf, factor_id, code: '12345' } });
  assert.match(wrong.text_, /role="alert">Enter the 6 digits/);
  const at = Date.now() / 1000;
  const ok = await agent.request(new URL('/account/mfa/totp/confirm', stack.issuer), {
    method: 'POST', form: { csrf, factor_id, code: oathtool(secret, at) } });
  assert.match(ok.text_, /role="status">Your authenticator app is set up\./);
  // The first method: recovery codes at once, and a second, different method offered.
  assert.equal([...ok.text_.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].length, 10);
  assert.match(ok.text_, /<form method="post" action="\/account\/mfa\/email" novalidate>/);
  assert.match(ok.text_, /<a href="\/account\/mfa">Skip for now<\/a>/);
  return { secret, at, csrf };
}

/** Starts an authorization for `user` and returns the agent parked on the /mfa page. */
async function toMfa(user) {
  const agent = new Agent();
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), user.username, user.password);
  assert.equal(res.status, 303);
  const mfaUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(mfaUrl.pathname, '/mfa', 'a person with a factor goes to /mfa, not back to the app');
  const page = await agent.request(mfaUrl);
  assert.equal(page.status, 200);
  return { agent, config, a, mfaUrl, page };
}

async function submitCode(agent, page, code, method = 'totp') {
  return agent.request(new URL('/mfa', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method, code },
  });
}

test('sign-in with an authenticator app: replay refused, amr and acr in the ID token', async () => {
  const portal = await portalSignIn(users.carol);
  const home = await portal.request(new URL('/', stack.issuer));
  assert.match(home.text_, /<a href="\/account\/mfa">Manage multi-factor authentication<\/a>/);
  assert.match(home.text_, /class="advice"/);
  const { secret, at, csrf } = await enrol(portal);
  const codes = await portal.request(new URL('/account/mfa/recovery', stack.issuer), { method: 'POST', form: { csrf } });
  assert.equal([...codes.text_.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].length, 10);

  const { agent, config, a, page } = await toMfa(users.carol);
  assert.match(page.text_, /<legend>Verification method<\/legend>/);
  assert.match(page.text_, /<input type="radio" name="method" value="totp" checked> Authenticator app/);
  assert.match(page.text_, /<label for="code">Verification code<\/label>/);
  assert.match(page.text_, /<button type="submit" name="action" value="verify">Verify<\/button>/);
  assert.match(page.text_, />Use a recovery code</);

  // The enrolment's code again: a replay of an accepted time step.
  const replay = await submitCode(agent, page, oathtool(secret, at));
  assert.equal(replay.status, 401);
  assert.match(replay.text_, /role="alert"[^>]*>That code is not right\. 4 tries left\./);
  // A code from two steps ago is too old.
  const old = await submitCode(agent, page, oathtool(secret, Date.now() / 1000 - 60));
  assert.equal(old.status, 401);
  // Malformed codes get a clear message and do not count.
  for (const bad of ['12 345', '12345a', '１２３４５６', '1234567']) {
    const r = await submitCode(agent, page, bad);
    assert.equal(r.status, 400, bad);
    assert.match(r.text_, /Enter the 6 digits/);
  }
  // The next step's code passes.
  const ok = await submitCode(agent, page, oathtool(secret, at + 30));
  assert.equal(ok.status, 303);
  const callback = new URL(ok.headers.get('location'));
  const tokens = await exchange(config, { ...a, callback });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'otp', 'mfa']);
  assert.equal(tokens.claims().acr, 'aal2');
});

test('the sixth try after five wrong codes ends the challenge; recovery codes work once', async () => {
  const portal = await portalSignIn(users.dave);
  const { secret, csrf } = await enrol(portal);
  const codes = await portal.request(new URL('/account/mfa/recovery', stack.issuer), { method: 'POST', form: { csrf } });
  const recovery = [...codes.text_.matchAll(/<li><code>([a-z2-7-]{11})<\/code><\/li>/g)].map((m) => m[1]);

  const { agent, page } = await toMfa(users.dave);
  for (let i = 0; i < 5; i++) {
    const r = await submitCode(agent, page, '000000');
    assert.equal(r.status, 401, `try ${i + 1}`);
  }
  const sixth = await submitCode(agent, page, oathtool(secret, Date.now() / 1000 + 30));
  assert.equal(sixth.status, 401);
  assert.match(sixth.text_, /Too many wrong codes/);
  assert.equal(sixth.headers.get('location'), null);

  // A recovery code completes a new sign-in, once.
  const second = await toMfa(users.dave);
  const recoveryPage = await second.agent.request(new URL(second.mfaUrl.href + '&method=recovery'));
  assert.match(recoveryPage.text_, /<label for="code">Recovery code<\/label>/);
  const used = await submitCode(second.agent, recoveryPage, recovery[0], 'recovery');
  assert.equal(used.status, 303);
  const tokens = await exchange(second.config, { ...second.a, callback: new URL(used.headers.get('location')) });
  assert.ok(tokens.claims().amr.includes('mfa'));
  const third = await toMfa(users.dave);
  const again = await submitCode(third.agent, (await third.agent.request(new URL(third.mfaUrl.href + '&method=recovery'))), recovery[0], 'recovery');
  assert.equal(again.status, 401);

  // The help-desk path: idpctl lists and resets the person's factors; then no MFA is asked.
  const listed = idpctl(stack, ['factors', 'list', '--username', 'dave']);
  assert.deepEqual(listed.map((f) => f.type).sort(), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);
  assert.equal(idpctl(stack, ['factors', 'reset', '--username', 'dave']).removed, 1);
  const fresh = new Agent();
  const config = await discover(stack, app);
  const start = await fresh.request((await authorizationUrl(config, app)).url);
  const res = await signIn(stack, fresh, new URL(start.headers.get('location'), stack.issuer), 'dave', users.dave.password);
  assert.equal(new URL(res.headers.get('location')).origin, 'http://127.0.0.1:9');
});

/**
 * Completes the enrolment page shown during a sign-in: the app, then the recovery codes and the
 * offer of a second method, skipped; returns the final response.
 */
async function enrolDuringSignIn(agent, url) {
  const page = await agent.request(url);
  assert.equal(page.status, 200);
  assert.match(page.text_, /Strict App<\/p>|Strict App asks for a second step/);
  const secret = page.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  const enrolled = await agent.request(new URL('/mfa/enrol', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'),
      factor_id: hiddenInput(page.text_, 'factor_id'), code: oathtool(secret, Date.now() / 1000) },
  });
  assert.equal(enrolled.status, 200);
  // Said once: the status says what was set up, the heading what the page is for.
  assert.match(enrolled.text_, /<h1>Make sure you can always get in<\/h1>\n<p class="notice" role="status">Your authenticator app is set up\.<\/p>/);
  assert.equal([...enrolled.text_.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].length, 10);
  assert.match(enrolled.text_, /<h2>Add a second way to verify it's you<\/h2>/);
  return agent.request(new URL('/mfa/enrol/done', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(enrolled.text_, 'flow'), csrf: hiddenInput(enrolled.text_, 'csrf') },
  });
}

test('a client that requires MFA walks a person without a factor through enrolment', async () => {
  const agent = new Agent();
  const config = await discover(stack, strict);
  const a = await authorizationUrl(config, strict);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), 'frank', users.frank.password);
  const enrolUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(enrolUrl.pathname, '/mfa/enrol');
  const done = await enrolDuringSignIn(agent, enrolUrl);
  assert.equal(done.status, 303);
  const tokens = await exchange(config, { ...a, callback: new URL(done.headers.get('location')) });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'otp', 'mfa']);
  assert.equal(tokens.claims().acr, 'aal2');
});

test('step-up: a password-only session is upgraded for a client that requires MFA, sid kept', async () => {
  const agent = new Agent();
  const loose = await discover(stack, app);
  const a = await authorizationUrl(loose, app);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), 'hank', users.hank.password);
  const first = await exchange(loose, { ...a, callback: new URL(res.headers.get('location')) });
  assert.equal(first.claims().acr, 'aal1');

  const config = await discover(stack, strict);
  const silent = await authorizationUrl(config, strict, { prompt: 'none' });
  const refused = await agent.request(silent.url);
  assert.equal(new URL(refused.headers.get('location')).searchParams.get('error'), 'interaction_required');

  const b = await authorizationUrl(config, strict);
  const step = await agent.request(b.url);
  const enrolUrl = new URL(step.headers.get('location'), stack.issuer);
  assert.equal(enrolUrl.pathname, '/mfa/enrol', 'no password again: straight to the second factor');
  const done = await enrolDuringSignIn(agent, enrolUrl);
  const upgraded = await exchange(config, { ...b, callback: new URL(done.headers.get('location')) });
  assert.equal(upgraded.claims().acr, 'aal2');
  assert.equal(upgraded.claims().sid, first.claims().sid, 'the session is upgraded, not replaced');
  // acr_values=aal2 is now satisfied silently for the first client too.
  const c = await authorizationUrl(loose, app, { acr_values: 'aal2', prompt: 'none' });
  const ok = await agent.request(c.url);
  assert.ok(new URL(ok.headers.get('location')).searchParams.get('code'));
});

test('a remembered browser skips the second step until it is forgotten', async () => {
  const portal = await portalSignIn(users.rob);
  const { secret, at, csrf } = await enrol(portal);
  const { agent, config, a, page } = await toMfa(users.rob);
  assert.match(page.text_, /<input type="checkbox" name="remember" value="yes"> Remember this browser for 30 days/);
  const done = await agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method: 'totp',
    action: 'verify', remember: 'yes', code: oathtool(secret, at + 30) } });
  assert.equal(done.status, 303);
  await exchange(config, { ...a, callback: new URL(done.headers.get('location')) });
  const [name, value] = [...agent.cookies].find(([k]) => k.includes('idp_remember'));

  // Another visit of the same browser (its remember cookie, no session): no second step.
  const again = async (extra = {}) => {
    const fresh = new Agent();
    fresh.cookies.set(name, value);
    const b = await authorizationUrl(config, app, extra);
    const toLogin = await fresh.request(b.url);
    const res = await signIn(stack, fresh, new URL(toLogin.headers.get('location'), stack.issuer), 'rob', users.rob.password);
    return { b, res };
  };
  const skipped = await again();
  const callback = new URL(skipped.res.headers.get('location'));
  assert.equal(callback.origin, 'http://127.0.0.1:9', 'straight back to the application');
  const tokens = await exchange(config, { ...skipped.b, callback });
  assert.deepEqual(tokens.claims().amr, ['pwd'], 'the ID token does not pretend a second factor');
  // A forced re-authentication redoes the second factor too: the remembered browser does not
  // skip it under prompt=login or max_age.
  for (const extra of [{ prompt: 'login' }, { max_age: '0' }]) {
    const forced = await again(extra);
    assert.equal(new URL(forced.res.headers.get('location'), stack.issuer).pathname, '/mfa', JSON.stringify(extra));
  }

  // The account page lists it; "Forget all browsers" brings the second step back.
  const acct = await portal.request(new URL('/account/mfa', stack.issuer));
  assert.match(acct.text_, /<h2>Remembered browsers<\/h2>/);
  const forgot = await portal.request(new URL('/account/mfa/forget', stack.issuer), { method: 'POST', form: { csrf: hiddenInput(acct.text_, 'csrf') } });
  assert.match(forgot.text_, /Every browser will ask for the second step again/);
  const asked = await again();
  assert.equal(new URL(asked.res.headers.get('location'), stack.issuer).pathname, '/mfa');
});
