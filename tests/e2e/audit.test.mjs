// The audit log end to end: a person's sign-ins, second factors, recovery code, refresh-token
// reuse and an administrator's unlock each leave a row (in auth, mfa or token's own table),
// with the browser's address and user agent as the gateway saw them; `idpctl audit` merges the
// three by time; no row holds the password, a code or a token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { discover, authorizationUrl, signIn, exchange } from './support/oidc.mjs';

let stack;
let app;
const user = { username: 'audra', password: 'audra keeps a long passphrase 42' };
const wrongPassword = 'not audras passphrase 17';
// The test is the gateway's trusted proxy: X-Forwarded-For names the browser's address.
const ADDRESS = '203.0.113.77';
const USER_AGENT = 'AuditBrowser/3.1 (e2e; audit test)';
const RP_ADDRESS = '198.51.100.23';
const RP_AGENT = 'AuditRelyingParty/1.0';
const browserHeaders = { 'user-agent': USER_AGENT, 'x-forwarded-for': ADDRESS };

/** An Agent that always sends the browser's user agent and (through the proxy) address. */
class Browser extends Agent {
  request(url, options = {}) {
    return super.request(url, { ...options, headers: { ...browserHeaders, ...(options.headers ?? {}) } });
  }
}

before(async () => {
  stack = await startStack('e2e_audit', { env: { IDP_GATEWAY_TRUSTED_PROXIES: '127.0.0.1' } });
  idpctl(stack, ['users', 'create', '--username', user.username, '--password-stdin'], `${user.password}\n`);
  app = idpctl(stack, ['clients', 'add', '--id', 'audit-app', '--name', 'Audit App',
    '--redirect-uri', 'http://127.0.0.1:9/audit-app/cb']);
});

after(async () => { if (stack) await stopStack(stack); });

function oathtool(secret, at) {
  return execFileSync('oathtool', ['--totp', '-b', `--now=@${Math.floor(at)}`, secret]).toString().trim();
}

async function portalLogin(agent, password) {
  const start = await agent.request(new URL('/', stack.issuer));
  const toLogin = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  const loginUrl = toLogin.status === 303 ? new URL(toLogin.headers.get('location'), stack.issuer) : new URL('/login', stack.issuer);
  return signIn(stack, agent, loginUrl, user.username, password);
}

/** An authorization that stops at /mfa after the password; returns what the RP keeps. */
async function toMfa(extra = {}) {
  const agent = new Browser();
  const config = await discover(stack, app);
  const a = await authorizationUrl(config, app, extra);
  const toLogin = await agent.request(a.url);
  const res = await signIn(stack, agent, new URL(toLogin.headers.get('location'), stack.issuer), user.username, user.password);
  assert.equal(res.status, 303);
  const mfaUrl = new URL(res.headers.get('location'), stack.issuer);
  assert.equal(mfaUrl.pathname, '/mfa');
  return { agent, config, a, mfaUrl };
}

function submitCode(agent, page, code, method = 'totp') {
  return agent.request(new URL('/mfa', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), method, code } });
}

/** A refresh-token grant posted as the RP's server would (its own address and user agent). */
async function refresh(refreshToken) {
  const basic = Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret)}`).toString('base64');
  const res = await fetch(new URL('/token', stack.issuer), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded',
      'user-agent': RP_AGENT, 'x-forwarded-for': RP_ADDRESS },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

test('each security event leaves one audit row with its origin and without secrets', async () => {
  const secrets = [user.password, wrongPassword];

  // A failed, then a successful sign-in at the portal.
  const portal = new Browser();
  assert.equal((await portalLogin(portal, wrongPassword)).status, 401);
  assert.equal((await portalLogin(new Browser(), user.password)).status, 303);
  const signedIn = new Browser();
  assert.equal((await portalLogin(signedIn, user.password)).status, 303);

  // An authenticator app added on the account page, and recovery codes.
  const page = await signedIn.request(new URL('/account/mfa', stack.issuer));
  const csrf = hiddenInput(page.text_, 'csrf');
  const setup = await signedIn.request(new URL('/account/mfa/totp', stack.issuer), { method: 'POST', form: { csrf } });
  const secret = setup.text_.match(/<code class="secret" aria-labelledby="secret-label">([A-Z2-7]+)<\/code>/)[1];
  const factorId = hiddenInput(setup.text_, 'factor_id');
  const at = Date.now() / 1000;
  const enrolCode = oathtool(secret, at);
  secrets.push(secret, enrolCode);
  const ok = await signedIn.request(new URL('/account/mfa/totp/confirm', stack.issuer), {
    method: 'POST', form: { csrf, factor_id: factorId, code: enrolCode } });
  assert.match(ok.text_, /Your authenticator app is set up\./);
  const recovery = [...ok.text_.matchAll(/<li><code>([a-z2-7]{5}-[a-z2-7]{5})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(recovery.length, 10);
  secrets.push(...recovery);

  // A wrong code, then the right one; the tokens include a refresh token.
  const first = await toMfa({ scope: 'openid offline_access' });
  const mfaPage = await first.agent.request(first.mfaUrl);
  const wrongCode = oathtool(secret, at - 300);
  secrets.push(wrongCode);
  assert.equal((await submitCode(first.agent, mfaPage, wrongCode)).status, 401);
  const goodCode = oathtool(secret, at + 30);
  secrets.push(goodCode);
  const verified = await submitCode(first.agent, mfaPage, goodCode);
  assert.equal(verified.status, 303);
  const tokens = await exchange(first.config, { ...first.a, callback: new URL(verified.headers.get('location')) });
  assert.ok(tokens.refresh_token);
  secrets.push(tokens.refresh_token, tokens.access_token, tokens.id_token);

  // The refresh token used twice: the second use is reuse (the grant is revoked).
  const rotated = await refresh(tokens.refresh_token);
  assert.equal(rotated.status, 200);
  secrets.push(rotated.body.refresh_token, rotated.body.access_token, rotated.body.id_token);
  const reused = await refresh(tokens.refresh_token);
  assert.equal(reused.status, 400);
  assert.equal(reused.body.error, 'invalid_grant');

  // A recovery code instead of the app.
  const second = await toMfa();
  const recoveryPage = await second.agent.request(new URL(second.mfaUrl.href + '&method=recovery'));
  assert.equal((await submitCode(second.agent, recoveryPage, recovery[0], 'recovery')).status, 303);

  // The app removed on the account page.
  const removed = await signedIn.request(new URL('/account/mfa/remove', stack.issuer), {
    method: 'POST', form: { csrf, factor_id: factorId } });
  assert.match(removed.text_, /The method was removed\./);

  // The help desk unlocks the account.
  assert.equal(idpctl(stack, ['users', 'unlock', '--username', user.username]).unlocked, true);

  const out = execFileSync(new URL('../../build/tools/idpctl/idpctl', import.meta.url).pathname,
    ['--json', 'audit', '--username', user.username, '--since', '1h'],
    { env: { ...process.env, IDP_CONFIG: stack.configPath } }).toString();
  const rows = JSON.parse(out);
  const subject = idpctl(stack, ['users', 'list']).find((u) => u.username === user.username).subject;

  // Oldest first, every row about this person.
  const times = rows.map((r) => Date.parse(r.time));
  assert.deepEqual(times, [...times].sort((x, y) => x - y), 'merged by time');
  for (const r of rows) assert.equal(r.subject, subject);

  const find = (event, pred = () => true) => {
    const found = rows.filter((r) => r.event === event && pred(r));
    assert.ok(found.length > 0, `a ${event} row in ${JSON.stringify(rows.map((r) => r.event))}`);
    return found;
  };
  const fromBrowser = (r) => {
    assert.equal(r.source_address, ADDRESS, `${r.event}: source address`);
    assert.equal(r.user_agent, USER_AGENT, `${r.event}: user agent`);
  };
  const failure = find('signin.failure');
  assert.equal(failure[0].service, 'auth');
  assert.equal(failure[0].detail.reason, 'wrong_password');
  failure.forEach(fromBrowser);
  const successes = find('signin.success');
  assert.ok(successes.length >= 4, 'two portal sign-ins and two authorizations');
  successes.forEach(fromBrowser);
  const mfaFailure = find('mfa.failure');
  assert.equal(mfaFailure[0].service, 'mfa');
  assert.equal(mfaFailure[0].detail.reason, 'wrong_code');
  mfaFailure.forEach(fromBrowser);
  const mfaSuccess = find('mfa.success', (r) => r.detail.method === 'totp');
  mfaSuccess.forEach(fromBrowser);
  // The client the browser was signing in to travels with the sign-in's calls.
  assert.equal(mfaSuccess[0].client_id, app.client_id);
  assert.equal(mfaFailure[0].client_id, app.client_id);
  assert.ok(successes.some((r) => r.client_id === app.client_id), 'an authorization names its client');
  assert.ok(successes.some((r) => r.client_id === ''), 'a portal sign-in has no client');
  find('mfa.success', (r) => r.detail.method === 'recovery_code').forEach(fromBrowser);
  const added = find('mfa.factor_added');
  assert.equal(added[0].detail.type, 'totp');
  assert.equal(added[0].detail.factor_id, factorId);
  added.forEach(fromBrowser);
  find('mfa.recovery_codes_generated').forEach(fromBrowser);
  const used = find('mfa.recovery_code_used');
  assert.equal(used[0].detail.codes_left, '9');
  used.forEach(fromBrowser);
  find('mfa.factor_removed', (r) => r.detail.factor_id === factorId).forEach(fromBrowser);
  const reuse = find('refresh_token.reuse_detected');
  assert.equal(reuse.length, 1);
  assert.equal(reuse[0].service, 'token');
  assert.equal(reuse[0].client_id, app.client_id);
  assert.equal(reuse[0].source_address, RP_ADDRESS);
  assert.equal(reuse[0].user_agent, RP_AGENT);
  const unlock = find('admin.account_unlocked');
  assert.equal(unlock[0].service, 'auth');
  assert.equal(unlock[0].source_address, '', 'idpctl runs on the operator side');
  assert.match(unlock[0].user_agent, /^idpctl \(/);
  // The event filter, exact and by prefix.
  const onlyMfa = idpctl(stack, ['audit', '--username', user.username, '--event', 'mfa.']);
  assert.ok(onlyMfa.length >= 6 && onlyMfa.every((r) => r.event.startsWith('mfa.')));
  const onlyReuse = idpctl(stack, ['audit', '--subject', subject, '--event', 'refresh_token.reuse_detected']);
  assert.equal(onlyReuse.length, 1);
  assert.equal(idpctl(stack, ['audit', '--username', user.username, '--limit', '2']).length, 2);

  // Never a secret: no password, seed, code, recovery code or token anywhere in the log.
  const everything = execFileSync(new URL('../../build/tools/idpctl/idpctl', import.meta.url).pathname,
    ['--json', 'audit', '--limit', '1000'], { env: { ...process.env, IDP_CONFIG: stack.configPath } }).toString();
  for (const s of secrets) {
    assert.ok(s && s.length >= 6);
    assert.ok(!everything.includes(s), `a secret (${s.length} chars) is in the audit log`);
    assert.ok(!everything.includes(s.replace('-', '')), 'a recovery code without its dash');
  }
});

test('the audit table refuses UPDATE and DELETE, even to the service itself', async () => {
  const psql = (sql) => execFileSync('psql', [stack.dsn, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
    { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const schemas = ['auth', 'mfa', 'token'];
  for (const schema of schemas) {
    for (const sql of [`UPDATE ${schema}.audit SET subject = 'x'`, `DELETE FROM ${schema}.audit`, `TRUNCATE ${schema}.audit`]) {
      assert.throws(() => psql(sql), /append-only/, sql);
    }
  }
});
