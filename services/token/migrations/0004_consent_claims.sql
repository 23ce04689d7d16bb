-- Consent (OIDC Core §3.1.2.4): a client may ask that people approve what it receives; what
-- they approved is remembered per person and client, so they are asked again only for more.
ALTER TABLE clients ADD COLUMN require_consent boolean NOT NULL DEFAULT false;

CREATE TABLE consents (
  subject     text NOT NULL,
  client_id   text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope       text NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, client_id)
);

-- Claims a client asked for with the claims parameter (OIDC Core §5.5) to be returned from
-- userinfo: names only, space-separated; refreshed access tokens keep them.
ALTER TABLE grants ADD COLUMN claims text NOT NULL DEFAULT '';
