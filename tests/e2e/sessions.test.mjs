// End to end: "Where you are signed in" (/account/sessions): a person sees each browser signed in
// to their account and signs out one, or all but this one; a stolen cookie then stops working.
// An operator lists and ends a person's sessions with `idpctl sessions`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorize, exchange } from './support/oidc.mjs';

let stack;
const PASSWORD = 'correct horse battery staple';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

before(async () => {
  stack = await startStack('e2e_sessions');
  for (const u of ['sam', 'eve']) {
    idpctl(stack, ['users', 'create', '--username', u, '--email', `${u}@example.com`, '--password-stdin'], `${PASSWORD}\n`);
  }
});
after(async () => { if (stack) await stopStack(stack); });

/** A browser (Agent) signed in at the portal as `username`, sending `ua`. */
async function signedIn(username, ua) {
  const agent = new Agent();
  const headers = { 'user-agent': ua };
  const start = await agent.request(new URL('/login', stack.issuer), { headers });
  const page = await agent.request(new URL(start.headers.get('location'), stack.issuer), { headers });
  const res = await agent.request(new URL('/login', stack.issuer), {
    method: 'POST', headers,
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password: PASSWORD },
  });
  assert.equal(res.status, 303);
  agent.ua = ua;
  return agent;
}

const sessionsPage = (agent) => agent.request(new URL('/account/sessions', stack.issuer), { headers: { 'user-agent': agent.ua } });
const portal = (agent) => agent.request(new URL('/', stack.issuer), { headers: { 'user-agent': agent.ua } });

function listed(html) {
  return [...html.matchAll(/<li><span><strong>([^<]*)<\/strong>( \(this browser\))?/g)].map((m) => ({ browser: m[1], current: !!m[2] }));
}

test('the page lists each browser, this one first, and signs out another', async () => {
  const laptop = await signedIn('sam', FIREFOX);
  const phone = await signedIn('sam', SAFARI);
  const other = await signedIn('eve', FIREFOX);

  const page = await sessionsPage(laptop);
  assert.equal(page.status, 200);
  assert.match(page.text_, /<h1>Where you are signed in<\/h1>/);
  assert.deepEqual(listed(page.text_), [
    { browser: 'Firefox · Linux', current: true },
    { browser: 'Safari · iOS', current: false },
  ]);
  assert.match(page.text_, /Signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC from 127\.0\.0\.1/);
  assert.equal([...page.text_.matchAll(/name="session"/g)].length, 1, "only sam's other browser has a button; eve's never shows");

  // A forged form is refused; another person's session id ends nothing.
  const csrf = hiddenInput(page.text_, 'csrf');
  const phoneId = page.text_.match(/name="session" value="([^"]+)"/)[1];
  const forged = await laptop.request(new URL('/account/sessions', stack.issuer), {
    method: 'POST', form: { csrf: 'nope', session: phoneId } });
  assert.equal(forged.status, 403);
  // An id that is not one of this person's sessions (another person's, or made up) ends nothing.
  const unknown = await laptop.request(new URL('/account/sessions', stack.issuer), {
    method: 'POST', form: { csrf, session: 'not-a-session-of-sam' } });
  assert.match(unknown.text_, /That browser was already signed out\./);

  const res = await laptop.request(new URL('/account/sessions', stack.issuer), {
    method: 'POST', form: { csrf, session: phoneId } });
  assert.equal(res.status, 200);
  assert.match(res.text_, /role="status">That browser is signed out\./);
  assert.deepEqual(listed(res.text_), [{ browser: 'Firefox · Linux', current: true }]);
  // The phone's cookie no longer opens the portal: it must sign in again.
  const stolen = await portal(phone);
  assert.equal(stolen.status, 303);
  assert.match(stolen.headers.get('location'), /^\/login/);
  // Eve is untouched, and so is the laptop.
  assert.equal((await portal(other)).status, 200);
  assert.equal((await portal(laptop)).status, 200);
});

test('"Sign out everywhere else" keeps only this browser', async () => {
  const a = await signedIn('sam', FIREFOX);
  const b = await signedIn('sam', SAFARI);
  const c = await signedIn('sam', SAFARI);
  const page = await sessionsPage(c);
  assert.ok(listed(page.text_).length >= 3);
  const res = await c.request(new URL('/account/sessions', stack.issuer), {
    method: 'POST', form: { csrf: hiddenInput(page.text_, 'csrf'), action: 'others' } });
  assert.equal(res.status, 200);
  assert.match(res.text_, /You are signed out everywhere else\./);
  assert.deepEqual(listed(res.text_), [{ browser: 'Safari · iOS', current: true }]);
  assert.equal((await portal(a)).status, 303);
  assert.equal((await portal(b)).status, 303);
  assert.equal((await portal(c)).status, 200);
});

test('without a session the page asks to sign in and comes back to it', async () => {
  const agent = new Agent();
  const res = await agent.request(new URL('/account/sessions', stack.issuer));
  assert.equal(res.status, 303);
  const login = new URL(res.headers.get('location'), stack.issuer);
  const page = await agent.request(login);
  const back = await agent.request(new URL('/login', stack.issuer), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: 'sam', password: PASSWORD },
  });
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), '/account/sessions');
});

test('idpctl sessions revoke signs a person out everywhere: cookies refused, refresh tokens revoked, audited', async () => {
  idpctl(stack, ['users', 'create', '--username', 'kim', '--password-stdin'], `${PASSWORD}\n`);
  const app = idpctl(stack, ['clients', 'add', '--id', 'sessions-app', '--name', 'Sessions App',
    '--redirect-uri', 'http://127.0.0.1:9/sessions-app/cb']);
  const laptop = await signedIn('kim', FIREFOX);
  const phone = await signedIn('kim', SAFARI);
  const bystander = await signedIn('sam', FIREFOX);

  const listedNow = idpctl(stack, ['sessions', 'list', '--username', 'kim']);
  assert.equal(listedNow.length, 2);
  assert.deepEqual(listedNow.map((s) => s.user_agent).sort(), [FIREFOX, SAFARI].sort());
  for (const s of listedNow) {
    assert.match(s.sid, /^[A-Za-z0-9_-]{16,}$/);
    assert.equal(s.address, '127.0.0.1');
  }
  for (const cookie of [...laptop.cookies.values(), ...phone.cookies.values()]) {
    assert.ok(!JSON.stringify(listedNow).includes(cookie), 'no cookie value is listed');
  }

  // An application holds a refresh token from the laptop's session (SSO: no new sign-in).
  const config = await discover(stack, app);
  const a = await authorize(stack, laptop, config, app, { username: 'kim', password: PASSWORD }, { scope: 'openid offline_access' });
  const tokens = await exchange(config, a);
  assert.ok(tokens.refresh_token);

  const revoked = idpctl(stack, ['sessions', 'revoke', '--username', 'kim']);
  assert.equal(revoked.sessions_ended, 2);
  assert.equal(revoked.grants_revoked, 1);

  for (const agent of [laptop, phone]) {
    const res = await portal(agent);
    assert.equal(res.status, 303, 'the old cookie no longer opens the portal');
    assert.match(res.headers.get('location'), /\/login/);
  }
  assert.equal((await portal(bystander)).status, 200, "another person's session is untouched");
  assert.deepEqual(idpctl(stack, ['sessions', 'list', '--username', 'kim']), []);

  const basic = Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64');
  const refreshed = await fetch(new URL('/token', stack.issuer), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString(),
  });
  assert.equal(refreshed.status, 400);
  assert.equal((await refreshed.json()).error, 'invalid_grant');

  const rows = idpctl(stack, ['audit', '--username', 'kim', '--event', 'admin.session_revoked']);
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.service === 'token' && /^idpctl/.test(r.user_agent)));
  assert.deepEqual(rows.map((r) => r.detail.sid).sort(), listedNow.map((s) => s.sid).sort());

  // Nothing left to end; a person who does not exist is an error, not a silent success.
  assert.equal(idpctl(stack, ['sessions', 'revoke', '--username', 'kim']).sessions_ended, 0);
  assert.throws(() => idpctl(stack, ['sessions', 'revoke', '--username', 'nobody-here']), /not.found|NOT_FOUND|no such/i);
});
