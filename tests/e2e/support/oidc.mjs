// Relying-party steps shared by the end-to-end tests: openid-client for the protocol, the
// Agent for the hosted pages.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { hiddenInput } from './browser.mjs';

/** openid-client configuration for `app` (client_secret_basic unless `auth` says otherwise). */
export async function discover(stack, app, auth = client.ClientSecretBasic(app.client_secret), metadata = {}) {
  return client.discovery(new URL(stack.issuer), app.client_id,
    { client_secret: app.client_secret, ...metadata }, auth,
    { execute: [client.allowInsecureRequests] });
}

/** An authorization URL with PKCE, nonce and state; returns what the RP keeps. */
export async function authorizationUrl(config, app, extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: app.redirect_uris[0],
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce, state, ...extra,
  });
  return { url, verifier, nonce, state };
}

/** Opens the login page and submits the form; returns the answer to the POST. */
export async function signIn(stack, agent, loginUrl, username, password, headers = {}) {
  const page = await agent.request(loginUrl);
  assert.equal(page.status, 200);
  assert.match(page.text_, /<label for="username">Username<\/label>/);
  assert.match(page.text_, /<label for="password">Password<\/label>/);
  assert.match(page.text_, /<button type="submit">Sign in<\/button>/);
  return agent.request(new URL('/login', stack.issuer), {
    method: 'POST', headers,
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username, password },
  });
}

/**
 * Runs an authorization through the agent (signing in when asked) and returns the callback URL
 * together with what the RP kept.
 */
export async function authorize(stack, agent, config, app, user, extra = {}) {
  const a = await authorizationUrl(config, app, extra);
  let res = await agent.request(a.url);
  assert.equal(res.status, 303, `authorize answered ${res.status}`);
  let location = new URL(res.headers.get('location'), stack.issuer);
  if (location.origin === stack.issuer && location.pathname === '/login') {
    res = await signIn(stack, agent, location, user.username, user.password);
    assert.equal(res.status, 303, `login answered ${res.status}`);
    location = new URL(res.headers.get('location'), stack.issuer);
  }
  return { ...a, callback: location };
}

/** Exchanges the callback's code with openid-client (which validates the ID token). */
export async function exchange(config, a) {
  return client.authorizationCodeGrant(config, a.callback, {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state,
  });
}
