// The gates of a sign-in hold whichever page a flow comes from (issue "sign-in domain",
// SECURITY §38, §57): a signed-in person's question flow (prompt=select_account, consent) names
// them, but it never reaches the enrolment of a factor, and it never mints a session. In
// Chromium, found by the page contract's names; the factors are read back with idpctl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { discover, authorizationUrl } from './support/oidc.mjs';
import { launch, newPage } from './support/chromium.mjs';

let stack;
let browser;
let app;
const gina = { username: 'gina', password: 'gina keeps a long password' };
// Short, so that a session can be older than it within the test.
const REAUTH_WINDOW_S = 3;

before(async () => {
  stack = await startStack('e2e_gates', { env: { IDP_GATEWAY_REAUTH_WINDOW: String(REAUTH_WINDOW_S) } });
  idpctl(stack, ['users', 'create', '--username', gina.username, '--password-stdin'], `${gina.password}\n`);
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
