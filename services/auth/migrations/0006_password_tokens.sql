-- Single-use links that let a person set a password: "forgot your password" (purpose reset)
-- and an administrator's invitation (purpose invite). Only the SHA-256 of a token is stored,
-- so a database dump holds no usable link. Only the newest unused token of a person is valid
-- (an older one stops working when a new one is issued); a token is used at most once.
CREATE TABLE password_tokens (
  id          bigserial PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE CHECK (length(token_hash) = 64),  -- hex SHA-256
  subject     uuid NOT NULL REFERENCES accounts (subject) ON DELETE CASCADE,
  purpose     text NOT NULL CHECK (purpose IN ('reset', 'invite')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX password_tokens_subject ON password_tokens (subject, id);
