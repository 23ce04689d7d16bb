// The six demo applications that `make run` starts beside the identity provider. Each is a real
// OpenID Connect relying party (openid-client, authorization code + PKCE) on its own port, so a
// person trying the product can open an application from the portal and see single sign-on.
//   node server.mjs <demo-clients.json>   (written by deploy/seed-demo.sh)
// Environment: IDP_ISSUER (default http://localhost:8080), DEMO_HOST (default localhost).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

export const APPS = [
  ['modeler', 'Modeler', 3001], ['mywem', 'MyWEM', 3002], ['forum', 'Forum', 3003],
  ['academy', 'Academy', 3004], ['partner-portal', 'Partner Portal', 3005],
  ['devops-portal', 'DevOps Portal', 3006],
];

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}dt{font-weight:600}a{color:#0b5cad}</style></head><body>${body}</body></html>`;
}

/** Starts one demo application; resolves with its http.Server. */
export async function startApp({ id, name, port, secret, issuer, host = 'localhost' }) {
  const base = `http://${host}:${port}`;
  let config;
  for (let i = 0; !config; i++) {
    try {
      config = await client.discovery(new URL(issuer), id, secret, client.ClientSecretBasic(secret),
        { execute: [client.allowInsecureRequests] });
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const pending = new Map(); // state -> {verifier, nonce}
  const sessions = new Map(); // cookie -> {claims, userinfo, id_token}
  const cookieName = `demo_${id.replace(/-/g, '_')}`;

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, base);
      const cookie = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${cookieName}=`))?.split('=')[1];
      const session = cookie && sessions.get(cookie);
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state');
        const p = pending.get(state);
        if (!p) return res.writeHead(400, { 'content-type': 'text/html' }).end(page(name, '<p>Unknown sign-in; <a href="/">start again</a>.</p>'));
        pending.delete(state);
        const tokens = await client.authorizationCodeGrant(config, url, {
          pkceCodeVerifier: p.verifier, expectedNonce: p.nonce, expectedState: state });
        const claims = tokens.claims();
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        const sid = randomBytes(24).toString('base64url');
        sessions.set(sid, { claims, userinfo, id_token: tokens.id_token });
        return res.writeHead(303, { location: '/', 'set-cookie': `${cookieName}=${sid}; Path=/; HttpOnly; SameSite=Lax` }).end();
      }
      if (url.pathname === '/signed-out') {
        return res.writeHead(200, { 'content-type': 'text/html' }).end(page(name, `<h1>${escape(name)}</h1><p>You are signed out.</p><p><a href="/">Sign in again</a></p>`));
      }
      if (url.pathname === '/logout' && session) {
        sessions.delete(cookie);
        const end = client.buildEndSessionUrl(config, { id_token_hint: session.id_token, post_logout_redirect_uri: `${base}/signed-out` });
        return res.writeHead(303, { location: end.href, 'set-cookie': `${cookieName}=; Path=/; Max-Age=0` }).end();
      }
      if (url.pathname !== '/') return res.writeHead(404).end();
      if (!session) {
        const verifier = client.randomPKCECodeVerifier();
        const nonce = client.randomNonce();
        const state = client.randomState();
        pending.set(state, { verifier, nonce });
        const to = client.buildAuthorizationUrl(config, {
          redirect_uri: `${base}/callback`, scope: 'openid profile email', state, nonce,
          code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
        return res.writeHead(303, { location: to.href }).end();
      }
      const { claims, userinfo } = session;
      return res.writeHead(200, { 'content-type': 'text/html' }).end(page(name, `<h1>${escape(name)}</h1>
<p>Signed in to ${escape(name)} as <strong>${escape(userinfo.name ?? userinfo.preferred_username ?? claims.sub)}</strong>.</p>
<dl><dt>Subject</dt><dd>${escape(claims.sub)}</dd><dt>Authentication methods</dt><dd>${escape((claims.amr ?? []).join(', '))}</dd>
<dt>Assurance</dt><dd>${escape(claims.acr ?? '')}</dd><dt>Signed in at</dt><dd>${escape(new Date(claims.auth_time * 1000).toISOString())}</dd></dl>
<p><a href="${escape(issuer)}/">Back to the portal</a> · <a href="/logout">Sign out</a></p>`));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`demo application error: ${e.message}\n`);
    }
  });
  await new Promise((resolve) => server.listen(port, host === 'localhost' ? '127.0.0.1' : host, resolve));
  return server;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const secrets = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const issuer = process.env.IDP_ISSUER ?? 'http://localhost:8080';
  for (const [id, name, port] of APPS) {
    if (!secrets[id]) continue;
    await startApp({ id, name, port, secret: secrets[id], issuer });
    console.log(`demo application ${name}: http://localhost:${port}/`);
  }
}
