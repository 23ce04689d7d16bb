-- Per-client policy (OIDC Dynamic Client Registration §2 names where one exists).
ALTER TABLE clients
  ADD COLUMN grant_types          jsonb NOT NULL DEFAULT '["authorization_code", "refresh_token"]',
  ADD COLUMN allowed_scopes       text  NOT NULL DEFAULT 'openid profile email phone offline_access',
  ADD COLUMN access_token_ttl     integer,           -- seconds; NULL = the stack default
  ADD COLUMN id_token_ttl         integer,
  ADD COLUMN refresh_token_ttl    integer,
  ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '',
  ADD COLUMN jwks                 jsonb,             -- public keys for private_key_jwt
  ADD COLUMN mfa_policy           text NOT NULL DEFAULT 'default'
                                  CHECK (mfa_policy IN ('default', 'required', 'totp_only'));

-- A grant: what one authorization (or client_credentials call) gave one client. Every access
-- and refresh token names its grant, so revoking the grant revokes them all.
CREATE TABLE grants (
  id          text PRIMARY KEY,
  client_id   text NOT NULL,
  subject     text NOT NULL,
  scope       text NOT NULL,
  sid         text NOT NULL DEFAULT '',
  auth_time   bigint NOT NULL DEFAULT 0,
  amr         jsonb NOT NULL DEFAULT '[]',
  acr         text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX grants_subject ON grants (subject);
CREATE INDEX grants_sid ON grants (sid) WHERE sid <> '';

-- Revocations live apart from grants, so that a reused code can revoke a grant whose row the
-- winning request has not written yet (the winner then finds it revoked).
CREATE TABLE grant_revocations (
  grant_id    text PRIMARY KEY,
  reason      text NOT NULL,
  revoked_at  timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens: stored as SHA-256 only; rotated on every use (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
  token_hash  text PRIMARY KEY,
  grant_id    text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

-- private_key_jwt assertion ids already seen (RFC 7523 §3 item 7), until they expire.
CREATE TABLE assertion_jtis (
  client_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);

-- private_key_jwt clients are confidential without a secret.
ALTER TABLE clients DROP CONSTRAINT clients_check;
ALTER TABLE clients ADD CONSTRAINT clients_secret_check CHECK (
  (client_type = 'public' AND secret_hash IS NULL) OR
  (client_type = 'confidential' AND
   (secret_hash IS NOT NULL) = (token_endpoint_auth_method <> 'private_key_jwt')));

-- Key rotation: a new key is published (in JWKS) from its creation and signs from
-- activates_at; the key it replaces signs until then and stays published until the tokens it
-- signed have expired.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
