// Profiles one scenario on our stack with valgrind's callgrind: the services named run under
// callgrind, the driver plays the scenario at a low load for a fixed number of operations, and
// callgrind_annotate's top entries, per operation, go to bench/results/profile-<scenario>-<date>.md.
// (This machine's perf has no hardware counters: `perf stat -e instructions true` prints
// "<not supported>", so instruction counts come from callgrind.)
// Run by `bash bench/run.sh profile [scenario]` (default code-es256); docs/benchmarks.md reads it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startOurs, seedOurs, stopProcs } from './support/stack.mjs';
import { SCENARIOS, REDIRECT, PASSWORD, USERS, MFA_USERS, APPS_PER_USER, driverArgs } from './support/scenarios.mjs';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const need = (n) => {
  if (!process.env[n]) throw new Error(`${n} is not set: run through bash bench/run.sh profile`);
  return process.env[n];
};
const id = process.env.BENCH_PROFILE || 'code-es256';
const sc = SCENARIOS.find((s) => s.id === id);
if (!sc) throw new Error(`unknown scenario ${id}`);
const services = (process.env.BENCH_PROFILE_SERVICES || 'gateway,token').split(',');
const ops = Number(process.env.BENCH_PROFILE_OPS || 1500);
const tmp = need('BENCH_TMP');
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

/**
 * Self cost per shared object and per function from a callgrind output file (callgrind_annotate
 * shows functions of stripped libraries as bare addresses, without their library).
 */
function selfCosts(file) {
  const names = { ob: new Map(), fn: new Map() };
  const name = (kind, v) => {
    const m = v.match(/^\((\d+)\)(?: (.*))?$/);
    if (!m) return v;
    if (m[2] !== undefined) names[kind].set(m[1], m[2]);
    return names[kind].get(m[1]) ?? `(${m[1]})`;
  };
  const byOb = new Map();
  const byFn = new Map();
  let ob = '?';
  let fn = '?';
  let skip = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('ob=')) ob = name('ob', line.slice(3));
    else if (line.startsWith('cob=')) name('ob', line.slice(4));
    else if (line.startsWith('fn=')) fn = name('fn', line.slice(3));
    else if (line.startsWith('cfn=')) name('fn', line.slice(4));
    else if (line.startsWith('calls=')) skip = true;
    else if (/^[+\-*\d]/.test(line)) {
      if (skip) { skip = false; continue; }
      const ir = Number(line.trim().split(/\s+/).at(-1));
      if (!Number.isFinite(ir)) continue;
      const lib = path.basename(ob);
      byOb.set(lib, (byOb.get(lib) ?? 0) + ir);
      const key = `${lib}: ${fn}`;
      byFn.set(key, (byFn.get(key) ?? 0) + ir);
    }
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { byOb: sorted(byOb), byFn: sorted(byFn) };
}

/** Starts our stack in `dir` on Redis database `redisDb` (each process under `wrap[name]`, if
 * given), seeds the scenarios' clients and people, runs `fn(ours)` and stops the stack. */
async function withSeededStack(dir, redisDb, fn, wrap = {}) {
  const ours = await startOurs({ bin: need('BENCH_BIN'), dir, pgAdmin: need('IDP_TEST_PG_DSN'),
    redisUrl: need('IDP_TEST_REDIS_URL'), redisDb, wrap });
  ours.label = 'ours';
  try {
    ours.clients = await seedOurs(ours, { users: USERS, password: PASSWORD, redirectUri: REDIRECT,
      mfaUsers: MFA_USERS, appsPerUser: APPS_PER_USER });
    ours.jwksUri = (await (await fetch(`${ours.issuer}/.well-known/openid-configuration`)).json()).jwks_uri;
    return await fn(ours);
  } finally {
    await stopProcs(ours.procs);
  }
}

/**
 * System calls per operation, counted by strace on a stack running at full speed (callgrind
 * counts user-space instructions only; the kernel's part shows here).
 */
async function syscalls(dir) {
  const sdir = path.join(dir, 'strace');
  mkdirSync(sdir, { recursive: true });
  const traced = ['gateway', 'token', ...(id === 'login' ? ['auth'] : [])];
  log(`profile: counting system calls of ${traced.join(', ')} with strace`);
  const counts = {};
  let report;
  await withSeededStack(sdir, 5, async (ours) => {
    const driver = need('BENCH_DRIVER');
    await run(driver, driverArgs(sc, ours, { concurrency: 2, warmup: 0.5, duration: 2 }), { maxBuffer: 8 << 20 });
    const tracers = ours.procs.filter((p) => traced.includes(p.name)).map((p) => {
      const file = path.join(sdir, `${p.name}.strace`);
      const t = spawn('strace', ['-c', '-f', '-o', file, '-p', String(p.pid)], { stdio: 'ignore' });
      t.file = file;
      t.name = p.name;
      return t;
    });
    await new Promise((r) => setTimeout(r, 1500));
    const { stdout } = await run(driver, driverArgs(sc, ours,
      { concurrency: 2, warmup: 0, duration: 120, maxOps: Math.min(ops, 1000) }), { maxBuffer: 8 << 20 });
    report = JSON.parse(stdout);
    await Promise.all(tracers.map((t) => new Promise((resolve) => {
      t.on('exit', resolve);
      t.kill('SIGINT');
    })));
    for (const t of tracers) {
      counts[t.name] = readFileSync(t.file, 'utf8').split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 5 && /^\d+\.\d+$/.test(f[0]) && /^\d+$/.test(f[3]))
        .map((f) => ({ name: f.at(-1), calls: Number(f[3]) }));
    }
  });
  // strace also counted the warm-up's tail and the driver's set-up: a slight overcount.
  const done = report.ops + report.errors;
  const out = ['## System calls per operation', '',
    `strace -c -f on ${traced.join(', ')} over ${done} operations at 2 VUs (the stack at full speed, traced).`, ''];
  for (const [name, list] of Object.entries(counts)) {
    const total = list.filter((x) => x.name !== 'total').reduce((a, x) => a + x.calls, 0);
    out.push(`### ${name}: ${(total / done).toFixed(1)} system calls per operation`, '',
      '| system call | per operation |', '|---|---:|',
      ...list.filter((x) => x.name !== 'total').sort((a, b) => b.calls - a.calls).slice(0, 10)
        .map((x) => `| ${x.name} | ${(x.calls / done).toFixed(1)} |`), '');
  }
  return out;
}

/**
 * Where the time goes at full load: perf samples (cpu-clock, the only event this VM offers,
 * kernel included when run as root) of gateway and token while the driver plays the scenario
 * at its top load, by process, shared object and function. Callgrind counts instructions and misses
 * the kernel and the waits; this counts time.
 */
async function perfProfile(dir) {
  const pdir = path.join(dir, 'perf');
  mkdirSync(pdir, { recursive: true });
  const traced = ['gateway', 'token', ...(id === 'login' ? ['auth', 'mfa'] : [])];
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS || 8);
  const vus = Math.max(...sc.levels);  // the scenario's top load, where its peak usually is
  log(`profile: sampling ${traced.join(', ')} with perf for ${seconds} s at ${vus} VUs`);
  const out = [];
  await withSeededStack(pdir, 6, async (ours) => {
    const driver = need('BENCH_DRIVER');
    const load = run(driver, driverArgs(sc, ours, { concurrency: vus, warmup: 1.5, duration: seconds + 1 }),
      { maxBuffer: 8 << 20 });
    await new Promise((r) => setTimeout(r, 2000));
    const data = path.join(pdir, 'perf.data');
    const pids = ours.procs.filter((p) => traced.includes(p.name));
    await run('perf', ['record', '-q', '-F', '1999', '-e', 'cpu-clock', '-o', data,
      '-p', pids.map((p) => p.pid).join(','), '--', 'sleep', String(seconds)], { maxBuffer: 8 << 20 });
    const report = JSON.parse((await load).stdout);
    // One line per sample: "<pid> <address> <symbol+off> (<object>)"; pid is the process, not the thread.
    const { stdout } = await run('perf', ['script', '-i', data, '-F', 'pid,ip,sym,dso'], { maxBuffer: 512 << 20 });
    const name = new Map(pids.map((p) => [String(p.pid), p.name]));
    const samples = new Map();
    for (const line of stdout.split('\n')) {
      const m = line.match(/^\s*(\d+)\s+\S+\s+(.*?)\s+\((.*)\)\s*$/);
      if (!m || !name.has(m[1])) continue;
      const proc = name.get(m[1]);
      if (!samples.has(proc)) samples.set(proc, { n: 0, dso: new Map(), sym: new Map() });
      const s = samples.get(proc);
      const dso = path.basename(m[3]);
      const sym = m[2].replace(/\+0x[0-9a-f]+$/, '');
      s.n += 1;
      s.dso.set(dso, (s.dso.get(dso) ?? 0) + 1);
      const key = `${dso}: ${sym === '[unknown]' ? '(stripped)' : sym}`;
      s.sym.set(key, (s.sym.get(key) ?? 0) + 1);
    }
    const total = [...samples.values()].reduce((a, s) => a + s.n, 0);
    const pct = (n, of) => `${(n / of * 100).toFixed(1)} %`;
    const top = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
    out.push(`## Where the time goes at ${vus} VUs (perf)`, '',
      `perf record -e cpu-clock -F 1999 on ${traced.join(', ')} for ${seconds} s while the driver ran `
      + `${report.ops} operations at ${vus} VUs over ${report.window_s.toFixed(1)} s (${report.errors} errors). `
      + '`[kernel.kallsyms]` is system time: system calls, page faults, the scheduler; on this '
      + 'paravirtualised VM most kernel samples land on `pvm_irq_enable`, where interrupts are '
      + 'enabled again after a system call, so the kernel\'s share is right and its split is not.', '',
      '| process | share of the samples | top objects (share of the process) |', '|---|---:|---|',
      ...[...samples.entries()].sort((a, b) => b[1].n - a[1].n).map(([proc, s]) =>
        `| ${proc} | ${pct(s.n, total)} | ${top(s.dso, 6).map(([d, n]) => `${d} ${pct(n, s.n)}`).join(', ')} |`), '');
    for (const [proc, s] of [...samples.entries()].sort((a, b) => b[1].n - a[1].n)) {
      out.push(`### ${proc}: top functions`, '', '| share of the process | object: function |', '|---:|---|',
        ...top(s.sym, 20).map(([k, n]) => `| ${pct(n, s.n)} | \`${k.slice(0, 140).replace(/\|/g, '\\|')}\` |`), '');
    }
  });
  return out;
}

async function main() {
  if (process.env.BENCH_PROFILE_TOOL === 'strace') {
    const lines = [`# System calls: ${sc.title}`, '', ...await syscalls(path.join(tmp, 'profile'))];
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if (process.env.BENCH_PROFILE_TOOL === 'perf') {
    const lines = [`# Time profile: ${sc.title}`, '', `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`, '',
      ...await perfProfile(path.join(tmp, 'profile'))];
    const out = path.join(root, 'bench/results', `perf-${id}-${new Date().toISOString().slice(0, 10)}.md`);
    writeFileSync(out, `${lines.join('\n')}\n`);
    log(`profile: wrote ${path.relative(root, out)}`);
    return;
  }
  const dir = path.join(tmp, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outFile = (s) => path.join(dir, `callgrind.${s}.out`);
  const wrap = Object.fromEntries(services.map((s) => [s, ['valgrind', '--tool=callgrind',
    `--callgrind-out-file=${outFile(s)}`, '--instr-atstart=no', '--dump-instr=no']]));
  log(`profile: starting our stack with ${services.join(', ')} under callgrind`);
  let report;
  await withSeededStack(dir, 4, async (ours) => {
    const driver = need('BENCH_DRIVER');
    // A first short run warms the caches and connections, outside the collection.
    await run(driver, driverArgs(sc, ours, { concurrency: 2, warmup: 0.5, duration: 3 }), { maxBuffer: 8 << 20 });
    const pids = ours.procs.filter((p) => services.includes(p.name));
    for (const p of pids) execFileSync('callgrind_control', ['--instr=on', String(p.pid)], { stdio: 'ignore' });
    log(`profile: ${ops} operations of ${id}`);
    const { stdout } = await run(driver, driverArgs(sc, ours,
      { concurrency: 2, warmup: 0, duration: 300, maxOps: ops }), { maxBuffer: 8 << 20 });
    for (const p of pids) execFileSync('callgrind_control', ['--instr=off', String(p.pid)], { stdio: 'ignore' });
    report = JSON.parse(stdout);
  }, wrap);
  const done = report.ops + report.errors;
  const lines = [`# Profile: ${sc.title}`, '',
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. ${done} operations (${report.errors} errors) at 2 VUs, `
    + `${services.join(' and ')} under callgrind (instructions, Ir). Per operation: Ir ÷ ${done}.`, ''];
  for (const s of services) {
    if (!existsSync(outFile(s))) {
      lines.push(`## ${s}`, '', 'no callgrind output', '');
      continue;
    }
    const self = selfCosts(outFile(s));
    const total = self.byOb.reduce((a, [, ir]) => a + ir, 0);
    const row = (label, ir) => `| ${(ir / total * 100).toFixed(1)} % | ${Math.round(ir / done).toLocaleString('en')} | \`${label.slice(0, 150).replace(/\|/g, '\\|')}\` |`;
    const incl = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=99', outFile(s)],
      { maxBuffer: 64 << 20 }).toString();
    const top = (t, n) => t.split('\n')
      // Shares above 100 % are callgrind's cycles through thread start-up, not costs.
      .filter((l) => /^\s*[\d,]+ \(\s*[\d.]+%\)\s+\S/.test(l) && !/PROGRAM TOTALS/.test(l)
        && Number(l.match(/\(\s*([\d.]+)%\)/)[1]) <= 100)
      .slice(0, n)
      .map((l) => {
        const m = l.match(/^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$/);
        const ir = Number(m[1].replace(/,/g, ''));
        const fn = m[3].replace(/\s*\[[^\]]*\]$/, '').slice(0, 140);
        return `| ${m[2]} % | ${Math.round(ir / done).toLocaleString('en')} | \`${fn.replace(/\|/g, '\\|')}\` |`;
      });
    lines.push(`## ${s}: ${Math.round(total / done).toLocaleString('en')} Ir per operation`, '',
      'Self cost by library:', '', '| share | Ir per op | library |', '|---:|---:|---|',
      ...self.byOb.slice(0, 12).map(([l, ir]) => row(l, ir)), '',
      'Self cost by function (the function itself; `0x…`: a function of a stripped library):', '',
      '| share | Ir per op | function |', '|---:|---:|---|', ...self.byFn.slice(0, 25).map(([l, ir]) => row(l, ir)), '',
      'Inclusive cost (with what it calls):', '', '| share | Ir per op | function |', '|---:|---:|---|', ...top(incl, 25), '');
  }
  lines.push(...await syscalls(dir));
  const out = path.join(root, 'bench/results', `profile-${id}-${new Date().toISOString().slice(0, 10)}.md`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${lines.join('\n')}\n`);
  log(`profile: wrote ${path.relative(root, out)} (raw callgrind files in ${dir})`);
}

main().catch((e) => {
  log(`profile: ${e.stack ?? e}`);
  process.exit(1);
});
