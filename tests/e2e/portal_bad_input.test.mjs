// Bad input on the hosted pages that a person, not an attacker, sends: a form posted twice (a
// double click, a resubmit: the same CSRF token and fields again), the back button after a
// sign-in (in Chromium), pages kept out of caches, the validity of a password link as
// configured (auth.reset_ttl), and the mfa service's refusals shown in Dutch on a Dutch page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';
import { startSmtpSink, startSmsStandIn, waitFor, smtpSinkEnv, smsStandInEnv } from './support/delivery.mjs';
import { launch, newPage } from './support/chromium.mjs';
import { startApp } from '../../deploy/demo-apps/server.mjs';

let stack;
let sink;
let sms;
let browser;
let plain;    // a client without a home page (openid-client drives it)
let ledger;   // a demo application that requires a second step, with a home page
let ledgerUrl;
const servers = [];
const people = {
  ada: { username: 'ada', name: 'Ada Example', password: 'ada has a long password' },
  bob: { username: 'bob', name: 'Bob Example', password: 'bob has a long password' },
  cat: { username: 'cat', name: 'Cat Example', password: 'cat has a long password' },
  dan: { username: 'dan', name: 'Dan Example', password: 'dan has a long password' },
};

before(async () => {
  sink = await startSmtpSink(await freePort());
  sms = await startSmsStandIn(() => ({ status: 201 }));
  stack = await startStack('e2e_portal_bad_input', { env: {
    ...smtpSinkEnv(sink),
    ...smsStandInEnv(sms),
    IDP_DELIVERY_LIMIT_DESTINATION: '',
    IDP_AUTH_RESET_TTL: '3600',
  } });
  for (const p of Object.values(people)) {
    idpctl(stack, ['users', 'create', '--username', p.username, '--name', p.name, '--email', `${p.username}@example.test`,
      '--password-stdin'], `${p.password}\n`);
  }
  plain = idpctl(stack, ['clients', 'add', '--id', 'plain', '--name', 'Plain', '--redirect-uri', 'http://127.0.0.1:9/plain/cb']);
  plain.config = await discover(stack, plain);
  const port = await freePort();
  ledgerUrl = `http://127.0.0.1:${port}/`;
  ledger = idpctl(stack, ['clients', 'add', '--id', 'ledger', '--name', 'Ledger', '--redirect-uri', `http://127.0.0.1:${port}/callback`,
    '--home-url', ledgerUrl, '--mfa-policy', 'required']);
  ledger.config = await discover(stack, ledger);
  servers.push(await startApp({ id: 'ledger', name: 'Ledger', port, secret: ledger.client_secret, issuer: stack.issuer, host: '127.0.0.1' }));
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  if (stack) await stopStack(stack);
  await sink?.stop();
  await sms?.stop();
});

const oathtool = (secret, at) => execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
const factorTypes = (username) => idpctl(stack, ['factors', 'list', '--username', username]).map((f) => f.type).sort();
const at = (path) => new URL(path, stack.issuer);
const secretOf = (html) => html.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
const emailCode = (m) => m.parts.map((p) => p.content).join('\n').match(/\b(\d{6})\b/)[1];

/** Not an error page: no 5xx, no stack trace, no "Sign-in expired". */
function clear(res, what) {
  assert.ok(res.status < 500, `${what}: answered ${res.status}`);
  assert.doesNotMatch(res.text_, /Sign-in expired|Something went wrong|Temporarily unavailable|Request refused/, what);
  assert.doesNotMatch(res.text_, /\bat \S+ \(|terminate called|what\(\):/, `${what}: no internals`);
}

/** Still signed in: the portal lists the applications. */
async function signedIn(agent, who) {
  const portal = await agent.request(at('/'));
  assert.equal(portal.status, 200, `${who} is still signed in`);
  assert.match(portal.text_, /<h1>Applications<\/h1>/);
}

/**
 * Signs `person` in to Ledger for the first time, setting up the authenticator app on the way
 * (Ledger requires it) and skipping the second method; returns the agent, the seed and the
 * time of the code used (a later sign-in needs a later step).
 */
async function enrolAtLedger(person) {
  const agent = new Agent();
  const a = await authorizationUrl(ledger.config, ledger);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, at(toLogin.headers.get('location')), person.username, person.password);
  const enrol = await agent.request(at(res.headers.get('location')));
  const secret = secretOf(enrol.text_);
  const when = Date.now() / 1000;
  const offer = await agent.request(at('/mfa/enrol'), { method: 'POST', form: {
    flow: hiddenInput(enrol.text_, 'flow'), csrf: hiddenInput(enrol.text_, 'csrf'),
    factor_id: hiddenInput(enrol.text_, 'factor_id'), code: oathtool(secret, when) } });
  assert.equal(offer.status, 200);
  const skip = { flow: hiddenInput(offer.text_, 'flow'), csrf: hiddenInput(offer.text_, 'csrf') };
  const done = await agent.request(at('/mfa/enrol/done'), { method: 'POST', form: skip });
  assert.equal(done.status, 303);
  assert.ok(done.headers.get('location').startsWith(ledger.redirect_uris[0]), 'back to Ledger with a code');
  // "Skip for now and continue" clicked twice: on to Ledger's home, still signed in.
  const again = await agent.request(at('/mfa/enrol/done'), { method: 'POST', form: skip });
  clear(again, 'the skip form posted twice');
  assert.equal(again.status, 303);
  assert.equal(again.headers.get('location'), ledgerUrl);
  return { agent, secret, when };
}

test('the sign-in form posted twice: one sign-in, the second post goes on (application or portal)', async () => {
  const ada = people.ada;
  const agent = new Agent();
  const a = await authorizationUrl(plain.config, plain);
  const toLogin = await agent.request(a.url);
  const page = await agent.request(at(toLogin.headers.get('location')));
  const form = { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: ada.username, password: ada.password };
  const first = await agent.request(at('/login'), { method: 'POST', form });
  assert.equal(first.status, 303);
  const callback = new URL(first.headers.get('location'));
  assert.ok(callback.href.startsWith(plain.redirect_uris[0]));
  const second = await agent.request(at('/login'), { method: 'POST', form });
  clear(second, 'the sign-in form posted twice');
  assert.equal(second.status, 303);
  // Plain has no home page: the portal; and no second code.
  assert.equal(second.headers.get('location'), '/');
  await signedIn(agent, 'ada');
  // The sign-in completed once: its code works.
  const tokens = await exchange(plain.config, { ...a, callback });
  assert.ok(tokens.claims().sub);

  // Started at the portal: the second post lands on the portal too.
  const portalAgent = new Agent();
  const start = await portalAgent.request(at('/'));
  const login = await portalAgent.request(at(start.headers.get('location')));
  const loginPage = await portalAgent.request(at(login.headers.get('location')));
  const portalForm = { flow: hiddenInput(loginPage.text_, 'flow'), csrf: hiddenInput(loginPage.text_, 'csrf'),
    username: ada.username, password: ada.password };
  for (const n of [1, 2]) {
    const res = await portalAgent.request(at('/login'), { method: 'POST', form: portalForm });
    clear(res, `portal sign-in post ${n}`);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/');
  }
  await signedIn(portalAgent, 'ada at the portal');
  // The back button to the sign-in page of a finished sign-in: on to the portal, not a form.
  const back = await portalAgent.request(at(login.headers.get('location')));
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), '/');
  // Another browser replaying the form gets nothing from it.
  const stranger = new Agent();
  const refused = await stranger.request(at('/login'), { method: 'POST', form: portalForm });
  assert.equal(refused.status, 400);
  assert.match(refused.text_, /Sign-in expired/);
});

test('the MFA code form posted twice: one sign-in, the second post goes to the application', async () => {
  const bob = people.bob;
  const { secret, when } = await enrolAtLedger(bob);
  const agent = new Agent();
  const a = await authorizationUrl(ledger.config, ledger);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, at(toLogin.headers.get('location')), bob.username, bob.password);
  const mfaUrl = at(res.headers.get('location'));
  assert.equal(mfaUrl.pathname, '/mfa');
  const page = await agent.request(mfaUrl);
  const form = { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method: 'totp',
    code: oathtool(secret, when + 30) };
  const first = await agent.request(at('/mfa'), { method: 'POST', form });
  assert.equal(first.status, 303, first.text_);
  const callback = new URL(first.headers.get('location'));
  assert.ok(callback.href.startsWith(ledger.redirect_uris[0]));
  const second = await agent.request(at('/mfa'), { method: 'POST', form });
  clear(second, 'the code form posted twice');
  assert.equal(second.status, 303);
  assert.equal(second.headers.get('location'), ledgerUrl, "on to Ledger's home (a new sign-in there passes by SSO)");
  // The MFA page again (the back button): on to Ledger too.
  const back = await agent.request(mfaUrl);
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), ledgerUrl);
  await signedIn(agent, 'bob');
  const tokens = await exchange(ledger.config, { ...a, callback });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'otp', 'mfa']);
  // And Ledger's home, opened now, signs in by SSO without a form.
  const again = await authorizationUrl(ledger.config, ledger);
  const sso = await agent.request(again.url);
  assert.equal(sso.status, 303);
  assert.ok(sso.headers.get('location').startsWith(ledger.redirect_uris[0]), 'SSO: a code at once');
  assert.deepEqual(factorTypes('bob'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);

  // Account forms posted twice (fresh MFA sign-in: changes are allowed).
  const mfaPage = await agent.request(at('/account/mfa'));
  const csrf = hiddenInput(mfaPage.text_, 'csrf');
  const sent = await agent.request(at('/account/mfa/email'), { method: 'POST', form: { csrf, destination: 'bob@example.test' } });
  assert.equal(sent.status, 200);
  await sink.waitForCount(1, 15000);
  const verify = { csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), label: hiddenInput(sent.text_, 'label'),
    code: emailCode(sink.messages.filter((m) => m.rcpt_tos.includes('bob@example.test')).at(-1)) };
  const ok = await agent.request(at('/account/mfa/verify'), { method: 'POST', form: verify });
  assert.equal(ok.status, 200);
  assert.match(ok.text_, /role="status">The new method is set up\./);
  const twice = await agent.request(at('/account/mfa/verify'), { method: 'POST', form: verify });
  clear(twice, 'the verify form posted twice');
  assert.equal(twice.status, 200);
  assert.match(twice.text_, /role="status">This method is already set up\./);
  assert.doesNotMatch(twice.text_, /role="alert"/, 'not an error');
  assert.deepEqual(factorTypes('bob'), ['FACTOR_TYPE_EMAIL', 'FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP'], 'exactly one email factor');

  // A second authenticator app, confirmed twice: added once.
  const setup = await agent.request(at('/account/mfa/totp'), { method: 'POST', form: { csrf } });
  const confirm = { csrf, factor_id: hiddenInput(setup.text_, 'factor_id'), code: oathtool(secretOf(setup.text_), Date.now() / 1000) };
  const confirmed = await agent.request(at('/account/mfa/totp/confirm'), { method: 'POST', form: confirm });
  assert.equal(confirmed.status, 200);
  assert.match(confirmed.text_, /role="status">Your authenticator app is set up\./);
  const confirmedAgain = await agent.request(at('/account/mfa/totp/confirm'), { method: 'POST', form: confirm });
  clear(confirmedAgain, 'the app confirmation posted twice');
  assert.match(confirmedAgain.text_, /role="status">Your authenticator app is set up\./);
  assert.doesNotMatch(confirmedAgain.text_, /role="alert"/, 'not "that setup has expired"');
  assert.equal(factorTypes('bob').filter((t) => t === 'FACTOR_TYPE_TOTP').length, 2, 'exactly one app added');

  // Remove clicked twice: removed once, the second says it is gone (as news, not an error).
  const email = idpctl(stack, ['factors', 'list', '--username', 'bob']).find((f) => f.type === 'FACTOR_TYPE_EMAIL').id;
  const removed = await agent.request(at('/account/mfa/remove'), { method: 'POST', form: { csrf, factor_id: email } });
  assert.match(removed.text_, /role="status">The method was removed\./);
  const removedAgain = await agent.request(at('/account/mfa/remove'), { method: 'POST', form: { csrf, factor_id: email } });
  clear(removedAgain, 'remove posted twice');
  assert.equal(removedAgain.status, 200);
  assert.match(removedAgain.text_, /role="status">That method was already removed\./);
  assert.doesNotMatch(removedAgain.text_, /role="alert"/);
  assert.deepEqual(factorTypes('bob'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP', 'FACTOR_TYPE_TOTP']);
  await signedIn(agent, 'bob after the account forms');
});

test('pages with forms or personal data are never cached (Cache-Control: no-store)', async () => {
  const { agent } = await enrolAtLedger(people.dan);
  const anonymous = new Agent();
  const start = await anonymous.request(at('/login'));
  const pages = [
    [anonymous, at(start.headers.get('location'))],  // the sign-in form
    [anonymous, at('/password/forgot')],
    [agent, at('/')],
    [agent, at('/account/mfa')],
    [agent, at('/account/password')],
    [agent, at('/account/sessions')],
  ];
  for (const [who, url] of pages) {
    const res = await who.request(url);
    assert.equal(res.status, 200, url.pathname);
    assert.match(res.headers.get('cache-control') ?? '', /\bno-store\b/, `${url.pathname} is not cached`);
  }
  // The MFA page and the authenticator setup (a secret on it).
  const mfaAgent = new Agent();
  const a = await authorizationUrl(ledger.config, ledger);
  const toLogin = await mfaAgent.request(a.url);
  const res = await signIn(stack, mfaAgent, at(toLogin.headers.get('location')), 'dan', people.dan.password);
  const mfa = await mfaAgent.request(at(res.headers.get('location')));
  assert.equal(mfa.status, 200);
  assert.match(mfa.headers.get('cache-control') ?? '', /\bno-store\b/, '/mfa is not cached');
  const csrf = hiddenInput((await agent.request(at('/account/mfa'))).text_, 'csrf');
  const setup = await agent.request(at('/account/mfa/totp'), { method: 'POST', form: { csrf } });
  assert.match(setup.text_, /Secret key/);
  assert.match(setup.headers.get('cache-control') ?? '', /\bno-store\b/, 'the setup page is not cached');
});

test('the password pages say how long a link works as auth.reset_ttl is set (1 hour here), in English and Dutch', async () => {
  for (const [lang, works, once] of [
    ['en', /It works for 1 hour\./, /A link works once, for 1 hour\./],
    ['nl', /De link werkt 1 uur\./, /Een link werkt één keer, 1 uur lang\./]]) {
    const agent = new Agent();
    const headers = { 'accept-language': lang };
    const form = await agent.request(at('/password/forgot'), { headers });
    const sent = await agent.request(at('/password/forgot'), { method: 'POST', headers,
      form: { csrf: hiddenInput(form.text_, 'csrf'), username: 'ada' } });
    assert.equal(sent.status, 200);
    assert.match(sent.text_, works);
    assert.doesNotMatch(sent.text_, /30 minut/);
    const invalid = await agent.request(at('/password/reset?token=not-a-token'), { headers });
    assert.equal(invalid.status, 410);
    assert.match(invalid.text_, once);
  }
});

test("the mfa service's refusals are shown in Dutch on a Dutch page", async () => {
  const agent = new Agent();
  const headers = { 'accept-language': 'nl-NL,nl;q=0.9' };
  const start = await agent.request(at('/account/mfa'), { headers });
  const page = await agent.request(at(start.headers.get('location')), { headers });
  assert.match(page.text_, /Gebruikersnaam/);
  const signedInRes = await agent.request(at('/login'), { method: 'POST', headers, form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: 'ada', password: people.ada.password } });
  assert.equal(signedInRes.status, 303);
  const account = await agent.request(at('/account/mfa'), { headers });
  assert.equal(account.status, 200);
  // The countries in Dutch.
  assert.match(account.text_, /<option value="NL">Nederland<\/option>/);
  assert.match(account.text_, /<option value="US">Verenigde Staten<\/option>/);
  assert.match(account.text_, /<option value="">Kies een land<\/option>/);
  const csrf = hiddenInput(account.text_, 'csrf');
  const brazil = await agent.request(at('/account/mfa/sms'), { method: 'POST', headers,
    form: { csrf, destination: '+55 11 91234 5678', country: '' } });
  assert.match(brazil.text_, /role="alert" id="phone-error">Sms-berichten kunnen niet naar nummers in Brazilië worden gestuurd\. Gebruik de authenticator-app of e-mail\.</);
  const letters = await agent.request(at('/account/mfa/sms'), { method: 'POST', headers,
    form: { csrf, destination: '06 CALL ME', country: 'NL' } });
  assert.match(letters.text_, /role="alert" id="phone-error">Een telefoonnummer heeft geen letters: voer alleen de cijfers in\.</);
  const email = await agent.request(at('/account/mfa/email'), { method: 'POST', headers, form: { csrf, destination: 'ada at example' } });
  assert.match(email.text_, /role="alert" id="email-error">Voer een e-mailadres in, zoals naam@example\.com\.</);
  // The same in English for an English page.
  const en = await agent.request(at('/account/mfa/sms'), { method: 'POST', form: { csrf, destination: '+55 11 91234 5678', country: '' } });
  assert.match(en.text_, /role="alert" id="phone-error">Text messages cannot be sent to numbers in Brazil\./);
  assert.deepEqual(factorTypes('ada'), [], 'nothing created');
});

test('the back button after a sign-in with MFA, in Chromium: on to the application, still signed in, nothing half-done', async () => {
  const cat = people.cat;
  const { secret, when } = await enrolAtLedger(cat);
  const typesBefore = factorTypes('cat');
  browser = await launch();
  const page = await newPage(browser);
  // Every page the tabs are sent to (each navigation's answer): none may be an error.
  const failed = [];
  const watch = (p) => p.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  watch(page);
  await page.goto(ledgerUrl);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();
  const loginUrl = page.url();
  // The same sign-in page in a second tab (as a page kept from before would be).
  const staleLogin = await page.context().newPage();
  watch(staleLogin);
  await staleLogin.goto(loginUrl);
  await page.getByRole('textbox', { name: 'Username' }).fill(cat.username);
  await page.getByLabel('Password', { exact: true }).fill(cat.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('textbox', { name: 'Verification code' }).waitFor();
  const mfaUrl = page.url();
  const staleMfa = await page.context().newPage();
  watch(staleMfa);
  await staleMfa.goto(mfaUrl);
  await staleMfa.getByRole('textbox', { name: 'Verification code' }).waitFor();
  await page.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, when + 30));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.match(await page.locator('body').textContent(), /Signed in to Ledger as Cat Example/);

  // Back to the MFA page: Ledger again, signed in; the same after a reload.
  await page.goBack();
  await page.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.ok(page.url().startsWith(ledgerUrl), `back lands on Ledger, not ${page.url()}`);
  assert.match(await page.locator('body').textContent(), /Signed in to Ledger as Cat Example/);
  await page.goto(mfaUrl);
  await page.reload();
  await page.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.ok(page.url().startsWith(ledgerUrl));
  // Back to the sign-in page: no form for a signed-in person, on to Ledger.
  await page.goto(loginUrl);
  await page.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.ok(page.url().startsWith(ledgerUrl), `the old sign-in page leads to Ledger, not ${page.url()}`);

  // The old forms submitted: no error, on to Ledger.
  await staleMfa.getByRole('textbox', { name: 'Verification code' }).fill(oathtool(secret, when + 30));
  await staleMfa.getByRole('button', { name: 'Verify' }).click();
  await staleMfa.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.match(await staleMfa.locator('body').textContent(), /Signed in to Ledger as Cat Example/);
  await staleLogin.getByRole('textbox', { name: 'Username' }).fill(cat.username);
  await staleLogin.getByLabel('Password', { exact: true }).fill(cat.password);
  await staleLogin.getByRole('button', { name: 'Sign in' }).click();
  await staleLogin.getByRole('heading', { name: 'Ledger' }).waitFor();
  assert.ok(staleLogin.url().startsWith(ledgerUrl));

  // Still signed in at the provider; nothing added or lost.
  await page.goto(`${stack.issuer}/`);
  await page.getByRole('heading', { name: 'Applications' }).waitFor();
  assert.deepEqual(factorTypes('cat'), typesBefore);
  assert.deepEqual(failed, [], 'no error page on the way (no 4xx or 5xx)');
  await page.context().close();
});
