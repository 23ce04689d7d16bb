// SMS delivery through an HTTP provider stand-in shaped like Twilio's Messages API: the request
// shape (path, basic auth, form fields), 500 twice then 201 delivered once, 400 failed and not
// retried, failover to the second provider, and the SMS-pumping guards (supported countries,
// per-destination and per-country velocity, the daily budget), with metrics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDelivery, startSmsStandIn, waitFor, sleep, newPrefix, dropPrefix, testRedis, codeOf,
} from './support/delivery.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function deliveryFor(name, standIn, extra = {}) {
  const prefix = newPrefix(name);
  const d = await startDelivery(name, {
    delivery: {
      key_prefix: prefix,
      product_name: 'Identity Portal',
      sms_provider: 'twilio',
      sms_api_base: standIn.url,
      sms_account_sid: 'AC0123456789abcdef',
      sms_auth_token: 'token-secret',
      sms_from: '+15005550006',
      sms_timeout: 3,
      sms_countries: ['NL', 'BE', 'US'],
      claim_after: 5,
      retry_base_ms: 300,
      retry_max_ms: 1000,
      max_attempts: 6,
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

const sms = (key, to, code) => ({ idempotency_key: key, to_number: to, template: 'TEMPLATE_SIGN_IN_CODE', code });

async function waitState(d, id, state, ms = 10000) {
  return waitFor(async () => {
    const s = await d.client.getStatus({ message_id: id });
    return s.state === state ? s : null;
  }, ms, `message ${id} to be ${state}`);
}

test('SMS stand-in answering 500 twice then 201: delivered once', async () => {
  const standIn = await startSmsStandIn((req, n) => ({ status: n <= 2 ? 500 : 201 }));
  cleanups.push(() => standIn.stop());
  const d = await deliveryFor('sms500', standIn);
  const sent = await d.client.sendSms(sms('k-500', '+31612345678', '424242'));
  assert.equal(sent.refusal, 'REFUSAL_UNSPECIFIED');
  assert.equal(sent.country, 'NL');
  const st = await waitState(d, sent.message_id, 'MESSAGE_STATE_SENT');
  assert.equal(st.attempts, 3);
  assert.equal(st.channel, 'CHANNEL_SMS');
  await sleep(1500);  // a duplicate would show up by now
  assert.equal(standIn.requests.length, 3);
  assert.equal(standIn.accepted().length, 1);

  // Twilio's shape: form POST to the account's Messages.json with basic auth.
  for (const r of standIn.requests) {
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/2010-04-01/Accounts/AC0123456789abcdef/Messages.json');
    assert.equal(r.contentType, 'application/x-www-form-urlencoded');
    assert.equal(r.user, 'AC0123456789abcdef');
    assert.equal(r.password, 'token-secret');
    assert.equal(r.form.To, '+31612345678');
    assert.equal(r.form.From, '+15005550006');
    assert.match(r.form.Body, /^424242 is your Identity Portal sign-in code/);
  }
  const metrics = (await d.client.getMetrics({})).text;
  assert.match(metrics, /idp_delivery_sent_total\{channel="sms",country="NL"\} 1/);
  assert.match(metrics, /idp_delivery_retried_total\{channel="sms",country="NL"\} 2/);
  assert.match(metrics, /idp_delivery_provider_latency_seconds_count\{provider="twilio"\} 3/);
  assert.match(metrics, /idp_delivery_queue_depth\{queue="ready"\} 0/);
  const log = d.logText();
  assert.doesNotMatch(log, /424242/);
  assert.doesNotMatch(log, /\+31612345678/);
  assert.doesNotMatch(log, /token-secret/);
});

test('SMS stand-in answering 400: failed and not retried', async () => {
  const standIn = await startSmsStandIn(() => ({ status: 400,
    body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } }));
  cleanups.push(() => standIn.stop());
  const d = await deliveryFor('sms400', standIn);
  const sent = await d.client.sendSms(sms('k-400', '+31612345679', '515151'));
  const st = await waitState(d, sent.message_id, 'MESSAGE_STATE_FAILED');
  assert.equal(st.attempts, 1);
  assert.equal(st.last_error, 'http_400');
  await sleep(2000);
  assert.equal(standIn.requests.length, 1, 'no second try');
  const metrics = (await d.client.getMetrics({})).text;
  assert.match(metrics, /idp_delivery_failed_total\{channel="sms",country="NL"\} 1/);
  assert.match(metrics, /idp_delivery_queue_depth\{queue="dead"\} 1/);
});

test('a provider that keeps failing is replaced by the second provider', async () => {
  const primary = await startSmsStandIn(() => ({ status: 503 }));
  const fallback = await startSmsStandIn(() => ({ status: 201 }));
  cleanups.push(() => primary.stop(), () => fallback.stop());
  const d = await deliveryFor('fallback', primary, {
    sms_fallback_provider: 'twilio',
    sms_fallback_api_base: fallback.url,
    sms_fallback_account_sid: 'ACfallback',
    sms_fallback_auth_token: 'other-token',
    sms_fallback_from: '+15005550007',
    sms_breaker_failures: 2,
  });
  const ids = [];
  for (let i = 0; i < 4; i++) {
    ids.push((await d.client.sendSms(sms(`fb-${i}`, `+3161234500${i}`, `90000${i}`))).message_id);
  }
  for (const id of ids) await waitState(d, id, 'MESSAGE_STATE_SENT');
  const codes = fallback.accepted().map((r) => codeOf(r.form.Body)).sort();
  assert.deepEqual(codes, ['900000', '900001', '900002', '900003']);
  assert.equal(fallback.requests[0].user, 'ACfallback');
  assert.equal(fallback.requests[0].form.From, '+15005550007');
  // Once the breaker is open, messages skip the primary: it saw fewer than one try each.
  assert.ok(primary.requests.length <= 4, `primary tried ${primary.requests.length} times`);
});

test('SMS pumping guards: countries, velocity per destination and country, daily budget', async () => {
  const standIn = await startSmsStandIn(() => ({ status: 201 }));
  cleanups.push(() => standIn.stop());
  const d = await deliveryFor('guards', standIn, {
    limit_destination: '1/30s',
    limit_country: '3/1m',
    sms_daily_budget: 4,
  });
  // Outside the supported list (DE), premium rate (+1 900), and an unassigned code.
  for (const [n, country] of [['+4915112345678', 'DE'], ['+19005550143', ''], ['+88212345678', '']]) {
    const r = await d.client.sendSms(sms(`c-${n.slice(1)}`, n, '111111'));
    assert.equal(r.refusal, 'REFUSAL_UNSUPPORTED_COUNTRY', n);
    assert.equal(r.message_id, '');
    assert.equal(r.country, country);
  }
  const first = await d.client.sendSms(sms('v-1', '+31612000001', '222222'));
  assert.equal(first.refusal, 'REFUSAL_UNSPECIFIED');
  const second = await d.client.sendSms(sms('v-2', '+31612000001', '222223'));
  assert.equal(second.refusal, 'REFUSAL_DESTINATION_RATE_LIMITED');
  assert.equal(second.message_id, '');
  assert.ok(Number(second.retry_after.seconds) > 25 && Number(second.retry_after.seconds) <= 30);
  assert.equal((await d.client.sendSms(sms('v-3', '+31612000002', '333333'))).refusal, 'REFUSAL_UNSPECIFIED');
  assert.equal((await d.client.sendSms(sms('v-4', '+31612000003', '444444'))).refusal, 'REFUSAL_UNSPECIFIED');
  const fourthNl = await d.client.sendSms(sms('v-5', '+31612000004', '555555'));
  assert.equal(fourthNl.refusal, 'REFUSAL_COUNTRY_RATE_LIMITED');
  assert.equal((await d.client.sendSms(sms('v-6', '+32470000001', '666666'))).refusal, 'REFUSAL_UNSPECIFIED');
  const overBudget = await d.client.sendSms(sms('v-7', '+12025550143', '777777'));
  assert.equal(overBudget.refusal, 'REFUSAL_DAILY_BUDGET_EXHAUSTED');
  assert.ok(Number(overBudget.retry_after.seconds) <= 86400);
  await waitFor(() => standIn.accepted().length === 4, 10000, 'four SMS');
  await sleep(500);
  assert.equal(standIn.requests.length, 4, 'refused messages were never sent');
  const metrics = (await d.client.getMetrics({})).text;
  assert.match(metrics, /idp_delivery_refused_total\{channel="sms",reason="unsupported_country"\} 3/);
  assert.match(metrics, /idp_delivery_refused_total\{channel="sms",reason="destination_rate_limited"\} 1/);
  assert.match(metrics, /idp_delivery_refused_total\{channel="sms",reason="country_rate_limited"\} 1/);
  assert.match(metrics, /idp_delivery_refused_total\{channel="sms",reason="daily_budget_exhausted"\} 1/);
  assert.match(metrics, /idp_delivery_sent_total\{channel="sms",country="BE"\} 1/);
});

test('a channel without a provider refuses instead of queueing', async () => {
  const standIn = await startSmsStandIn(() => ({ status: 201 }));
  cleanups.push(() => standIn.stop());
  const d = await deliveryFor('noemail', standIn);
  const r = await d.client.sendEmail({ idempotency_key: 'e', to_address: 'a@example.org',
    template: 'TEMPLATE_SIGN_IN_CODE', code: '123456' });
  assert.equal(r.refusal, 'REFUSAL_CHANNEL_DISABLED');
  assert.equal(r.message_id, '');
});
