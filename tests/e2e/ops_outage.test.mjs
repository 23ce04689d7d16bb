// PostgreSQL, then Redis, stopped for 10 s while a bounded stream of requests runs (sign-ins of
// new browsers, SSO authorizations with token requests, UserInfo): every request in the window
// either works or fails clearly (a 503 page, OAuth JSON temporarily_unavailable, or the
// authorization error redirect temporarily_unavailable), none hangs, no service crashes, and
// after the server is back everything works again with nothing lost (the SSO session, the
// account and the client made before the outage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, sleep, crashLines, idpctl } from './support/cluster.mjs';
import * as load from './support/load.mjs';

const OUTAGE_MS = 10000;
const TIMEOUT = 15000;  // per HTTP request; anything near it is a hang
const HANG_MS = 8000;   // no request may take longer, outage or not (deadlines inside are 3 s)
const GRACE_MS = 5000;  // after the server is back, every request started later must succeed
let cluster;
let seeded;

before(async () => {
  cluster = await startCluster('ops_outage');
  seeded = load.seed(cluster, 'outage');
});

after(async () => {
  if (!cluster) return;
  const codes = await stopCluster(cluster);
  for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} exited with ${code}`);
});

/** Runs the stream around `stop()` ... OUTAGE_MS ... `start()` and checks what the issue asks. */
async function outage(t, what, stop, start) {
  const { user, app } = seeded;
  const gw = cluster.gateways[0];
  const config = await load.rpConfig(cluster, app, () => gw, TIMEOUT);
  // Made before the outage: a browser with an SSO session and its access token.
  const keeper = await load.signIn({ steps: [] }, { config, app, user, gwA: gw, gwB: gw, timeoutMs: TIMEOUT });

  const t0 = Date.now();
  const marks = {};
  let done = false;
  const readyz = [];
  const poller = (async () => {
    while (!done) {
      const s = Date.now() - t0;
      let status;
      try { status = (await fetch(`${gw}/readyz`, { signal: AbortSignal.timeout(5000) })).status; } catch (e) { status = e.name; }
      if (readyz.at(-1)?.status !== status) readyz.push({ t: s, status });
      await sleep(250);
    }
  })();
  const chaos = (async () => {
    await sleep(2000);
    marks.stop0 = Date.now() - t0;
    await stop();
    marks.stop1 = Date.now() - t0;
    await sleep(OUTAGE_MS);
    marks.start0 = Date.now() - t0;
    await start();
    marks.start1 = Date.now() - t0;
  })();

  const kinds = ['sign-in', 'sso+token', 'userinfo'];
  const records = await load.stream({
    concurrency: 3, max: 1500, minMs: 60,
    until: () => (marks.start1 !== undefined && Date.now() - t0 > marks.start1 + GRACE_MS + 3000) || Date.now() - t0 > 60000,
    fn: async (rec, i) => {
      rec.kind = kinds[i % kinds.length];
      if (rec.kind === 'sign-in') {
        await load.signIn(rec, { config, app, user, gwA: gw, gwB: gw, timeoutMs: TIMEOUT });
      } else if (rec.kind === 'sso+token') {
        await load.ssoAuthorize(rec, { agent: keeper.agent, config, app, gw });
      } else {
        await load.fetchStep(rec, 'userinfo', `${gw}/userinfo`,
          { headers: { authorization: `Bearer ${keeper.tokens.access_token}` }, timeoutMs: TIMEOUT });
      }
    },
  });
  await chaos;
  done = true;
  await poller;

  // One outcome that is neither success nor a 503, seen at Redis's return: the gateway reads the
  // SSO session, Redis is not back yet, so it counts as no session (by design, context.hpp
  // CurrentSession); a millisecond later the sign-in flow is written, Redis is back, and the
  // browser goes to the login page instead of straight back with a code. The session is not
  // lost (checked below). Allowed only at the restart edge, counted, and reported.
  const loginInsteadOfSso = (r) => !r.ok && r.error.step === 'sso authorize' && r.error.status === 303 &&
    new URL(r.error.location, gw).pathname === '/login';
  const how = (r) => load.clearFailure(r.error) ??
    (loginInsteadOfSso(r) ? 'login page instead of an SSO code (session read failed)' : null);
  const atRestartEdge = (r) => r.end >= marks.start0 && r.t <= marks.start1 + 1000;

  // The report: what an operator's users saw, phase by phase.
  const phase = (r) => (r.end <= marks.stop0 ? 'before'
    : r.t >= marks.stop1 && r.end <= marks.start0 ? 'during'
      : r.t >= marks.start1 + GRACE_MS ? 'after' : 'edge');
  const tally = {};
  for (const r of records) {
    const key = `${phase(r)} ${r.kind}`;
    tally[key] ??= { ok: 0, failed: 0, how: {} };
    if (r.ok) tally[key].ok += 1;
    else {
      tally[key].failed += 1;
      const label = `${r.error.step}: ${how(r) ?? `UNCLEAR ${r.error.status ?? ''} ${r.error.error ?? ''}`}`;
      tally[key].how[label] = (tally[key].how[label] ?? 0) + 1;
    }
  }
  const steps = records.flatMap((r) => r.steps);
  const slowest = steps.reduce((m, s) => (s.ms > m.ms ? s : m), { ms: 0 });
  const firstOkAfter = records.filter((r) => r.ok && r.t >= marks.start1).map((r) => r.t)[0];
  const lastBad = records.filter((r) => !r.ok).map((r) => r.end).at(-1);
  t.diagnostic(`${what}: stop ${marks.stop0}-${marks.stop1} ms, start ${marks.start0}-${marks.start1} ms; ${records.length} operations, ${steps.length} HTTP requests`);
  for (const [k, v] of Object.entries(tally).sort()) t.diagnostic(`  ${k}: ${v.ok} ok, ${v.failed} failed ${JSON.stringify(v.how)}`);
  t.diagnostic(`  slowest request: ${slowest.step} ${slowest.ms} ms (status ${slowest.status ?? slowest.error})`);
  t.diagnostic(`  first success after the restart at ${firstOkAfter} ms; last failure ended at ${lastBad} ms`);
  t.diagnostic(`  /readyz: ${readyz.map((r) => `${r.t} ms ${r.status}`).join(' -> ')}`);

  const unclear = records.filter((r) => !r.ok && !load.clearFailure(r.error) && !(loginInsteadOfSso(r) && atRestartEdge(r)));
  assert.equal(records.filter((r) => phase(r) === 'before' && !r.ok).length, 0, 'everything works before the outage');
  assert.ok(records.some((r) => phase(r) === 'during' && !r.ok), `nothing failed while ${what} was down: was it?`);
  assert.deepEqual(unclear.slice(0, 5).map((r) => ({ kind: r.kind, t: r.t, error: r.error })), [],
    'every failure is a clear 503 / temporarily_unavailable');
  assert.ok(slowest.ms < HANG_MS, `a request took ${slowest.ms} ms (${slowest.step}): a hang`);
  const afterGrace = records.filter((r) => phase(r) === 'after');
  assert.ok(afterGrace.length >= 10, `only ${afterGrace.length} operations ran after the restart`);
  assert.deepEqual(afterGrace.filter((r) => !r.ok).map((r) => ({ kind: r.kind, t: r.t, error: r.error })), [],
    `everything works again ${GRACE_MS} ms after ${what} is back`);
  for (const p of cluster.all()) {
    assert.ok(p.running, `${p.name} still runs (exit: ${p.running ? '' : await p.exit})`);
    assert.deepEqual(crashLines(p), [], `${p.name} logged no crash`);
  }
  assert.equal(readyz.at(-1).status, 200, '/readyz is 200 again');

  // Nothing lost: the session, the account and the client from before the outage.
  const rec = { steps: [] };
  const again = await load.ssoAuthorize(rec, { agent: keeper.agent, config, app, gw });
  assert.equal(again.claims().auth_time, keeper.tokens.claims().auth_time, 'the SSO session from before the outage lives');
  assert.ok(idpctl(cluster, ['users', 'list']).some?.((u) => u.username === user.username)
    ?? JSON.stringify(idpctl(cluster, ['users', 'list'])).includes(user.username));
  return { records, readyz, marks };
}

test('PostgreSQL stopped for 10 s during a stream of requests: clear 503s, no hang, full recovery', async (t) => {
  await outage(t, 'PostgreSQL', () => cluster.pg.stop(), () => cluster.pg.start());
});

test('Redis stopped for 10 s during a stream of requests: clear 503s, no hang, full recovery', async (t) => {
  await outage(t, 'Redis', () => cluster.redis.stop(), () => cluster.redis.start());
});
