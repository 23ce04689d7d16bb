// Bad input to the delivery service: header injection (CR/LF) in addresses and display names,
// oversized values, invalid numbers and malformed requests are refused with INVALID_ARGUMENT and
// a message naming the field, and nothing is queued; non-ASCII display names are accepted (and
// encoded per RFC 2047, see delivery_smtp.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDelivery, newPrefix, dropPrefix, testRedis, outboxState, grpcStatus,
} from './support/delivery.mjs';

let d;
let prefix;
before(async () => {
  prefix = newPrefix('bad');
  // A provider that is never reached: nothing may be queued, so nothing is sent.
  d = await startDelivery('bad', {
    delivery: { key_prefix: prefix, email_provider: 'smtp', email_from: 'no-reply@idp.test',
      smtp_url: 'smtp://127.0.0.1:9', smtp_starttls: 'off', smtp_timeout: 2,
      sms_provider: 'twilio', sms_api_base: 'http://127.0.0.1:9', sms_account_sid: 'AC1',
      sms_auth_token: 't', sms_from: '+15005550006', sms_timeout: 2, claim_after: 5 },
  });
});
after(async () => {
  if (!d) return;
  assert.equal(await d.stop(), 0);
  d.client.close();
  dropPrefix(testRedis().port, prefix);
});

const email = (over) => ({ idempotency_key: 'k1', to_address: 'alice@example.org',
  template: 'TEMPLATE_SIGN_IN_CODE', code: '123456', ...over });
const sms = (over) => ({ idempotency_key: 'k1', to_number: '+31612345678',
  template: 'TEMPLATE_SIGN_IN_CODE', code: '123456', ...over });

async function refused(call, req, field) {
  await assert.rejects(call(req), (e) => {
    assert.equal(e.code, grpcStatus.INVALID_ARGUMENT, `${JSON.stringify(req).slice(0, 120)}: ${e.message}`);
    assert.match(e.details, new RegExp(field), e.details);
    return true;
  });
}

function nothingQueued() {
  const s = outboxState(testRedis().port, prefix);
  assert.equal(s.streamLength, 0, 'the outbox stream is empty');
  assert.deepEqual(s.messages, [], 'no message was stored');
}

test('CR/LF in addresses and display names is refused as header injection', async () => {
  const send = d.client.sendEmail;
  await refused(send, email({ to_address: 'alice@example.org\r\nBcc: victim@example.net' }), 'to_address must not contain CR or LF');
  await refused(send, email({ to_address: 'alice@example.org\nBcc: victim@example.net' }), 'to_address must not contain CR or LF');
  await refused(send, email({ to_name: 'Alice\r\nBcc: victim@example.net' }), 'to_name must not contain CR or LF');
  await refused(send, email({ to_name: 'Alice\nSubject: pwned' }), 'to_name must not contain CR or LF');
  await refused(send, email({ to_name: 'Alice\u0000' }), 'to_name must not contain control characters');
  await refused(send, email({ to_address: 'Alice <alice@example.org>' }), 'to_address');
  await refused(send, email({ to_address: 'a@example.org, b@example.org' }), 'to_address');
  await refused(send, email({ template: 'TEMPLATE_FACTOR_ADDED', code: '', factor_name: 'Phone\r\nBcc: x@y.z' }), 'factor_name must not contain CR or LF');
  nothingQueued();
});

test('oversized values are refused', async () => {
  const send = d.client.sendEmail;
  await refused(send, email({ to_name: 'x'.repeat(101) }), 'to_name is longer than 100');
  await refused(send, email({ to_address: `${'a'.repeat(64)}@${'b'.repeat(200)}.com` }), 'to_address');
  await refused(send, email({ code: '1'.repeat(100000) }), 'code must be 4-12');
  await refused(send, email({ idempotency_key: 'k'.repeat(129) }), 'idempotency_key is longer');
  await refused(send, email({ template: 'TEMPLATE_FACTOR_ADDED', code: '', factor_name: 'f'.repeat(65) }), 'factor_name is longer than 64');
  await refused(send, email({ code_valid_for: { seconds: 7200 } }), 'code_valid_for');
  nothingQueued();
});

test('invalid numbers are refused', async () => {
  const send = d.client.sendSms;
  for (const n of ['', '0612345678', '+31 6 1234 5678', '+31-612345678', '+1234567',
    '+1234567890123456', '+0612345678', '+3161234567x', '+31612345678\r\n', '٣١٦١٢٣٤٥٦٧٨']) {
    await refused(send, sms({ to_number: n }), 'to_number');
  }
  nothingQueued();
});

test('malformed requests name the missing or wrong field', async () => {
  await refused(d.client.sendEmail, email({ idempotency_key: '' }), 'idempotency_key is required');
  await refused(d.client.sendEmail, email({ idempotency_key: 'bad key' }), 'idempotency_key may hold');
  await refused(d.client.sendEmail, email({ template: 'TEMPLATE_UNSPECIFIED' }), 'template is required');
  await refused(d.client.sendEmail, email({ code: '' }), 'code must be 4-12');
  await refused(d.client.sendEmail, email({ code: '12 34' }), 'code must be 4-12');
  await refused(d.client.sendEmail, email({ template: 'TEMPLATE_FACTOR_REMOVED' }), 'code is not used');
  await refused(d.client.sendSms, sms({ template: 'TEMPLATE_FACTOR_ADDED', code: '' }), 'factor_name is required');
  await refused(d.client.getStatus, { message_id: '' }, 'message_id is required');
  await refused(d.client.getStatus, { message_id: '../../etc' }, 'message_id is malformed');
  await assert.rejects(d.client.getStatus({ message_id: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    (e) => e.code === grpcStatus.NOT_FOUND);
  nothingQueued();
});

test('a non-ASCII display name is accepted', async () => {
  const r = await d.client.sendEmail(email({ idempotency_key: 'utf8', to_name: 'Zoë Ångström 山田 🙂' }));
  assert.equal(r.refusal, 'REFUSAL_UNSPECIFIED');
  assert.ok(r.message_id);
});
