// Email and SMS codes as second factors, end to end through the real delivery service: the
// email code is read from a real SMTP server (aiosmtpd), the SMS code from the local stand-in
// of the SMS provider's API; openid-client then sees amr "email" or "sms" in the ID token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';
import { startSmtpSink, startSmsStandIn, codeOf, waitFor, smtpSinkEnv, smsStandInEnv } from './support/delivery.mjs';

let stack;
let sink;
let sms;
let app;
let strict;
const ivy = { username: 'ivy', password: 'ivy likes long passwords' };
const jay = { username: 'jay', password: 'jay likes long passwords' };
const kit = { username: 'kit', password: 'kit likes long passwords' };

before(async () => {
  sink = await startSmtpSink(await freePort());
  sms = await startSmsStandIn(() => ({ status: 201 }));
  stack = await startStack('e2e_mfa_delivery', { env: {
    ...smtpSinkEnv(sink),
    ...smsStandInEnv(sms),
    IDP_DELIVERY_LIMIT_DESTINATION: '',
  } });
  for (const u of [ivy, jay, kit]) {
    idpctl(stack, ['users', 'create', '--username', u.username, '--password-stdin'], `${u.password}\n`);
  }
  app = idpctl(stack, ['clients', 'add', '--id', 'plain-app', '--name', 'Plain App',
    '--redirect-uri', 'http://127.0.0.1:9/plain-app/cb']);
  strict = idpctl(stack, ['clients', 'add', '--id', 'totp-app', '--name', 'TOTP App',
    '--redirect-uri', 'http://127.0.0.1:9/totp-app/cb', '--mfa-policy', 'totp_only']);
});

after(async () => {
  if (stack) await stopStack(stack);
  await sink?.stop();
  await sms?.stop();
});

const emailCode = (m) => m.parts.map((p) => p.content).join('\n').match(/\b(\d{6})\b/)[1];

async function portalAgent(user) {
  const agent = new Agent();
  const start = await agent.request(new URL('/', stack.issuer));
  const login = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  const loginUrl = login.status === 303 ? new URL(login.headers.get('location'), stack.issuer) : new URL('/login', stack.issuer);
  assert.equal((await signIn(stack, agent, loginUrl, user.username, user.password)).status, 303);
  return agent;
}

async function addDestination(agent, kind, destination, readCode, extra = {}) {
  const page = await agent.request(new URL('/account/mfa', stack.issuer));
  assert.match(page.text_, kind === 'email' ? /<label for="email">Email address<\/label>/ : /<label for="phone">Mobile number<\/label>/);
  const csrf = hiddenInput(page.text_, 'csrf');
  const sent = await agent.request(new URL(`/account/mfa/${kind}`, stack.issuer), { method: 'POST', form: { csrf, destination, ...extra } });
  assert.equal(sent.status, 200, sent.text_);
  assert.match(sent.text_, /<h1>Enter the code we sent<\/h1>/);
  const code = await readCode();
  const wrong = await agent.request(new URL('/account/mfa/verify', stack.issuer), { method: 'POST',
    form: { csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), label: hiddenInput(sent.text_, 'label'), code: code === '000000' ? '111111' : '000000' } });
  assert.equal(wrong.status, 401);
  const ok = await agent.request(new URL('/account/mfa/verify', stack.issuer), { method: 'POST',
    form: { csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), label: hiddenInput(sent.text_, 'label'), code } });
  assert.match(ok.text_, /role="status">(The new method is|Your (email address|mobile number) is) set up\./);
  return { csrf, sent };
}

async function signInWith(user, client, label, readCode) {
  const agent = new Agent();
  const config = await discover(stack, client);
  const a = await authorizationUrl(config, client);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), user.username, user.password);
  const next = new URL(res.headers.get('location'), stack.issuer);
  if (next.pathname !== '/mfa') return { next };
  const page = await agent.request(next);
  const value = page.text_.match(new RegExp(`value="(factor:[^"]+)"(?: checked)?> ${label}`))[1];
  const flow = hiddenInput(page.text_, 'flow');
  const csrf = hiddenInput(page.text_, 'csrf');
  const sent = await agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: { flow, csrf, method: value, action: 'send' } });
  assert.equal(sent.status, 200, sent.text_);
  assert.match(sent.text_, /role="status">(Code sent to|Sending the code to)/);
  const code = await readCode();
  const done = await agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: { flow, csrf, method: value, action: 'verify', code } });
  assert.equal(done.status, 303, done.text_);
  return { tokens: await exchange(config, { ...a, callback: new URL(done.headers.get('location')) }) };
}

test('an email factor: verified address, then a sign-in with the emailed code (amr email)', async () => {
  const agent = await portalAgent(ivy);
  await addDestination(agent, 'email', 'Ivy@Example.com', async () => {
    await sink.waitForCount(1, 15000);
    assert.deepEqual(sink.messages[0].rcpt_tos, ['ivy@example.com']);
    return emailCode(sink.messages[0]);
  });
  const { tokens } = await signInWith(ivy, app, 'Email', async () => {
    await sink.waitForCount(2, 15000);
    return emailCode(sink.messages[1]);
  });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'email', 'mfa']);
  assert.equal(tokens.claims().acr, 'aal2');
});

test('an SMS factor: the code comes through the provider API (amr sms)', async () => {
  const agent = await portalAgent(jay);
  // What a person may type (bad input): each refusal is a clear message and stores nothing.
  const page = await agent.request(new URL('/account/mfa', stack.issuer));
  assert.match(page.text_, /<select id="country" name="country"[^>]*>/);
  assert.match(page.text_, /<option value="NL">Netherlands<\/option>/);
  assert.match(page.text_, /<option value="US">United States<\/option>/);
  assert.doesNotMatch(page.text_, /<option value="BR">/, 'only the countries SMS may go to');
  for (const [bad, message, country] of [
    // A country outside the list (delivery.sms_countries) is named.
    ['+55 11 91234 5678', /role="alert" id="phone-error">Text messages cannot be sent to numbers in Brazil\. Use the authenticator app or email instead\./],
    ['06 12345678', /role="alert" id="phone-error">Start the number with \+ and its country code/],  // no country chosen
    ['+31 6 1234abcd', /role="alert" id="phone-error">A phone number has no letters/],
    ['06 1234abcd', /role="alert" id="phone-error">A phone number has no letters/, 'NL'],
    ['+3161', /role="alert" id="phone-error">That number is too short/],
    ['06 1234', /role="alert" id="phone-error">That number is too short/, 'NL'],
    ['+999 1234 5678', /role="alert" id="phone-error">There is no country with that code/],
    ['020 123 4567', /role="alert" id="phone-error">That is a landline number in the Netherlands: enter a mobile number\./, 'NL'],
  ]) {
    const r = await agent.request(new URL('/account/mfa/sms', stack.issuer), { method: 'POST',
      form: { csrf: hiddenInput(page.text_, 'csrf'), destination: bad, country: country ?? '' } });
    assert.match(r.text_, message, bad);
    // The reason is tied to the field, and what was typed is kept to correct it.
    assert.ok(r.text_.includes(`value="${bad}" aria-describedby="phone-error" aria-invalid="true"`), bad);
  }
  assert.deepEqual(idpctl(stack, ['factors', 'list', '--username', 'jay']), [], 'no factor half-created');
  assert.equal(sms.requests.length, 0, 'no text sent');
  // National format with its country: normalised to E.164, shown masked.
  const { sent } = await addDestination(agent, 'sms', '06 12345678', async () => {
    await waitFor(() => sms.accepted().length >= 1, 15000, 'the enrolment SMS');
    assert.equal(sms.accepted()[0].form.To, '+31612345678');
    return codeOf(sms.accepted()[0].form.Body);
  }, { country: 'NL' });
  assert.match(sent.text_, /We sent a 6-digit code to <strong class="destination">\+31 \u2022\u2022\u2022 \u2022\u2022\u2022 78<\/strong>/);
  const listed = idpctl(stack, ['factors', 'list', '--username', 'jay']);
  assert.deepEqual(listed.filter((f) => f.type === 'FACTOR_TYPE_SMS').map((f) => f.label), ['+31 \u2022\u2022\u2022 \u2022\u2022\u2022 78']);
  const { tokens } = await signInWith(jay, app, 'SMS', async () => {
    await waitFor(() => sms.accepted().length >= 2, 15000, 'the sign-in SMS');
    return codeOf(sms.accepted()[1].form.Body);
  });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'sms', 'mfa']);
});

test('a client that refuses email and SMS codes never completes a sign-in with one', async () => {
  // ivy has only an email factor: the password alone may not enrol an app here either.
  const agent = new Agent();
  const config = await discover(stack, strict);
  const a = await authorizationUrl(config, strict);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), ivy.username, ivy.password);
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.text_, /role="alert">This application accepts only an authenticator app/);
});

test('wrong codes: a resend keeps the count, the sixth try ends the challenge, ten across sign-ins pause the person even for the right code', async () => {
  const agent = await portalAgent(kit);
  const mailsToKit = () => sink.messages.filter((m) => (m.rcpt_tos ?? []).includes('kit@example.com'));
  // Codes are read in the order they were sent: `seen` counts the emails read so far.
  let seen = 0;
  const nextCode = async () => {
    await waitFor(() => mailsToKit().length > seen, 15000, 'a code for kit');
    seen = mailsToKit().length;
    return emailCode(mailsToKit().at(-1));
  };
  await addDestination(agent, 'email', 'kit@example.com', nextCode);

  /** A sign-in parked on /mfa with an email code sent; returns what posting needs. */
  const startSignIn = async () => {
    const browser = new Agent();
    const config = await discover(stack, app);
    const a = await authorizationUrl(config, app);
    const toLogin = await browser.request(a.url);
    const res = await signIn(stack, browser, new URL(toLogin.headers.get('location'), stack.issuer), kit.username, kit.password);
    const page = await browser.request(new URL(res.headers.get('location'), stack.issuer));
    const method = page.text_.match(/value="(factor:[^"]+)"(?: checked)?> Email/)[1];
    const form = { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method };
    const send = () => browser.request(new URL('/mfa', stack.issuer), { method: 'POST', form: { ...form, action: 'send' } });
    const verify = (code) => browser.request(new URL('/mfa', stack.issuer), { method: 'POST', form: { ...form, action: 'verify', code } });
    assert.equal((await send()).status, 200);
    return { send, verify };
  };
  const wrong = (code) => (code === '000000' ? '111111' : '000000');

  // Sign-in A: three wrong codes, a resend (a new code; the old one stops working), two more.
  const first = await startSignIn();
  const oldCode = await nextCode();
  for (let i = 0; i < 3; i++) assert.equal((await first.verify(wrong(oldCode))).status, 401);
  assert.equal((await first.send()).status, 200);
  const newCode = await nextCode();
  assert.notEqual(newCode, oldCode);
  const stale = await first.verify(oldCode);
  assert.equal(stale.status, 401, 'only the newest code is valid');
  assert.match(stale.text_, /1 try left/, 'the resend did not reset the count');
  const last = await first.verify(wrong(newCode));
  assert.match(last.text_, /it was the last try/);
  const ended = await first.verify(newCode);
  assert.equal(ended.status, 401);
  assert.match(ended.text_, /This sign-in has ended after too many wrong codes/);

  // Sign-in B: the person has 5 wrong codes; the 10th pauses verification for the account.
  const second = await startSignIn();
  const code = await nextCode();
  for (let i = 0; i < 4; i++) assert.equal((await second.verify(wrong(code))).status, 401, `try ${i + 1}`);
  const paused = await second.verify(wrong(code));
  assert.equal(paused.status, 429);
  assert.ok(Number(paused.headers.get('retry-after')) > 0);
  assert.match(paused.text_, /Verification is paused for your account after too many wrong codes/);
  assert.equal(paused.headers.get("retry-after"), "900");
  assert.match(paused.text_, /Try again in 15 minutes\./);

  // Sign-in C: during the pause even the right code is refused, with the same clear message.
  const third = await startSignIn();
  const right = await nextCode();
  const refused = await third.verify(right);
  assert.equal(refused.status, 429);
  assert.match(refused.text_, /Verification is paused for your account/);
  assert.equal(refused.headers.get('location'), null);

  const failures = idpctl(stack, ['audit', '--username', 'kit', '--event', 'mfa.failure']);
  assert.ok(failures.some((r) => r.detail.reason === 'locked'));
  for (const r of failures) {
    for (const c of [oldCode, newCode, code, right]) assert.ok(!JSON.stringify(r).includes(c), 'no code in the audit log');
  }
});
