// The demo applications of `make run` are real relying parties: opening one signs the person in
// through the identity provider, and the second one by SSO.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack, idpctl, freePort } from './support/stack.mjs';
import { Agent } from './support/browser.mjs';
import { signIn } from './support/oidc.mjs';
import { startApp } from '../../deploy/demo-apps/server.mjs';

let stack;
const servers = [];
const apps = [];
const demo = { username: 'demo', password: 'demo-password' };

before(async () => {
  stack = await startStack('e2e_demo');
  idpctl(stack, ['users', 'create', '--username', 'demo', '--name', 'Demo User', '--password-stdin'], `${demo.password}\n`);
  for (const [id, name] of [['modeler', 'Modeler'], ['forum', 'Forum']]) {
    const port = await freePort();
    const c = idpctl(stack, ['clients', 'add', '--id', id, '--name', name, '--portal',
      '--home-url', `http://127.0.0.1:${port}/`, '--redirect-uri', `http://127.0.0.1:${port}/callback`,
      '--post-logout-redirect-uri', `http://127.0.0.1:${port}/signed-out`]);
    servers.push(await startApp({ id, name, port, secret: c.client_secret, issuer: stack.issuer, host: '127.0.0.1' }));
    apps.push({ name, url: `http://127.0.0.1:${port}/` });
  }
});

after(async () => {
  for (const s of servers) s.close();
  if (stack) await stopStack(stack);
});

/** Follows redirects through the agent until a page that is not a redirect. */
async function follow(agent, url) {
  let res = await agent.request(url);
  for (let i = 0; i < 10 && res.status === 303; i++) {
    url = new URL(res.headers.get('location'), url);
    res = await agent.request(url);
  }
  return { res, url };
}

test('opening a demo application signs in through the provider, the second by SSO', async () => {
  const agent = new Agent();
  const first = await follow(agent, apps[0].url);
  assert.equal(first.url.pathname, '/login');
  const back = await signIn(stack, agent, first.url, demo.username, demo.password);
  const landed = await follow(agent, new URL(back.headers.get('location')));
  assert.equal(landed.res.status, 200);
  assert.match(landed.res.text_, /Signed in to Modeler as <strong>Demo User<\/strong>/);

  const second = await follow(agent, apps[1].url);
  assert.equal(second.res.status, 200);
  assert.match(second.res.text_, /Signed in to Forum as <strong>Demo User<\/strong>/);

  // The portal lists both; signing out of one application ends the SSO session.
  const portal = await agent.request(new URL('/', stack.issuer));
  assert.match(portal.text_, new RegExp(`href="${apps[1].url}"`));
  const out = await follow(agent, new URL('/logout', apps[0].url));
  assert.match(out.res.text_, /You are signed out/);
  const again = await follow(agent, apps[0].url);
  assert.equal(again.url.pathname, '/login');
});
