-- The last TOTP time step accepted per device: a step once accepted, or any earlier one, is
-- never accepted again (RFC 6238 §5.2). Kept here, durably, not only in Redis.
ALTER TABLE factors ADD COLUMN last_step bigint NOT NULL DEFAULT 0;

-- Recovery codes: stored only as hashes, single use.
CREATE TABLE recovery_codes (
  subject     uuid NOT NULL,
  code_hash   text NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, code_hash)
);

-- Wrong second-factor codes per person, across methods (SECURITY: 10 per 15 min, then a
-- 15 min lock). Durable, so that losing Redis never resets them.
CREATE TABLE failures (
  subject  uuid NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX failures_subject_at ON failures (subject, at);
