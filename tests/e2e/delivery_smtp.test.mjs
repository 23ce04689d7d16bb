// Email delivery against a real SMTP server on loopback (aiosmtpd): the message arrives and
// parses as valid MIME with the code; STARTTLS + AUTH and implicit TLS work; a permanent 5xx
// fails at once; an SMTP server that is down when the code is sent and starts 10 s later still
// gets the message, once; the file provider writes the message to disk.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/stack.mjs';
import {
  startDelivery, startSmtpSink, makeCert, waitFor, sleep, newPrefix, dropPrefix, testRedis,
} from './support/delivery.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const FROM = 'no-reply@idp.test';

async function deliveryFor(name, smtp, extra = {}) {
  const prefix = newPrefix(name);
  const d = await startDelivery(name, {
    delivery: {
      key_prefix: prefix,
      product_name: 'Identity Portal',
      email_provider: 'smtp',
      email_from: FROM,
      email_from_name: 'Identity Portal',
      smtp_url: smtp,
      smtp_starttls: 'off',
      smtp_timeout: 3,
      claim_after: 5,
      retry_base_ms: 500,
      retry_max_ms: 2000,
      max_attempts: 40,
      limit_destination: '',
      ...extra,
    },
  });
  cleanups.push(async () => {
    assert.equal(await d.stop(), 0, `idp-delivery ${name} exits 0 on SIGTERM`);
    d.client.close();
    dropPrefix(testRedis().port, prefix);
  });
  return d;
}

function signInCode(key, to, code, extra = {}) {
  return { idempotency_key: key, to_address: to, template: 'TEMPLATE_SIGN_IN_CODE', code, ...extra };
}

test('the message arrives over SMTP as valid MIME with the code', async () => {
  const port = await freePort();
  const sink = await startSmtpSink(port);
  cleanups.push(() => sink.stop());
  const d = await deliveryFor('smtp', `smtp://127.0.0.1:${port}`);

  const name = 'Zoë Ångström 山田';
  const sent = await d.client.sendEmail(signInCode('signin-1', 'zoe@example.org', '493817', {
    to_name: name, code_valid_for: { seconds: 300 },
  }));
  assert.equal(sent.refusal, 'REFUSAL_UNSPECIFIED');
  assert.equal(sent.replayed, false);
  assert.match(sent.message_id, /^[A-Za-z0-9_-]{22}$/);

  await sink.waitForCount(1, 10000);
  const m = sink.messages[0];
  assert.equal(m.parse_error, undefined);
  assert.deepEqual(m.defects, [], 'Python\'s strict email parser finds no defect');
  assert.equal(m.bare_lf, false, 'CRLF line ends only');
  assert.equal(m.mail_from, FROM);
  assert.deepEqual(m.rcpt_tos, ['zoe@example.org']);
  assert.equal(m.mime_version, '1.0');
  assert.equal(m.content_type, 'multipart/alternative');
  assert.equal(m.from, `Identity Portal <${FROM}>`);
  // RFC 2047: encoded on the wire, decoded by the parser to exactly the original name.
  assert.match(m.headers.To[0], /=\?UTF-8\?B\?/);
  assert.deepEqual(m.to, { display_name: name, addr_spec: 'zoe@example.org' });
  assert.equal(m.subject, 'Your Identity Portal sign-in code');
  assert.equal(m.message_id, `<${sent.message_id}@idp.test>`);
  assert.ok(Math.abs(Date.parse(m.date_parsed) - Date.now()) < 60000, 'Date is now');
  assert.deepEqual(m.headers['Auto-Submitted'], ['auto-generated']);
  const types = m.parts.map((p) => p.content_type);
  assert.deepEqual(types, ['text/plain', 'text/html']);
  for (const p of m.parts) {
    assert.equal(p.charset, 'utf-8');
    assert.equal(p.cte, 'quoted-printable');
    assert.match(p.content, /493817/);
    assert.match(p.content, /5 minutes/);
  }

  const st = await d.client.getStatus({ message_id: sent.message_id });
  assert.equal(st.state, 'MESSAGE_STATE_SENT');
  assert.equal(st.channel, 'CHANNEL_EMAIL');
  assert.equal(st.attempts, 1);
  assert.ok(st.sent_at && Number(st.sent_at.seconds) > 0);
  assert.ok(Number(st.queued_at.seconds) <= Number(st.sent_at.seconds));

  // A retried call with the same key sends nothing more.
  const again = await d.client.sendEmail(signInCode('signin-1', 'zoe@example.org', '493817', {
    to_name: name, code_valid_for: { seconds: 300 },
  }));
  assert.equal(again.replayed, true);
  assert.equal(again.message_id, sent.message_id);
  await sleep(1000);
  assert.equal(sink.messages.length, 1);

  // The code never reaches the log; the address only masked.
  const log = d.logText();
  assert.doesNotMatch(log, /493817/);
  assert.doesNotMatch(log, /zoe@example\.org/);
  assert.match(log, /z\*\*\*@example\.org/);
});

test('the factor templates arrive with the factor name', async () => {
  const port = await freePort();
  const sink = await startSmtpSink(port);
  cleanups.push(() => sink.stop());
  const d = await deliveryFor('factor', `smtp://127.0.0.1:${port}`);
  await d.client.sendEmail({ idempotency_key: 'f-add', to_address: 'a@example.org',
    template: 'TEMPLATE_FACTOR_ADDED', factor_name: 'Work <phone>' });
  await d.client.sendEmail({ idempotency_key: 'f-del', to_address: 'a@example.org',
    template: 'TEMPLATE_FACTOR_REMOVED', factor_name: 'Authenticator app' });
  await d.client.sendEmail({ idempotency_key: 'verify', to_address: 'a@example.org',
    template: 'TEMPLATE_VERIFY_ADDRESS', code: '771122' });
  await sink.waitForCount(3, 10000);
  const bySubject = Object.fromEntries(sink.messages.map((m) => [m.subject, m]));
  const added = bySubject['A sign-in method was added'];
  assert.ok(added);
  assert.match(added.parts[0].content, /"Work <phone>" was added to your Identity Portal account/);
  assert.match(added.parts[1].content, /Work &lt;phone&gt;/);
  assert.ok(bySubject['A sign-in method was removed']);
  assert.match(bySubject['Verify your email address for Identity Portal'].parts[0].content, /771122/);
  for (const m of sink.messages) assert.deepEqual(m.defects, []);
});

test('STARTTLS with AUTH and implicit TLS deliver over TLS', async () => {
  const tls = makeCert();
  cleanups.push(() => tls.remove());
  const p1 = await freePort();
  const starttls = await startSmtpSink(p1, { mode: 'starttls', cert: tls.cert, key: tls.key,
    user: 'mailer', password: 's3cret pass' });
  cleanups.push(() => starttls.stop());
  const p2 = await freePort();
  const implicit = await startSmtpSink(p2, { mode: 'tls', cert: tls.cert, key: tls.key,
    user: 'mailer', password: 's3cret pass' });
  cleanups.push(() => implicit.stop());

  const common = { smtp_username: 'mailer', smtp_password: 's3cret pass', smtp_ca_file: tls.cert };
  const a = await deliveryFor('starttls', `smtp://127.0.0.1:${p1}`, { ...common, smtp_starttls: 'required' });
  const b = await deliveryFor('smtps', `smtps://127.0.0.1:${p2}`, common);
  await a.client.sendEmail(signInCode('tls-1', 'bob@example.org', '111222'));
  await b.client.sendEmail(signInCode('tls-2', 'bob@example.org', '333444'));
  await starttls.waitForCount(1, 10000);
  await implicit.waitForCount(1, 10000);
  assert.equal(starttls.messages[0].tls, true);
  assert.equal(starttls.messages[0].auth_user, 'mailer');
  assert.match(starttls.messages[0].parts[0].content, /111222/);
  assert.equal(implicit.messages[0].tls, true);
  assert.equal(implicit.messages[0].auth_user, 'mailer');
  assert.match(implicit.messages[0].parts[0].content, /333444/);
  assert.doesNotMatch(a.logText(), /s3cret/);
});

test('a wrong SMTP password is retried, not given up on or sent in clear', async () => {
  const tls = makeCert();
  cleanups.push(() => tls.remove());
  const port = await freePort();
  const sink = await startSmtpSink(port, { mode: 'starttls', cert: tls.cert, key: tls.key,
    user: 'mailer', password: 'right' });
  cleanups.push(() => sink.stop());
  const d = await deliveryFor('badauth', `smtp://127.0.0.1:${port}`, {
    smtp_username: 'mailer', smtp_password: 'wrong', smtp_ca_file: tls.cert, smtp_starttls: 'required',
  });
  const sent = await d.client.sendEmail(signInCode('auth-1', 'c@example.org', '555666'));
  const st = await waitFor(async () => {
    const s = await d.client.getStatus({ message_id: sent.message_id });
    return s.state === 'MESSAGE_STATE_RETRYING' ? s : null;
  }, 10000, 'the message to be retrying');
  assert.equal(st.last_error, 'auth');
  assert.equal(sink.messages.length, 0);
});

test('a 550 for the recipient fails at once and is not retried', async () => {
  const port = await freePort();
  const sink = await startSmtpSink(port, { rejectRcpt: 'nobody' });
  cleanups.push(() => sink.stop());
  const d = await deliveryFor('reject', `smtp://127.0.0.1:${port}`);
  const sent = await d.client.sendEmail(signInCode('rej-1', 'nobody@example.org', '123123'));
  const st = await waitFor(async () => {
    const s = await d.client.getStatus({ message_id: sent.message_id });
    return s.state === 'MESSAGE_STATE_FAILED' ? s : null;
  }, 10000, 'the message to fail');
  assert.equal(st.attempts, 1);
  assert.equal(st.last_error, 'smtp_5xx');
  await sleep(1500);
  assert.equal((await d.client.getStatus({ message_id: sent.message_id })).attempts, 1);
});

test('SMTP server down when the code is sent and started 10 s later: the message arrives once', async () => {
  const port = await freePort();  // nothing listens here yet
  const d = await deliveryFor('down', `smtp://127.0.0.1:${port}`);
  const sent = await d.client.sendEmail(signInCode('down-1', 'dana@example.org', '808080'));
  const retrying = await waitFor(async () => {
    const s = await d.client.getStatus({ message_id: sent.message_id });
    return s.state === 'MESSAGE_STATE_RETRYING' ? s : null;
  }, 5000, 'the first attempt to fail');
  assert.equal(retrying.last_error, 'connect');
  assert.ok(retrying.next_attempt_at);

  await sleep(10000);
  const sink = await startSmtpSink(port);
  cleanups.push(() => sink.stop());
  await sink.waitForCount(1, 10000);
  await sleep(2500);  // time for a duplicate to show up, if there were one
  assert.equal(sink.messages.length, 1);
  assert.match(sink.messages[0].parts[0].content, /808080/);
  const st = await d.client.getStatus({ message_id: sent.message_id });
  assert.equal(st.state, 'MESSAGE_STATE_SENT');
  assert.ok(st.attempts >= 3, `attempts ${st.attempts}`);
  const metrics = (await d.client.getMetrics({})).text;
  assert.match(metrics, /idp_delivery_sent_total\{channel="email",country=""\} 1/);
  assert.match(metrics, /idp_delivery_retried_total\{channel="email",country=""\} [1-9]/);
});

test('the file provider writes each message under its directory', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'idp-outbox-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = newPrefix('file');
  const d = await startDelivery('file', {
    delivery: { key_prefix: prefix, email_provider: 'file', sms_provider: 'file', file_dir: dir,
      email_from: FROM, limit_destination: '' },
  });
  cleanups.push(async () => { await d.stop(); d.client.close(); dropPrefix(testRedis().port, prefix); });
  const e = await d.client.sendEmail(signInCode('file-1', 'eve@example.org', '246810'));
  const s = await d.client.sendSms({ idempotency_key: 'file-2', to_number: '+31612345678',
    template: 'TEMPLATE_SIGN_IN_CODE', code: '135790' });
  const files = await waitFor(() => {
    const f = readdirSync(dir).filter((n) => !n.startsWith('.'));
    return f.length === 2 ? f : null;
  }, 10000, 'two files');
  const eml = files.find((f) => f.endsWith(`-email-${e.message_id}.eml`));
  const txt = files.find((f) => f.endsWith(`-sms-${s.message_id}.txt`));
  assert.ok(eml && txt, files.join(','));
  assert.match(readFileSync(path.join(dir, eml), 'utf8'), /246810/);
  assert.match(readFileSync(path.join(dir, txt), 'utf8'), /^To: \+31612345678\n\n135790 is your/);
});
