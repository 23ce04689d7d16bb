-- Failed password checks, counted per (case-folded) username and source address, unknown
-- usernames included (SECURITY §68). Durable, so that losing Redis never resets them (§74).
CREATE TABLE login_failures (
  username  text NOT NULL,
  source    text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

-- Whole-account locks after many failures from any source; always temporary.
CREATE TABLE lockouts (
  username  text PRIMARY KEY,
  until     timestamptz NOT NULL
);
