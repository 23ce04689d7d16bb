// At least two methods, end to end: after a person's first method the recovery codes and a
// second, different method are offered (during a sign-in and on the account page);
// mfa.keep_two_methods keeps the second-to-last one; mobile numbers in national format with the
// default region (mfa.default_phone_region); and a TOTP code replayed after a Redis restart is
// still refused (the last accepted step lives in PostgreSQL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl, freePort, readLog } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';
import { startSmtpSink, startSmsStandIn, startOwnRedis, redisCli, codeOf, waitFor, sleep, smtpSinkEnv, smsStandInEnv } from './support/delivery.mjs';

let stack;
let sink;
let sms;
let redis;
let app;
let strict;
const kim = { username: 'kim', password: 'kim likes long passwords' };
const lea = { username: 'lea', password: 'lea likes long passwords' };
let kimAgent;
let leaSecret;

before(async () => {
  sink = await startSmtpSink(await freePort());
  sms = await startSmsStandIn(() => ({ status: 201 }));
  // A Redis of this file's own, restarted by the last test.
  redis = await startOwnRedis({ fsync: 'always' });
  stack = await startStack('e2e_mfa_methods', { env: {
    IDP_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
    ...smtpSinkEnv(sink),
    ...smsStandInEnv(sms),
    IDP_DELIVERY_LIMIT_DESTINATION: '',
    IDP_MFA_DEFAULT_PHONE_REGION: 'NL',
    IDP_MFA_KEEP_TWO_METHODS: 'true',
  } });
  for (const u of [kim, lea]) {
    idpctl(stack, ['users', 'create', '--username', u.username, '--password-stdin'], `${u.password}\n`);
  }
  app = idpctl(stack, ['clients', 'add', '--id', 'plain-app', '--name', 'Plain App',
    '--redirect-uri', 'http://127.0.0.1:9/plain-app/cb']);
  strict = idpctl(stack, ['clients', 'add', '--id', 'strict-app', '--name', 'Strict App',
    '--redirect-uri', 'http://127.0.0.1:9/strict-app/cb', '--mfa-policy', 'required']);
});

after(async () => {
  if (stack) await stopStack(stack);
  await sink?.stop();
  await sms?.stop();
  if (redis) { await redis.kill(); redis.remove(); }
});

function oathtool(secret, at) {
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
}

const recoveryCodes = (html) => [...html.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].map((m) => m[1]);
const emailCode = (m) => m.parts.map((p) => p.content).join('\n').match(/\b(\d{6})\b/)[1];
const types = (username) => idpctl(stack, ['factors', 'list', '--username', username]).map((f) => f.type).sort();

test('after the first method at sign-in: recovery codes, then email offered as a second', async () => {
  const agent = new Agent();
  const config = await discover(stack, strict);
  const a = await authorizationUrl(config, strict);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), kim.username, kim.password);
  const enrolUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(enrolUrl.pathname, '/mfa/enrol');
  const page = await agent.request(enrolUrl);
  const secret = page.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  const enrolled = await agent.request(new URL('/mfa/enrol', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'),
    factor_id: hiddenInput(page.text_, 'factor_id'), code: oathtool(secret, Date.now() / 1000) } });
  assert.equal(enrolled.status, 200, 'not yet back to the application');
  assert.match(enrolled.text_, /role="status">Your authenticator app is set up\./);
  assert.equal(recoveryCodes(enrolled.text_).length, 10);
  assert.match(enrolled.text_, /<h2>Add a second way to verify it's you<\/h2>/);
  assert.match(enrolled.text_, /<form method="post" action="\/mfa\/enrol\/email" novalidate>/);
  assert.match(enrolled.text_, /<button type="submit" class="secondary">Skip for now and continue<\/button>/);
  assert.deepEqual(types('kim'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);
  const flow = hiddenInput(enrolled.text_, 'flow');
  const csrf = hiddenInput(enrolled.text_, 'csrf');

  // A reload shows the offer again, never the codes.
  const again = await agent.request(enrolUrl);
  assert.match(again.text_, /<h2>Add a second way to verify it's you<\/h2>/);
  assert.equal(recoveryCodes(again.text_).length, 0);
  // Not an address: a clear message, nothing stored.
  const bad = await agent.request(new URL('/mfa/enrol/email', stack.issuer), { method: 'POST',
    form: { flow, csrf, destination: 'kim at example' } });
  assert.equal(bad.status, 400);
  assert.match(bad.text_, /role="alert">Enter an email address, like name@example\.com\./);
  assert.deepEqual(types('kim'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);

  const sent = await agent.request(new URL('/mfa/enrol/email', stack.issuer), { method: 'POST',
    form: { flow, csrf, destination: 'kim@example.com' } });
  assert.equal(sent.status, 200);
  assert.match(sent.text_, /<form method="post" action="\/mfa\/enrol\/verify" novalidate>/);
  await sink.waitForCount(1, 15000);
  const done = await agent.request(new URL('/mfa/enrol/verify', stack.issuer), { method: 'POST', form: {
    flow, csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), code: emailCode(sink.messages[0]) } });
  assert.equal(done.status, 303, done.text_);
  const tokens = await exchange(config, { ...a, callback: new URL(done.headers.get('location')) });
  assert.deepEqual(tokens.claims().amr, ['pwd', 'otp', 'mfa']);
  assert.deepEqual(types('kim'), ['FACTOR_TYPE_EMAIL', 'FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);
  kimAgent = agent;
});

test('keep_two_methods: the second-to-last method stays; a national mobile number is added', async () => {
  const agent = kimAgent;
  const page = await agent.request(new URL('/account/mfa', stack.issuer));
  assert.equal(page.status, 200);
  const csrf = hiddenInput(page.text_, 'csrf');
  const ids = idpctl(stack, ['factors', 'list', '--username', 'kim']);
  const email = ids.find((f) => f.type === 'FACTOR_TYPE_EMAIL').id;
  const refused = await agent.request(new URL('/account/mfa/remove', stack.issuer), { method: 'POST', form: { csrf, factor_id: email } });
  assert.match(refused.text_, /role="alert">You need at least two ways to verify it&apos;s you, so this one cannot be removed\. Add another method first, then remove this one\./);
  assert.deepEqual(types('kim'), ['FACTOR_TYPE_EMAIL', 'FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);

  // The default region is pre-selected; a national number is read in it.
  assert.match(page.text_, /<option value="NL" selected>Netherlands<\/option>/);
  const sent = await agent.request(new URL('/account/mfa/sms', stack.issuer), { method: 'POST',
    form: { csrf, destination: '06-1234 5678', country: 'NL' } });
  assert.equal(sent.status, 200, sent.text_);
  assert.match(sent.text_, /We sent a 6-digit code to <strong class="destination">\+31 \u2022\u2022\u2022 \u2022\u2022\u2022 78<\/strong>/);
  await waitFor(() => sms.accepted().length >= 1, 15000, 'the enrolment SMS');
  assert.equal(sms.accepted()[0].form.To, '+31612345678');
  const ok = await agent.request(new URL('/account/mfa/verify', stack.issuer), { method: 'POST', form: {
    csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), code: codeOf(sms.accepted()[0].form.Body) } });
  assert.match(ok.text_, /role="status">The new method is set up\./);
  assert.doesNotMatch(ok.text_, /Add a second way/, 'not the first method: no offer');

  // Three methods: one may go, then the last two stay.
  const removed = await agent.request(new URL('/account/mfa/remove', stack.issuer), { method: 'POST', form: { csrf, factor_id: email } });
  assert.match(removed.text_, /role="status">The method was removed\./);
  const sms1 = idpctl(stack, ['factors', 'list', '--username', 'kim']).find((f) => f.type === 'FACTOR_TYPE_SMS').id;
  const kept = await agent.request(new URL('/account/mfa/remove', stack.issuer), { method: 'POST', form: { csrf, factor_id: sms1 } });
  assert.match(kept.text_, /role="alert">You need at least two ways/);
  assert.deepEqual(types('kim'), ['FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_SMS', 'FACTOR_TYPE_TOTP']);
});

test('a first method on the account page: recovery codes, then the app offered', async () => {
  const agent = new Agent();
  const start = await agent.request(new URL('/', stack.issuer));
  const toLogin = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  const loginUrl = toLogin.status === 303 ? new URL(toLogin.headers.get('location'), stack.issuer) : new URL('/login', stack.issuer);
  assert.equal((await signIn(stack, agent, loginUrl, lea.username, lea.password)).status, 303);
  const page = await agent.request(new URL('/account/mfa', stack.issuer));
  const csrf = hiddenInput(page.text_, 'csrf');
  const before = sink.messages.length;
  const sent = await agent.request(new URL('/account/mfa/email', stack.issuer), { method: 'POST', form: { csrf, destination: 'lea@example.com' } });
  assert.equal(sent.status, 200);
  await sink.waitForCount(before + 1, 15000);
  const ok = await agent.request(new URL('/account/mfa/verify', stack.issuer), { method: 'POST', form: {
    csrf, factor_id: hiddenInput(sent.text_, 'factor_id'), code: emailCode(sink.messages[before]) } });
  // Said once: the status line, under a heading that says what the page is for.
  assert.match(ok.text_, /<h1>Make sure you can always get in<\/h1>\n<p class="notice" role="status">Your email address is set up\.<\/p>/);
  assert.equal(recoveryCodes(ok.text_).length, 10);
  assert.match(ok.text_, /<form method="post" action="\/account\/mfa\/totp">/);
  assert.doesNotMatch(ok.text_, /action="\/account\/mfa\/email"/, 'a different method');
  assert.match(ok.text_, /<a href="\/account\/mfa">Skip for now<\/a>/);
  // The offer is taken at once: the session was upgraded by the proved code, no new sign-in.
  const setup = await agent.request(new URL('/account/mfa/totp', stack.issuer), { method: 'POST', form: { csrf } });
  assert.equal(setup.status, 200);
  leaSecret = setup.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  const confirmed = await agent.request(new URL('/account/mfa/totp/confirm', stack.issuer), { method: 'POST', form: {
    csrf, factor_id: hiddenInput(setup.text_, 'factor_id'), code: oathtool(leaSecret, Date.now() / 1000) } });
  assert.match(confirmed.text_, /role="status">Your authenticator app is set up\./);
  assert.doesNotMatch(confirmed.text_, /Add a second way/);
  assert.deepEqual(types('lea'), ['FACTOR_TYPE_EMAIL', 'FACTOR_TYPE_RECOVERY_CODES', 'FACTOR_TYPE_TOTP']);
});

/** A sign-in of lea to the plain app up to the /mfa page. */
async function toMfa() {
  const agent = new Agent();
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), lea.username, lea.password);
  const mfaUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(mfaUrl.pathname, '/mfa');
  return { agent, config, a, page: await agent.request(mfaUrl) };
}

const submit = (agent, page, code) => agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: {
  flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method: 'totp', action: 'verify', code } });

test('a replayed TOTP code is refused also after a Redis restart', async () => {
  // The next step's code (the enrolment used the current one), from oathtool.
  const at = Date.now() / 1000 + 30;
  const code = oathtool(leaSecret, at);
  const first = await toMfa();
  const ok = await submit(first.agent, first.page, code);
  assert.equal(ok.status, 303, ok.text_);
  await exchange(first.config, { ...first.a, callback: new URL(ok.headers.get('location')) });

  // Redis is killed and comes back empty: sign-in flows, challenges and sessions are gone.
  await redis.kill();
  await redis.start();
  redisCli(redis.port, 'FLUSHALL');
  await waitFor(async () => (await fetch(new URL('/readyz', stack.issuer))).status === 200, 20000, 'the stack to be ready again');
  const replaysBefore = (readLog(stack, 'mfa').match(/TOTP code replayed/g) ?? []).length;
  let second;
  await waitFor(async () => { try { second = await toMfa(); return second.page.status === 200; } catch { return false; } },
    20000, 'a sign-in to reach /mfa after the restart');
  const replay = await submit(second.agent, second.page, code);
  assert.ok(Date.now() / 1000 < at + 30, 'the code was still inside its time window when replayed');
  assert.equal(replay.status, 401);
  assert.match(replay.text_, /role="alert"[^>]*>That code is not right\./);
  // Refused as a replay of an accepted step (PostgreSQL), not as a wrong code.
  await sleep(200);
  const replaysAfter = (readLog(stack, 'mfa').match(/TOTP code replayed/g) ?? []).length;
  assert.equal(replaysAfter, replaysBefore + 1);
});
