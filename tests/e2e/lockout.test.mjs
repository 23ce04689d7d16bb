// Account lockout end to end: failed sign-ins from several addresses lock the whole account
// (auth's counters, in PostgreSQL); the login page gives the same answer as for a wrong
// password; the person is told by email (real SMTP sink) how long the lock lasts; the lock is
// in the audit log; `idpctl users unlock` lifts it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';
import { startSmtpSink, smtpSinkEnv, waitFor, sleep } from './support/delivery.mjs';

let stack;
let sink;
const lou = { username: 'lou', email: 'lou@example.test', password: 'lou guards a long passphrase' };

before(async () => {
  sink = await startSmtpSink(await freePort());
  stack = await startStack('e2e_lockout', { env: {
    ...smtpSinkEnv(sink),
    // The test is the gateway's trusted proxy: X-Forwarded-For gives each try its own address.
    IDP_GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    IDP_AUTH_LOCKOUT_ACCOUNT_FAILURES: '4',
    IDP_AUTH_LOCKOUT_DURATION: '1200',
  } });
  idpctl(stack, ['users', 'create', '--username', lou.username, '--email', lou.email, '--email-verified',
    '--name', 'Lou Example', '--password-stdin'], `${lou.password}\n`);
});

after(async () => {
  if (stack) await stopStack(stack);
  await sink?.stop();
});

async function attempt(password, address) {
  const agent = new Agent();
  const headers = { 'x-forwarded-for': address };
  const start = await agent.request(new URL('/login', stack.issuer), { headers });
  const page = await agent.request(new URL(start.headers.get('location'), stack.issuer), { headers });
  return agent.request(new URL('/login', stack.issuer), { method: 'POST', headers, form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: lou.username, password } });
}

const mailsTo = (address) => sink.messages.filter((m) => (m.rcpt_tos ?? []).includes(address));
const text = (m) => m.parts.map((p) => p.content).join('\n');

test('failures from four addresses lock the account: same answer, an email, an audit row, idpctl unlocks', async () => {
  for (let i = 1; i <= 3; i++) {
    const res = await attempt(`wrong guess ${i}`, `198.51.100.${i}`);
    assert.equal(res.status, 401);
    assert.match(res.text_, /Invalid username or password\./);
  }
  await sleep(300);
  assert.equal(mailsTo(lou.email).length, 0, 'no email before the account locks');

  const locking = await attempt('wrong guess 4', '198.51.100.4');
  assert.equal(locking.status, 401);
  // Locked: the right password, from an address that never failed, gets the same answer.
  const refused = await attempt(lou.password, '192.0.2.50');
  assert.equal(refused.status, 401);
  assert.match(refused.text_, /Invalid username or password\./);
  assert.doesNotMatch(refused.text_, /locked/i);

  const mail = await waitFor(() => mailsTo(lou.email).find((m) => /locked/.test(m.subject ?? '')), 15000, 'the lockout email');
  assert.match(mail.subject, /account is locked for 20 minutes/);
  assert.match(text(mail), /many failed attempts to sign in/);
  assert.match(text(mail), /Forgot your password\?/);
  assert.doesNotMatch(text(mail), /https?:\/\//, 'the notice carries no link');
  await sleep(300);
  assert.equal(mailsTo(lou.email).length, 1, 'one email per lock, not one per refused try');

  const rows = idpctl(stack, ['audit', '--username', lou.username, '--event', 'account.locked']);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].service, 'auth');
  assert.equal(rows[0].source_address, '198.51.100.4');
  assert.equal(rows[0].detail.minutes, '20');
  const failures = idpctl(stack, ['audit', '--username', lou.username, '--event', 'signin.failure']);
  assert.equal(failures.length, 5);
  assert.ok(failures.some((r) => r.detail.reason === 'account_locked'));
  for (const r of [...rows, ...failures]) {
    assert.ok(!JSON.stringify(r).includes('wrong guess'), 'no typed password in the audit log');
    assert.ok(!JSON.stringify(r).includes(lou.password), 'no password in the audit log');
  }

  idpctl(stack, ['users', 'unlock', '--username', lou.username]);
  const after = await attempt(lou.password, '192.0.2.50');
  assert.equal(after.status, 303, 'unlocked: the right password works again');
  assert.equal(idpctl(stack, ['audit', '--username', lou.username, '--event', 'admin.account_unlocked']).length, 1);
});
