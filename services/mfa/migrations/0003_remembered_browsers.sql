-- "Remember this browser": a random token per browser, stored only as a hash, revocable,
-- with an end date.
CREATE TABLE remembered_browsers (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject     uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  label       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX remembered_browsers_subject ON remembered_browsers (subject);
