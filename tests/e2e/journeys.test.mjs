// The journeys of the hosted portal in a real browser (Debian's Chromium via playwright-core),
// found only by the accessible names of DESIGN.md's page contract. The applications are the six
// demo relying parties of deploy/demo-apps (openid-client) plus one that requires MFA; codes come
// from oathtool (authenticator app), a real SMTP server (email) and the SMS provider stand-in.
// Every page met on the way is photographed at desktop and 360 px width (support/screens.mjs:
// no horizontal scrolling, every form control named) into tests/e2e/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { startSmtpSink, startSmsStandIn, waitFor, codeOf, smtpSinkEnv, smsStandInEnv } from './support/delivery.mjs';
import { discover, authorizationUrl } from './support/oidc.mjs';
import { launch, newPage } from './support/chromium.mjs';
import { shot } from './support/screens.mjs';
import { APPS, startApp } from '../../deploy/demo-apps/server.mjs';

let stack;
let sink;
let sms;
let browser;
let rp;        // a tiny callback for the clients driven by openid-client
const servers = [];
const apps = {}; // name -> url of a running demo application
const clients = {};
const people = {
  nina: { username: 'nina', name: 'Nina Example', password: 'nina has a long password', email: 'nina@example.test' },
  olga: { username: 'olga', name: 'Olga Example', password: 'olga has a long password' },
  paul: { username: 'paul', name: 'Paul Example', password: 'paul has a long password' },
  quinn: { username: 'quinn', name: 'Quinn Example', password: 'quinn has a long password' },
};

before(async () => {
  sink = await startSmtpSink(await freePort());
  sms = await startSmsStandIn(() => ({ status: 201 }));
  stack = await startStack('e2e_journeys', { env: {
    ...smtpSinkEnv(sink),
    ...smsStandInEnv(sms),
    IDP_DELIVERY_LIMIT_DESTINATION: '',
  } });
  for (const p of Object.values(people)) {
    idpctl(stack, ['users', 'create', '--username', p.username, '--name', p.name, '--password-stdin'], `${p.password}\n`);
  }
  // The six demo applications on the portal, and Vault, which requires a second step.
  const demo = async (id, name, extra) => {
    const port = await freePort();
    const c = idpctl(stack, ['clients', 'add', '--id', id, '--name', name,
      '--redirect-uri', `http://127.0.0.1:${port}/callback`,
      '--post-logout-redirect-uri', `http://127.0.0.1:${port}/signed-out`, ...extra(port)]);
    servers.push(await startApp({ id, name, port, secret: c.client_secret, issuer: stack.issuer, host: '127.0.0.1' }));
    apps[name] = `http://127.0.0.1:${port}/`;
  };
  for (const [id, name] of APPS) {
    await demo(id, name, (port) => ['--portal', '--home-url', `http://127.0.0.1:${port}/`,
      ...(id === 'modeler' ? ['--logo-url', `${stack.issuer}/static/favicon.svg`] : [])]);
  }
  await demo('vault', 'Vault', () => ['--mfa-policy', 'required']);
  // Two clients driven by openid-client: Desk (plain) and Notes (asks for consent).
  const port = await freePort();
  rp = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached'));
  await new Promise((r) => rp.listen(port, '127.0.0.1', r));
  for (const [id, name, extra] of [['desk', 'Desk', []], ['notes', 'Notes', ['--consent']]]) {
    clients[id] = idpctl(stack, ['clients', 'add', '--id', id, '--name', name,
      '--redirect-uri', `http://127.0.0.1:${port}/${id}/callback`, ...extra]);
    clients[id].config = await discover(stack, clients[id]);
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  rp?.close();
  if (stack) await stopStack(stack);
  await sink?.stop();
  await sms?.stop();
});

const oathtool = (secret, at) => execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
const factorTypes = (username) => idpctl(stack, ['factors', 'list', '--username', username]).map((f) => f.type).sort();

/** The 6-digit code of the `n`th message (from 1) the SMTP sink received for `to`. */
async function emailCode(to, n) {
  const m = await waitFor(() => sink.messages.filter((x) => x.rcpt_tos.includes(to))[n - 1], 15000, `email ${n} to ${to}`);
  return m.parts.map((p) => p.content).join('\n').match(/\b(\d{6})\b/)[1];
}

async function signIn(page, person) {
  await page.getByRole('textbox', { name: 'Username' }).fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The main-frame URLs the page requests from now on (to prove no sign-in page was shown). */
function trackNavigations(page) {
  const urls = [];
  page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) urls.push(new URL(r.url())); });
  return urls;
}

/** Console errors other than the pages that answer 4xx on purpose (wrong code, refused input). */
const unexpectedErrors = (page) => page.consoleErrors.filter((e) => !/status of 4\d\d/.test(e));

test('a new person from an application: authenticator app, recovery codes, email as second, back by email', async () => {
  const nina = people.nina;
  const page = await newPage(browser);
  await page.goto(apps.Vault);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();
  assert.match(await page.locator('.lead').textContent(), /to continue to Vault/);
  await shot(page, 'sign-in');
  await signIn(page, nina);

  // Vault requires a second step: the authenticator app first.
  await page.getByRole('heading', { name: 'Set up authenticator app' }).waitFor();
  assert.ok(await page.getByRole('img', { name: 'QR code' }).isVisible());
  const secret = (await page.getByLabel('Secret key').textContent()).trim();
  await shot(page, 'totp-setup');
  const at = Date.now() / 1000;
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, at));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('status').filter({ hasText: 'Your authenticator app is set up.' }).waitFor();

  // The recovery codes, then the offer of a second method.
  assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
  await page.getByRole('heading', { name: "Add a second way to verify it's you" }).waitFor();
  await shot(page, 'second-method');
  assert.deepEqual(factorTypes('nina'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);
  await page.getByRole('textbox', { name: 'Email address' }).fill(nina.email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('heading', { name: 'Enter the code we sent' }).waitFor();
  await shot(page, 'verify-destination');
  await page.getByRole('textbox', { name: 'Verification code' }).fill(await emailCode(nina.email, 1));
  await page.getByRole('button', { name: 'Verify' }).click();

  // Back in the application it came from.
  await page.getByRole('heading', { name: 'Vault' }).waitFor();
  assert.ok(page.url().startsWith(apps.Vault));
  assert.match(await page.locator('body').textContent(), /Signed in to Vault as Nina Example/);
  assert.deepEqual(factorTypes('nina'), ['FACTOR_TYPE_EMAIL', 'FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);

  // Signing out of the application ends the session at the provider too.
  await page.getByRole('link', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  await page.goto(apps.Vault);
  await signIn(page, nina);

  // The challenge: the enrolled methods, a recovery code as a way out, then email.
  const methods = page.getByRole('group', { name: 'Verification method' });
  await methods.waitFor();
  assert.ok(await methods.getByRole('radio', { name: 'Authenticator app' }).isChecked());
  assert.ok(await methods.getByRole('radio', { name: /^Email/ }).isVisible());
  assert.equal(await methods.getByRole('radio', { name: /^SMS/ }).count(), 0, 'only enrolled methods');
  // DESIGN's page contract: the radio is named exactly Email; its masked address describes it.
  const email = methods.getByRole('radio', { name: 'Email', exact: true });
  assert.equal(await email.count(), 1, 'the Email radio is named Email, nothing more');
  const describedBy = await email.getAttribute('aria-describedby');
  assert.match(await page.locator(`#${describedBy}`).textContent(), /\u2022/, 'the masked address describes it');
  await shot(page, 'mfa-challenge');
  await page.getByRole('link', { name: 'Use a recovery code' }).click();
  await page.getByRole('textbox', { name: 'Recovery code' }).waitFor();
  await shot(page, 'mfa-recovery-code');
  await page.getByRole('link', { name: 'Use your authenticator app instead' }).click();
  await methods.getByRole('radio', { name: /^Email/ }).check();
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('status').waitFor();
  assert.ok(await methods.getByRole('radio', { name: /^Email/ }).isChecked(), 'the choice is kept after sending');
  await shot(page, 'mfa-code-sent');
  await page.getByRole('textbox', { name: 'Verification code' }).fill(await emailCode(nina.email, 2));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Vault' }).waitFor();
  assert.ok(page.url().startsWith(apps.Vault));
  const body = await page.locator('body').textContent();
  assert.match(body, /Signed in to Vault as Nina Example/);
  assert.match(body, /Authentication methods\s*pwd, email, mfa/);
  assert.deepEqual(unexpectedErrors(page), [], 'no console errors: no CSP violation, no missing resource');
  await page.context().close();
});

test('the portal opened directly lists the six applications; one opens by SSO; sign-out there ends SSO', async () => {
  const olga = people.olga;
  const page = await newPage(browser);
  await page.goto(`${stack.issuer}/`);
  await signIn(page, olga);
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  for (const [, name] of APPS) {
    const link = page.getByRole('link', { name, exact: true });
    assert.equal(await link.getAttribute('href'), apps[name], name);
  }
  assert.equal(await page.getByRole('link', { name: 'Vault', exact: true }).count(), 0, 'only portal applications');
  assert.ok(await page.getByText("Set up at least two ways to verify it's you").isVisible(), 'the advice');
  assert.ok(await page.getByRole('link', { name: 'Manage multi-factor authentication' }).isVisible());
  await shot(page, 'portal');

  // Opening one: signed in without a prompt.
  const navigations = trackNavigations(page);
  await page.getByRole('link', { name: 'Forum', exact: true }).click();
  await page.getByRole('heading', { name: 'Forum' }).waitFor();
  assert.match(await page.locator('body').textContent(), /Signed in to Forum as Olga Example/);
  assert.ok(navigations.some((u) => u.pathname === '/authorize'), 'through the provider');
  assert.deepEqual(navigations.filter((u) => u.origin === stack.issuer && u.pathname !== '/authorize').map((u) => u.pathname), [],
    'no sign-in page on the way');
  // An application's own authorization also passes without a prompt while the session lives.
  const before = await authorizationUrl(clients.desk.config, clients.desk);
  await page.goto(before.url.href);
  assert.ok(page.url().startsWith(clients.desk.redirect_uris[0]), `SSO to Desk, landed on ${page.url()}`);

  // Sign-out from the portal: a second authorization needs a new sign-in.
  await page.goto(`${stack.issuer}/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  await shot(page, 'signed-out');
  const again = await authorizationUrl(clients.desk.config, clients.desk);
  await page.goto(again.url.href);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.goto(apps.Modeler);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();
  assert.match(await page.locator('.lead').textContent(), /to continue to Modeler/);
  assert.deepEqual(unexpectedErrors(page), []);
  await page.context().close();
});

test('SMS on the account page: an unsupported country is named and nothing is created; a supported one works', async () => {
  const paul = people.paul;
  const page = await newPage(browser);
  await page.goto(`${stack.issuer}/`);
  await signIn(page, paul);
  await page.getByRole('link', { name: 'Manage multi-factor authentication' }).click();
  for (const h of ['Authenticator app', 'Email', 'SMS']) await page.getByRole('heading', { name: h, exact: true }).waitFor();
  await shot(page, 'account-mfa');
  const smsForm = page.locator('form').filter({ has: page.getByRole('textbox', { name: 'Mobile number' }) });

  // Brazil is not among delivery.sms_countries (NL, US).
  await page.getByRole('textbox', { name: 'Mobile number' }).fill('+55 11 91234 5678');
  await smsForm.getByRole('button', { name: 'Send code' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /Text messages cannot be sent to numbers in Brazil\./);
  await shot(page, 'account-mfa-sms-refused');
  assert.deepEqual(factorTypes('paul'), [], 'nothing created');
  assert.equal(sms.requests.length, 0, 'no text sent');

  // The Netherlands, a national number.
  await page.getByRole('combobox', { name: 'Country' }).selectOption({ label: 'Netherlands' });
  await page.getByRole('textbox', { name: 'Mobile number' }).fill('06 12345678');
  await smsForm.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('heading', { name: 'Enter the code we sent' }).waitFor();
  await shot(page, 'verify-sms');
  const text = await waitFor(() => sms.accepted()[0], 15000, 'the enrolment SMS');
  assert.equal(text.form.To, '+31612345678');
  await page.getByRole('textbox', { name: 'Verification code' }).fill(codeOf(text.form.Body));
  await page.getByRole('button', { name: 'Verify' }).click();
  // The first method brings recovery codes and the offer of a second.
  await page.getByRole('heading', { name: "Add a second way to verify it's you" }).waitFor();
  assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
  assert.deepEqual(factorTypes('paul'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_SMS']);
  await page.goto(`${stack.issuer}/account/mfa`);
  const listed = page.getByRole('listitem').filter({ hasText: '+31' });
  await listed.waitFor();
  assert.ok(await listed.getByRole('button', { name: 'Remove' }).isVisible());
  await shot(page, 'account-mfa-with-sms');

  // New recovery codes replace the old ones.
  await page.getByRole('button', { name: 'Generate new recovery codes' }).click();
  await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
  await shot(page, 'recovery-codes');
  assert.deepEqual(unexpectedErrors(page), []);
  await page.context().close();
});

test('the other pages: consent, select account, sign-out confirmation, errors, Dutch sign-in', async () => {
  const quinn = people.quinn;
  const page = await newPage(browser);
  const notes = clients.notes;
  const a = await authorizationUrl(notes.config, notes);
  await page.goto(a.url.href);
  await signIn(page, quinn);
  await page.getByRole('heading', { name: 'Allow Notes?' }).waitFor();
  await shot(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((u) => u.href.startsWith(notes.redirect_uris[0]));

  const s = await authorizationUrl(notes.config, notes, { prompt: 'select_account' });
  await page.goto(s.url.href);
  await page.getByRole('heading', { name: 'Choose an account' }).waitFor();
  await shot(page, 'select-account');
  await page.getByRole('button', { name: /^Continue as/ }).click();
  await page.waitForURL((u) => u.href.startsWith(notes.redirect_uris[0]));

  // RP-initiated logout without a hint asks first.
  await page.goto(`${stack.issuer}/end_session`);
  await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
  await shot(page, 'logout-confirm');

  await page.goto(`${stack.issuer}/no-such-page`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'Go to the portal' }).isVisible());
  await shot(page, 'error-404');

  // A sign-in page opened in another browser: the flow is not this browser's.
  const elsewhere = await newPage(browser);
  const e = await authorizationUrl(notes.config, notes, { prompt: 'login' });
  await elsewhere.goto(e.url.href);
  await elsewhere.getByRole('textbox', { name: 'Username' }).waitFor();
  const loginUrl = elsewhere.url();
  await elsewhere.context().close();
  const fresh = await newPage(browser);
  await fresh.goto(loginUrl);
  await fresh.getByRole('heading', { name: 'Sign-in expired' }).waitFor();
  assert.match(await fresh.getByRole('alert').textContent(), /expired or was opened in another browser/);
  await shot(fresh, 'error-expired');
  await fresh.context().close();
  assert.deepEqual(unexpectedErrors(page), []);
  await page.context().close();

  // Dutch from the browser's language.
  const nl = await browser.newContext({ locale: 'nl-NL' });
  const p = await nl.newPage();
  await p.goto(`${stack.issuer}/`);
  await p.getByRole('heading', { name: 'Aanmelden' }).waitFor();
  assert.equal(await p.locator('html').getAttribute('lang'), 'nl');
  assert.ok(await p.getByRole('textbox', { name: 'Gebruikersnaam' }).isVisible());
  await shot(p, 'sign-in-nl');
  await nl.close();
});
