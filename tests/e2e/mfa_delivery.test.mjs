// Email and SMS codes as second factors, end to end through the real delivery service: the
// email code is read from a real SMTP server (aiosmtpd), the SMS code from the local stand-in
// of the SMS provider's API; openid-client then sees amr "email" or "sms" in the ID token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';
import { startSmtpSink, startSmsStandIn, codeOf, waitFor } from './support/delivery.mjs';

let stack;
let sink;
let sms;
let app;
let strict;
const ivy = { username: 'ivy', password: 'ivy likes long passwords' };
const jay = { username: 'jay', password: 'jay likes long passwords' };

before(async () => {
  sink = await startSmtpSink(await freePort());
  sms = await startSmsStandIn(() => ({ status: 201 }));
  stack = await startStack('e2e_mfa_delivery', { env: {
    IDP_DELIVERY_EMAIL_PROVIDER: 'smtp',
    IDP_DELIVERY_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    IDP_DELIVERY_SMTP_STARTTLS: 'off',
    IDP_DELIVERY_EMAIL_FROM: 'no-reply@idp.test',
    IDP_DELIVERY_SMS_PROVIDER: 'twilio',
    IDP_DELIVERY_SMS_API_BASE: sms.url,
    IDP_DELIVERY_SMS_ACCOUNT_SID: 'AC0123456789abcdef',
    IDP_DELIVERY_SMS_AUTH_TOKEN: 'stand-in-token',
    IDP_DELIVERY_SMS_FROM: '+15005550006',
    IDP_DELIVERY_SMS_COUNTRIES: 'NL,US',
    IDP_DELIVERY_LIMIT_DESTINATION: '',
  } });
  for (const u of [ivy, jay]) {
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
