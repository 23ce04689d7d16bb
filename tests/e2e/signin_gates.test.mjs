// The gates of a sign-in hold whichever page a flow comes from (issue "sign-in domain",
// SECURITY §38, §57): a signed-in person's question flow (prompt=select_account, consent) names
// them, but it never reaches the enrolment of a factor, and it never mints a session. In
// Chromium, found by the page contract's names; the factors are read back with idpctl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl } from './support/oidc.mjs';
import { launch, newPage } from './support/chromium.mjs';

let stack;
let browser;
let app;
const gina = { username: 'gina', password: 'gina keeps a long password' };
const hugo = { username: 'hugo', password: 'hugo keeps a long password' };
// Short, so that a session can be older than it within the test.
const REAUTH_WINDOW_S = 3;

before(async () => {
  stack = await startStack('e2e_gates', { env: { IDP_GATEWAY_REAUTH_WINDOW: String(REAUTH_WINDOW_S) } });
  for (const u of [gina, hugo]) {
    idpctl(stack, ['users', 'create', '--username', u.username, '--password-stdin'], `${u.password}\n`);
  }
  app = idpctl(stack, ['clients', 'add', '--id', 'gates-app', '--name', 'Gates App',
    '--redirect-uri', 'http://127.0.0.1:9/gates-app/cb']);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
});

const oathtool = (secret, at) =>
  execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The person's factors as idpctl lists them, pending ones included: "type:active". */
const factors = (username) => idpctl(stack, ['factors', 'list', '--username', username])
  .map((f) => `${f.type}:${f.active}`).sort();

test('a stale session cannot enrol a factor through a question flow: it signs in again first', async () => {
  const page = await newPage(browser);
  // Sign in at the portal and set up the authenticator app on the account page.
  await page.goto(`${stack.issuer}/`);
  await page.getByRole('textbox', { name: 'Username' }).fill(gina.username);
  await page.getByLabel('Password').fill(gina.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  await page.getByRole('link', { name: 'Manage multi-factor authentication' }).click();
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = (await page.getByLabel('Secret key').textContent()).trim();
  const enrolledAt = Date.now() / 1000;
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, enrolledAt));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('status').filter({ hasText: 'Your authenticator app is set up.' }).waitFor();
  const before = factors(gina.username);
  assert.ok(before.includes('FACTOR_TYPE_TOTP:true'), before.join());

  // The session grows older than the re-authentication window.
  await sleep((REAUTH_WINDOW_S + 1) * 1000);

  // A question flow for the signed-in person: prompt=select_account.
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app, { prompt: 'select_account' });
  await page.goto(a.url.href);
  assert.equal(new URL(page.url()).pathname, '/select-account');
  const flow = new URL(page.url()).searchParams.get('flow');
  const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value');
  assert.ok(flow && csrf);

  // Its forms, posted to the enrolment steps with its own CSRF token: nothing is enrolled and
  // no session is made.
  for (const path of ['/mfa/enrol', '/mfa/enrol/done', '/mfa/enrol/email']) {
    const res = await page.request.post(`${stack.issuer}${path}`, {
      form: { flow, csrf, factor_id: 'x', code: '123456', destination: 'gina@example.test' },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 303, `${path}: ${res.status()}`);
    assert.ok(!(res.headers()['set-cookie'] ?? '').includes('idp_session='), `${path} made a session`);
    assert.match(res.headers().location, /^\/login\?flow=/, path);
  }
  assert.deepEqual(factors(gina.username), before, 'nothing enrolled, nothing pending');

  // Opened in the browser, the enrolment page asks for the password, then the second factor.
  await page.goto(`${stack.issuer}/mfa/enrol?flow=${encodeURIComponent(flow)}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(await page.getByRole('img', { name: 'QR code' }).count(), 0);
  assert.deepEqual(factors(gina.username), before, 'the page started no enrolment');
  await page.getByRole('textbox', { name: 'Username' }).fill(gina.username);
  await page.getByLabel('Password').fill(gina.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('textbox', { name: 'Verification code' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/mfa');
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, Math.max(Date.now() / 1000, enrolledAt + 30)));
  await page.getByRole('button', { name: 'Verify' }).click();
  // Then the account's MFA page, where changes need this fresh sign-in.
  await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/account/mfa');
  assert.deepEqual(factors(gina.username), before);
  await page.context().close();
});

test('a sign-in form posted from another origin, with the page’s own CSRF token, signs nobody in', async () => {
  const page = await newPage(browser);
  await page.goto(`${stack.issuer}/`);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();
  const flow = await page.locator('input[name="flow"]').getAttribute('value');
  const csrf = await page.locator('input[name="csrf"]').getAttribute('value');

  // Another origin on the same site (the same host, another port): the browser sends our
  // SameSite=Lax cookies along, so only the Origin check stands between it and a sign-in.
  const port = await freePort();
  const esc = (v) => v.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const attacker = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html>
<form id="f" method="post" action="${stack.issuer}/login">
<input name="flow" value="${esc(flow)}"><input name="csrf" value="${esc(csrf)}">
<input name="username" value="${hugo.username}"><input name="password" value="${esc(hugo.password)}">
</form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise((r) => attacker.listen(port, '127.0.0.1', r));
  try {
    const answered = page.waitForResponse((r) => r.url() === `${stack.issuer}/login` && r.request().method() === 'POST');
    await page.goto(`http://127.0.0.1:${port}/`);
    const res = await answered;
    assert.equal(res.status(), 403);
    assert.equal(res.request().headers().origin, `http://127.0.0.1:${port}`, 'the browser named the other origin');
    assert.ok(!(res.headers()['set-cookie'] ?? '').includes('idp_session='), 'no session cookie');
    await page.getByRole('alert').or(page.getByText('This form was sent from another site')).first().waitFor();
  } finally {
    attacker.close();
  }
  // Nobody is signed in, and the flow is untouched: the real page still signs in.
  await page.goto(`${stack.issuer}/login?flow=${encodeURIComponent(flow)}`);
  await page.getByRole('textbox', { name: 'Username' }).fill(hugo.username);
  await page.getByLabel('Password').fill(hugo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  await page.context().close();
});

test('the Origin rule: a foreign Origin or Sec-Fetch-Site cross-site is refused, null and our own pass', async () => {
  const tryLogin = async (headers) => {
    const agent = new Agent();
    const start = await agent.request(new URL('/login', stack.issuer));
    const login = start.status === 303 ? await agent.request(new URL(start.headers.get('location'), stack.issuer)) : start;
    const res = await agent.request(new URL('/login', stack.issuer), {
      method: 'POST', headers,
      form: { flow: hiddenInput(login.text_, 'flow'), csrf: hiddenInput(login.text_, 'csrf'),
        username: hugo.username, password: hugo.password } });
    return res.status;
  };
  const own = new URL(stack.issuer).origin;
  assert.equal(await tryLogin({ origin: 'https://evil.example' }), 403);
  assert.equal(await tryLogin({ origin: own.replace('127.0.0.1', 'localhost') }), 403);
  assert.equal(await tryLogin({ 'sec-fetch-site': 'cross-site' }), 403);
  assert.equal(await tryLogin({ origin: own, 'sec-fetch-site': 'cross-site' }), 403);
  assert.equal(await tryLogin({ origin: 'null' }), 303, 'Origin: null from a no-referrer page');
  assert.equal(await tryLogin({ origin: own, 'sec-fetch-site': 'same-origin' }), 303);
  assert.equal(await tryLogin({}), 303, 'no Origin: not a browser; the CSRF token decides');
});

test('after the last wrong code the page says the challenge ended and offers a fresh sign-in, with no code box', async () => {
  // gina set up her authenticator app in the first test of this file.
  const agent = new Agent();
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app);
  const toLogin = await agent.request(a.url);
  const login = await agent.request(new URL(toLogin.headers.get('location'), stack.issuer));
  const res = await agent.request(new URL('/login', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(login.text_, 'flow'), csrf: hiddenInput(login.text_, 'csrf'),
    username: gina.username, password: gina.password } });
  const mfaUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(mfaUrl.pathname, '/mfa');
  const page = await agent.request(mfaUrl);
  const form = { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method: 'totp', code: '000000' };
  let last;
  for (let i = 0; i < 5; i++) {
    last = await agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form });
    assert.equal(last.status, 401, `try ${i + 1}`);
    if (i < 4) assert.match(last.text_, /name="code"/, `try ${i + 1} still takes a code`);
  }
  assert.match(last.text_, /role="alert">That code is not right, and it was the last try\. This sign-in has ended\./);
  assert.doesNotMatch(last.text_, /name="code"/, 'no input that can no longer succeed');
  const again = last.text_.match(/<a href="(\/login\?flow=[^"]+)">Sign in again<\/a>/);
  assert.ok(again, 'a fresh sign-in is offered');
  // It is a sign-in for the same application, from the password.
  const fresh = await agent.request(new URL(again[1].replaceAll('&amp;', '&'), stack.issuer));
  assert.equal(fresh.status, 200);
  assert.match(fresh.text_, /Gates App/);
  assert.match(fresh.text_, /name="password"/);
});
