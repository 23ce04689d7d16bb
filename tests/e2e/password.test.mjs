// Password self-service end to end, with the real delivery service and a real SMTP server
// (aiosmtpd): "Forgot your password?" emails a single-use link, the link sets a new password,
// every session of the person ends, a person with an authenticator app still passes MFA (code
// from oathtool); unknown accounts get the same page; used and expired links are refused;
// "Change password" ends the person's other sessions only; `idpctl users invite` emails a
// set-password link; forged CSRF tokens are refused; the token never reaches a log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startStack, stopStack, idpctl, freePort, readLog } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { signIn } from './support/oidc.mjs';
import { startSmtpSink, smtpSinkEnv, waitFor, sleep } from './support/delivery.mjs';

let stack;
let sink;
const bob = { username: 'bob', email: 'bob@example.test', password: 'bob had an old password' };
const carol = { username: 'carol', email: 'carol@example.test', password: 'carol had an old password' };
const erin = { username: 'erin', email: 'erin@example.test', password: 'erin had an old password' };

function smtpEnv() {
  return { ...smtpSinkEnv(sink), IDP_DELIVERY_LIMIT_DESTINATION: '' };
}

before(async () => {
  sink = await startSmtpSink(await freePort());
  stack = await startStack('e2e_password', { env: {
    ...smtpEnv(),
    // The tests below post "forgot" more often than a person would.
    IDP_GATEWAY_PASSWORD_RESET_PER_ADDRESS: '100',
  } });
  for (const u of [bob, carol, erin]) {
    u.subject = idpctl(stack, ['users', 'create', '--username', u.username, '--email', u.email, '--password-stdin'], `${u.password}\n`).subject;
  }
});

after(async () => {
  if (stack) {
    const codes = await stopStack(stack);
    for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} exited ${code}`);
  }
  await sink?.stop();
});

function oathtool(secret, at) {
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
}

const text = (m) => m.parts.map((p) => p.content).join('\n');
const mailsTo = (address) => sink.messages.filter((m) => (m.rcpt_tos ?? []).includes(address));

/** Waits for the `n`th email to `address` whose subject matches `subject`; returns it. */
async function mail(address, subject, n = 1) {
  return waitFor(() => {
    const list = mailsTo(address).filter((m) => subject.test(m.subject ?? ''));
    return list.length >= n ? list[n - 1] : null;
  }, 15000, `mail "${subject}" #${n} to ${address}`);
}

function linkIn(m, issuer) {
  const found = text(m).match(/(https?:\/\/[^\s"<>]+\/password\/reset\?token=[A-Za-z0-9_-]+)/);
  assert.ok(found, 'the email carries the link');
  const url = new URL(found[1]);
  assert.equal(url.origin, issuer);
  return url;
}

/** How many sessions the gateway's per-person index in Redis lists for `subject`. */
function indexedSessions(subject) {
  const m = readFileSync(stack.configPath, 'utf8').match(/url = "redis:\/\/([^:/]+):(\d+)\/(\d+)"/);
  const key = `gw:subject-sessions:${createHash('sha256').update(subject).digest('base64url')}`;
  return Number(execFileSync('redis-cli', ['-h', m[1], '-p', m[2], '-n', m[3], 'SCARD', key]).toString().trim());
}

function sessionCookie(agent) {
  for (const [k, v] of agent.cookies) if (/idp_session$/.test(k)) return [k, v];
  return null;
}

async function portalSignIn(user, password = user.password, on = stack) {
  const agent = new Agent();
  const start = await agent.request(new URL('/login', on.issuer));
  assert.equal(start.status, 303);
  const res = await signIn(on, agent, new URL(start.headers.get('location'), on.issuer), user.username, password);
  return { agent, res };
}

async function forgot(agent, username) {
  const page = await agent.request(new URL('/password/forgot', stack.issuer));
  assert.equal(page.status, 200);
  assert.match(page.text_, /<label for="username">Username or email<\/label>/);
  assert.match(page.text_, /<button type="submit">Send link<\/button>/);
  const t0 = Date.now();
  const res = await agent.request(new URL('/password/forgot', stack.issuer), { method: 'POST',
    form: { csrf: hiddenInput(page.text_, 'csrf'), username } });
  return { res, ms: Date.now() - t0 };
}

async function setPassword(agent, link, password) {
  const page = await agent.request(link);
  assert.equal(page.status, 200, page.text_);
  assert.match(page.text_, /<label for="new-password">New password<\/label>/);
  assert.match(page.text_, /<button type="submit">Set password<\/button>/);
  const res = await agent.request(new URL('/password/reset', stack.issuer), { method: 'POST',
    form: { csrf: hiddenInput(page.text_, 'csrf'), token: hiddenInput(page.text_, 'token'), new_password: password } });
  return { page, res };
}

test('forgot password: link by email, new password, sessions ended, MFA still asked, portal', async () => {
  // Bob signs in and sets up an authenticator app.
  const { agent: old, res } = await portalSignIn(bob);
  assert.equal(res.status, 303);
  const mfaPage = await old.request(new URL('/account/mfa', stack.issuer));
  const csrf = hiddenInput(mfaPage.text_, 'csrf');
  assert.match(mfaPage.text_, /<a href="\/account\/password">Change password<\/a>/);
  const setup = await old.request(new URL('/account/mfa/totp', stack.issuer), { method: 'POST', form: { csrf } });
  const secret = setup.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  const at = Date.now() / 1000;
  const ok = await old.request(new URL('/account/mfa/totp/confirm', stack.issuer), { method: 'POST',
    form: { csrf, factor_id: hiddenInput(setup.text_, 'factor_id'), code: oathtool(secret, at) } });
  assert.match(ok.text_, /Your authenticator app is set up/);
  const stolen = sessionCookie(old);
  assert.ok(stolen);

  // The sign-in page links to "Forgot your password?".
  const browser = new Agent();
  const login = await browser.request(new URL('/login', stack.issuer));
  const loginPage = await browser.request(new URL(login.headers.get('location'), stack.issuer));
  assert.match(loginPage.text_, /<a href="\/password\/forgot">Forgot your password\?<\/a>/);

  const { res: sent } = await forgot(browser, 'BOB');
  assert.equal(sent.status, 200);
  assert.match(sent.text_, /If an account matches, we sent a link to its email address\. It works for 30 minutes\./);
  const resetMail = await mail(bob.email, /Reset your .* password/);
  const link = linkIn(resetMail, stack.issuer);
  assert.match(text(resetMail), /30 minutes/);

  const { page, res: done } = await setPassword(browser, link, 'bob has a brand new password');
  assert.match(page.text_, /<h1>Choose a new password<\/h1>/);
  assert.match(page.headers.get('referrer-policy') ?? '', /no-referrer/);
  assert.equal(done.status, 200, done.text_);
  assert.match(done.text_, /<h1>Your password was changed<\/h1>/);
  assert.match(done.text_, /<a href="\/login">Sign in<\/a>/);
  await mail(bob.email, /password was changed/);

  // The session that existed before the reset is over, on the server: its cookie is refused.
  const replay = new Agent();
  replay.cookies.set(stolen[0], stolen[1]);
  const home = await replay.request(new URL('/', stack.issuer));
  assert.equal(home.status, 303, 'a session from before the reset is refused');
  assert.doesNotMatch(home.headers.get('location'), /^\/$/);

  assert.equal(indexedSessions(bob.subject), 0, 'the index of bob\'s sessions is empty');

  // The old password is refused, the new one works, and MFA is still asked.
  assert.equal((await portalSignIn(bob)).res.status, 401);
  const { agent, res: signedIn } = await portalSignIn(bob, 'bob has a brand new password');
  assert.equal(signedIn.status, 303);
  const mfaUrl = new URL(signedIn.headers.get('location'), stack.issuer);
  assert.equal(mfaUrl.pathname, '/mfa', 'a reset never skips the second factor');
  const challenge = await agent.request(mfaUrl);
  const verified = await agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(challenge.text_, 'flow'), csrf: hiddenInput(challenge.text_, 'csrf'), method: 'totp',
    code: oathtool(secret, at + 30) } });
  assert.equal(verified.status, 303, verified.text_);
  const portal = await agent.request(new URL(verified.headers.get('location'), stack.issuer));
  assert.equal(portal.status, 200);
  assert.match(portal.text_, /<h1>Applications<\/h1>|>Applications</);

  // A used link is refused, by GET and by POST.
  const again = await browser.request(link);
  assert.equal(again.status, 410);
  assert.match(again.text_, /role="alert"/);
  assert.match(again.text_, /<a href="\/password\/forgot">Request a new link<\/a>/);
  const repost = await browser.request(new URL('/password/reset', stack.issuer), { method: 'POST',
    form: { csrf: hiddenInput(page.text_, 'csrf'), token: link.searchParams.get('token'), new_password: 'bob tries the link twice' } });
  assert.equal(repost.status, 410);
  assert.equal((await portalSignIn(bob, 'bob tries the link twice')).res.status, 401);

  // The token never reaches a log.
  const token = link.searchParams.get('token');
  for (const s of ['gateway', 'auth', 'delivery']) {
    assert.ok(!readLog(stack, s).includes(token), `${s} log holds the token`);
  }
});

test('an unknown account gets the same page, the same status and no email', async () => {
  const agent = new Agent();
  const known = [];
  const unknown = [];
  let knownBody;
  let unknownBody;
  for (let i = 0; i < 3; i++) {
    const k = await forgot(agent, erin.username);
    const u = await forgot(agent, `nobody-${i}`);
    assert.equal(k.res.status, 200);
    assert.equal(u.res.status, 200);
    knownBody = k.res.text_;
    unknownBody = u.res.text_;
    known.push(k.ms);
    unknown.push(u.ms);
  }
  assert.equal(unknownBody, knownBody);
  const median = (a) => [...a].sort((x, y) => x - y)[1];
  assert.ok(Math.abs(median(known) - median(unknown)) < 150,
    `timing differs: known ${known} unknown ${unknown}`);
  await mail(erin.email, /Reset your/, 3);
  await sleep(500);
  assert.equal(sink.messages.filter((m) => JSON.stringify(m).includes('nobody-')).length, 0);
  // Only the newest of erin's three links works.
  const first = linkIn(await mail(erin.email, /Reset your/, 1), stack.issuer);
  assert.equal((await agent.request(first)).status, 410);
  const newest = linkIn(await mail(erin.email, /Reset your/, 3), stack.issuer);
  assert.equal((await agent.request(newest)).status, 200);
});

test('change password ends the other sessions and keeps this one under a new id', async () => {
  const a = await portalSignIn(carol);
  const b = await portalSignIn(carol);
  assert.equal(a.res.status, 303);
  assert.equal(b.res.status, 303);
  const before = sessionCookie(a.agent);
  const bCookie = sessionCookie(b.agent);
  assert.equal(indexedSessions(carol.subject), 2);

  const page = await a.agent.request(new URL('/account/password', stack.issuer));
  assert.equal(page.status, 200);
  assert.match(page.text_, /<label for="current-password">Current password<\/label>/);
  assert.match(page.text_, /<label for="new-password">New password<\/label>/);
  assert.match(page.text_, /<button type="submit">Change password<\/button>/);
  const csrf = hiddenInput(page.text_, 'csrf');

  const wrong = await a.agent.request(new URL('/account/password', stack.issuer), { method: 'POST',
    form: { csrf, current_password: 'not my password', new_password: 'carol has a new password' } });
  assert.equal(wrong.status, 400);
  assert.match(wrong.text_, /aria-describedby="current-error" aria-invalid="true"/);
  assert.match(wrong.text_, /<p class="alert" role="alert" id="current-error">That is not your current password\.<\/p>/);

  const forged = await a.agent.request(new URL('/account/password', stack.issuer), { method: 'POST',
    form: { csrf: 'forged', current_password: carol.password, new_password: 'carol has a new password' } });
  assert.equal(forged.status, 403);

  const ok = await a.agent.request(new URL('/account/password', stack.issuer), { method: 'POST',
    form: { csrf, current_password: carol.password, new_password: 'carol has a new password' } });
  assert.equal(ok.status, 200, ok.text_);
  assert.match(ok.text_, /role="status">Your password was changed\./);
  const after = sessionCookie(a.agent);
  assert.notEqual(after[1], before[1], 'a new session id after the change');
  await mail(carol.email, /password was changed/);
  assert.equal(indexedSessions(carol.subject), 1, 'only the renewed session is left in the index');

  // This browser continues; the other one, and this browser's old cookie, are refused.
  assert.equal((await a.agent.request(new URL('/', stack.issuer))).status, 200);
  assert.equal((await b.agent.request(new URL('/', stack.issuer))).status, 303);
  for (const c of [bCookie, before]) {
    const replay = new Agent();
    replay.cookies.set(c[0], c[1]);
    assert.equal((await replay.request(new URL('/', stack.issuer))).status, 303);
  }
  assert.equal((await portalSignIn(carol)).res.status, 401);
  assert.equal((await portalSignIn(carol, 'carol has a new password')).res.status, 303);
});

test('idpctl users invite: the link sets the first password, then the person signs in', async () => {
  const out = idpctl(stack, ['users', 'invite', '--username', 'dora', '--email', 'dora@example.test', '--name', 'Dora Doe']);
  assert.equal(out.username, 'dora');
  assert.equal(out.invited, true);
  const invite = await mail('dora@example.test', /You are invited/);
  assert.match(text(invite), /7 days/);
  const agent = new Agent();
  const link = linkIn(invite, stack.issuer);
  const { page, res } = await setPassword(agent, link, 'dora chose her own password');
  assert.match(page.text_, /<h1>Set your password<\/h1>/);
  assert.equal(res.status, 200);
  assert.match(res.text_, /<h1>Your password is set<\/h1>/);
  assert.equal((await portalSignIn({ username: 'dora' }, 'dora chose her own password')).res.status, 303);
  assert.throws(() => idpctl(stack, ['users', 'invite', '--username', 'dora', '--email', 'd2@example.test']));
});

test('forged or missing CSRF tokens are refused and change nothing', async () => {
  const agent = new Agent();
  const noCookie = await agent.request(new URL('/password/forgot', stack.issuer), { method: 'POST',
    form: { csrf: 'x'.repeat(43), username: erin.username } });
  assert.equal(noCookie.status, 403);

  await forgot(agent, erin.username);
  const m = await mail(erin.email, /Reset your/, 4);
  const link = linkIn(m, stack.issuer);
  const page = await agent.request(link);
  assert.equal(page.status, 200);
  const forged = await agent.request(new URL('/password/reset', stack.issuer), { method: 'POST',
    form: { csrf: 'A'.repeat(43), token: link.searchParams.get('token'), new_password: 'a forged new password' } });
  assert.equal(forged.status, 403);
  // Another browser (no cookie of ours) posting the right form: refused.
  const other = new Agent();
  const cross = await other.request(new URL('/password/reset', stack.issuer), { method: 'POST',
    form: { csrf: hiddenInput(page.text_, 'csrf'), token: link.searchParams.get('token'), new_password: 'a forged new password' } });
  assert.equal(cross.status, 403);
  assert.equal((await portalSignIn(erin, 'a forged new password')).res.status, 401);
  // The link still works for its owner.
  assert.equal((await agent.request(link)).status, 200);
});

test('an expired link is refused, and too many requests get 429 with Retry-After', async () => {
  const own = await startStack('e2e_password_ttl', { env: {
    ...smtpEnv(),
    IDP_AUTH_RESET_TTL: '2',
    IDP_GATEWAY_PASSWORD_RESET_PER_ADDRESS: '2',
  } });
  try {
    idpctl(own, ['users', 'create', '--username', 'fay', '--email', 'fay@example.test', '--password-stdin'], 'fay had an old password\n');
    const agent = new Agent();
    const page = await agent.request(new URL('/password/forgot', own.issuer));
    const csrf = hiddenInput(page.text_, 'csrf');
    const post = () => agent.request(new URL('/password/forgot', own.issuer), { method: 'POST', form: { csrf, username: 'fay' } });
    assert.equal((await post()).status, 200);
    const m = await mail('fay@example.test', /Reset your/);
    const found = text(m).match(/(https?:\/\/[^\s"<>]+\/password\/reset\?token=[A-Za-z0-9_-]+)/);
    const link = new URL(found[1]);
    await sleep(2500);
    const expired = await agent.request(link);
    assert.equal(expired.status, 410);
    assert.match(expired.text_, /This link does not work/);

    assert.equal((await post()).status, 200);
    const limited = await post();
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  } finally {
    await stopStack(own);
  }
});
