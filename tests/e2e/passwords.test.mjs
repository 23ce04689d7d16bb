// The password rules of issue 7 against the real auth service, through idpctl (which sets
// passwords over the auth gRPC API) and the login page: 8-128 characters counted as characters,
// any Unicode compared in NFKC form, common leaked passwords refused with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startStack, stopStack, idpctl } from './support/stack.mjs';
import { Agent, hiddenInput } from './support/browser.mjs';

let stack;
before(async () => { stack = await startStack('e2e_pw'); });
after(async () => { if (stack) await stopStack(stack); });

/** Runs idpctl expecting a refusal; returns its exit status and standard error. */
function idpctlRefused(args, input) {
  const build = process.env.IDP_BUILD_DIR ?? new URL('../../build', import.meta.url).pathname;
  const r = spawnSync(`${build}/tools/idpctl/idpctl`, ['--json', ...args], {
    env: { ...process.env, IDP_CONFIG: stack.configPath }, input,
  });
  return { status: r.status, stderr: r.stderr.toString() };
}

async function signIn(username, password) {
  const agent = new Agent();
  const start = await agent.request(new URL('/login', stack.issuer));
  const page = await agent.request(new URL(start.headers.get('location'), stack.issuer));
  return agent.request(new URL('/login', stack.issuer), { method: 'POST', form: {
    flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password } });
}

const create = (username) => ['users', 'create', '--username', username, '--password-stdin'];

test('too short, too long and common passwords are refused with the reason', () => {
  const cases = [
    ['seven77', /password must be at least 8 characters/],
    ['x'.repeat(129), /password must be at most 128 characters/],
    ['\u{1F600}'.repeat(129), /password must be at most 128 characters/],
    ['password123', /password is too common/],
    ['QWERTY123', /password is too common/],  // listed in lower case
    // Fullwidth "ｐａｓｓｗｏｒｄ１２３" is "password123" in NFKC form.
    ['\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44\uFF11\uFF12\uFF13', /password is too common/],
  ];
  for (const [password, message] of cases) {
    const r = idpctlRefused(create('nina'), `${password}\n`);
    assert.equal(r.status, 1, `${password}: exit status`);
    assert.match(r.stderr, /idpctl: users create: invalid_argument: /);
    assert.match(r.stderr, message);
  }
  // Nothing was created along the way.
  const list = JSON.stringify(idpctl(stack, ['users', 'list']));
  assert.ok(!list.includes('"nina"'), list);
});

test('128 emoji (512 bytes) is a valid password and signs in', async () => {
  const emoji = '\u{1F600}'.repeat(128);
  idpctl(stack, create('emma'), `${emoji}\n`);
  assert.equal((await signIn('emma', emoji)).status, 303);
  assert.equal((await signIn('emma', '\u{1F600}'.repeat(127))).status, 401);
});

test('a fullwidth password and its ASCII spelling are one password', async () => {
  // "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ２０２６" set; "correct horse 2026" signs in, and so does the original.
  const fullwidth = '\uFF43\uFF4F\uFF52\uFF52\uFF45\uFF43\uFF54 \uFF48\uFF4F\uFF52\uFF53\uFF45 \uFF12\uFF10\uFF12\uFF16';
  idpctl(stack, create('fion'), `${fullwidth}\n`);
  assert.equal((await signIn('fion', 'correct horse 2026')).status, 303);
  assert.equal((await signIn('fion', fullwidth)).status, 303);
  assert.equal((await signIn('fion', 'Correct horse 2026')).status, 401);
});

test('set-password applies the rules and composed and decomposed accents verify alike', async () => {
  idpctl(stack, create('gina'), 'gina has a long password\n');
  const refused = idpctlRefused(['users', 'set-password', '--username', 'gina', '--password-stdin'],
    'iloveyou1\n');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /idpctl: users set-password: invalid_argument: password is too common/);
  assert.equal((await signIn('gina', 'gina has a long password')).status, 303, 'old password kept');

  const decomposed = 'cre\u0300me bru\u0302le\u0301e';
  const composed = decomposed.normalize('NFC');
  assert.notEqual(composed, decomposed);
  const set = idpctl(stack, ['users', 'set-password', '--username', 'gina', '--password-stdin'],
    `${decomposed}\n`);
  assert.equal(set.password_set, true);
  assert.equal((await signIn('gina', composed)).status, 303);
  assert.equal((await signIn('gina', decomposed)).status, 303);
});
