-- Accounts: one row per person. The subject is stable and never reassigned (OIDC Core §2).
CREATE TABLE accounts (
  subject        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username       text NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 64),
  email          text NOT NULL DEFAULT '',
  email_verified boolean NOT NULL DEFAULT false,
  name           text NOT NULL DEFAULT '',
  given_name     text NOT NULL DEFAULT '',
  family_name    text NOT NULL DEFAULT '',
  -- Argon2id PHC string; NULL until a password is set (an invited account).
  password_hash  text,
  disabled       boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
