// "Forgot your password?" in a real browser (Debian's Chromium via playwright-core), found only
// by accessible names: the link on the sign-in page, the form, the link read from a real SMTP
// server, the new password, the authenticator app (code from oathtool) and the portal.
// Screenshots of every page at desktop and 360 px width land in tests/e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { startSmtpSink, smtpSinkEnv, waitFor } from './support/delivery.mjs';
import { launch } from './support/chromium.mjs';
import { shot as screenshot } from './support/screens.mjs';

let stack;
let sink;
let browser;
const gail = { username: 'gail', email: 'gail@example.test', password: 'gail had an old password' };

before(async () => {
  sink = await startSmtpSink(await freePort());
  stack = await startStack('e2e_password_browser', { env: {
    ...smtpSinkEnv(sink),
    IDP_DELIVERY_LIMIT_DESTINATION: '',
  } });
  idpctl(stack, ['users', 'create', '--username', gail.username, '--email', gail.email, '--name', 'Gail Example', '--password-stdin'], `${gail.password}\n`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
  await sink?.stop();
});

const oathtool = (secret, at) => execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();

/** Screenshots at desktop and 360 px width (support/screens.mjs), named password-<name>. */
const shot = (page, name) => screenshot(page, `password-${name}`);

async function signIn(page, password) {
  await page.getByRole('textbox', { name: 'Username' }).fill(gail.username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('forgot password: link from the SMTP sink, new password, MFA, portal', async () => {
  // Gail sets up an authenticator app first.
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${stack.issuer}/`);
  await signIn(page, gail.password);
  await page.getByRole('link', { name: 'Manage multi-factor authentication' }).click();
  await page.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = (await page.getByLabel('Secret key').textContent()).trim();
  const at = Date.now() / 1000;
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, at));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('status').filter({ hasText: 'Your authenticator app is set up.' }).waitFor();
  // The first method is followed by recovery codes and the offer of a second one: skip it.
  await page.getByRole('link', { name: 'Skip for now' }).click();
  await page.getByRole('link', { name: 'Change password' }).click();
  await page.getByRole('heading', { name: 'Change password' }).waitFor();
  assert.ok(await page.getByLabel('Current password').isVisible());
  assert.ok(await page.getByLabel('New password').isVisible());
  await shot(page, 'change');
  await page.getByLabel('Current password').fill('not her password');
  await page.getByLabel('New password').fill('gail tries something new');
  await page.getByRole('button', { name: 'Change password' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.textContent(), 'That is not your current password.');
  assert.equal(await page.getByLabel('Current password').getAttribute('aria-describedby'), 'current-error');
  await shot(page, 'change-error');
  await context.close();

  // A new browser: she forgot her password.
  const fresh = await browser.newContext();
  const p = await fresh.newPage();
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await p.goto(`${stack.issuer}/`);
  await shot(p, 'sign-in');
  await p.getByRole('link', { name: 'Forgot your password?' }).click();
  await p.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
  await shot(p, 'forgot');
  await p.getByRole('textbox', { name: 'Username or email' }).fill(gail.email);
  await p.getByRole('button', { name: 'Send link' }).click();
  await p.getByRole('status').filter({ hasText: 'If an account matches, we sent a link to its email address.' }).waitFor();
  await shot(p, 'forgot-sent');

  const m = await waitFor(() => sink.messages.find((x) => x.rcpt_tos.includes(gail.email) && /Reset your/.test(x.subject)), 15000, 'the reset email');
  const html = m.parts.find((x) => x.content_type === 'text/html').content;
  const href = html.match(/href="([^"]+)"/)[1].replaceAll('&amp;', '&');
  await p.goto(href);
  await p.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await shot(p, 'reset');
  await p.getByLabel('New password').fill('gail remembers this one');
  await p.getByRole('button', { name: 'Set password' }).click();
  await p.getByRole('heading', { name: 'Your password was changed' }).waitFor();
  await shot(p, 'changed');
  await p.getByRole('link', { name: 'Sign in' }).click();
  await signIn(p, 'gail remembers this one');

  // The second factor is still asked.
  await p.getByRole('group', { name: 'Verification method' }).waitFor();
  assert.ok(await p.getByRole('radio', { name: 'Authenticator app' }).isChecked());
  await p.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, at + 30));
  await p.getByRole('button', { name: 'Verify' }).click();
  await p.getByRole('heading', { name: 'Applications' }).waitFor();
  assert.ok(await p.getByRole('link', { name: 'Change password' }).isVisible());

  // The used link now explains itself.
  await p.goto(href);
  await p.getByRole('heading', { name: 'This link does not work' }).waitFor();
  assert.ok(await p.getByRole('link', { name: 'Request a new link' }).isVisible());
  await shot(p, 'link-used');
  // The pages answered 400 (wrong current password) and 410 (used link) on purpose; anything
  // else (a CSP violation, a missing resource) is a failure.
  const unexpected = errors.filter((e) => !/responded with a status of (400|410)/.test(e));
  assert.deepEqual(unexpected, [], 'no console errors: no CSP violation, no missing resource');
  await fresh.close();
});
