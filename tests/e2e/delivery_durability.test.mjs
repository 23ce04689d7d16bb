// The outbox never loses a message: the delivery service killed (SIGKILL) with 100 messages in
// flight and restarted delivers every one (a duplicate only for a message the provider took in
// the instant before the kill; counted and reported); Redis killed and restarted with AOF
// persistence (appendonly yes, appendfsync always) while messages are queued loses none; two
// instances share 200 messages and deliver each exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from './support/stack.mjs';
import {
  startDelivery, startSmsStandIn, startSmtpSink, startOwnRedis, waitFor, sleep, newPrefix,
  dropPrefix, testRedis, codeOf, grpcStatus, outboxState,
} from './support/delivery.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const WORKERS = 4;

function smsConfig(prefix, standIn, extra = {}) {
  return {
    key_prefix: prefix,
    sms_provider: 'twilio',
    sms_api_base: standIn.url,
    sms_account_sid: 'ACdurable',
    sms_auth_token: 'token',
    sms_from: '+15005550006',
    sms_timeout: 2,
    sms_countries: ['NL'],
    workers: WORKERS,
    claim_after: 3,
    retry_base_ms: 200,
    retry_max_ms: 1000,
    max_attempts: 60,
    limit_destination: '',
    limit_country: '',
    sms_daily_budget: 0,
    ...extra,
  };
}

const code = (i) => String(100000 + i);
const number = (i) => `+316${String(10000000 + i)}`;

/** code -> how many times the provider accepted it. */
function acceptedCounts(standIn) {
  const counts = new Map();
  for (const r of standIn.accepted()) counts.set(codeOf(r.form.Body), (counts.get(codeOf(r.form.Body)) ?? 0) + 1);
  return counts;
}

test('SIGKILL with 100 messages in flight: after a restart every message arrives', async (t) => {
  // A slowish provider, so that the kill lands while messages are being sent.
  const standIn = await startSmsStandIn(() => ({ status: 201, delayMs: 40 }));
  cleanups.push(() => standIn.stop());
  const prefix = newPrefix('kill');
  const d = await startDelivery('kill', { delivery: smsConfig(prefix, standIn) });
  cleanups.push(async () => { await d.stop(); d.client.close(); dropPrefix(testRedis().port, prefix); });

  const ids = [];
  for (let i = 0; i < 100; i++) {
    const r = await d.client.sendSms({ idempotency_key: `kill-${i}`, to_number: number(i),
      template: 'TEMPLATE_SIGN_IN_CODE', code: code(i) });
    assert.equal(r.refusal, 'REFUSAL_UNSPECIFIED');
    ids.push(r.message_id);
  }
  await waitFor(() => standIn.accepted().length >= 15, 10000, '15 messages accepted');
  await d.kill();
  await sleep(300);  // requests the killed process had already sent are recorded by now
  const restartedAt = Date.now();
  t.diagnostic(`killed with ${standIn.accepted().length} accepted, ${standIn.requests.length} requests made, ${100 - standIn.accepted().length} to go`);
  assert.ok(standIn.accepted().length < 100, 'the kill came while messages were in flight');

  await d.start();
  // Done when every status says sent: entries held by the killed workers are claimed by the
  // new instance once idle for claim_after (3 s), and sent again.
  await waitFor(async () => {
    for (const id of ids) {
      if ((await d.client.getStatus({ message_id: id })).state !== 'MESSAGE_STATE_SENT') return false;
    }
    return true;
  }, 30000, 'all 100 messages sent', 200);
  await sleep(500);  // let any straggler show up
  const counts = acceptedCounts(standIn);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([c]) => c);
  const report = `duplicates after SIGKILL: ${duplicates.length} (${duplicates.join(', ') || 'none'})`;
  t.diagnostic(report);
  console.log(`# ${report}`);
  for (let i = 0; i < 100; i++) assert.ok(counts.get(code(i)) >= 1, `message ${i} arrived`);
  // A duplicate is only possible for a message the killed instance had already handed to the
  // provider (at most one per worker): its first copy came from the killed instance, before
  // the restart, and exactly one more after it.
  assert.ok(duplicates.length <= WORKERS, report);
  for (const c of duplicates) {
    const copies = standIn.accepted().filter((r) => codeOf(r.form.Body) === c);
    assert.equal(copies.length, 2, `duplicate ${c} was sent twice, not more`);
    assert.ok(copies[0].arrivedAt < restartedAt, `duplicate ${c} was in flight at the kill`);
    assert.ok(copies[1].arrivedAt > restartedAt, `duplicate ${c} was resent after the restart`);
  }
  const state = outboxState(testRedis().port, prefix);
  assert.equal(state.streamLength, 0, 'the outbox stream is empty');
});

test('Redis restarted (appendonly yes, appendfsync always) while messages are queued: none lost', async (t) => {
  const redis = await startOwnRedis({ fsync: 'always' });
  cleanups.push(async () => { await redis.kill(); redis.remove(); });
  let up = false;  // the provider is down until Redis has been restarted
  const standIn = await startSmsStandIn(() => ({ status: up ? 201 : 503 }));
  cleanups.push(() => standIn.stop());
  const prefix = newPrefix('redis');
  const d = await startDelivery('redis', { redisPort: redis.port, delivery: smsConfig(prefix, standIn) });
  cleanups.push(async () => { await d.stop(); d.client.close(); });

  const ids = [];
  for (let i = 0; i < 50; i++) {
    const r = await d.client.sendSms({ idempotency_key: `redis-${i}`, to_number: number(i),
      template: 'TEMPLATE_SIGN_IN_CODE', code: code(i) });
    ids.push(r.message_id);
  }
  await waitFor(() => standIn.requests.length >= 20, 10000, 'attempts against the failing provider');
  await redis.kill();  // SIGKILL: only what the AOF holds survives
  t.diagnostic(`Redis killed after ${standIn.requests.length} failed attempts`);

  // While Redis is down a send call fails cleanly (the caller retries with the same key).
  await assert.rejects(
    d.client.sendSms({ idempotency_key: 'redis-late', to_number: number(50),
      template: 'TEMPLATE_SIGN_IN_CODE', code: code(50) }),
    (e) => e.code === grpcStatus.UNAVAILABLE || e.code === grpcStatus.INTERNAL);
  await sleep(1000);
  await redis.start();
  up = true;
  const late = await waitFor(async () => {
    try {
      return await d.client.sendSms({ idempotency_key: 'redis-late', to_number: number(50),
        template: 'TEMPLATE_SIGN_IN_CODE', code: code(50) });
    } catch { return null; }
  }, 10000, 'the retried call to be taken');
  ids.push(late.message_id);

  await waitFor(() => acceptedCounts(standIn).size === 51, 30000, 'all 51 codes accepted', 100);
  await sleep(1000);
  const counts = acceptedCounts(standIn);
  for (let i = 0; i <= 50; i++) assert.equal(counts.get(code(i)), 1, `message ${i} exactly once`);
  for (const id of ids) {
    assert.equal((await d.client.getStatus({ message_id: id })).state, 'MESSAGE_STATE_SENT');
  }
  assert.equal(d.proc.exitCode, null, 'the delivery service survived the outage');
});

test('two delivery instances and 200 messages: each delivered exactly once', async (t) => {
  const port = await freePort();
  const sink = await startSmtpSink(port);
  cleanups.push(() => sink.stop());
  const prefix = newPrefix('two');
  const config = {
    key_prefix: prefix,
    email_provider: 'smtp',
    email_from: 'no-reply@idp.test',
    smtp_url: `smtp://127.0.0.1:${port}`,
    smtp_starttls: 'off',
    smtp_timeout: 3,
    workers: 3,
    claim_after: 5,
    limit_destination: '',
  };
  const a = await startDelivery('two-a', { delivery: config });
  const b = await startDelivery('two-b', { delivery: config, masterKey: a.masterKey });
  cleanups.push(async () => {
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    a.client.close();
    b.client.close();
    dropPrefix(testRedis().port, prefix);
  });

  const ids = new Set();
  // Eight callers at a time, half through each instance.
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let i = next++; i < 200; i = next++) {
      const via = i % 2 ? a : b;
      const r = await via.client.sendEmail({ idempotency_key: `two-${i}`, to_address: `u${i}@example.org`,
        template: 'TEMPLATE_SIGN_IN_CODE', code: code(i) });
      ids.add(r.message_id);
    }
  }));
  assert.equal(ids.size, 200);
  await sink.waitForCount(200, 60000);
  await sleep(1500);
  const seen = new Map();
  for (const m of sink.messages) seen.set(m.message_id, (seen.get(m.message_id) ?? 0) + 1);
  assert.equal(sink.messages.length, 200, 'no duplicates');
  for (const id of ids) assert.equal(seen.get(`<${id}@idp.test>`), 1, `message ${id} once`);
  const sentBy = async (d) => Number(((await d.client.getMetrics({})).text
    .match(/idp_delivery_sent_total\{channel="email",country=""\} (\d+)/) ?? [0, 0])[1]);
  const [na, nb] = [await sentBy(a), await sentBy(b)];
  t.diagnostic(`instance a sent ${na}, instance b sent ${nb}`);
  assert.equal(na + nb, 200);
  assert.ok(na > 0 && nb > 0, 'both instances did work');
});
