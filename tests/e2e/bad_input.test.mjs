// Bad input: malformed HTTP, oversized headers and bodies, invalid UTF-8, unknown parameters,
// return addresses slipped into the query. Each gets a clear 4xx (or is ignored) and the gateway
// keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let stack;
before(async () => { stack = await startStack('e2e_bad'); });
after(async () => { if (stack) await stopStack(stack); });

/** Sends raw bytes and returns the status line's code (or null when the connection closes). */
function raw(port, payload) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('end', () => resolve(data));
    sock.on('close', () => resolve(data));
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? resolve(data) : reject(e)));
    sock.setTimeout(5000, () => { sock.destroy(); resolve(data); });
    sock.write(payload);
  });
}

async function stillServing() {
  const r = await fetch(`${stack.issuer}/healthz`);
  assert.equal(r.status, 200);
}

test('malformed HTTP gets 400 and the gateway keeps serving', async () => {
  const reply = await raw(stack.ports.gateway, 'HELLO THERE\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400/);
  await stillServing();
});

test('oversized headers get 431', async () => {
  const reply = await raw(stack.ports.gateway,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
  assert.match(reply, /^HTTP\/1\.1 431/);
  await stillServing();
});

test('an oversized body gets 413', async () => {
  const body = 'a='.padEnd(70 * 1024, 'b');
  const res = await fetch(`${stack.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body,
  }).catch(() => null);
  if (res) assert.equal(res.status, 413);
  await stillServing();
});

test('an oversized query string gets 414', async () => {
  const res = await fetch(`${stack.issuer}/authorize?state=${'a'.repeat(9000)}`);
  assert.equal(res.status, 414);
  await stillServing();
});

test('invalid UTF-8 and bad percent-encoding get 400', async () => {
  for (const q of ['client_id=%C3%28', 'client_id=%ZZ', 'state=%']) {
    const res = await fetch(`${stack.issuer}/authorize?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 400, q);
    assert.equal(res.headers.get('location'), null);
  }
  const res = await fetch(`${stack.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=%FF',
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_request');
  await stillServing();
});

test('unknown paths get a 404 page and unknown methods 405', async () => {
  const res = await fetch(`${stack.issuer}/nope`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /role="alert"/);
  const del = await fetch(`${stack.issuer}/authorize`, { method: 'DELETE' });
  assert.equal(del.status, 405);
});

test('no open redirect: a return address in the query is ignored, the portal is where a sign-in lands', async () => {
  idpctl(stack, ['users', 'create', '--username', 'rory', '--password-stdin'], 'rory has a long password\n');
  for (const query of ['return=https://evil.example/', 'return_to=//evil.example/x', 'next=https:%2F%2Fevil.example',
    'redirect_uri=https://evil.example/cb', 'continue=/\\evil.example']) {
    const agent = new Agent();
    const start = await agent.request(new URL(`/login?${query}`, stack.issuer));
    assert.equal(start.status, 303);
    assert.ok(!start.headers.get('location').includes('evil'), `${query}: ${start.headers.get('location')}`);
    const page = await agent.request(new URL(start.headers.get('location'), stack.issuer));
    assert.equal(page.status, 200);
    const done = await agent.request(new URL('/login', stack.issuer), { method: 'POST', form: {
      flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: 'rory', password: 'rory has a long password' } });
    assert.equal(done.status, 303);
    const landed = new URL(done.headers.get('location'), stack.issuer);
    assert.equal(landed.origin, stack.issuer, `${query}: sent to ${landed}`);
    assert.equal(landed.pathname, '/');
  }
  await stillServing();
});
