// Bounded request streams for the operations tests: browser sign-ins (authorize, login page,
// password, token exchange with openid-client) spread over several gateways, with every HTTP
// step timed and its outcome recorded, so a test can say exactly what failed, where and how.
import * as client from 'openid-client';
import { Agent, hiddenInput } from './browser.mjs';
import { idpctl } from './cluster.mjs';

export const PASSWORD = 'correct horse battery staple';

/** The same URL on another gateway (all gateways serve one issuer, as behind a balancer). */
export function rebase(url, base) {
  const u = new URL(url);
  const b = new URL(base);
  u.protocol = b.protocol;
  u.host = b.host;
  return u;
}

/** A step that failed: carries what a report needs. */
export class StepError extends Error {
  constructor(step, detail) {
    super(`${step}: ${detail.status ?? ''} ${detail.error ?? ''} ${detail.body ?? ''}`.trim());
    Object.assign(this, { step, ...detail });
  }
}

/** A cookie-keeping agent (as browser.mjs's) whose every request has a timeout. */
export class TimedAgent extends Agent {
  constructor(timeoutMs) { super(); this.timeoutMs = timeoutMs; }

  async request(url, { method = 'GET', form, headers = {} } = {}) {
    const h = { ...headers };
    if (this.cookies.size) h.cookie = this.cookieHeader();
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, {
      method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs),
    });
    this.store(res);
    res.text_ = await res.text();
    return res;
  }
}

/** Creates the test user and a confidential client; returns { user, app }. */
export function seed(cluster, name = 'ops') {
  const user = { username: `${name}-user`, password: PASSWORD };
  idpctl(cluster, ['users', 'create', '--username', user.username, '--email', `${name}@example.com`,
    '--email-verified', '--name', 'Ops Person', '--password-stdin'], `${PASSWORD}\n`);
  const app = idpctl(cluster, ['clients', 'add', '--id', `${name}-rp`, '--name', 'Ops RP',
    '--redirect-uri', `http://127.0.0.1:9/${name}/cb`]);
  return { user, app };
}

/**
 * openid-client configuration for `app`, discovered from the issuer; every later request of it
 * (token, JWKS) goes to the gateway `pick()` returns, with a timeout.
 */
export async function rpConfig(cluster, app, pick, timeoutMs) {
  const config = await client.discovery(new URL(cluster.issuer), app.client_id,
    { client_secret: app.client_secret }, client.ClientSecretBasic(app.client_secret),
    { execute: [client.allowInsecureRequests] });
  config[client.customFetch] = (url, options) =>
    fetch(rebase(url, pick()), { ...options, signal: AbortSignal.timeout(timeoutMs) });
  return config;
}

/** Records one HTTP step: throws StepError unless the status is `want`. */
async function hop(rec, step, fn, want) {
  const t0 = Date.now();
  let res;
  try {
    res = await fn();
  } catch (e) {
    rec.steps.push({ step, ms: Date.now() - t0, error: e.name === 'TimeoutError' ? 'timeout' : String(e.cause?.code ?? e.message) });
    throw new StepError(step, { error: e.name === 'TimeoutError' ? 'timeout' : String(e.cause?.code ?? e.message), ms: Date.now() - t0 });
  }
  const ms = Date.now() - t0;
  rec.steps.push({ step, ms, status: res.status });
  if (res.status !== want) {
    throw new StepError(step, {
      status: res.status, ms, location: res.headers.get('location') ?? undefined,
      contentType: res.headers.get('content-type') ?? '', body: (res.text_ ?? '').slice(0, 2000),
    });
  }
  return res;
}

/** One plain request recorded as a step (e.g. /userinfo, /readyz); throws unless `want`. */
export function fetchStep(rec, step, url, { headers = {}, timeoutMs }, want = 200) {
  return hop(rec, step, async () => {
    const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    res.text_ = await res.text();
    return res;
  }, want);
}

/**
 * How a failed step failed, when it failed the way the operations issue asks for: a 503 page
 * ("Temporarily unavailable"), a 503 with OAuth JSON `temporarily_unavailable`, or (for
 * /authorize, once the redirect URI is known good) the redirect back to the application with
 * error=temporarily_unavailable (RFC 6749 §4.1.2.1). Anything else (a timeout, a 500, a reset
 * connection, a wrong page) gives null.
 */
export function clearFailure(error) {
  if (!error || typeof error !== 'object') return null;
  if (error.status === 503) {
    if (/temporarily_unavailable/.test(error.error ?? '') || /"error":"temporarily_unavailable"/.test(error.body ?? '')) return '503 temporarily_unavailable (JSON)';
    if (/text\/html/.test(error.contentType ?? '') && /Temporarily unavailable/.test(error.body ?? '')) return '503 page "Temporarily unavailable"';
  }
  if (error.status === 303 && error.location) {
    const u = new URL(error.location, 'http://x');
    if (u.searchParams.get('error') === 'temporarily_unavailable') return '303 to the application with error=temporarily_unavailable';
  }
  return null;
}

/** The token exchange through openid-client, recorded like a hop. */
async function exchangeStep(rec, step, config, a, callback) {
  const t0 = Date.now();
  try {
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
    });
    rec.steps.push({ step, ms: Date.now() - t0, status: 200 });
    return tokens;
  } catch (e) {
    const ms = Date.now() - t0;
    const timeout = e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError';
    const detail = { ms, status: e.status, error: timeout ? 'timeout' : (e.error ?? e.code ?? e.message), body: e.error_description };
    // openid-client reads an error body only for 4xx; for a 5xx it reports the response as
    // "not conform" and hands it over: take what the server really said from it.
    if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && e.cause instanceof Response) {
      detail.status = e.cause.status;
      detail.contentType = e.cause.headers.get('content-type') ?? '';
      detail.body = await e.cause.text().catch(() => '');
      try { detail.error = JSON.parse(detail.body).error ?? detail.error; } catch { /* not JSON */ }
    }
    rec.steps.push({ step, ...detail });
    throw new StepError(step, detail);
  }
}

async function newAuthorization(config, app) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: app.redirect_uris[0], scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    nonce, state,
  });
  return { url, verifier, nonce, state };
}

/**
 * A whole sign-in of a fresh browser: authorize on `gwA`, the login page and password on `gwB`,
 * the token exchange through `config` (which picks gateways itself). Returns the tokens and the
 * agent (now holding an SSO session); throws StepError. `rec.steps` gets every hop.
 */
export async function signIn(rec, { config, app, user, gwA, gwB, timeoutMs }) {
  const agent = new TimedAgent(timeoutMs);
  const a = await newAuthorization(config, app);
  const toLogin = await hop(rec, 'authorize', () => agent.request(rebase(a.url, gwA)), 303);
  const login = new URL(toLogin.headers.get('location'), gwB);
  if (login.pathname !== '/login') {
    throw new StepError('authorize', { status: 303, location: toLogin.headers.get('location') });
  }
  const page = await hop(rec, 'login page', () => agent.request(rebase(login, gwB)), 200);
  const back = await hop(rec, 'login submit', () => agent.request(new URL('/login', gwB), {
    method: 'POST',
    form: { flow: hiddenInput(page.text_, 'flow'), csrf: hiddenInput(page.text_, 'csrf'), username: user.username, password: user.password },
  }), 303);
  const callback = new URL(back.headers.get('location'));
  if (!callback.href.startsWith(app.redirect_uris[0]) || !callback.searchParams.get('code')) {
    throw new StepError('login submit', { status: 303, location: callback.href });
  }
  const tokens = await exchangeStep(rec, 'token', config, a, callback);
  return { agent, tokens };
}

/**
 * SSO: an authorization through `gw` for a browser that already has a session: a code at once,
 * no login page; then the token exchange. Returns the tokens.
 */
export async function ssoAuthorize(rec, { agent, config, app, gw }) {
  const a = await newAuthorization(config, app);
  const res = await hop(rec, 'sso authorize', () => agent.request(rebase(a.url, gw)), 303);
  const callback = new URL(res.headers.get('location'), gw);
  if (!callback.href.startsWith(app.redirect_uris[0]) || !callback.searchParams.get('code')) {
    throw new StepError('sso authorize', { status: 303, location: callback.href });
  }
  return exchangeStep(rec, 'sso token', config, a, callback);
}

/**
 * Runs `fn(i)` on `concurrency` workers until `until(started)` says stop (checked before each start) or
 * `max` runs have started; each run's record is { i, t (ms since start), ok, steps, error }.
 * A worker starts at most one run per `minMs` (fast failures must not use up `max` early).
 */
export async function stream({ concurrency, max, until, fn, minMs = 0 }) {
  const t0 = Date.now();
  const records = [];
  let next = 0;
  const worker = async () => {
    while (next < max && !until(next)) {
      const i = next;
      next += 1;
      const rec = { i, t: Date.now() - t0, steps: [] };
      try {
        await fn(rec, i);
        rec.ok = true;
      } catch (e) {
        rec.ok = false;
        rec.error = e instanceof StepError ? e : { step: 'unexpected', error: String(e.stack ?? e) };
      }
      rec.end = Date.now() - t0;
      records.push(rec);
      const left = minMs - (rec.end - rec.t);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return records.sort((x, y) => x.i - y.i);
}
