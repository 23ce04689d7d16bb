-- OAuth clients (RFC 6749 §2). Secrets are stored only as hashes.
CREATE TABLE clients (
  client_id                    text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
  client_type                  text NOT NULL CHECK (client_type IN ('confidential', 'public')),
  secret_hash                  text,
  name                         text NOT NULL DEFAULT '',
  redirect_uris                jsonb NOT NULL DEFAULT '[]',
  post_logout_redirect_uris    jsonb NOT NULL DEFAULT '[]',
  token_endpoint_auth_method   text NOT NULL,
  id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
  show_in_portal               boolean NOT NULL DEFAULT false,
  home_url                     text NOT NULL DEFAULT '',
  logo_url                     text NOT NULL DEFAULT '',
  created_at                   timestamptz NOT NULL DEFAULT now(),
  CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
);

-- Signing keys. The private key is AES-256-GCM sealed under the master key (aad = kid).
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  alg         text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
  private_key bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Retired keys stay published until the tokens they signed have expired.
  retired_at  timestamptz
);
