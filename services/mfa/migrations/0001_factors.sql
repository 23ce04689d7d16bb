-- Second factors per person. Secrets are AES-256-GCM sealed under the master key; codes are
-- stored only as hashes. The subject is auth's; no foreign key crosses schemas.
CREATE TABLE factors (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject     uuid NOT NULL,
  type        text NOT NULL CHECK (type IN ('totp', 'email', 'sms', 'recovery_codes')),
  label       text NOT NULL DEFAULT '',
  secret      bytea,
  active      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX factors_subject ON factors (subject);
