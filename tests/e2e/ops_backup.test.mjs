// Backup and restore of PostgreSQL as docs/operations.md describes it: pg_dump of the running
// stack's database, the database lost, pg_restore into a new one, the services started again
// with the same master key: the account, the client and the signing keys are back, and a person
// signs in with tokens signed by the key from before.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, stopCluster, BACKENDS, idpctl } from './support/cluster.mjs';
import * as load from './support/load.mjs';

const TIMEOUT = 15000;
let cluster;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'idp-backup-'));

after(async () => {
  rmSync(tmp, { recursive: true, force: true });
  if (!cluster) return;
  const codes = await stopCluster(cluster);
  for (const [name, code] of Object.entries(codes)) assert.equal(code, 0, `${name} exited with ${code}`);
});

test('pg_dump, database lost, pg_restore, services restarted: accounts, clients and keys are back', async (t) => {
  cluster = await startCluster('ops_backup');
  const { user, app } = load.seed(cluster, 'backup');
  const gw = cluster.gateways[0];
  const config = await load.rpConfig(cluster, app, () => gw, TIMEOUT);
  const before = await load.signIn({ steps: [] }, { config, app, user, gwA: gw, gwB: gw, timeoutMs: TIMEOUT });
  const jwksBefore = await (await fetch(`${gw}/jwks`)).json();
  const kid = JSON.parse(Buffer.from(before.tokens.id_token.split('.')[0], 'base64url')).kid;

  // The backup: one consistent snapshot of the running database (custom format).
  const dsn = `postgresql://postgres@127.0.0.1:${cluster.pg.port}/idp`;
  const dump = path.join(tmp, 'idp.dump');
  const t0 = Date.now();
  execFileSync('pg_dump', ['--format=custom', `--file=${dump}`, dsn]);
  t.diagnostic(`pg_dump took ${Date.now() - t0} ms`);

  // Disaster: services stopped, the database dropped.
  const all = cluster.all();
  for (const p of [...cluster.procs.gateway, ...BACKENDS.flatMap((s) => cluster.procs[s])]) {
    assert.equal(await p.stop(), 0, `${p.name} stops cleanly`);
  }
  const admin = cluster.pg.admin;
  execFileSync('psql', [admin, '-qc', 'DROP DATABASE idp']);

  // The restore, into a new empty database, then the services with the same master key.
  execFileSync('psql', [admin, '-qc', 'CREATE DATABASE idp']);
  execFileSync('pg_restore', ['--exit-on-error', '--no-owner', `--dbname=${dsn}`, dump]);
  // Sessions, flows and codes in Redis refer to the lost state: delete them (docs/operations.md).
  const redis = ['-p', String(cluster.redis.port)];
  const stale = execFileSync('redis-cli', [...redis, '--scan', '--pattern', 'gw:*']).toString().split('\n').filter(Boolean)
    .concat(execFileSync('redis-cli', [...redis, '--scan', '--pattern', 'token:*']).toString().split('\n').filter(Boolean));
  if (stale.length) execFileSync('redis-cli', [...redis, 'del', ...stale]);
  t.diagnostic(`deleted ${stale.length} gw:/token: keys from Redis`);
  await Promise.all(BACKENDS.flatMap((s) => cluster.procs[s]).map((p) => p.start()));
  await Promise.all(BACKENDS.flatMap((s) => cluster.procs[s]).map((p) => p.waitReady()));
  await Promise.all(cluster.procs.gateway.map((p) => p.start()));
  await Promise.all(cluster.procs.gateway.map((p) => p.waitReady()));
  assert.equal(all.length, cluster.all().length);

  // Everything from before the backup is back: the same keys, the account, the client.
  const jwksAfter = await (await fetch(`${gw}/jwks`)).json();
  assert.deepEqual(jwksAfter.keys.map((k) => k.kid).sort(), jwksBefore.keys.map((k) => k.kid).sort(), 'the same signing keys');
  assert.ok(JSON.stringify(idpctl(cluster, ['users', 'list'])).includes(user.username), 'the account is back');
  assert.ok(JSON.stringify(idpctl(cluster, ['clients', 'list'])).includes(app.client_id), 'the client is back');
  const again = await load.signIn({ steps: [] }, { config, app, user, gwA: gw, gwB: gw, timeoutMs: TIMEOUT });
  assert.equal(again.tokens.claims().sub, before.tokens.claims().sub, 'the same person');
  assert.equal(JSON.parse(Buffer.from(again.tokens.id_token.split('.')[0], 'base64url')).kid, kid, 'signed by the restored key');
});
