// The hosted pages in a real browser (Debian's Chromium via playwright-core), found by the
// accessible names of DESIGN.md's page contract: sign in at the portal, set up the
// authenticator app, sign out, then sign in to an application with the app's code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as client from 'openid-client';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { discover, authorizationUrl } from './support/oidc.mjs';
import { launch, newPage } from './support/chromium.mjs';

let stack;
let browser;
let rp;
let app;
const erin = { username: 'erin', password: 'erin has a long password' };

before(async () => {
  const port = await freePort();
  // The application's callback: a real endpoint, so the browser lands somewhere.
  rp = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached'));
  await new Promise((r) => rp.listen(port, '127.0.0.1', r));
  stack = await startStack('e2e_browser');
  idpctl(stack, ['users', 'create', '--username', erin.username, '--name', 'Erin Example', '--password-stdin'], `${erin.password}\n`);
  app = idpctl(stack, ['clients', 'add', '--id', 'modeler', '--name', 'Modeler', '--portal',
    '--home-url', `http://127.0.0.1:${port}/`, '--redirect-uri', `http://127.0.0.1:${port}/callback`]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rp?.close();
  if (stack) await stopStack(stack);
});

const oathtool = (secret) => execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim();
const shot = (page, name) => page.screenshot({ path: path.join(stack.dir, `${name}.png`), fullPage: true });

test('a person signs in at the portal, sets up the authenticator app and signs out', async () => {
  const page = await newPage(browser);
  await page.goto(`${stack.issuer}/`);
  await page.getByRole('textbox', { name: 'Username' }).fill(erin.username);
  await page.getByLabel('Password').fill(erin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'Modeler' }).isVisible());
  await shot(page, 'portal');
  await page.getByRole('link', { name: 'Manage multi-factor authentication' }).click();
  await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  assert.ok(await page.getByRole('img', { name: 'QR code' }).isVisible());
  const secret = (await page.getByLabel('Secret key').textContent()).trim();
  await shot(page, 'totp-setup');
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('status').filter({ hasText: 'Your authenticator app is set up.' }).waitFor();
  // The first method: recovery codes, then a second one offered (or skipped).
  assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
  assert.ok(await page.getByRole('textbox', { name: 'Email address' }).isVisible());
  await shot(page, 'second-method');
  await page.getByRole('link', { name: 'Skip for now' }).click();
  await page.getByRole('heading', { name: 'Authenticator app' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Remove' }).isVisible());

  await page.goto(`${stack.issuer}/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  assert.deepEqual(page.consoleErrors, [], 'no console errors: no CSP violation, no missing resource');
  await page.context().close();
  app.secret = secret;
});

test('an application sign-in asks for the authenticator app and returns to the application', async () => {
  const page = await newPage(browser);
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app);
  await page.goto(a.url.href);
  await page.getByRole('textbox', { name: 'Username' }).fill(erin.username);
  await page.getByLabel('Password').fill(erin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const methods = page.getByRole('group', { name: 'Verification method' });
  await methods.waitFor();
  assert.ok(await methods.getByRole('radio', { name: 'Authenticator app' }).isChecked());
  assert.ok(await page.getByRole('link', { name: 'Use a recovery code' }).isVisible(), 'recovery codes came with the first method');
  // A wrong code shows an alert tied to the field.
  await page.getByRole('textbox', { name: 'Verification code' }).fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: 'That code is not right.' }).waitFor();
  await shot(page, 'mfa-wrong-code');
  // oathtool's code for the next step (the enrolment used this one).
  const next = execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(Date.now() / 1000) + 30}`, app.secret]).toString().trim();
  await page.getByRole('textbox', { name: 'Verification code' }).fill(next);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(app.redirect_uris[0])),
    page.getByRole('button', { name: 'Verify' }).click(),
  ]);
  const callback = new URL(page.url());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'otp', 'mfa']);
  // The wrong code's page is a 401 on purpose; nothing else may fail.
  assert.deepEqual(page.consoleErrors.filter((e) => !/status of 401/.test(e)), []);
  await page.context().close();
});
